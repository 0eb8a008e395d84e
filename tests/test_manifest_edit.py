"""skills.yaml edits keep the user's comments, order and layout."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillpm.formats import manifest_edit
from skillpm.formats.manifest_edit import TEMPLATE, _set_dependencies_in_place, edit_manifest


def test_added_dependencies_stay_in_their_section() -> None:
    once = edit_manifest(None, set_dependencies={"cdk-patterns": "^1.1.0"})
    twice = edit_manifest(once, set_dependencies={"serverless-cost-ops": "^1.0.0"})
    section = twice.split("dependencies:\n", 1)[1].split("\n\n", 1)[0]
    assert section == "  cdk-patterns: ^1.1.0\n  serverless-cost-ops: ^1.0.0"
    assert "# Values for CLAUDE.md fragment templates" in twice
    assert twice.index("serverless-cost-ops") < twice.index("# Values for CLAUDE.md")


def test_end_of_line_comment_stays_with_its_key() -> None:
    text = "dependencies:\n  a: ^1  # pinned by ops\n\n# vars below\nvars: {}\n"
    out = edit_manifest(text, set_dependencies={"b": "^2"})
    assert out == "dependencies:\n  a: ^1  # pinned by ops\n  b: ^2\n\n# vars below\nvars: {}\n"


def test_add_then_remove_gives_back_the_template() -> None:
    added = edit_manifest(None, set_dependencies={"a": "^1", "b": "^2"})
    assert edit_manifest(added, remove_dependencies=["a", "b"]) == TEMPLATE


# The in-place edit (no ruamel) writes exactly what ruamel writes.


def ruamel_edit(text: str, ranges: dict[str, str]) -> str:
    """What the ruamel round trip alone makes of the edit."""
    saved = manifest_edit._set_dependencies_in_place
    manifest_edit._set_dependencies_in_place = lambda *args: None  # type: ignore[assignment]
    try:
        return edit_manifest(text, set_dependencies=ranges)
    finally:
        manifest_edit._set_dependencies_in_place = saved  # type: ignore[assignment]


SAMPLES = [
    TEMPLATE,
    "registries:\n  team: git+file:///srv/r.git\ndependencies: {}\n",
    "registries:\n  team: git+file:///srv/r.git\ndependencies:\nvars: {}\n",
    "dependencies:\n  # app: ^1.0\nvars:\n",
    "dependencies:\n  a: ^1.0.0\n  # why b\n  b: ^2\n# about vars\n\nvars:\n  x: 1\n",
    "dependencies:\n  a: ^1.0.0\n  b: ~2.1\n\n\nvars:\n  aws: {region: eu-west-1}\n",
    "# top\ndependencies:\n  a: ^1.0.0\n  b: ^2\n",
    "dependencies:\n\n  a: 1.0.0\n  b: ^2\n\n",
    "registries:\n  team: /srv/r\ndependencies:\n  a: ^1.0.0\nclaude-md:\n  placement: rules\n",
]


@pytest.mark.parametrize("text", SAMPLES)
@pytest.mark.parametrize(
    "ranges",
    [{"new": "^1.2.0"}, {"b": "^3.0.0"}, {"new": "^1.2.0", "a": "~1.1.0"}, {"z-9": "2.0.0-rc.1"}],
)
def test_in_place_edit_is_ruamels_edit(text: str, ranges: dict[str, str]) -> None:
    quick = _set_dependencies_in_place(text, ranges)
    assert quick is not None
    assert quick == ruamel_edit(text, ranges)


@pytest.mark.parametrize(
    "text",
    [
        "dependencies:\n    a: ^1.0.0\n",  # ruamel re-indents
        "dependencies:\n  a: ^1.0.0  # pinned\n",  # ruamel moves comments
        "dependencies:\n  a: '^1.0.0'\n",  # ruamel keeps quotes on a new value
        "dependencies:\n  a: {version: ^1, registry: team}\n",
        "dependencies: # note\n",
        "dependencies:\r\n  a: ^1\r\n",
        "dependencies:\n  a: ^1",  # no final newline
        "dependencies:\n  a: ^1\ndependencies:\n  b: ^1\n",
        "vars: {}\n",  # no dependencies section at all
    ],
)
def test_anything_else_is_left_to_ruamel(text: str) -> None:
    assert _set_dependencies_in_place(text, {"a": "^1.1.0", "new": "^1.0.0"}) is None


def test_ranges_that_need_quoting_are_left_to_ruamel() -> None:
    text = "dependencies:\n  a: ^1.0.0\n"
    assert _set_dependencies_in_place(text, {"b": ">=1,<2"}) is None
    assert "b: '>=1,<2'" in edit_manifest(text, set_dependencies={"b": ">=1,<2"})


names = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)
versions = st.from_regex(r"[\^~]?[0-9]\.[0-9]\.[0-9]", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(names, versions, max_size=6),
    st.dictionaries(names, versions, min_size=1, max_size=3),
    st.sampled_from(["", "\n", "\n\n# trailing comment\n"]),
    st.sampled_from(["", "vars:\n  region: eu-west-1\n"]),
)
def test_in_place_edit_matches_ruamel_on_generated_manifests(
    existing: dict[str, str], ranges: dict[str, str], gap: str, tail: str
) -> None:
    body = "".join(f"  {n}: {v}\n" for n, v in existing.items())
    text = "registries:\n  team: /srv/r\ndependencies:\n" + body + gap + tail
    quick = _set_dependencies_in_place(text, ranges)
    if quick is not None:  # None only where YAML reads a name as something else
        assert quick == ruamel_edit(text, ranges)


def test_quoted_neighbours_are_kept_as_ruamel_keeps_them() -> None:
    text = "dependencies:\n  a: '^1.0.0'\n  c: \">=1 <2\"\n\nvars: {}\n"
    quick = _set_dependencies_in_place(text, {"new": "^2.0.0"})
    assert quick is not None and quick == ruamel_edit(text, {"new": "^2.0.0"})
