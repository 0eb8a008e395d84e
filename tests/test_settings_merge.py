"""Merging packages' settings into the user's .claude/settings.json, and taking them back."""

from __future__ import annotations

import json
from typing import Any

import pytest

from skillpm.content.settings_merge import Owned, Result, SettingsConflict, flatten, plan, pointer

USER = json.dumps(
    {"env": {"MY_TOOL_HOME": "/opt/tool"}, "permissions": {"allow": ["Bash(npm test)"]}},
    indent=2,
)
BEDROCK = flatten(
    {
        "env": {"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "us-east-1"},
        "awsAuthRefresh": "aws sso login",
    }
)


def _run(
    text: str | None,
    desired: dict[str, dict[str, Any]],
    old: dict[str, dict[str, Owned]] | None = None,
    *,
    created: bool = False,
    force: bool = False,
) -> Result:
    return plan(text, created=created, old=old or {}, desired=desired, force=force)


def test_pointers() -> None:
    assert pointer(["env", "a/b", "c~d"]) == "/env/a~1b/c~0d"
    assert list(flatten({"a": {"b": 1, "c": []}, "d": {}})) == ["/a/b", "/a/c"]


def test_install_then_remove_restores_the_bytes() -> None:
    added = _run(USER, {"bedrock-setup": BEDROCK})
    assert added.text is not None
    assert json.loads(added.text) == {
        "env": {
            "MY_TOOL_HOME": "/opt/tool",
            "CLAUDE_CODE_USE_BEDROCK": "1",
            "AWS_REGION": "us-east-1",
        },
        "permissions": {"allow": ["Bash(npm test)"]},
        "awsAuthRefresh": "aws sso login",
    }
    assert set(added.owned["bedrock-setup"]) == set(BEDROCK)
    assert not added.created
    removed = _run(added.text, {}, added.owned)
    assert removed.text == USER
    assert removed.owned == {}


def test_a_file_skillpm_created_is_deleted_again() -> None:
    added = _run(None, {"bedrock-setup": BEDROCK})
    assert added.created and added.text is not None
    assert added.text.startswith('{\n  "env": {\n')
    removed = _run(added.text, {}, added.owned, created=True)
    assert removed.text is None and not removed.created


def test_the_users_equal_value_is_not_taken_over() -> None:
    mine = json.dumps({"env": {"AWS_REGION": "us-east-1"}})
    added = _run(mine, {"p": {"/env/AWS_REGION": "us-east-1"}})
    assert added.text == mine and added.owned == {}
    assert _run(added.text, {}, added.owned).text == mine


def test_a_conflict_is_refused_unless_forced() -> None:
    mine = json.dumps({"env": {"AWS_REGION": "eu-west-1"}}, indent=2)
    with pytest.raises(SettingsConflict) as info:
        _run(mine, {"bedrock-setup": {"/env/AWS_REGION": "us-east-1"}})
    assert str(info.value) == (
        '.claude/settings.json: env.AWS_REGION is "eu-west-1" (yours), and bedrock-setup sets '
        '"us-east-1"; change or remove your value, or pass --force to let the package set it '
        "(removing the package puts yours back)"
    )
    forced = _run(mine, {"bedrock-setup": {"/env/AWS_REGION": "us-east-1"}}, force=True)
    assert forced.text is not None and '"us-east-1"' in forced.text
    assert forced.owned["bedrock-setup"]["/env/AWS_REGION"].previous == "eu-west-1"
    assert _run(forced.text, {}, forced.owned).text == mine


def test_not_an_object_on_the_way() -> None:
    with pytest.raises(SettingsConflict, match="env there is not an object"):
        _run('{"env": "x"}', {"p": {"/env/A": "1"}}, force=True)
    with pytest.raises(SettingsConflict, match="does not hold a JSON object"):
        _run("[]", {"p": {"/env/A": "1"}})


def test_two_packages() -> None:
    with pytest.raises(SettingsConflict, match="a and b both set env.X"):
        _run("{}", {"a": {"/env/X": "1"}, "b": {"/env/X": "2"}})
    both = _run(USER, {"a": {"/env/X": "1"}, "b": {"/env/X": "1", "/env/Y": "2"}})
    assert set(both.owned["a"]) == {"/env/X"} and set(both.owned["b"]) == {"/env/Y"}
    # Removing a hands X over to b, which still wants it: nothing moves.
    rest = _run(both.text, {"b": {"/env/X": "1", "/env/Y": "2"}}, both.owned)
    assert rest.text == both.text
    assert set(rest.owned["b"]) == {"/env/X", "/env/Y"}
    assert _run(rest.text, {}, rest.owned).text == USER


def test_a_new_value_replaces_the_old_in_place() -> None:
    first = _run(USER, {"p": BEDROCK})
    moved = dict(BEDROCK, **{"/env/AWS_REGION": "us-west-2"})
    second = _run(first.text, {"p": moved}, first.owned)
    assert second.text == (first.text or "").replace("us-east-1", "us-west-2")
    assert _run(second.text, {}, second.owned).text == USER


def test_hand_edits_of_skillpms_values_are_kept() -> None:
    first = _run(USER, {"p": BEDROCK})
    assert first.text is not None
    edited = first.text.replace("us-east-1", "eu-central-1")
    again = _run(edited, {"p": BEDROCK}, first.owned)
    assert again.text == edited  # not refused, not overwritten
    assert "/env/AWS_REGION" not in again.owned["p"]
    gone = _run(edited, {}, first.owned)
    assert gone.text is not None and json.loads(gone.text)["env"] == {
        "MY_TOOL_HOME": "/opt/tool",
        "AWS_REGION": "eu-central-1",
    }
    assert any("env.AWS_REGION was changed by hand" in k for k in gone.kept)


def test_a_deleted_value_is_put_back() -> None:
    first = _run(USER, {"p": BEDROCK})
    assert first.text is not None
    stripped = _run(first.text, {}, first.owned).text  # as if the user deleted them all
    again = _run(stripped, {"p": BEDROCK}, first.owned)
    assert again.text == first.text


def test_force_takes_an_edited_value_back_for_the_package() -> None:
    first = _run(USER, {"p": BEDROCK})
    assert first.text is not None
    edited = first.text.replace("us-east-1", "eu-central-1")
    forced = _run(edited, {"p": BEDROCK}, first.owned, force=True)
    assert forced.text == first.text
    assert forced.owned["p"]["/env/AWS_REGION"].previous == "eu-central-1"
    gone = _run(forced.text, {}, forced.owned)
    assert gone.text is not None and json.loads(gone.text)["env"]["AWS_REGION"] == "eu-central-1"
