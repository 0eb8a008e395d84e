"""Context budget rules: what costs tokens in every session.

CLAUDE.md is read at the start of every session, and the description of every
skill Claude may load is listed in its context, so both are paid for on every
turn (and a stable, small prefix is what prompt caching rewards).
"""

from __future__ import annotations

from collections.abc import Iterator

from skillpm.lint.model import Finding, Severity, rule
from skillpm.lint.workspace import Skill, Workspace

MAX_CLAUDE_MD_LINES = 200
MAX_CLAUDE_MD_CHARS = 40_000
MAX_DESCRIPTIONS_CHARS = 8_000

CLAUDE_MD = rule(
    "BUDGET001",
    "claude-md-size",
    Severity.WARNING,
    f"CLAUDE.md longer than {MAX_CLAUDE_MD_LINES} lines or {MAX_CLAUDE_MD_CHARS:,} characters",
    "CLAUDE.md is loaded into every session. Past about 200 lines Claude follows it less "
    "reliably and every turn costs more. Move task-specific material into skills, which "
    "load only when relevant.",
    "context",
    not_reported=(
        "CLAUDE.md files of packages or catalogs: only a project's memory files "
        "(CLAUDE.md, AGENTS.md, .claude/CLAUDE.md) are measured, each on its own."
    ),
)
DESCRIPTIONS = rule(
    "BUDGET002",
    "skill-descriptions-size",
    Severity.WARNING,
    f"Skill descriptions together longer than {MAX_DESCRIPTIONS_CHARS:,} characters",
    "Claude Code lists every model-invocable skill's description in context so Claude can "
    "choose among them; past its budget some are cut. Shorten the longest descriptions, or "
    "set disable-model-invocation: true on skills only users invoke.",
    "context",
    not_reported=(
        "Catalogs (a marketplace, registry or skills repository): their packages are "
        "offered one by one, so each package is measured on its own. Skills with "
        "disable-model-invocation: true do not count."
    ),
)


def check(ws: Workspace) -> Iterator[Finding]:
    for project in ws.projects:
        for file in project.claude_mds:
            if file.text is None:
                continue
            lines = len(file.lines)
            chars = len(file.text)
            if lines > MAX_CLAUDE_MD_LINES or chars > MAX_CLAUDE_MD_CHARS:
                yield CLAUDE_MD(
                    file.at(min(lines, MAX_CLAUDE_MD_LINES + 1)),
                    f"{file.rel} is {lines} lines and {chars:,} characters (aim for at most "
                    f"{MAX_CLAUDE_MD_LINES} lines)",
                    "move task-specific sections into skills; keep CLAUDE.md to what every "
                    "session needs",
                )
    for group in ws.groups():
        sized = [
            (len(d), s) for s in ws.skills if s.group == group and (d := _listed_description(s))
        ]
        total = sum(n for n, _ in sized)
        if total <= MAX_DESCRIPTIONS_CHARS:
            continue
        sized.sort(key=lambda item: (-item[0], item[1].rel))
        largest = sized[0][1]
        top = ", ".join(f"{s.name} ({n:,})" for n, s in sized[:3])
        assert largest.fm is not None
        yield DESCRIPTIONS(
            largest.at(largest.fm.key_line("description")),
            f"the descriptions of {len(sized)} skills total {total:,} characters (more than "
            f"{MAX_DESCRIPTIONS_CHARS:,}); the longest: {top}",
            "shorten the longest descriptions, or set disable-model-invocation: true on skills "
            "only users invoke",
        )


def _listed_description(skill: Skill) -> str:
    """The description Claude sees listed; empty for skills hidden from the model."""
    meta = skill.fm.meta if skill.fm is not None else None
    if not meta or meta.get("disable-model-invocation") is True:
        return ""
    description = meta.get("description")
    extra = meta.get("when_to_use")
    text = description if isinstance(description, str) else ""
    return text + (extra if isinstance(extra, str) else "")
