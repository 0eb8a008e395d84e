"""Edits of ``skills.yaml`` that keep the user's comments, quoting and key order.

ruamel.yaml is used only here, and imported only when a file is edited.
"""

from __future__ import annotations

import copy
import io
import re
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from typing import Any

from skillpm.errors import ManifestError
from skillpm.formats.filenames import MANIFEST_FILE

TEMPLATE = """\
# skills.yaml: the Claude Code skills and CLAUDE.md fragments this project uses.
# `skillpm install NAME` adds to it; `skillpm install` pins exact versions in skills.lock.

# Registries, looked up in order; the built-in registry always comes last.
registries:
  # team: git+https://github.com/acme/skills-registry.git

# Packages and version ranges: npm style (^1.2, ~1.2.3, 1.x) or PEP 440 (>=1.2,<2).
dependencies:

# Values for CLAUDE.md fragment templates, e.g. {{ vars.aws.region }}.
vars:
  # aws:
  #   region: us-east-1
  #   dr_region: us-west-2

# Where CLAUDE.md fragments go: inline (managed blocks in CLAUDE.md, the default),
# import (.claude/skillpm/<name>.md plus @-imports) or rules (.claude/rules/<name>.md).
# claude-md:
#   placement: inline

# Rules `skillpm lint` skips in this project (ids or families; see `skillpm lint --list-rules`).
# lint:
#   ignore: [BUDGET001]
"""


_DEPENDENCIES = re.compile(r"^dependencies:(?P<empty>[ ]*(?:\{\}[ ]*)?)$")
_ENTRY = re.compile(
    r"^  (?P<name>[a-z0-9][a-z0-9-]*):[ ](?P<value>'[^'\n]*'|\"[^\"\\\n]*\"|[^\s'\"#][^\s#]*)$"
)
_PLAIN = re.compile(r"^[^\s'\"#{}\[\],&*!|>%@`][^\s#]*$")
_RANGE = re.compile(r"^[\^~]?[0-9]+(?:\.[0-9]+){0,2}(?:-[0-9A-Za-z.-]+)?$")


def _set_dependencies_in_place(text: str, ranges: Mapping[str, str]) -> str | None:
    """The common edit (add or re-range ``name: ^1.2.3`` lines) without ruamel, or None.

    ruamel's round trip costs ~0.4 ms a line, and adding a package to a long
    skills.yaml was dominated by it. This handles a block-style ``dependencies:``
    whose entries are one plain ``  name: range`` line each, and changes only the
    lines ruamel would: a replaced value in place, new entries where ruamel puts
    them (after the last entry, or right after an empty ``dependencies:``).
    Everything else is left byte for byte. The result is parsed again and must
    hold exactly the intended data, or ruamel does the edit.
    """
    if "\r" in text or "\t" in text or not text.endswith("\n") or text.startswith("\ufeff"):
        return None
    if not all(_RANGE.match(r) for r in ranges.values()):
        return None
    lines = text.split("\n")
    heads = [i for i, line in enumerate(lines) if line.startswith("dependencies:")]
    head = _DEPENDENCIES.match(lines[heads[0]]) if len(heads) == 1 else None
    if head is None:
        return None
    entries: dict[str, int] = {}
    last = heads[0]
    for i in range(heads[0] + 1, len(lines) - 1):
        line = lines[i]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            break
        match = _ENTRY.match(line)
        if match is None or (match["name"] in ranges and not _PLAIN.match(match["value"])):
            return None  # ruamel keeps a replaced value's quotes; leave that to it
        entries[match["name"]] = last = i
    added = []
    for name, rng in ranges.items():
        if name in entries:
            lines[entries[name]] = f"  {name}: {rng}"
        else:
            added.append(f"  {name}: {rng}")
    if not entries:
        lines[heads[0]] = "dependencies:"
    lines[last + 1 : last + 1] = added
    result = "\n".join(lines)
    return result if _holds(text, result, ranges) else None


def _holds(before: str, after: str, ranges: Mapping[str, str]) -> bool:
    """Whether ``after`` parses to ``before`` with exactly ``ranges`` set in dependencies."""
    from skillpm import yamlio

    try:
        old, new = yamlio.loads(before, MANIFEST_FILE), yamlio.loads(after, MANIFEST_FILE)
    except ManifestError:
        return False
    if not isinstance(old, dict) or not isinstance(old.get("dependencies") or {}, dict):
        return False
    expected = dict(old, dependencies={**(old["dependencies"] or {}), **ranges})
    return bool(new == expected and list(new["dependencies"]) == list(expected["dependencies"]))


def _yaml() -> Any:
    from ruamel.yaml import YAML

    y = YAML()
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _block_map(doc: Any, key: str) -> Any:
    from ruamel.yaml.comments import CommentedMap

    value = doc.get(key)
    if value is None:
        value = CommentedMap()
        doc[key] = value
    elif not isinstance(value, CommentedMap):
        raise ManifestError(f"skills.yaml: {key} must be a mapping")
    value.fa.set_block_style()
    return value


def _remove_key(doc: Any, section: str, key: str) -> None:
    """Delete ``key`` without losing the comment block that trails it."""
    mapping = doc[section]
    keys = list(mapping.keys())
    index = keys.index(key)
    token = mapping.ca.items.pop(key, None)
    del mapping[key]
    trailing = token[2] if token and len(token) > 2 else None
    if trailing is None:
        if not mapping:
            doc[section] = None
        return
    if trailing.value.startswith("#"):
        # The removed key's own end-of-line comment goes with it; what follows stays.
        trailing.value = "\n" + trailing.value.partition("\n")[2]
    if index > 0:
        slot = mapping.ca.items.setdefault(keys[index - 1], [None, None, None, None])
        if slot[2] is None:
            slot[2] = trailing
        else:
            slot[2].value += trailing.value[1:]
    elif mapping:
        return
    else:
        doc[section] = None
        doc.ca.items.setdefault(section, [None, None, None, None])[2] = trailing


def _append_key(mapping: Any, key: str, value: Any) -> None:
    """Add ``key`` after the last one, keeping the blank lines and comments that
    followed the section where they were: after the section, not before the new key."""
    keys = list(mapping.keys())
    if key in mapping or not keys:
        mapping[key] = value
        return
    token = mapping.ca.items.get(keys[-1], [None, None, None, None])[2]
    mapping[key] = value
    if token is None:
        return
    if token.value.startswith("#"):
        # An end-of-line comment stays on its line; only what follows it moves.
        first, _, rest = token.value.partition("\n")
        if not rest:
            return
        moved = copy.copy(token)
        token.value = first + "\n"
        moved.value = "\n" + rest
    else:
        moved = token
        mapping.ca.items[keys[-1]][2] = None
    mapping.ca.items.setdefault(key, [None, None, None, None])[2] = moved


def _flow_list(items: Sequence[str]) -> Any:
    from ruamel.yaml.comments import CommentedSeq

    seq = CommentedSeq(sorted(items))
    seq.fa.set_flow_style()
    return seq


def edit_manifest(
    text: str | None,
    *,
    set_dependencies: Mapping[str, str] | None = None,
    dependency_registries: Mapping[str, str] | None = None,
    dependency_skills: Mapping[str, Sequence[str] | None] | None = None,
    remove_dependencies: Iterable[str] = (),
    add_registries: Iterable[tuple[str, str]] = (),
    remove_registries: Iterable[str] = (),
    set_targets: Sequence[str] | None = None,
) -> str:
    """Return ``text`` (or the template) with the given changes applied."""
    plain = not (dependency_registries or remove_dependencies or add_registries)
    plain = plain and not remove_registries and set_targets is None
    plain = plain and not any(v is not None for v in (dependency_skills or {}).values())
    if text is not None and set_dependencies and plain:
        quick = _set_dependencies_in_place(text, set_dependencies)
        if quick is not None:
            return quick
    y = _yaml()
    try:
        doc = y.load(text if text is not None else TEMPLATE)
    except Exception as exc:  # ruamel raises many types; all mean "not valid YAML"
        raise ManifestError(f"skills.yaml: invalid YAML: {exc}") from None
    if doc is None:
        doc = y.load(TEMPLATE)
    for name, url in add_registries:
        _append_key(_block_map(doc, "registries"), name, url)
    for name in remove_registries:
        if name in (doc.get("registries") or {}):
            _remove_key(doc, "registries", name)
    if set_dependencies:
        deps = _block_map(doc, "dependencies")
        for name, rng in set_dependencies.items():
            current = deps.get(name)
            registry = (dependency_registries or {}).get(name)
            selecting = dependency_skills is not None and name in dependency_skills
            skills = (dependency_skills or {}).get(name)
            if isinstance(current, MutableMapping):
                current["version"] = rng
                if registry:
                    current["registry"] = registry
                if selecting and skills is None:
                    current.pop("skills", None)
                elif skills is not None:
                    current["skills"] = _flow_list(skills)
                if set(current) == {"version"}:
                    deps[name] = rng
            elif registry or skills is not None:
                from ruamel.yaml.comments import CommentedMap

                entry = CommentedMap(version=rng)
                if registry:
                    entry["registry"] = registry
                if skills is not None:
                    entry["skills"] = _flow_list(skills)
                entry.fa.set_flow_style()
                _append_key(deps, name, entry)
            else:
                _append_key(deps, name, rng)
    for name in remove_dependencies:
        if name in (doc.get("dependencies") or {}):
            _remove_key(doc, "dependencies", name)
    if set_targets is not None:
        seq = _flow_list([])
        seq.extend(set_targets)  # in the given order, not sorted
        doc["targets"] = seq
    out = io.StringIO()
    y.dump(doc, out)
    return out.getvalue()
