"""Bring the project's installed files in line with a lock, all or nothing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from skillpm.content.fragment_plan import FragmentPlan
from skillpm.errors import (
    ConflictError,
    IntegrityError,
    LockError,
    RegistryError,
    SkillpmError,
)
from skillpm.formats.index import (
    MANIFEST_NAME,
    PackageManifest,
    VersionEntry,
    load_package_manifest,
)
from skillpm.formats.project_files import LockedPackage, Lockfile, ProjectManifest, dump_lock
from skillpm.fsutil import copy_entries
from skillpm.install.settings import PiecePlan
from skillpm.integrity import integrity_of_entries, tree_integrity, walk_tree
from skillpm.output import console, elapsed, plural, redact
from skillpm.project.folder import Project
from skillpm.project.state import ProjectState
from skillpm.project.transaction import Transaction
from skillpm.registry.base import Registry
from skillpm.resolve.catalog import Sources


@dataclass
class Plan:
    """What applying a lock would change, with each new package already staged."""

    lock: Lockfile
    added: list[LockedPackage] = field(default_factory=list)
    removed: list[LockedPackage] = field(default_factory=list)
    changed: list[tuple[LockedPackage, LockedPackage]] = field(default_factory=list)
    repaired: list[LockedPackage] = field(default_factory=list)
    staged: dict[str, Path] = field(default_factory=dict)  # package name -> staged package
    fragments: FragmentPlan | None = None  # None: fragments needed no work
    pieces: PiecePlan | None = None  # .claude/settings.json and .claudeignore; None: no work
    dropped: list[Path] = field(default_factory=list)  # our copies in targets no longer used
    manifests: dict[str, PackageManifest] = field(default_factory=dict)  # of staged packages
    _dumped: tuple[Lockfile, bytes] | None = None

    def lock_bytes(self) -> bytes:
        """``skills.lock`` as written for ``lock`` (dumped once however often asked)."""
        if self._dumped is None or self._dumped[0] is not self.lock:
            self._dumped = (self.lock, dump_lock(self.lock))
        return self._dumped[1]

    @property
    def empty(self) -> bool:
        files = self.fragments is not None and bool(self.fragments.changes)
        files = files or (self.pieces is not None and bool(self.pieces.changes))
        moved = self.added or self.removed or self.changed or self.repaired or self.dropped
        return not (moved or files)


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


def is_intact(pkg: LockedPackage, state: Mapping[str, str | None]) -> bool:
    return all(
        state.get(s) is not None and state.get(s) == pkg.skill_integrity.get(s) for s in pkg.skills
    )


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


def _registry_copy(sources: Sources, pkg: LockedPackage) -> tuple[Registry, Path]:
    """The registry's folder of a locked package (not yet verified)."""
    registry, entry = _source(sources, pkg)
    _warn_if_yanked(registry, pkg)
    console.update_status(f"Preparing {pkg.name} {pkg.version}")
    console.detail(f"preparing {pkg.name} {pkg.version} from {registry.display}")
    return registry, registry.package_dir(entry, pkg.commit)


def _prefetch(sources: Sources, packages: list[LockedPackage]) -> None:
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
        _integrity_failed(pkg, registry, actual)


def _integrity_failed(pkg: LockedPackage, registry: Registry, actual: str) -> None:
    raise IntegrityError(
        f"integrity check failed for {pkg.name} {pkg.version} from {registry.display}: "
        f"expected {pkg.integrity}, got {actual}; the registry's copy changed after it was "
        "locked. Nothing was installed"
    )


def package_source(sources: Sources, pkg: LockedPackage) -> Path:
    """A verified, read-only copy of a locked package (its fragment templates, say).

    Remote transports serve it from their cache, so this works offline once fetched.
    """
    registry, source = _registry_copy(sources, pkg)
    _verify(source, pkg, registry)
    return source


def _stage_package(
    project: Project, txn: Transaction, sources: Sources, pkg: LockedPackage
) -> tuple[Path, LockedPackage, PackageManifest | None]:
    """Copy a package into the transaction and verify it against ``pkg.integrity``.

    The copy hashes the bytes it writes, so the package and each skill folder in it
    are verified from those hashes without reading the staged files back.
    """
    from skillpm.formats.archive import check_sizes

    registry, source = _registry_copy(sources, pkg)
    entries = walk_tree(source)
    check_sizes(((e.relpath, e.size) for e in entries), f"{pkg.name} {pkg.version}")
    # Copied, never linked: a hard link in a registry folder (uv installs skillpm's
    # own files as hard links) gives an independent file, checked by integrity.
    staged = txn.new_dir(pkg.name)
    digests = copy_entries(entries, staged)
    actual = integrity_of_entries(entries, digests)
    if actual != pkg.integrity:
        _integrity_failed(pkg, registry, actual)
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


def _origin(pkg: LockedPackage) -> str:
    return f"{pkg.name} {pkg.version} (registry {redact(pkg.registry)})"


def _same(prev: LockedPackage, pkg: LockedPackage) -> bool:
    """The same bytes, and the same skills of them installed."""
    return (prev.version, prev.integrity, set(prev.skills)) == (
        pkg.version,
        pkg.integrity,
        set(pkg.skills),
    )


def plan(
    project: Project,
    txn: Transaction,
    sources: Sources,
    old: Lockfile | None,
    new: Lockfile,
    *,
    force: bool,
    manifest: ProjectManifest | None = None,
    rerender: bool = False,
    force_fragments: bool = False,
    vars_unchanged: bool = False,
) -> Plan:
    """What applying ``new`` changes; with ``manifest``, CLAUDE.md fragments too.

    ``rerender`` renders every fragment even when nothing seems to have changed
    (``sync``); ``force_fragments`` overwrites hand-edited blocks; ``vars_unchanged``
    says the vars are those the old lock was rendered with (so a removal need not
    render what stays).
    """
    old_pkgs = old.by_name() if old else {}
    state = installed_skill_state(project, old)
    result = Plan(new)
    owners_new: dict[str, LockedPackage] = {}
    for pkg in new.packages:
        for skill in pkg.skills:
            other = owners_new.get(skill)
            if other is not None:
                raise ConflictError(
                    f"skill {skill!r} is provided by both {_origin(other)} and {_origin(pkg)}; "
                    f"install only one of them (or one skill of a package: PACKAGE/SKILL)"
                )
            owners_new[skill] = pkg
    owners_old = old.skill_owners() if old else {}
    final: list[LockedPackage] = []
    kept: dict[str, LockedPackage] = {}
    for pkg in new.packages:
        prev = old_pkgs.get(pkg.name)
        same = prev is not None and _same(prev, pkg)
        if same and prev is not None and is_intact(prev, state):
            kept[pkg.name] = replace(
                pkg, skill_integrity=prev.skill_integrity, fragment_hashes=prev.fragment_hashes
            )
    _prefetch(sources, [p for p in new.packages if p.name not in kept])
    for pkg in sorted(new.packages, key=lambda p: p.name):
        prev = old_pkgs.get(pkg.name)
        same = prev is not None and _same(prev, pkg)
        if pkg.name in kept:
            final.append(kept[pkg.name])
            continue
        staged, pkg, manifest_of = _stage_package(project, txn, sources, pkg)
        result.staged[pkg.name] = staged
        if manifest_of is not None:
            result.manifests[pkg.name] = manifest_of
        final.append(pkg)
        if prev is None:
            result.added.append(pkg)
        elif same:
            result.repaired.append(pkg)
        else:
            result.changed.append((prev, pkg))
    staying = {p.name for p in new.packages}
    for name, prev in sorted(old_pkgs.items()):
        if name not in staying:
            result.removed.append(prev)
    result.lock = replace(new, packages=tuple(final))
    _check_ownership(project, result, owners_old, state, force=force)
    result.dropped = _dropped_copies(project, old, result.lock)
    if manifest is not None:
        from skillpm.install.fragments import plan_fragments

        plan_fragments(
            project,
            sources,
            manifest,
            old,
            result,
            rerender=rerender or force or force_fragments,
            force=force or force_fragments,
            vars_unchanged=vars_unchanged,
        )
        from skillpm.install.settings import plan_pieces

        plan_pieces(
            project,
            sources,
            manifest,
            old,
            result,
            force=force,
            vars_unchanged=vars_unchanged,
        )
    return result


def _dropped_copies(project: Project, old: Lockfile | None, new: Lockfile) -> list[Path]:
    """Skill folders in targets no longer used that hold exactly what skillpm put there."""
    recorded = {s: h for p in (old.packages if old else ()) for s, h in p.skill_integrity.items()}
    recorded.update({s: h for p in new.packages for s, h in p.skill_integrity.items()})
    dropped = []
    for folder in project.other_skill_dirs:
        for skill, digest in sorted(recorded.items()):
            copy = folder / skill
            if copy.is_dir() and tree_integrity(copy) == digest:
                dropped.append(copy)
    return dropped


def _check_ownership(
    project: Project,
    result: Plan,
    owners_old: Mapping[str, str],
    state: Mapping[str, str | None],
    *,
    force: bool,
) -> None:
    """Refuse to overwrite or delete a skill folder skillpm does not own as installed."""
    if force:
        return
    old_integrity = {s: h for p in result.removed for s, h in p.skill_integrity.items()}
    for prev, _ in result.changed:
        old_integrity.update(prev.skill_integrity)
    touched = [s for p in result.removed for s in p.skills]
    touched += [
        s
        for name in result.staged
        for p in result.lock.packages
        if p.name == name
        for s in p.skills
    ]
    for skill, folder in ((s, d / s) for s in touched for d in project.skill_dirs):
        rel = folder.relative_to(project.root).as_posix()
        if not folder.exists():
            continue
        if skill not in owners_old:
            raise ConflictError(
                f"{rel} exists and was not installed by skillpm; move it away or pass --force "
                "to replace it"
            )
        recorded = old_integrity.get(skill)
        if recorded is not None and state.get(skill) not in (None, recorded):
            raise ConflictError(
                f"{rel} was edited since it was installed; keep your edit by moving it away, "
                "or pass --force to discard it"
            )


def apply(
    project: Project,
    txn: Transaction,
    result: Plan,
    *,
    manifest_bytes: bytes | None,
) -> None:
    """Swap staged skills into place, then write the manifest, and the lock last."""
    by_name = result.lock.by_name()
    dirs = project.skill_dirs
    for prev in result.removed:
        for skill in prev.skills:
            for folder in dirs:
                txn.replace_dir(folder / skill, None)
    for prev, _ in result.changed:
        for skill in prev.skills:
            if skill not in by_name[prev.name].skills:
                for folder in dirs:
                    txn.replace_dir(folder / skill, None)
    for copy in result.dropped:
        txn.replace_dir(copy, None)
    for name, staged in result.staged.items():
        manifest = result.manifests.get(name) or load_package_manifest(staged)
        for skill, rel in zip(manifest.skill_names, manifest.skills, strict=True):
            if skill not in by_name[name].skills:
                continue
            for i, folder in enumerate(dirs):
                source = staged / rel
                if i < len(dirs) - 1:  # each target gets its own copy; the last takes the original
                    source = txn.new_dir(f"{name}-{skill}")
                    copy_entries(walk_tree(staged / rel), source)
                txn.replace_dir(folder / skill, source)
    for change in result.fragments.changes if result.fragments else ():
        data = None if change.new is None else change.new.encode("utf-8", "surrogateescape")
        txn.write_file(project.root / change.rel, data)
    for piece in result.pieces.changes if result.pieces else ():
        txn.write_file(project.root / piece.rel, None if piece.new is None else piece.new.encode())
    if manifest_bytes is not None:
        txn.write_file(project.manifest_path, manifest_bytes)
    txn.write_file(project.lock_path, result.lock_bytes())


def report(result: Plan, seconds: float) -> None:
    """uv-style summary: counts with the time taken, then one sorted line per package."""
    installed = len(result.added) + len(result.changed) + len(result.repaired)
    if installed:
        console.info(f"Installed {plural(installed, 'package')} in {elapsed(seconds)}")
    if result.removed:
        timing = "" if installed else f" in {elapsed(seconds)}"
        console.info(f"Removed {plural(len(result.removed), 'package')}{timing}")
    for name, _, sign, version, note in change_lines(result):
        console.change(sign, name, version, note)
    for copy in result.dropped:
        where = f"{copy.parent.parent.name}/{copy.parent.name}/{copy.name}"
        console.info(f"Removed {where} (its target is no longer in skills.yaml)")
    if result.fragments is not None:
        from skillpm.install.fragments import report_fragments

        report_fragments(result.fragments)
    if result.pieces is not None:
        from skillpm.install.settings import report_pieces

        report_pieces(result.pieces)


def change_lines(result: Plan) -> list[tuple[str, int, str, str, str]]:
    """``(name, order, sign, version, note)`` sorted by name, the old version first."""
    lines = [(p.name, 0, "-", p.version, "") for p in result.removed]
    for prev, pkg in result.changed:
        if prev.version == pkg.version and set(prev.skills) != set(pkg.skills):
            # The same version, other skills of it selected (PACKAGE/SKILL).
            lines.append((pkg.name, 1, "~", pkg.version, f"skills: {', '.join(pkg.skills)}"))
            continue
        lines += [(prev.name, 0, "-", prev.version, ""), (pkg.name, 1, "+", pkg.version, "")]
    lines += [(p.name, 1, "+", p.version, "") for p in result.added]
    lines += [(p.name, 1, "+", p.version, "restored") for p in result.repaired]
    return sorted(lines)
