"""Merge packages' settings into ``.claude/settings.json`` and take them back: pure logic.

A package's settings piece is flattened to leaves (``/env/AWS_REGION`` ->
``"us-east-1"``; objects merge key by key, anything else is a leaf). skillpm
owns only the leaves it added, recorded per package in the lock:

- a leaf the file lacks is added, and owned;
- a leaf the file already has with the same value is the user's: left alone, not owned;
- a leaf the file has with another value is the user's: refused, unless ``force``
  (then owned, remembering the user's value so removal puts it back);
- an owned leaf no package wants any more is deleted (or its old value restored),
  but only while it still holds what skillpm wrote: a value the user changed
  since then is theirs, and is kept.
Every edit goes through ``jsonedit``, so the user's formatting survives and an
add followed by a remove gives back the original bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from skillpm import jsonedit

FILE = ".claude/settings.json"
MISSING: Any = object()


class SettingsConflict(ValueError):
    """A package would overwrite the user's value (or another package's)."""


@dataclass(frozen=True)
class Owned:
    """A leaf skillpm wrote; ``previous`` is the user's value it replaced (``--force``)."""

    value: Any
    previous: Any = MISSING

    @property
    def replaced(self) -> bool:
        return self.previous is not MISSING


@dataclass
class Result:
    text: str | None  # the file's new text; None: no file
    owned: dict[str, dict[str, Owned]]  # package -> pointer -> leaf
    created: bool  # skillpm created the file (and deletes it once nothing of its own is left)
    kept: list[str] = field(default_factory=list)  # user edits left alone, for a warning
    yielded: set[str] = field(default_factory=set)  # their pointers: the user's from now on


def pointer(path: Sequence[str]) -> str:
    """RFC 6901 JSON pointer of ``path``."""
    return "".join("/" + k.replace("~", "~0").replace("/", "~1") for k in path)


def split_pointer(ptr: str) -> list[str]:
    if not ptr.startswith("/"):
        raise ValueError(f"not a JSON pointer: {ptr!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in ptr[1:].split("/")]


def shown(ptr: str) -> str:
    """``/env/AWS_REGION`` as a person reads it: ``env.AWS_REGION``."""
    return ".".join(split_pointer(ptr))


def same(a: Any, b: Any) -> bool:
    """JSON equality (``true`` is not ``1``)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def flatten(value: Mapping[str, Any], path: tuple[str, ...] = ()) -> dict[str, Any]:
    """Leaves of a settings piece, in document order."""
    leaves: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, Mapping):
            leaves.update(flatten(item, (*path, str(key))))
        else:
            leaves[pointer((*path, str(key)))] = item
    return leaves


class _Doc:
    """The file's text and parsed value, kept in step through each edit."""

    def __init__(self, text: str | None) -> None:
        self.text = text
        self.value: Any = None if text is None else jsonedit.value_of(jsonedit.parse(text))

    def get(self, ptr: str) -> Any:
        node: Any = self.value
        for key in split_pointer(ptr):
            if not isinstance(node, dict) or key not in node:
                return MISSING
            node = node[key]
        return node

    def blocker(self, ptr: str) -> str | None:
        """The first parent of ``ptr`` that exists but is not an object."""
        node: Any = self.value
        path = split_pointer(ptr)
        for depth, key in enumerate(path[:-1]):
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
            if not isinstance(node, dict):
                return pointer(path[: depth + 1])
        return None

    def set(self, ptr: str, value: Any) -> None:
        path = split_pointer(ptr)
        if self.text is None:
            nested: Any = value
            for key in reversed(path):
                nested = {key: nested}
            self.text = jsonedit.new_document(nested)
        else:
            self.text = jsonedit.set_value(self.text, path, value)
        self.value = jsonedit.value_of(jsonedit.parse(self.text))

    def delete(self, ptr: str) -> None:
        if self.text is not None:
            self.text = jsonedit.delete(self.text, split_pointer(ptr))
            self.value = jsonedit.value_of(jsonedit.parse(self.text))


def plan(
    text: str | None,
    *,
    created: bool,
    old: Mapping[str, Mapping[str, Owned]],
    desired: Mapping[str, Mapping[str, Any]],
    force: bool,
) -> Result:
    """The file after moving from the ``old`` records to the ``desired`` leaves."""
    if text is not None and not isinstance(_Doc(text).value, dict):
        raise SettingsConflict(f"{FILE} does not hold a JSON object")
    wanted: dict[str, tuple[str, Any]] = {}  # pointer -> (package, value)
    for package in sorted(desired):
        for ptr, value in desired[package].items():
            if ptr in wanted and not same(wanted[ptr][1], value):
                other = wanted[ptr][0]
                raise SettingsConflict(
                    f"{other} and {package} both set {shown(ptr)} in {FILE}, to different "
                    "values; install only one of them"
                )
            wanted.setdefault(ptr, (package, value))
    doc = _Doc(text)
    owned: dict[str, dict[str, Owned]] = {}
    kept: list[str] = []
    yielded: set[str] = set()  # leaves skillpm wrote that the user has since changed

    def own(package: str, ptr: str, leaf: Owned) -> None:
        owned.setdefault(package, {})[ptr] = leaf

    # Take back what no package wants any more, and keep what is still wanted.
    for package in sorted(old):
        for ptr, leaf in old[package].items():
            current = doc.get(ptr)
            holds_ours = current is not MISSING and same(current, leaf.value)
            want = wanted.get(ptr)
            if current is not MISSING and not holds_ours and force and want is not None:
                doc.set(ptr, want[1])  # --force: the package's value wins, yours is remembered
                own(want[0], ptr, Owned(want[1], current))
                continue
            if current is not MISSING and not holds_ours:
                kept.append(f"{FILE}: {shown(ptr)} was changed by hand; your value is kept")
                yielded.add(ptr)
                continue  # the user's now
            if want is not None and same(want[1], leaf.value):
                own(want[0], ptr, leaf)  # still wanted (maybe now by another package)
                if current is MISSING:
                    doc.set(ptr, leaf.value)  # deleted by hand: put back, like a skill
                continue
            if current is MISSING:
                continue
            if want is not None:  # wanted with a new value: update in place
                doc.set(ptr, want[1])
                own(want[0], ptr, Owned(want[1], leaf.previous))
            elif leaf.replaced:
                doc.set(ptr, leaf.previous)
            else:
                doc.delete(ptr)
    # Add what is wanted and not yet there.
    taken = {ptr for leaves in owned.values() for ptr in leaves} | yielded
    for ptr, (package, value) in wanted.items():
        if ptr in taken:
            continue
        blocker = doc.blocker(ptr)
        if blocker is not None:
            raise SettingsConflict(
                f"{package} sets {shown(ptr)} in {FILE}, but {shown(blocker)} there is not an "
                "object; change your value or leave this package out"
            )
        current = doc.get(ptr)
        if current is MISSING:
            doc.set(ptr, value)
            own(package, ptr, Owned(value))
        elif same(current, value):
            continue  # the user already has it: theirs, not skillpm's
        elif force:
            doc.set(ptr, value)
            own(package, ptr, Owned(value, current))
        else:
            raise SettingsConflict(
                f"{FILE}: {shown(ptr)} is {json.dumps(current)} (yours), and {package} sets "
                f"{json.dumps(value)}; change or remove your value, or pass --force to let the "
                "package set it (removing the package puts yours back)"
            )
    new_created = created or (text is None and doc.text is not None)
    final = doc.text
    if final is not None and new_created and doc.value == {}:
        final = None  # skillpm made the file and nothing of its own is left in it
    return Result(final, owned, new_created and final is not None, kept, yielded)
