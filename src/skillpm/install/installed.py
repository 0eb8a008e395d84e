"""What is installed now: the integrity of each copy of each locked skill."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from skillpm.errors import SkillpmError
from skillpm.formats.project_files import LockedPackage, Lockfile
from skillpm.project.folder import Project
from skillpm.project.state import ProjectState

EDITED = "edited"  # copies of one skill differ between targets: at least one was edited


def installed_copies(project: Project, lock: Lockfile | None) -> dict[str, dict[Path, str | None]]:
    """Integrity of each copy of each locked skill, by target skill folder: ``None`` when
    the copy is missing, ``EDITED`` when it holds what no package can (a link)."""
    dirs = project.skill_dirs
    cache = project.state  # folders proven unchanged by their stat stamps are not read
    copies = {
        skill: {d: _copy_integrity(cache, d / skill) for d in dirs}
        for pkg in (lock.packages if lock else ())
        for skill in pkg.skills
    }
    cache.save()
    return copies


def installed_skill_state(project: Project, lock: Lockfile | None) -> dict[str, str | None]:
    """Integrity of each locked skill as installed now (in every target folder);
    ``None`` when a copy is missing, ``EDITED`` when the copies differ."""
    state: dict[str, str | None] = {}
    for skill, copies in installed_copies(project, lock).items():
        found = set(copies.values())
        if None in found:
            state[skill] = None
        else:
            state[skill] = found.pop() if len(found) == 1 else EDITED
    return state


def _copy_integrity(cache: ProjectState, folder: Path) -> str | None:
    """An installed copy's integrity; ``None`` when absent, ``EDITED`` when it holds what a
    package cannot (a link): then it is not the copy skillpm installed, so it counts as edited
    (--force replaces it) instead of failing every command that looks at it."""
    if not folder.is_dir():
        return None
    try:
        return cache.tree_integrity(folder)
    except SkillpmError:
        return EDITED


def edited_fragments(project: Project, lock: Lockfile | None) -> dict[str, str]:
    """Locked fragments whose managed block was edited by hand, with the file holding each."""
    from skillpm.content.fragment_plan import edited_blocks

    names = [f for p in (lock.packages if lock else ()) for f in p.fragments]
    return edited_blocks(project.root, names, project.memory_files) if names else {}


def is_intact(
    pkg: LockedPackage, state: Mapping[str, str | None], edited: Collection[str] = ()
) -> bool:
    """Every skill as installed and, given ``edited_fragments``, no block edited by hand:
    what ``list`` and ``doctor`` report, and lint's DRIFT001 and DRIFT003 check."""
    skills = all(
        state.get(s) is not None and state.get(s) == pkg.skill_integrity.get(s) for s in pkg.skills
    )
    return skills and not any(f in edited for f in pkg.fragments)
