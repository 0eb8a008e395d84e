"""The policy file (``skillpm-policy.yaml``, docs/policy.md) parsed into frozen values.

A ``Policy`` is one file. Each of its rule fields is one key of the file, and the
field's metadata names the key and the function that reads it: the parser's table
of known sections and keys is built from the fields, so adding a key to the format
is adding one field here (and its check in ``evaluate``). Unknown keys are errors,
at their line, so a typo never silently allows what it meant to forbid.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from fnmatch import fnmatchcase
from typing import Any

from skillpm.errors import PolicyError
from skillpm.formats.ranges import parse_range, parse_version

BUILTIN = "builtin"  # the built-in registry, as registries.allow names it
EXECUTABLE_MODES = ("allow", "warn", "deny")  # least strict first
# The parts of a Claude Code plugin a package may provide; content.plugin-parts names them.
PLUGIN_PARTS = ("skills", "agents", "commands", "hooks", "mcp-servers", "lsp-servers")

_NAME_GLOB = re.compile(r"^[a-z0-9*?\[\]!-]+$")
_URL_START = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:|/)", re.I)


@dataclass(frozen=True)
class Item:
    """One value of a list in the file, with its line (for messages and ``policy show``)."""

    text: str
    line: int | None


@dataclass(frozen=True)
class PackagePattern:
    """``name-glob`` or ``name-glob@range`` of packages.deny / packages.allow."""

    item: Item
    glob: str
    range: str | None  # None: every version

    def matches(self, name: str, version: str) -> bool:
        if not fnmatchcase(name, self.glob):
            return False
        if self.range is None:
            return True
        # Prereleases count: a denial of <1.1 covers 1.1.0-rc.1 too.
        return parse_range(self.range).contains(parse_version(version), prereleases=True)


class Where:
    """Lines of the keys and list items of one YAML document, for messages."""

    def __init__(self, source: str, lines: Mapping[tuple[str, ...], int]) -> None:
        self.source = source
        self.lines = lines

    def line(self, *path: str) -> int | None:
        return self.lines.get(path)

    def error(self, path: tuple[str, ...], message: str) -> PolicyError:
        line = self.line(*path)
        at = f"{self.source}:{line}" if line else self.source
        return PolicyError(f"{at}: {'.'.join(path)}: {message}")


Reader = Callable[[Any, Where, tuple[str, ...]], Any]


def _rule(key: str, read: Reader) -> dict[str, Any]:
    """A field's metadata: the file's ``section.key`` it holds, and how to read it."""
    return {"key": key, "read": read}


def _items(value: Any, where: Where, path: tuple[str, ...]) -> list[Item]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise where.error(path, "expected a list of strings")
    found = []
    for i, raw in enumerate(value):
        line = where.line(*path, str(i)) or where.line(*path)
        if not isinstance(raw, str) or not raw.strip():
            raise where.error(path, f"item {i + 1}: expected a non-empty string, got {raw!r}")
        found.append(Item(raw.strip(), line))
    return found


def _check_glob(text: str, where: Where, path: tuple[str, ...]) -> None:
    depth = 0
    for char in text:
        if char == "[":
            if depth:
                raise where.error(path, f"{text!r} is not a valid glob ('[' inside '[...]')")
            depth = 1
        elif char == "]" and depth:
            depth = 0
    if depth:
        raise where.error(path, f"{text!r} is not a valid glob (a '[' without its ']')")


def _registry_globs(value: Any, where: Where, path: tuple[str, ...]) -> tuple[Item, ...]:
    items = _items(value, where, path)
    for item in items:
        if item.text != BUILTIN and not _URL_START.match(item.text):
            raise where.error(
                path,
                f"{item.text!r} is not a registry URL glob (e.g. 'git+https://github.com/acme/*', "
                f"'https://skills.acme.example/*', an absolute folder, or {BUILTIN!r})",
            )
        if any(c.isspace() for c in item.text):
            raise where.error(path, f"{item.text!r}: a URL glob has no spaces")
        _check_glob(item.text, where, path)
    return tuple(items)


def _package_patterns(
    value: Any, where: Where, path: tuple[str, ...]
) -> tuple[PackagePattern, ...]:
    patterns = []
    for item in _items(value, where, path):
        glob, at, rng = item.text.partition("@")
        glob = glob.strip()
        if not glob or not _NAME_GLOB.match(glob):
            raise where.error(
                path,
                f"{item.text!r}: expected a package name glob (a-z, 0-9, '-', '*', '?'), "
                "optionally followed by @RANGE",
            )
        _check_glob(glob, where, path)
        if at:
            try:
                parse_range(rng.strip())
            except ValueError as exc:
                raise where.error(path, f"{item.text!r}: {exc}") from None
            if not rng.strip():
                raise where.error(path, f"{item.text!r}: a range is missing after '@'")
        patterns.append(PackagePattern(item, glob, rng.strip() if at else None))
    return tuple(patterns)


def _lint_rules(value: Any, where: Where, path: tuple[str, ...]) -> tuple[Item, ...]:
    items = _items(value, where, path)
    from skillpm.errors import SkillpmError
    from skillpm.lint.engine import check_rule_ids

    for item in items:
        try:
            check_rule_ids([item.text], "content.block-lint")
        except SkillpmError:
            raise where.error(
                path,
                f"unknown lint rule or family {item.text!r} ('skillpm lint --list-rules' "
                "lists them)",
            ) from None
    return tuple(Item(i.text.upper(), i.line) for i in items)


def _executables(value: Any, where: Where, path: tuple[str, ...]) -> Item:
    if value not in EXECUTABLE_MODES:
        raise where.error(path, f"expected one of {', '.join(EXECUTABLE_MODES)}, got {value!r}")
    return Item(str(value), where.line(*path))


def _plugin_parts(value: Any, where: Where, path: tuple[str, ...]) -> tuple[Item, ...]:
    items = _items(value, where, path) if value != [] else []
    for item in items:
        if item.text not in PLUGIN_PARTS:
            raise where.error(
                path, f"unknown plugin part {item.text!r} (known: {', '.join(PLUGIN_PARTS)})"
            )
    return tuple(items)


def _flag(value: Any, where: Where, path: tuple[str, ...]) -> Item:
    if not isinstance(value, bool):
        raise where.error(path, f"expected true or false, got {value!r}")
    return Item("true" if value else "false", where.line(*path))


def _file(value: Any, where: Where, path: tuple[str, ...]) -> Item:
    if not isinstance(value, str) or not value.strip():
        raise where.error(path, "expected a file path")
    return Item(value.strip(), where.line(*path))


@dataclass(frozen=True)
class Policy:
    """One policy file. ``None`` for a rule means the file does not set it."""

    source: str  # the file's path or URL, as messages name it
    registries_allow: tuple[Item, ...] | None = field(
        default=None, metadata=_rule("registries.allow", _registry_globs)
    )
    packages_deny: tuple[PackagePattern, ...] | None = field(
        default=None, metadata=_rule("packages.deny", _package_patterns)
    )
    packages_allow: tuple[PackagePattern, ...] | None = field(
        default=None, metadata=_rule("packages.allow", _package_patterns)
    )
    block_lint: tuple[Item, ...] | None = field(
        default=None, metadata=_rule("content.block-lint", _lint_rules)
    )
    executables: Item | None = field(
        default=None, metadata=_rule("content.executables", _executables)
    )
    plugin_parts: tuple[Item, ...] | None = field(
        default=None, metadata=_rule("content.plugin-parts", _plugin_parts)
    )
    # docs/signatures.md: every package signed by a key of this allowed-signers file.
    signatures_required: Item | None = field(
        default=None, metadata=_rule("signatures.required", _flag)
    )
    allowed_signers: Item | None = field(
        default=None, metadata=_rule("signatures.allowed-signers", _file)
    )

    @property
    def requires_signatures(self) -> bool:
        return self.signatures_required is not None and self.signatures_required.text == "true"

    @property
    def empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in rule_fields())


def rule_fields() -> list[Any]:
    return [f for f in fields(Policy) if "key" in f.metadata]


def known_keys() -> dict[str, dict[str, Any]]:
    """section -> key -> dataclass field, from the fields of ``Policy``."""
    table: dict[str, dict[str, Any]] = {}
    for f in rule_fields():
        section, _, key = f.metadata["key"].partition(".")
        table.setdefault(section, {})[key] = f
    return table


def parse_policy(data: Any, where: Where) -> Policy:
    """A policy from its YAML data; ``PolicyError`` naming the file and line otherwise."""
    if data is None:
        return Policy(where.source)
    if not isinstance(data, Mapping):
        sections = _names(known_keys())
        raise PolicyError(f"{where.source}: expected a mapping of sections ({sections})")
    table = known_keys()
    values: dict[str, Any] = {}
    for section, body in data.items():
        known = table.get(str(section))
        if known is None:
            raise where.error((str(section),), f"unknown section (known: {_names(table)})")
        if body is None:
            continue
        if not isinstance(body, Mapping):
            raise where.error((str(section),), f"expected a mapping of {_names(known)}")
        for key, value in body.items():
            rule = known.get(str(key))
            if rule is None:
                raise where.error(
                    (str(section), str(key)), f"unknown key (known in {section}: {_names(known)})"
                )
            values[rule.name] = rule.metadata["read"](value, where, (str(section), str(key)))
    policy = Policy(where.source, **values)
    if policy.requires_signatures and policy.allowed_signers is None:
        raise where.error(
            ("signatures", "required"), "needs signatures.allowed-signers: whose keys to trust"
        )
    return policy


def _names(table: Mapping[str, Any]) -> str:
    return ", ".join(sorted(table))
