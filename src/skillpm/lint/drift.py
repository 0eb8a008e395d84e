"""Drift rules: installed content that no longer matches what skills.lock recorded.

An installed skill is compared by tree integrity (DESIGN 4) with the lock's
``skill-integrity``; a CLAUDE.md managed block (DESIGN 5) with the hash in its
own begin marker. Drift means Claude reads something nobody reviewed, and the
next ``skillpm install`` will refuse to overwrite it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from skillpm.errors import SkillpmError
from skillpm.lint.model import Finding, Location, Severity, rule
from skillpm.lint.sources import ProjectFiles, Workspace

SKILL_EDITED = rule(
    "DRIFT001",
    "installed-skill-modified",
    Severity.ERROR,
    "An installed skill differs from what skills.lock recorded",
    "Files under .claude/skills/<name> were changed after skillpm installed them. Claude "
    "reads the changed copy, and the next install refuses to overwrite it. Move the edit "
    "into the package (and publish it), or run 'skillpm install --force' to restore it.",
    "drift",
)
SKILL_MISSING = rule(
    "DRIFT002",
    "installed-skill-missing",
    Severity.WARNING,
    "A skill skills.lock lists is not installed",
    "skills.lock says a package provides this skill, but .claude/skills has no folder for "
    "it. Run 'skillpm install' to restore it.",
    "drift",
)
BLOCK_EDITED = rule(
    "DRIFT003",
    "managed-block-modified",
    Severity.ERROR,
    "A skillpm-managed CLAUDE.md block was edited by hand",
    "The text between '<!-- skillpm:begin NAME ... -->' and '<!-- skillpm:end NAME -->' no "
    "longer matches the hash in its begin marker. skillpm will refuse to update it. Move "
    "the change into the fragment's package, or outside the markers.",
    "drift",
)
BLOCK_DAMAGED = rule(
    "DRIFT004",
    "managed-block-markers",
    Severity.ERROR,
    "A CLAUDE.md managed block has a missing or malformed marker",
    "Every '<!-- skillpm:begin NAME VERSION sha256:HEX -->' needs its "
    "'<!-- skillpm:end NAME -->'. Restore the marker lines or delete the whole block.",
    "drift",
)
BLOCK_MISSING = rule(
    "DRIFT005",
    "managed-block-missing",
    Severity.WARNING,
    "A fragment skills.lock lists has no block in CLAUDE.md",
    "skills.lock records a rendered fragment that CLAUDE.md no longer holds. Run "
    "'skillpm install' to put it back.",
    "drift",
)

# DESIGN 5 markers. Parsing moves to the fragments module's CLAUDE.md parser once on main.
_BEGIN = re.compile(
    r"^<!-- skillpm:begin (?P<name>[a-z0-9][a-z0-9-]*) (?P<version>\S+) "
    r"(?P<hash>sha256:[0-9a-f]{64}) -->$"
)
_END = re.compile(r"^<!-- skillpm:end (?P<name>[a-z0-9][a-z0-9-]*) -->$")
_LOOSE = re.compile(r"<!--\s*skillpm:(?P<what>begin|end)\b\s*(?P<name>[\w-]*)")


@dataclass(frozen=True)
class Block:
    name: str
    version: str
    recorded: str
    actual: str
    line: int


def content_hash(text: str) -> str:
    """``sha256:`` of a block's text between its markers, line endings as LF."""
    return "sha256:" + hashlib.sha256(text.replace("\r\n", "\n").encode()).hexdigest()


def parse_blocks(text: str) -> tuple[list[Block], list[tuple[int, str]]]:
    """Managed blocks and damaged markers (line, what is wrong) of a CLAUDE.md."""
    lines = text.split("\n")
    blocks: list[Block] = []
    damage: list[tuple[int, str]] = []
    open_: tuple[re.Match[str], int] | None = None
    for i, raw in enumerate(lines):
        line = raw.removesuffix("\r")
        begin = _BEGIN.match(line)
        end = _END.match(line)
        loose = _LOOSE.search(line)
        if begin:
            if open_ is not None:
                damage.append((open_[1] + 1, f"block {open_[0]['name']} has no end marker"))
            open_ = (begin, i)
        elif end:
            if open_ is None or open_[0]["name"] != end["name"]:
                damage.append((i + 1, f"end marker for {end['name']} without its begin marker"))
                if open_ is not None:
                    damage.append((open_[1] + 1, f"block {open_[0]['name']} has no end marker"))
                open_ = None
                continue
            start = open_[1]
            body = "\n".join(lines[start + 1 : i])
            body = body + "\n" if i > start + 1 else ""
            m = open_[0]
            blocks.append(Block(m["name"], m["version"], m["hash"], content_hash(body), start + 1))
            open_ = None
        elif loose:
            damage.append((i + 1, f"malformed skillpm:{loose['what']} marker"))
    if open_ is not None:
        damage.append((open_[1] + 1, f"block {open_[0]['name']} has no end marker"))
    return blocks, damage


def check(ws: Workspace) -> Iterator[Finding]:
    for project in ws.projects:
        yield from _skills(ws, project)
        yield from _blocks(project)


def _skills(ws: Workspace, project: ProjectFiles) -> Iterator[Finding]:
    from skillpm.integrity import tree_integrity

    if project.lock is None:
        return
    installed = {s.name: s for s in ws.skills if s.group == project.group}
    for pkg in project.lock.packages:
        for name in pkg.skills:
            skill = installed.get(name)
            if skill is None:
                yield SKILL_MISSING(
                    project_lock_at(project, pkg.name),
                    f"{pkg.name} {pkg.version} provides skill {name!r}, which is not installed "
                    f"in {project.skills_rel}",
                    "run 'skillpm install'",
                )
                continue
            recorded = pkg.skill_integrity.get(name)
            if recorded is None:
                continue
            try:
                actual = tree_integrity(skill.folder)
            except SkillpmError:
                actual = "(unreadable)"
            if actual != recorded:
                yield SKILL_EDITED(
                    skill.at(None),
                    f"{skill.rel} was changed after {pkg.name} {pkg.version} installed it",
                    "publish the change in the package, or 'skillpm install --force' to restore it",
                )


def project_lock_at(project: ProjectFiles, package: str) -> Location:
    return Location(project.lock_rel, None, package)


def _blocks(project: ProjectFiles) -> Iterator[Finding]:
    found: set[str] = set()
    for file in project.claude_mds:
        if file.text is None:
            continue
        blocks, damage = parse_blocks(file.text)
        for line, what in damage:
            yield BLOCK_DAMAGED(
                file.at(line), what, "restore the marker lines, or delete the whole block"
            )
        for block in blocks:
            found.add(block.name)
            if block.actual != block.recorded:
                yield BLOCK_EDITED(
                    file.at(block.line),
                    f"block {block.name} {block.version} was edited by hand (its content no "
                    "longer matches the hash in its begin marker)",
                    "move the change into the fragment or outside the markers; 'skillpm "
                    "install --force' restores the block",
                )
    if project.lock is None:
        return
    for pkg in project.lock.packages:
        for name in sorted(pkg.fragment_hashes):
            if name not in found:
                where = (
                    project.claude_mds[0].at(None)
                    if project.claude_mds
                    else project_lock_at(project, pkg.name)
                )
                yield BLOCK_MISSING(
                    where,
                    f"{pkg.name} {pkg.version} renders fragment {name!r}, but CLAUDE.md has "
                    "no block for it",
                    "run 'skillpm install'",
                )
