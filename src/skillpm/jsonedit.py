"""Edit a JSON document's text in place, keeping every byte skillpm did not change.

``.claude/settings.json`` is the user's file: re-serialising it would reorder
keys and reflow whitespace. Here the text is parsed with positions, and an edit
touches only the member it adds or removes, in the file's own style (indent,
``": "`` spacing). Adding a member and removing it again gives back the
original bytes: a member is appended after the last one as ``,<ws>"key": value``
(``<ws>`` copied from the member before it), and removing the last member
deletes exactly that span.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

_WS = " \t\n\r"
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_LITERALS = {"true": True, "false": False, "null": None}
MAX_DEPTH = 64


class JsonSyntaxError(ValueError):
    def __init__(self, message: str, text: str, pos: int) -> None:
        self.line = text.count("\n", 0, pos) + 1
        self.column = pos - (text.rfind("\n", 0, pos) + 1) + 1
        super().__init__(f"{message} (line {self.line}, column {self.column})")


@dataclass
class Node:
    start: int
    end: int  # one past the last character


@dataclass
class Scalar(Node):
    value: Any = None


@dataclass
class Member:
    key: str
    key_start: int
    colon_end: int  # one past the ':'
    value: Node


@dataclass
class Obj(Node):
    members: list[Member] = field(default_factory=list)

    def find(self, key: str) -> Member | None:
        found = None
        for member in self.members:  # the last duplicate wins, as in json.loads
            if member.key == key:
                found = member
        return found


@dataclass
class Arr(Node):
    items: list[Node] = field(default_factory=list)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text

    def fail(self, message: str, pos: int) -> JsonSyntaxError:
        return JsonSyntaxError(message, self.text, pos)

    def skip(self, pos: int) -> int:
        while pos < len(self.text) and self.text[pos] in _WS:
            pos += 1
        return pos

    def value(self, pos: int, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.fail("nested too deeply", pos)
        pos = self.skip(pos)
        if pos >= len(self.text):
            raise self.fail("unexpected end of file", pos)
        char = self.text[pos]
        if char == "{":
            return self.obj(pos, depth)
        if char == "[":
            return self.arr(pos, depth)
        if char == '"':
            value, end = self.string(pos)
            return Scalar(pos, end, value)
        for word, literal in _LITERALS.items():
            if self.text.startswith(word, pos):
                return Scalar(pos, pos + len(word), literal)
        match = _NUMBER.match(self.text, pos)
        if match:
            return Scalar(pos, match.end(), json.loads(match.group()))
        raise self.fail(f"unexpected {char!r}", pos)

    def string(self, pos: int) -> tuple[str, int]:
        from json import decoder

        try:
            value, end = decoder.scanstring(self.text, pos + 1, True)  # type: ignore[attr-defined]
            return str(value), int(end)
        except ValueError:
            raise self.fail("bad string", pos) from None

    def obj(self, start: int, depth: int) -> Obj:
        node = Obj(start, start)
        pos = self.skip(start + 1)
        if pos < len(self.text) and self.text[pos] == "}":
            node.end = pos + 1
            return node
        while True:
            pos = self.skip(pos)
            if pos >= len(self.text) or self.text[pos] != '"':
                raise self.fail("expected a quoted key", pos)
            key, pos = self.string(pos)
            pos = self.skip(pos)
            if pos >= len(self.text) or self.text[pos] != ":":
                raise self.fail("expected ':'", pos)
            colon_end = pos + 1
            value = self.value(colon_end, depth + 1)
            node.members.append(Member(key, self._key_start(colon_end), colon_end, value))
            pos = self.skip(value.end)
            if pos < len(self.text) and self.text[pos] == ",":
                pos += 1
                continue
            if pos < len(self.text) and self.text[pos] == "}":
                node.end = pos + 1
                return node
            raise self.fail("expected ',' or '}'", pos)

    def _key_start(self, colon_end: int) -> int:
        """Where the key before ``colon_end`` starts (its opening quote)."""
        pos = colon_end - 2
        while self.text[pos] in _WS:
            pos -= 1
        # pos is on the key's closing quote; walk back to the unescaped opening quote.
        pos -= 1
        while True:
            if self.text[pos] == '"':
                slashes = 0
                back = pos - 1
                while self.text[back] == "\\":
                    slashes += 1
                    back -= 1
                if slashes % 2 == 0:
                    return pos
            pos -= 1

    def arr(self, start: int, depth: int) -> Arr:
        node = Arr(start, start)
        pos = self.skip(start + 1)
        if pos < len(self.text) and self.text[pos] == "]":
            node.end = pos + 1
            return node
        while True:
            item = self.value(pos, depth + 1)
            node.items.append(item)
            pos = self.skip(item.end)
            if pos < len(self.text) and self.text[pos] == ",":
                pos += 1
                continue
            if pos < len(self.text) and self.text[pos] == "]":
                node.end = pos + 1
                return node
            raise self.fail("expected ',' or ']'", pos)


def parse(text: str) -> Node:
    """The document's root node, with positions; raises ``JsonSyntaxError``."""
    parser = _Parser(text)
    start = 1 if text.startswith("\ufeff") else 0
    root = parser.value(start, 0)
    end = parser.skip(root.end)
    if end != len(text):
        raise parser.fail("extra text after the JSON value", end)
    return root


def value_of(node: Node) -> Any:
    if isinstance(node, Obj):
        return {m.key: value_of(m.value) for m in node.members}
    if isinstance(node, Arr):
        return [value_of(i) for i in node.items]
    assert isinstance(node, Scalar)
    return node.value


def lookup(root: Node, path: Sequence[str]) -> tuple[Node | None, int]:
    """The node at ``path`` (or None) and how many leading keys exist as objects."""
    node: Node = root
    for depth, key in enumerate(path):
        if not isinstance(node, Obj):
            return None, depth
        member = node.find(key)
        if member is None:
            return None, depth
        node = member.value
    return node, len(path)


# -- style ------------------------------------------------------------------------


def _line_indent(text: str, pos: int) -> str:
    line_start = text.rfind("\n", 0, pos) + 1
    indent = line_start
    while indent < len(text) and text[indent] in " \t":
        indent += 1
    return text[line_start:indent]


def _unit(text: str, root: Node) -> str:
    """The document's indent step, from its first multi-line object (two spaces if none)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, Obj) and node.members:
            outer = _line_indent(text, node.start)
            inner = _ws_before(text, node.members[0].key_start)
            if "\n" in inner:
                inner = inner.rsplit("\n", 1)[1]
                if inner.startswith(outer) and len(inner) > len(outer):
                    return inner[len(outer) :]
            stack.extend(m.value for m in node.members)
    return "  "


def _ws_before(text: str, pos: int) -> str:
    start = pos
    while start > 0 and text[start - 1] in _WS:
        start -= 1
    return text[start:pos]


def _colon(text: str, obj: Obj) -> str:
    """The separator between key and value as the object writes it (``": "``, ``":"``)."""
    for member in obj.members:
        key_end = member.colon_end - 1
        while text[key_end - 1] in _WS:
            key_end -= 1
        after = member.value.start
        return text[key_end : member.colon_end] + text[member.colon_end : after]
    return ": "


def render(value: Any, indent: str, unit: str, multiline: bool) -> str:
    """``value`` as JSON text whose continuation lines start with ``indent``."""
    if not multiline or not isinstance(value, dict | list) or not value:
        return json.dumps(value, ensure_ascii=False)
    text = json.dumps(value, ensure_ascii=False, indent=unit)
    return text.replace("\n", "\n" + indent)


# -- edits ------------------------------------------------------------------------


def _nest(path: Sequence[str], value: Any) -> Any:
    for key in reversed(path):
        value = {key: value}
    return value


def set_value(text: str, path: Sequence[str], value: Any) -> str:
    """``text`` with ``value`` at ``path``, creating objects on the way.

    Every key but the last must be an object or absent (the caller checks).
    """
    root = parse(text)
    unit = _unit(text, root)
    node, depth = lookup(root, path)
    if node is not None:  # replace the value in place
        multiline = "\n" in text[node.start : node.end] or isinstance(node, Obj | Arr)
        new = render(value, _line_indent(text, node.start), unit, multiline)
        return text[: node.start] + new + text[node.end :]
    parent, _ = lookup(root, path[:depth])
    if not isinstance(parent, Obj):
        raise ValueError(f"{'/'.join(path[:depth]) or 'the document'} is not an object")
    key, rest = path[depth], path[depth + 1 :]
    member_value = _nest(rest, value)
    if parent.members:
        last = parent.members[-1]
        ws = _ws_before(text, last.key_start)
        indent = ws.rsplit("\n", 1)[1] if "\n" in ws else _line_indent(text, last.key_start)
        body = render(member_value, indent, unit, "\n" in ws)
        member = json.dumps(key, ensure_ascii=False) + _colon(text, parent) + body
        at = last.value.end
        return text[:at] + "," + ws + member + text[at:]
    outer = _line_indent(text, parent.start)
    inner = outer + unit
    body = render(member_value, inner, unit, True)
    member = json.dumps(key, ensure_ascii=False) + ": " + body
    return text[: parent.start + 1] + "\n" + inner + member + "\n" + outer + text[parent.end - 1 :]


def delete(text: str, path: Sequence[str], *, prune: bool = True) -> str:
    """``text`` without the member at ``path``; with ``prune``, objects left empty by it
    go too (up to, not including, the root). Absent paths change nothing."""
    root = parse(text)
    node, _ = lookup(root, path)
    if node is None or not path:
        return text
    parent, _ = lookup(root, path[:-1])
    assert isinstance(parent, Obj)
    index = max(i for i, m in enumerate(parent.members) if m.key == path[-1])
    member = parent.members[index]
    if len(parent.members) == 1:
        if prune and len(path) > 1:
            return delete(text, path[:-1], prune=True)
        return text[: parent.start + 1] + text[parent.end - 1 :]
    if index > 0:  # the inverse of set_value's append: from the previous value's end
        start = parent.members[index - 1].value.end
        return text[:start] + text[member.value.end :]
    following = parent.members[1].key_start
    return text[: member.key_start] + text[following:]


def new_document(value: dict[str, Any]) -> str:
    """A file skillpm creates: two-space indent, a final newline (Claude Code's own style)."""
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"
