"""``why`` and ``tree``: read the lock, never a registry."""

from __future__ import annotations

import difflib

from skillpm.errors import LockError, PackageNotFound
from skillpm.formats.project_files import Lockfile, ProjectManifest
from skillpm.output import console
from skillpm.project.folder import Project
from skillpm.resolve.depgraph import build_tree, chains_to, render_tree


def _load(project: Project) -> tuple[ProjectManifest, Lockfile]:
    manifest = project.load_manifest()
    lock = project.load_lock()
    if lock is None:
        raise LockError(
            f"no skills.lock in {project.root}; run 'skillpm install' to resolve and install"
        )
    if lock.manifest_hash != manifest.hash():
        console.warn("skills.lock is out of date with skills.yaml; run 'skillpm install'")
    return manifest, lock


def why(project: Project, name: str, *, as_json: bool) -> None:
    manifest, lock = _load(project)
    locked = lock.by_name()
    # A skill, by its name or as PACKAGE/SKILL, is there because its package is.
    package, _, skill = name.partition("/")
    owner = package if skill else lock.skill_owners().get(name)
    if owner in locked and name not in locked and (not skill or skill in locked[owner].skills):
        if not as_json:
            console.result(f"skill {skill or name} is in {owner}")
        name = owner
    if name not in locked:
        close = difflib.get_close_matches(name, sorted(locked), n=3, cutoff=0.6)
        raise PackageNotFound(name, close, "in skills.lock", "it is not installed")
    requirements = {n: d.range for n, d in manifest.dependencies.items()}
    paths, truncated = chains_to(name, list(requirements), locked)
    pkg = locked[name]
    if as_json:
        console.json(
            {
                "name": name,
                "version": pkg.version,
                "direct": name in requirements,
                "chains": [
                    {
                        "requirement": requirements[path[0]],
                        "path": [{"name": n, "version": locked[n].version} for n in path],
                    }
                    for path in paths
                ],
                "truncated": truncated,
            }
        )
        return
    if not paths:
        console.result(
            f"{name} {pkg.version} is locked but nothing in skills.yaml needs it; "
            "'skillpm install' drops it"
        )
        return
    console.result(f"{name} {pkg.version} is installed because skills.yaml requires:")
    arrow = " -> " if _ascii() else " → "
    for path in paths:
        steps = [f"{path[0]} {requirements[path[0]]}"]
        steps += [f"{n} {locked[n].version}" for n in path[1:]]
        console.result("  " + arrow.join(steps))
    if truncated:
        console.result(f"  ... (only the first {len(paths)} chains are shown)")


def tree(project: Project, *, as_json: bool) -> None:
    manifest, lock = _load(project)
    requirements = {n: d.range for n, d in manifest.dependencies.items()}
    roots, orphans = build_tree(requirements, lock.by_name())
    if as_json:
        console.json(
            {
                "dependencies": [r.to_json() for r in roots],
                "unused": orphans,
            }
        )
        return
    if not roots and not orphans:
        console.result("No dependencies in skills.yaml (add one with 'skillpm install NAME')")
        return
    for line in render_tree(roots, ascii_only=_ascii()):
        console.result(line)
    if orphans:
        console.result(f"locked but not needed by skills.yaml: {', '.join(orphans)}")


def _ascii() -> bool:
    """Box-drawing characters and arrows only where stdout can encode them."""
    import sys

    from skillpm.output import can_encode

    return not can_encode(sys.stdout, "├└│→")
