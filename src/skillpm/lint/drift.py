"""Drift rules: installed content that no longer matches what skills.lock recorded.

An installed skill is compared by tree integrity (DESIGN 4) with the lock's
``skill-integrity``; a CLAUDE.md managed block (DESIGN 5) with the hash in its
own begin marker. Drift means Claude reads something nobody reviewed, and the
next ``skillpm install`` will refuse to overwrite it.
"""

from __future__ import annotations

from collections.abc import Iterator

from skillpm.lint.model import Finding, Location, Severity, rule
from skillpm.lint.workspace import ProjectFiles, Workspace

SKILL_EDITED = rule(
    "DRIFT001",
    "installed-skill-modified",
    Severity.ERROR,
    "An installed skill differs from what skills.lock recorded",
    "Files under .claude/skills/<name> were changed after skillpm installed them. Claude "
    "reads the changed copy, and the next install refuses to overwrite it. Move the edit "
    "into the package (and publish it), or run 'skillpm install --force' to restore it.",
    "drift",
    not_reported="Skill folders skills.lock does not list: they are the user's.",
)
SKILL_MISSING = rule(
    "DRIFT002",
    "installed-skill-missing",
    Severity.WARNING,
    "A skill skills.lock lists is not installed",
    "skills.lock says a package provides this skill, but .claude/skills has no folder for "
    "it. Run 'skillpm install' to restore it.",
    "drift",
    not_reported="Skills installed by hand (not in skills.lock).",
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
    not_reported="Text outside the markers, which is the user's.",
)
BLOCK_DAMAGED = rule(
    "DRIFT004",
    "managed-block-markers",
    Severity.ERROR,
    "A CLAUDE.md managed block has a missing or malformed marker",
    "Every '<!-- skillpm:begin NAME VERSION sha256:HEX -->' needs its "
    "'<!-- skillpm:end NAME -->'. Restore the marker lines or delete the whole block.",
    "drift",
    not_reported="HTML comments that are not skillpm markers.",
)
BLOCK_MISSING = rule(
    "DRIFT005",
    "managed-block-missing",
    Severity.WARNING,
    "A fragment skills.lock lists has no block in CLAUDE.md",
    "skills.lock records a rendered fragment that CLAUDE.md no longer holds. Run "
    "'skillpm install' to put it back.",
    "drift",
    not_reported="Fragments of packages skills.lock does not list.",
)


def check(ws: Workspace) -> Iterator[Finding]:
    for project in ws.projects:
        yield from _skills(ws, project)
        yield from _blocks(project)


def _skills(ws: Workspace, project: ProjectFiles) -> Iterator[Finding]:
    """Each locked skill's copies (one per target) against what install recorded."""
    if project.lock is None:
        return
    linted = {s.name: s for s in ws.skills if s.group == project.group}
    for pkg in project.lock.packages:
        for name in pkg.skills:
            copies = project.installed.get(name, {})
            missing = [folder for folder, actual in copies.items() if actual is None]
            if missing:
                yield SKILL_MISSING(
                    project_lock_at(project, pkg.name),
                    f"{pkg.name} {pkg.version} provides skill {name!r}, which is not installed "
                    f"in {' and '.join(missing)}",
                    "run 'skillpm install'",
                )
                continue
            recorded = pkg.skill_integrity.get(name)
            for folder, actual in copies.items():
                if recorded is None or actual == recorded:
                    continue
                rel = f"{folder}/{name}"
                skill = linted.get(name)
                yield SKILL_EDITED(
                    skill.at(None)
                    if skill is not None and skill.rel == rel
                    else Location(rel, None, pkg.name),
                    f"{rel} was changed after {pkg.name} {pkg.version} installed it",
                    "publish the change in the package, or 'skillpm install --force' to restore it",
                )


def project_lock_at(project: ProjectFiles, package: str) -> Location:
    return Location(project.lock_rel, None, package)


def _blocks(project: ProjectFiles) -> Iterator[Finding]:
    """Managed blocks wherever fragments are placed, parsed as install parses them."""
    from skillpm.content.claudemd import parse

    found: set[str] = set()
    for file in project.managed:
        if file.text is None:
            continue
        doc = parse(file.text)
        for damage in doc.damage:
            yield BLOCK_DAMAGED(
                file.at(damage.line),
                f"{damage.what} for {damage.name}",
                "restore the marker lines, or delete the whole block",
            )
        for part in doc.parts:
            if isinstance(part, str):
                continue
            found.add(part.name)
            if part.edited:
                yield BLOCK_EDITED(
                    file.at(part.line),
                    f"block {part.name} {part.version} was edited by hand (its content no "
                    "longer matches the hash in its begin marker)",
                    "move the change into the fragment or outside the markers; 'skillpm sync "
                    "--force' restores the block",
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
                    f"{pkg.name} {pkg.version} renders fragment {name!r}, but no managed block "
                    "holds it",
                    "run 'skillpm install'",
                )
