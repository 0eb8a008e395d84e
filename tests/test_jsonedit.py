"""Format-preserving JSON edits: an add then a remove gives back the same bytes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillpm import jsonedit

USER = """{
    "env": {
        "MY_KEY": "x"
    },
    "permissions": {"allow": ["Bash(npm test)"], "deny": []}
}
"""

keys = st.text(alphabet='abcXYZ_/~"\\é', min_size=1, max_size=5)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=5), st.floats(0, 2)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=8,
)
documents = st.dictionaries(keys, values, max_size=4)


def test_add_and_remove_in_the_users_style() -> None:
    text = jsonedit.set_value(USER, ["env", "AWS_REGION"], "us-east-1")
    text = jsonedit.set_value(text, ["awsAuthRefresh"], "aws sso login")
    assert text == (
        "{\n"
        '    "env": {\n'
        '        "MY_KEY": "x",\n'
        '        "AWS_REGION": "us-east-1"\n'
        "    },\n"
        '    "permissions": {"allow": ["Bash(npm test)"], "deny": []},\n'
        '    "awsAuthRefresh": "aws sso login"\n'
        "}\n"
    )
    text = jsonedit.delete(text, ["env", "AWS_REGION"])
    assert jsonedit.delete(text, ["awsAuthRefresh"]) == USER


def test_new_objects_are_created_and_pruned() -> None:
    text = jsonedit.set_value(USER, ["a", "b", "c"], [1, 2])
    assert json.loads(text)["a"] == {"b": {"c": [1, 2]}}
    assert '\n    "a": {\n        "b": {\n            "c": [\n' in text
    assert jsonedit.delete(text, ["a", "b", "c"]) == USER


def test_compact_and_empty_documents() -> None:
    compact = '{"env":{"A":"1"},"x":1}'
    text = jsonedit.set_value(compact, ["env", "B"], "2")
    assert text == '{"env":{"A":"1","B":"2"},"x":1}'
    assert jsonedit.delete(text, ["env", "B"]) == compact
    text = jsonedit.set_value("{}\n", ["env", "A"], "1")
    assert text == '{\n  "env": {\n    "A": "1"\n  }\n}\n'
    assert jsonedit.delete(text, ["env", "A"]) == "{}\n"


def test_replace_and_first_member_removal() -> None:
    text = jsonedit.set_value(USER, ["env", "MY_KEY"], "y")
    assert json.loads(text)["env"]["MY_KEY"] == "y"
    text = jsonedit.delete(USER, ["env", "MY_KEY"], prune=False)
    assert json.loads(text)["env"] == {}
    text = jsonedit.delete(USER, ["env"])
    assert text.startswith('{\n    "permissions"')
    assert jsonedit.delete(USER, ["nope", "x"]) == USER


def test_not_an_object_is_refused() -> None:
    with pytest.raises(ValueError, match="not an object"):
        jsonedit.set_value('{"env": "x"}', ["env", "A"], "1")


@pytest.mark.parametrize(
    ("text", "line"),
    [('{"a": 1,}', 1), ('{\n"a" 1}', 2), ("[1, 2", 1), ('{"a": 1} x', 1), ("", 1)],
)
def test_syntax_errors_say_where(text: str, line: int) -> None:
    with pytest.raises(jsonedit.JsonSyntaxError) as info:
        jsonedit.parse(text)
    assert info.value.line == line


@settings(max_examples=80, deadline=None)
@given(documents, st.integers(0, 8), st.lists(keys, min_size=1, max_size=3), values)
def test_round_trip_restores_bytes(
    doc: dict[str, Any], indent: int, path: list[str], v: Any
) -> None:
    text = json.dumps(doc, indent=indent or None, ensure_ascii=bool(indent % 2)) + "\n"
    assert jsonedit.value_of(jsonedit.parse(text)) == json.loads(text)
    node, depth = jsonedit.lookup(jsonedit.parse(text), path)
    if node is not None:
        return  # only additions are undone byte for byte
    parent, _ = jsonedit.lookup(jsonedit.parse(text), path[:depth])
    if not isinstance(parent, jsonedit.Obj) or not parent.members:
        return  # filling an object the user left empty is not exactly undone
    edited = jsonedit.set_value(text, path, v)
    expected = json.loads(text)
    target = expected
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = v
    assert json.loads(edited) == expected
    assert jsonedit.delete(edited, path) == text
