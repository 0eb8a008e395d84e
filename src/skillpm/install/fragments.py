"""The fragment half of an install: render, place, refuse to lose hand edits, report.

Called from ``installer.plan`` inside the transaction, before anything is
written: a missing variable or a hand-edited block stops the whole install
with the project untouched.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from skillpm.content import fragment_plan as fp
from skillpm.content.fragments import Fragment, load_fragments, render_all
from skillpm.errors import ConflictError, ManifestError, RegistryError
from skillpm.formats.index import load_package_manifest
from skillpm.formats.project_files import Lockfile, ProjectManifest
from skillpm.install.package_copies import package_source
from skillpm.install.plan import Plan
from skillpm.output import console
from skillpm.project.folder import Project
from skillpm.resolve.catalog import Sources

MAX_DIFF_LINES = 40


def plan_fragments(
    project: Project,
    sources: Sources,
    manifest: ProjectManifest,
    old: Lockfile | None,
    result: Plan,
    *,
    rerender: bool,
    force: bool,
    vars_unchanged: bool = False,
) -> None:
    """Fill ``result.fragments`` and the lock's fragment hashes, when there is work."""
    placement = fp.placement_of(manifest.settings)
    if project.is_user and placement != "inline":
        raise ManifestError(
            f"{project.manifest_path}: claude-md placement {placement} is for projects; the user "
            "scope merges fragments inline into ~/.claude/CLAUDE.md"
        )
    memory = project.memory_files
    old_pkgs = old.packages if old else ()
    new_pkgs = result.lock.packages
    if not rerender and not any(p.fragments for p in (*old_pkgs, *new_pkgs)):
        return
    touched = [*result.added, *result.repaired, *result.removed]
    touched += [p for pair in result.changed for p in pair]
    expected = {f: p.fragment_hashes.get(f, "") for p in new_pkgs for f in p.fragments}
    stale = (
        old is None
        or old.manifest_hash != result.lock.manifest_hash
        or any(p.fragments for p in touched)
        or not all(expected.values())
    )
    if not (rerender or stale) and fp.outputs_intact(project.root, placement, expected, memory):
        return
    if vars_unchanged and not (rerender or result.added or result.changed or result.repaired):
        removed = {f for p in result.removed for f in p.fragments}
        before = {f: p.fragment_hashes.get(f, "") for p in old_pkgs for f in p.fragments}
        if all(before.values()) and fp.outputs_intact(project.root, placement, before, memory):
            staying = set(expected) - removed
            planned = fp.plan_removal(
                project.root, placement, removed, staying, force=force, memory=memory
            )
            if planned is not None:
                result.fragments = fp.FragmentPlan({}, *planned)
                return
    fragments = locked_fragments(sources, result.lock, result.staged)
    rendered = render_all(fragments, manifest.vars)
    old_names = {f for p in old_pkgs for f in p.fragments}
    changes, edited = fp.plan_outputs(
        project.root, placement, rendered, old_names, force=force, memory=memory
    )
    hashes: dict[str, dict[str, str]] = {}
    for r in rendered:
        hashes.setdefault(r.fragment.package, {})[r.name] = r.hash
    result.fragments = fp.FragmentPlan(hashes, changes, edited)
    result.lock = replace(
        result.lock,
        packages=tuple(replace(p, fragment_hashes=hashes.get(p.name, {})) for p in new_pkgs),
    )


def locked_fragments(
    sources: Sources, lock: Lockfile, staged: Mapping[str, Path] | None = None
) -> list[Fragment]:
    """The fragment templates of every locked package, read from verified copies.

    ``staged`` maps package names to copies already staged (and verified) by the
    installer; other packages are read from their registry (a remote one's cache)
    after an integrity check against the lock. ``lint`` can render these too.
    """

    fragments: list[Fragment] = []
    owner: dict[str, str] = {}
    for pkg in lock.packages:
        if not pkg.fragments:
            continue
        root = (staged or {}).get(pkg.name) or package_source(sources, pkg)
        loaded = load_fragments(root, load_package_manifest(root))
        if sorted(f.name for f in loaded) != sorted(pkg.fragments):
            raise RegistryError(
                f"{pkg.name} {pkg.version}: the package's fragments "
                f"({', '.join(sorted(f.name for f in loaded))}) differ from what its index lists "
                f"({', '.join(pkg.fragments)})"
            )
        for f in loaded:
            if f.name in owner:
                raise ConflictError(
                    f"fragment {f.name!r} is provided by both {owner[f.name]} and {pkg.name}; "
                    "install only one of them"
                )
            owner[f.name] = pkg.name
        fragments += loaded
    return fragments


def _lines(text: str | None) -> list[str]:
    return [line.rstrip("\r\n") for line in (text or "").splitlines(keepends=True)]


def unified(old: str | None, new: str | None, before: str, after: str) -> list[str]:
    return list(difflib.unified_diff(_lines(old), _lines(new), before, after, lineterm=""))


def _shorten(lines: list[str]) -> list[str]:
    if len(lines) <= MAX_DIFF_LINES:
        return lines
    more = len(lines) - MAX_DIFF_LINES
    return [*lines[:MAX_DIFF_LINES], f"... ({more} more lines; 'skillpm diff' shows them all)"]


def block_diff(edit: fp.EditedBlock) -> list[str]:
    return unified(
        edit.current,
        edit.rendered,
        f"{edit.rel}: {edit.name} (edited by hand)",
        f"{edit.rel}: {edit.name} (as skillpm renders it)",
    )


def refuse_edits(plan: fp.FragmentPlan) -> None:
    """Show each hand edit skillpm would have to overwrite, then stop."""
    refused = plan.refused
    if not refused:
        return
    for edit in refused:
        console.diff(_shorten(block_diff(edit)), err=True)
    first = refused[0]
    what = "remove" if first.rendered is None else "update"
    names = ", ".join(e.name for e in refused)
    where = ", ".join(sorted({e.rel for e in refused}))
    noun = "block was" if len(refused) == 1 else "blocks were"
    raise ConflictError(
        f"{where}: the {names} {noun} edited by hand and skillpm needs to {what} it; keep your "
        "edit by moving it outside the skillpm markers (or into vars in skills.yaml), or pass "
        "--force to replace it"
    )


def report_fragments(plan: fp.FragmentPlan) -> None:
    for change in plan.changes:
        if change.old is None:
            console.info(f"Created {change.rel}")
        elif change.new is None:
            console.info(f"Removed {change.rel}")
        else:
            console.info(f"Updated {change.rel}")
    for edit in plan.edited:
        if edit.action == "kept":
            console.warn(
                f"{edit.rel}: your edit of the {edit.name} block is kept ('skillpm diff' shows "
                "it; 'skillpm sync --force' restores the block)"
            )
        elif edit.action == "overwritten" and edit.rendered is None:  # remove --force
            console.info(f"Removed your edited {edit.name} block from {edit.rel} (--force)")
        elif edit.action == "overwritten":
            console.info(f"Replaced your edit of the {edit.name} block in {edit.rel} (--force)")


def show_diff(plan: fp.FragmentPlan | None) -> bool:
    """Print what sync would change; True when there is anything to show."""
    if plan is None:
        return False
    for change in plan.changes:
        before = f"a/{change.rel}" if change.old is not None else "/dev/null"
        after = f"b/{change.rel}" if change.new is not None else "/dev/null"
        console.diff(unified(change.old, change.new, before, after))
    for edit in plan.edited:
        if edit.action == "kept":
            note = "sync keeps it; 'sync --force' would restore the block"
        else:
            note = "sync refuses to overwrite it; 'sync --force' would"
        console.result(f"{edit.rel}: the {edit.name} block was edited by hand ({note}):")
        console.diff(block_diff(edit))
    return bool(plan.changes or plan.edited)
