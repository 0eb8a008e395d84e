"""Spec rules: what the Agent Skills reference validator (``skills-ref``) checks, and more.

Parity with ``skills-ref validate``: frontmatter present and a YAML mapping;
``name`` 1-64 characters, lowercase, digits and single hyphens, equal to its
folder; ``description`` 1-1024 characters; ``compatibility`` at most 500;
``allowed-tools`` a string or a list of strings; unknown keys refused. skillpm
follows DESIGN 1 in two places: names are ASCII only (``skills-ref`` also takes
other Unicode letters), and Claude Code's own keys are accepted, with other
unknown keys a warning (an error under ``--strict-spec``). Beyond parity: the
description should say when to use the skill, and a long SKILL.md belongs split
into ``references/`` (progressive disclosure).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from skillpm.errors import split_error
from skillpm.lint.model import Finding, Location, Severity, rule
from skillpm.lint.workspace import Fragment, Skill, Workspace
from skillpm.output import plural

MAX_NAME = 64
MAX_DESCRIPTION = 1024
MAX_COMPATIBILITY = 500
MAX_SKILL_LINES = 500

SPEC_KEYS = frozenset(
    {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}
)
# Claude Code's additions (code.claude.com/docs skills frontmatter).
CLAUDE_CODE_KEYS = frozenset(
    {
        "when_to_use",
        "argument-hint",
        "arguments",
        "disable-model-invocation",
        "user-invocable",
        "model",
        "effort",
        "context",
        "agent",
        "hooks",
        "paths",
        "shell",
    }
)
KNOWN_KEYS = SPEC_KEYS | CLAUDE_CODE_KEYS

FRONTMATTER = rule(
    "SPEC001",
    "frontmatter",
    Severity.ERROR,
    "SKILL.md has no valid YAML frontmatter",
    "A skill's SKILL.md starts with a '---' line, a YAML mapping (name, description, ...) "
    "and a closing '---' line. Without it Claude Code cannot list the skill.",
    "spec",
    not_reported="Markdown files other than SKILL.md (references need no frontmatter).",
)
NAME = rule(
    "SPEC002",
    "name-format",
    Severity.ERROR,
    "Skill name missing or not 1-64 characters of a-z, 0-9 and single hyphens",
    "The name is how Claude and users invoke the skill. It must be 1-64 characters of "
    "lowercase letters, digits and hyphens, without a leading, trailing or double hyphen.",
    "spec",
    not_reported="Package and plugin names, which publish and install check.",
)
NAME_FOLDER = rule(
    "SPEC003",
    "name-folder-mismatch",
    Severity.ERROR,
    "Skill name differs from its folder name",
    "The Agent Skills spec requires the frontmatter name to equal the skill's folder name; "
    "skillpm installs the folder under that name. Rename one of them.",
    "spec",
    not_reported="A skill whose name is missing or not a string: SPEC002 reports it.",
)
DESCRIPTION = rule(
    "SPEC004",
    "description",
    Severity.ERROR,
    "Description missing, empty or longer than 1024 characters",
    "Claude reads every skill's description to decide when to load it: it must be a "
    "non-empty string of at most 1024 characters.",
    "spec",
    not_reported="Descriptions that exist but say little: SPEC008, a warning.",
)
COMPATIBILITY = rule(
    "SPEC005",
    "compatibility",
    Severity.ERROR,
    "compatibility is not a string of at most 500 characters",
    "The optional compatibility field describes environment requirements in at most 500 "
    "characters.",
    "spec",
    not_reported="Skills without compatibility: it is optional.",
)
METADATA = rule(
    "SPEC006",
    "metadata",
    Severity.WARNING,
    "metadata is not a map of strings to strings",
    "The optional metadata field maps string keys to string values. Quote numbers "
    '(version: "1.0") so YAML does not turn 1.10 into 1.1. A warning, lists and maps too: '
    "Claude Code loads the skill all the same.",
    "spec",
    not_reported=(
        "Nothing is an error here: Claude Code loads a skill whatever its metadata holds."
    ),
)
UNKNOWN_KEY = rule(
    "SPEC007",
    "unknown-key",
    Severity.WARNING,
    "Frontmatter key that neither the Agent Skills spec nor Claude Code knows",
    "Unknown keys are ignored by Claude Code and refused by the reference validator. "
    "Remove the key or move it under metadata. --strict-spec makes this an error.",
    "spec",
    not_reported=(
        "Claude Code's own keys (model, context, hooks, paths, argument-hint, ...), "
        "which are accepted."
    ),
)
WHEN = rule(
    "SPEC008",
    "description-quality",
    Severity.WARNING,
    "Description does not say what the skill does and when to use it",
    "Claude picks skills by their description alone. Say what the skill does and when to "
    "use it, e.g. '... Use when writing CDK stacks or naming AWS resources.'",
    "spec",
    "quality",
    not_reported=(
        "Descriptions with a when_to_use field, and the wording beyond a trigger such "
        "as 'Use when'."
    ),
)
LENGTH = rule(
    "SPEC009",
    "skill-length",
    Severity.WARNING,
    f"SKILL.md longer than {MAX_SKILL_LINES} lines",
    "All of SKILL.md enters Claude's context when the skill loads. Keep it short and move "
    "long material (tables, API details, examples) into references/ files that SKILL.md "
    "links to, so Claude reads them only when needed (progressive disclosure).",
    "spec",
    "context",
    not_reported="Reference files, which Claude reads only when a step needs them.",
)
FIELD_TYPE = rule(
    "SPEC010",
    "field-type",
    Severity.WARNING,
    "Frontmatter field of the wrong type",
    "allowed-tools, paths and arguments take a string or a list of strings; "
    "disable-model-invocation and user-invocable take true or false; hooks takes a mapping; "
    "the other fields take a string. An error for allowed-tools (an Agent Skills spec field "
    "that grants permissions); a warning for Claude Code's own fields, where YAML often "
    "reads a hint such as 'argument-hint: [file]' as a list: quote it.",
    "spec",
    not_reported="Unknown keys (SPEC007), and values of the right type whatever they say.",
)
STRUCTURE = rule(
    "SPEC011",
    "package-structure",
    Severity.ERROR,
    "A package, project or registry file is unreadable, or a listed skill or fragment is missing",
    "skillpm.yaml, skills.yaml, skills.lock and index.json must parse, and every skill folder "
    "and fragment they list must exist. The message says what is wrong where.",
    "spec",
    not_reported=(
        "Problems of the skills and fragments themselves (the other SPEC rules); lint "
        "goes on past a broken manifest with what it still lists."
    ),
)
FRAGMENT = rule(
    "SPEC012",
    "fragment-format",
    Severity.ERROR,
    "CLAUDE.md fragment frontmatter is missing or malformed",
    "A fragment is markdown with frontmatter: name (equal to the file name), description, "
    "optional section (its heading), order (an integer), claims (a mapping of facts) and "
    "must-not-touch (a list of {path, reason}, or one '{{ expression }}' over vars).",
    "spec",
    "fragment",
    not_reported="Fragment bodies: templates are checked when install renders them.",
)

_NAME_CHARS = re.compile(r"^[a-z0-9-]+$")
# "Use when ...", "Use this for ...", "when ...", "before deploying ...": a trigger.
_TRIGGER = re.compile(
    r"\b(when|whenever|while|before|after|if)\b|\buse (it|this|them|for|on|in|to|with|during)\b",
    re.IGNORECASE,
)
_STR_FIELDS = (
    "license",
    "argument-hint",
    "model",
    "effort",
    "context",
    "agent",
    "shell",
    "when_to_use",
)
_BOOL_FIELDS = ("disable-model-invocation", "user-invocable")
_STR_OR_LIST = ("allowed-tools", "paths", "arguments")


def name_problems(name: str) -> list[str]:
    """Why ``name`` is not a valid skill name (empty list: it is valid)."""
    reasons = []
    if len(name) > MAX_NAME:
        reasons.append(f"is {len(name)} characters (at most {MAX_NAME})")
    if name != name.lower():
        reasons.append("must be lowercase")
    if not _NAME_CHARS.match(name.lower()):
        reasons.append("may hold only a-z, 0-9 and hyphens")
    if name.startswith("-") or name.endswith("-"):
        reasons.append("must not start or end with a hyphen")
    if "--" in name:
        reasons.append("must not contain a double hyphen")
    return reasons


def check(ws: Workspace, *, strict_spec: bool = False) -> Iterator[Finding]:
    for problem in ws.problems:
        if problem.kind in ("manifest", "missing", "unreadable"):
            yield STRUCTURE(problem.where, problem.message, problem.hint)
    for skill in ws.skills:
        yield from check_skill(skill, strict_spec=strict_spec)
    for fragment in ws.fragments:
        yield from check_fragment(fragment)


def check_skill(skill: Skill, *, strict_spec: bool = False) -> Iterator[Finding]:
    fm = skill.fm
    if skill.skill_md is None or fm is None:
        return
    if fm.meta is None:
        line, message = fm.error or (1, "invalid frontmatter")
        yield FRONTMATTER(
            skill.at(line),
            message,
            "start SKILL.md with '---', then name: and description:, then '---'",
        )
        return
    meta = fm.meta
    yield from _check_name(skill, meta)
    yield from _check_description(skill, meta)
    if "compatibility" in meta:
        value = meta["compatibility"]
        where = skill.at(fm.key_line("compatibility"))
        if not isinstance(value, str):
            yield COMPATIBILITY(where, "compatibility must be a string")
        elif len(value) > MAX_COMPATIBILITY:
            yield COMPATIBILITY(
                where,
                f"compatibility is {len(value)} characters (at most {MAX_COMPATIBILITY})",
                "shorten it; put details in the body of SKILL.md",
            )
    if "metadata" in meta:
        yield from _check_metadata(skill, meta["metadata"])
    yield from _check_types(skill, meta)
    for key in meta:
        if str(key) not in KNOWN_KEYS:
            yield UNKNOWN_KEY(
                skill.at(fm.key_line(str(key))),
                f"unknown frontmatter key {str(key)!r}",
                "remove it or move it under metadata: (Claude Code ignores unknown keys)",
                severity=Severity.ERROR if strict_spec else None,
            )
    assert skill.skill_md is not None
    count = len(skill.skill_md.lines)
    if count > MAX_SKILL_LINES:
        yield LENGTH(
            skill.at(MAX_SKILL_LINES + 1),
            f"SKILL.md is {count} lines (more than {MAX_SKILL_LINES})",
            "move long material into references/*.md and link to it from SKILL.md",
        )


def _check_name(skill: Skill, meta: Mapping[str, Any]) -> Iterator[Finding]:
    assert skill.fm is not None
    where = skill.at(skill.fm.key_line("name") or 1)
    if "name" not in meta:
        yield NAME(where, "name is missing", f"add 'name: {skill.name}' to the frontmatter")
        return
    name = meta["name"]
    if not isinstance(name, str) or not name.strip():
        yield NAME(where, "name must be a non-empty string", f"use 'name: {skill.name}'")
        return
    reasons = name_problems(name.strip())
    if reasons:
        yield NAME(
            where,
            f"name {name!r} " + "; ".join(reasons),
            "use 1-64 characters of a-z, 0-9 and single hyphens, e.g. 'cdk-patterns'",
        )
    if name.strip() != skill.name:
        yield NAME_FOLDER(
            where,
            f"name {name!r} differs from its folder name {skill.name!r}",
            f"rename the folder to {name.strip()!r} or set 'name: {skill.name}'",
        )


def _check_description(skill: Skill, meta: Mapping[str, Any]) -> Iterator[Finding]:
    assert skill.fm is not None
    where = skill.at(skill.fm.key_line("description") or 1)
    if "description" not in meta:
        yield DESCRIPTION(
            where,
            "description is missing",
            "add 'description: <what it does>. Use when <situation>.'",
        )
        return
    text = meta["description"]
    if not isinstance(text, str) or not text.strip():
        yield DESCRIPTION(where, "description must be a non-empty string")
        return
    if len(text) > MAX_DESCRIPTION:
        yield DESCRIPTION(
            where,
            f"description is {len(text)} characters (at most {MAX_DESCRIPTION})",
            "keep what and when in the description; move detail into the body",
        )
        return
    words = len(text.split())
    if words < 4:
        yield WHEN(
            where,
            f"description is {plural(words, 'word')}: too short for Claude to "
            "know what the skill does",
            "say what the skill does and when to use it",
        )
    elif not _TRIGGER.search(text) and not meta.get("when_to_use"):
        yield WHEN(
            where,
            "description says what the skill does but not when to use it",
            "add a trigger such as 'Use when ...'",
        )


def _check_metadata(skill: Skill, value: Any) -> Iterator[Finding]:
    assert skill.fm is not None
    where = skill.at(skill.fm.key_line("metadata"))
    if not isinstance(value, Mapping):
        yield METADATA(where, "metadata must be a mapping of string keys to string values")
        return
    for key, item in value.items():
        at = skill.at(skill.fm.key_line("metadata", str(key)) or where.line)
        if isinstance(item, (Mapping, list)):
            yield METADATA(at, f"metadata.{key} must be a string, not a nested structure")
        elif not isinstance(item, str):
            yield METADATA(
                at,
                f"metadata.{key} is {type(item).__name__} {item!r}, not a string",
                f'quote it: {key}: "{item}"',
                severity=Severity.WARNING,
            )


def _check_types(skill: Skill, meta: Mapping[str, Any]) -> Iterator[Finding]:
    assert skill.fm is not None

    def at(key: str) -> Location:
        assert skill.fm is not None
        return skill.at(skill.fm.key_line(key))

    for key in _STR_OR_LIST:
        value = meta.get(key)
        if value is None:
            continue
        # allowed-tools is the spec's, and what it grants must be unambiguous.
        severity = Severity.ERROR if key == "allowed-tools" else None
        if isinstance(value, list):
            if not all(isinstance(v, str) for v in value):
                yield FIELD_TYPE(
                    at(key), f"{key} list items must all be strings", severity=severity
                )
        elif not isinstance(value, str):
            yield FIELD_TYPE(
                at(key), f"{key} must be a string or a list of strings", severity=severity
            )
    for key in _BOOL_FIELDS:
        if key in meta and not isinstance(meta[key], bool):
            yield FIELD_TYPE(at(key), f"{key} must be true or false, not {meta[key]!r}")
    for key in _STR_FIELDS:
        value = meta.get(key)
        if value is not None and not isinstance(value, str):
            shown = "[" + ", ".join(map(str, value)) + "]" if isinstance(value, list) else value
            yield FIELD_TYPE(at(key), f"{key} must be a string", f'quote it: {key}: "{shown}"')
    if "hooks" in meta and meta["hooks"] is not None and not isinstance(meta["hooks"], Mapping):
        yield FIELD_TYPE(at("hooks"), "hooks must be a mapping of hook events")


_FRAGMENT_KEYS = ("name", "description", "section", "order", "claims", "must-not-touch", "paths")


def check_fragment(fragment: Fragment) -> Iterator[Finding]:
    """What the fragments module refuses, placed on the line of the key it names."""
    file = fragment.file
    fm = fragment.fm
    if fm is None:
        return  # binary or unreadable: reported by the safety and structure rules
    if fm.meta is None:
        line, message = fm.error or (1, "invalid frontmatter")
        yield FRAGMENT(
            file.at(line), message, "start the fragment with '---', name:, description:, '---'"
        )
        return
    if fragment.error is None:
        yield from _must_not_touch_entries(fragment)
        return
    found, message = split_error(fragment.error, file.rel)
    if found is None:
        head = message.split(" ", 2)[:2]
        key = next((k for k in _FRAGMENT_KEYS if k in head or f"{k}:" in head), None)
        if key is None and "name" in message.split(" must", 1)[0]:
            key = "name"
        found = fm.key_line(key) if key else None
    yield FRAGMENT(file.at(found or 1), message, _fragment_hint(message, fragment.name))


def _must_not_touch_entries(fragment: Fragment) -> Iterator[Finding]:
    """Literal must-not-touch entries the renderer would refuse at install."""
    value = fragment.parsed.must_not_touch if fragment.parsed is not None else None
    fm = fragment.fm
    assert fm is not None
    top = fm.key_line("must-not-touch") or 1
    if isinstance(value, str) and "{{" not in value and "{%" not in value:
        yield FRAGMENT(
            fragment.file.at(top),
            "must-not-touch must be a list of {path, reason} entries or one '{{ expression }}'",
            "write '- path: infra/vpc-stack.ts' with 'reason: ...'",
        )
    elif isinstance(value, list):
        for i, item in enumerate(value):
            path = item.get("path") if isinstance(item, Mapping) else item
            reason = item.get("reason", "") if isinstance(item, Mapping) else ""
            if not isinstance(path, str) or not path.strip() or not isinstance(reason, str | None):
                yield FRAGMENT(
                    fragment.file.at(fm.key_line("must-not-touch", str(i)) or top),
                    f"must-not-touch item {i + 1} needs a path (a glob) and a text reason",
                    "write '- path: infra/vpc-stack.ts' with 'reason: ...'",
                )


def _fragment_hint(message: str, stem: str) -> str:
    if "file name" in message:
        return f"set 'name: {stem}' or rename the file"
    if "description" in message:
        return "add a one-line description of what the section tells Claude"
    if "must-not-touch" in message:
        return "write '- path: infra/vpc-stack.ts' with 'reason: ...', or one '{{ expression }}'"
    return "see DESIGN 5 for the fragment frontmatter"
