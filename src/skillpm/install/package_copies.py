"""Where a locked package's files come from: the registry's copy, verified, and staged.

The lock carries all the installer needs (path, integrity, commit), so a locked
install never reads a registry's index.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from skillpm.errors import IntegrityError, LockError, RegistryError
from skillpm.formats.index import (
    MANIFEST_NAME,
    PackageManifest,
    VersionEntry,
    load_package_manifest,
)
from skillpm.formats.project_files import LockedPackage
from skillpm.fsutil import copy_entries
from skillpm.integrity import integrity_of_entries, walk_tree
from skillpm.output import console, redact
from skillpm.project.folder import Project
from skillpm.project.transaction import Transaction
from skillpm.registry.base import Registry
from skillpm.resolve.catalog import Sources


def _source(sources: Sources, pkg: LockedPackage) -> tuple[Registry, VersionEntry]:
    """The registry a locked package comes from, and its entry as the lock describes it.

    The lock carries all the installer needs (path, integrity, commit), so a
    locked install never reads a registry's index.
    """
    registry = sources.by_url(pkg.registry)
    if registry is None:
        raise LockError(
            f"skills.lock: {pkg.name} comes from registry {redact(pkg.registry)}, which "
            "skills.yaml does not list; run 'skillpm install' without --frozen to re-resolve"
        )
    entry = VersionEntry(
        name=pkg.name,
        version=pkg.version,
        integrity=pkg.integrity,
        skills=pkg.skills,
        fragments=pkg.fragments,
        path=f"packages/{pkg.name}/{pkg.version}",
        source=pkg.source,
    )
    return registry, entry


def _warn_if_yanked(registry: Registry, pkg: LockedPackage) -> None:
    # cargo semantics: a yank stops new resolutions, never an install from the lock.
    # Only what the registry knows without fetching is consulted (see known_entry).
    entry = registry.known_entry(pkg.name, pkg.version)
    if entry is not None and entry.yanked:
        why = f" ({entry.yank_reason})" if entry.yank_reason else ""
        console.warn(
            f"{pkg.name} {pkg.version} is yanked in registry {registry.display}{why}; "
            "installing it because skills.lock pins it"
        )


def registry_copy(sources: Sources, pkg: LockedPackage) -> tuple[Registry, Path]:
    """The registry's folder of a locked package (not yet verified)."""
    registry, entry = _source(sources, pkg)
    _warn_if_yanked(registry, pkg)
    console.update_status(f"Preparing {pkg.name} {pkg.version}")
    console.detail(f"preparing {pkg.name} {pkg.version} from {registry.display}")
    return registry, registry.package_dir(entry, pkg.commit)


def prefetch(sources: Sources, packages: list[LockedPackage]) -> None:
    """Let each registry fetch what will be staged in one batch (git: one fetch, one read)."""
    batches: dict[int, tuple[Registry, list[tuple[VersionEntry, str | None]]]] = {}
    for pkg in packages:
        registry, entry = _source(sources, pkg)
        batches.setdefault(id(registry), (registry, []))[1].append((entry, pkg.commit))
    for registry, items in batches.values():
        registry.prefetch(items)


def _verify(folder: Path, pkg: LockedPackage, registry: Registry) -> None:
    actual = integrity_of_entries(walk_tree(folder))
    if actual != pkg.integrity:
        integrity_failed(pkg, registry, actual)


def integrity_failed(pkg: LockedPackage, registry: Registry, actual: str) -> None:
    raise IntegrityError(
        f"integrity check failed for {pkg.name} {pkg.version} from {registry.display}: "
        f"expected {pkg.integrity}, got {actual}; the registry's copy changed after it was "
        "locked. Nothing was installed"
    )


def package_source(sources: Sources, pkg: LockedPackage) -> Path:
    """A verified, read-only copy of a locked package (its fragment templates, say).

    Remote transports serve it from their cache, so this works offline once fetched.
    """
    registry, source = registry_copy(sources, pkg)
    _verify(source, pkg, registry)
    return source


def stage_package(
    project: Project, txn: Transaction, sources: Sources, pkg: LockedPackage
) -> tuple[Path, LockedPackage, PackageManifest | None]:
    """Copy a package into the transaction and verify it against ``pkg.integrity``.

    The copy hashes the bytes it writes, so the package and each skill folder in it
    are verified from those hashes without reading the staged files back.
    """
    from skillpm.formats.archive import check_sizes

    registry, source = registry_copy(sources, pkg)
    entries = walk_tree(source)
    check_sizes(((e.relpath, e.size) for e in entries), f"{pkg.name} {pkg.version}")
    # Copied, never linked: a hard link in a registry folder (uv installs skillpm's
    # own files as hard links) gives an independent file, checked by integrity.
    staged = txn.new_dir(pkg.name)
    digests = copy_entries(entries, staged)
    actual = integrity_of_entries(entries, digests)
    if actual != pkg.integrity:
        integrity_failed(pkg, registry, actual)
    where = f"{pkg.name} {pkg.version} from {registry.display}: {MANIFEST_NAME}"
    manifest = load_package_manifest(staged, where) if MANIFEST_NAME in digests else None
    skill_dirs = dict(zip(manifest.skill_names, manifest.skills, strict=True)) if manifest else {}
    # The lock may select some of a package's skills (PACKAGE/SKILL), never others.
    if not set(pkg.skills) <= set(skill_dirs):
        raise RegistryError(
            f"{pkg.name} {pkg.version}: the package's skills ({', '.join(sorted(skill_dirs))}) "
            f"differ from what its index lists ({', '.join(pkg.skills)})"
        )
    skill_integrity = {}
    for skill, rel in skill_dirs.items():
        if skill not in pkg.skills:
            continue
        prefix = rel + "/"
        if f"{prefix}SKILL.md" not in digests:
            raise RegistryError(f"{pkg.name} {pkg.version}: {rel}/SKILL.md is missing")
        inside = [
            e._replace(relpath=e.relpath[len(prefix) :])
            for e in entries
            if e.relpath.startswith(prefix)
        ]
        sub = {e.relpath: digests[prefix + e.relpath] for e in inside}
        skill_integrity[skill] = integrity_of_entries(inside, sub)
    return staged, replace(pkg, skill_integrity=skill_integrity), manifest
