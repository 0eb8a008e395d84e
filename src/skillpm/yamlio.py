"""Safe YAML reading with limits, and frontmatter splitting.

Every YAML file skillpm reads may come from someone else's repository: only the
safe loader is used, and size, depth and alias expansion are bounded so an
alias bomb is refused instead of exhausting memory later.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from skillpm.errors import ManifestError

try:
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader


class _AnyTagLoader(_Loader):  # type: ignore[valid-type,misc]
    """Safe loading that reads unknown tags (CloudFormation's ``!Sub``, ``!Ref``) as plain
    values instead of failing: for scanning project files, never for skillpm's own."""


def _plain(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


_AnyTagLoader.add_multi_constructor("!", _plain)

_MERGE_TAG = "tag:yaml.org,2002:merge"


class _UniqueKeyLoader(_Loader):  # type: ignore[valid-type,misc]
    """Safe loading that refuses a mapping key given twice (PyYAML keeps the last one
    silently): for the files a person edits, where the first one was meant too."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first at line {seen[key]})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)  # type: ignore[no-any-return]


MAX_YAML_BYTES = 1024 * 1024
MAX_NODES = 100_000
MAX_DEPTH = 64


def _check_shape(value: Any, where: str) -> None:
    """Count nodes as if aliases were expanded; refuse bombs and deep nesting."""
    budget = MAX_NODES
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise ManifestError(f"{where}: YAML expands to too many nodes (alias bomb?)")
        if depth > MAX_DEPTH:
            raise ManifestError(f"{where}: YAML nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
            stack.extend((k, depth + 1) for k in node if isinstance(k, (tuple, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


def loads(text: str, where: str, *, any_tags: bool = False, unique_keys: bool = False) -> Any:
    """Parse one YAML document; ``any_tags`` reads unknown ``!tags`` as plain values,
    ``unique_keys`` refuses a mapping key given twice."""
    if len(text) > MAX_YAML_BYTES:
        raise ManifestError(f"{where}: larger than {MAX_YAML_BYTES // 1024} KiB")
    loader = _AnyTagLoader if any_tags else _UniqueKeyLoader if unique_keys else _Loader
    try:
        value = yaml.load(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ManifestError(f"{where}{line}: invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        first = (str(exc).strip().splitlines() or ["unreadable"])[0]  # one line, always
        raise ManifestError(f"{where}: invalid YAML: {first}") from None
    except RecursionError:
        raise ManifestError(f"{where}: YAML nested too deeply") from None
    _check_shape(value, where)
    return value


def load_file(path: Path, where: str | None = None) -> Any:
    where = where or str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ManifestError(f"{where}: file not found") from None
    except OSError as exc:
        raise ManifestError(f"{where}: cannot read: {exc.strerror}") from None
    return loads(decode(raw, where), where)


def decode(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ManifestError(f"{where}: not UTF-8 text") from None


def split_frontmatter(text: str, where: str) -> tuple[dict[str, Any], str, int]:
    """Split ``---`` frontmatter from a markdown body.

    Returns the mapping, the body, and the 1-based line where the body starts.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n") != "---":
        raise ManifestError(f"{where}:1: missing YAML frontmatter (a first line of '---')")
    for i, line in enumerate(lines[1:], start=1):
        if line.rstrip("\r\n") == "---":
            data = loads("".join(lines[1:i]), where) if i > 1 else None
            if data is None:
                data = {}
            if not isinstance(data, dict):
                raise ManifestError(f"{where}:2: frontmatter must be a mapping of keys")
            return data, "".join(lines[i + 1 :]), i + 2
    raise ManifestError(f"{where}:1: frontmatter is not closed by a '---' line")
