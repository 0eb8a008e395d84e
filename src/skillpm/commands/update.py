"""``outdated`` and ``update``: newer versions, within the ranges or beyond them."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from skillpm.errors import LockError, ManifestError, PackageNotFound
from skillpm.formats.index import newest
from skillpm.formats.manifest_edit import edit_manifest
from skillpm.formats.project_files import LockedPackage, Lockfile, ProjectManifest
from skillpm.formats.ranges import parse_range, parse_version
from skillpm.install.steps import InstallOptions, commit, recover, resolve_lock
from skillpm.output import console, plural
from skillpm.policy.gate import PolicyGate
from skillpm.project.folder import Project
from skillpm.resolve.catalog import Sources, gather
from skillpm.store import project_lock


def _latest_of(sources: Sources, pkg: LockedPackage) -> tuple[str | None, bool]:
    """The newest version the registry offers now, and whether it still offers the locked one."""
    registry = sources.by_url(pkg.registry)
    if registry is None:
        return None, True
    versions = registry.lookup([pkg.name]).get(pkg.name, {})
    latest = newest(versions.values(), prereleases=parse_version(pkg.version).is_prerelease)
    return (latest.version if latest else None), pkg.version in versions


def _rows(project: Project, manifest: ProjectManifest, lock: Lockfile) -> list[dict[str, Any]]:
    everything = frozenset(p.name for p in lock.packages) | frozenset(manifest.dependencies)
    # Only to show versions: nothing is installed from this lock.
    wanted = resolve_lock(project, manifest, lock, gate=None, unpinned=everything).by_name()
    sources = project.sources(manifest)
    rows = []
    for pkg in sorted(lock.packages, key=lambda p: p.name):
        target = wanted.get(pkg.name)
        latest, still_offered = _latest_of(sources, pkg)
        current = parse_version(pkg.version)
        # A marketplace offers only its current version of a plugin (which may be derived
        # from content, so unordered): any other one than the locked is newer.
        moved = target is not None and target.version != pkg.version
        # A plugin whose files changed upstream without a version bump moves too.
        changed = target is not None and not moved and target.integrity != pkg.integrity
        newer = latest not in (None, pkg.version) and (
            not still_offered or parse_version(str(latest)) > current
        )
        if moved or newer or changed:
            registry = sources.by_url(pkg.registry)
            rows.append(
                {
                    "name": pkg.name,
                    "current": pkg.version,
                    "wanted": target.version if target else None,
                    "latest": latest,
                    "direct": pkg.name in manifest.dependencies,
                    "changed": changed,
                    "registry": registry.display if registry else pkg.registry,
                }
            )
    return rows


def outdated(project: Project, *, as_json: bool) -> int:
    """Print what is behind; the number of such packages (for ``--exit-code``)."""
    manifest = project.load_manifest()
    lock = project.load_lock()
    if lock is None:
        if manifest.dependencies:
            raise LockError("no skills.lock here yet; run 'skillpm install' first")
        rows: list[dict[str, Any]] = []
    else:
        rows = _rows(project, manifest, lock)
    if as_json:
        console.json({"packages": rows})
        return len(rows)
    if not rows:
        n = len(lock.packages) if lock else 0
        console.result(f"All {plural(n, 'package')} are at their latest versions")
        return 0
    table = [("Package", "Current", "Wanted", "Latest", "")]
    for r in rows:
        note = "" if r["direct"] else "dependency"
        if r["changed"]:
            note = ", ".join(filter(None, ["files changed, same version", note]))
        table.append((r["name"], r["current"], r["wanted"] or "-", r["latest"] or "-", note))
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    for row in table:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        console.result("  ".join([*cells, row[4]]).rstrip())
    if any(r["wanted"] != r["current"] or r["changed"] for r in rows):
        console.info("Run 'skillpm update' to move to the wanted versions")
    if any(r["latest"] not in (r["wanted"], None) for r in rows if r["direct"]):
        console.info("'skillpm update --latest' also widens the ranges in skills.yaml")
    return len(rows)


def _widened_ranges(
    sources: Sources, manifest: ProjectManifest, names: Sequence[str], locked: Mapping[str, str]
) -> dict[str, str]:
    """``^latest`` for each named dependency whose range excludes its latest version."""
    outside = [n for n in names if n not in manifest.dependencies]
    if outside:
        raise ManifestError(
            f"{outside[0]} is not in skills.yaml dependencies (another package needs it); "
            "--latest widens only the ranges in skills.yaml"
        )
    pinned = {n: d.registry for n, d in manifest.dependencies.items() if d.registry and n in names}
    catalog = gather(sources, names, pinned)
    widened = {}
    for name in names:
        current = locked.get(name)
        allow_pre = current is not None and parse_version(current).is_prerelease
        latest = newest((c.entry for c in catalog.get(name, ())), prereleases=allow_pre)
        if latest is None:
            continue
        if not parse_range(manifest.dependencies[name].range).contains(
            parse_version(latest.version), prereleases=allow_pre
        ):
            widened[name] = f"^{latest.version}"
    return widened


def update(
    project: Project, names: Sequence[str], *, latest: bool, options: InstallOptions
) -> None:
    with project_lock(project.root):
        recover(project)  # finish or undo what an interrupted run left
        text = project.manifest_text()
        manifest = project.load_manifest(text)
        old = project.load_lock()
        locked = {p.name: p.version for p in old.packages} if old else {}
        known = sorted(set(locked) | set(manifest.dependencies))
        for name in names:
            if name not in known:
                raise PackageNotFound(name, difflib.get_close_matches(name, known, n=3))
        sources = project.sources(manifest)
        sources.refresh()  # like cargo update: always look at the newest registry state
        new_text = None
        if latest:
            widened = _widened_ranges(
                sources, manifest, list(names) or sorted(manifest.dependencies), locked
            )
            if widened:
                new_text = edit_manifest(text, set_dependencies=widened)
        final = project.load_manifest(new_text) if new_text is not None else manifest
        targets = frozenset(names) if names else frozenset(known)
        gate = PolicyGate(project)
        lock = resolve_lock(project, final, old, gate=gate, unpinned=targets)
        plan = commit(project, final, old, lock, options, new_text, gate=gate)
        if plan.empty and new_text is None and not options.dry_run:
            console.info("Nothing to update: every package is at the newest version allowed")
