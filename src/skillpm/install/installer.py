"""Bring the project's installed files in line with a lock, all or nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from skillpm.errors import (
    ConflictError,
)
from skillpm.formats.index import (
    load_package_manifest,
)
from skillpm.formats.project_files import LockedPackage, Lockfile, ProjectManifest
from skillpm.fsutil import copy_entries
from skillpm.install.installed import installed_skill_state, is_intact
from skillpm.install.package_copies import prefetch, stage_package
from skillpm.install.plan import Plan
from skillpm.integrity import tree_integrity, walk_tree
from skillpm.output import console, elapsed, plural, redact
from skillpm.project.folder import Project
from skillpm.project.transaction import Transaction
from skillpm.resolve.catalog import Sources

if TYPE_CHECKING:
    from skillpm.signing.allowed_signers import AllowedSigners


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
    required_signers: Sequence[tuple[str, AllowedSigners]] = (),
) -> Plan:
    """What applying ``new`` changes; with ``manifest``, CLAUDE.md fragments too.

    ``rerender`` renders every fragment even when nothing seems to have changed
    (``sync``); ``force_fragments`` overwrites hand-edited blocks; ``vars_unchanged``
    says the vars are those the old lock was rendered with (so a removal need not
    render what stays).
    """
    if manifest is not None:  # before anything is staged, let alone lands
        from skillpm.install.signatures import check_signatures, trusted_registries

        trust = trusted_registries(manifest, project.files_dir)
        new = check_signatures(sources, trust, old, new, required_signers)
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
    prefetch(sources, [p for p in new.packages if p.name not in kept])
    for pkg in sorted(new.packages, key=lambda p: p.name):
        prev = old_pkgs.get(pkg.name)
        same = prev is not None and _same(prev, pkg)
        if pkg.name in kept:
            final.append(kept[pkg.name])
            continue
        staged, pkg, manifest_of = stage_package(project, txn, sources, pkg)
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
    fragments = any(p.fragments for p in (*old_pkgs.values(), *result.lock.packages))
    # The fragment code (and its Jinja2 sandbox) loads only when there is a fragment,
    # a render asked for, or the user scope's placement rule to enforce.
    asked = rerender or force or force_fragments
    if manifest is not None and (fragments or asked or project.is_user):
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
    if manifest is not None and _may_have_pieces(result, old):
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


def _may_have_pieces(result: Plan, old: Lockfile | None) -> bool:
    """Whether a settings or .claudeignore piece is staged or recorded: only then is the
    settings code (JSON editing, merging, templates) worth loading."""
    recorded = old is not None and (
        bool(old.created_files)
        or any(p.settings or p.settings_replaced or p.claudeignore for p in old.packages)
    )
    return recorded or any(
        (m := result.manifests.get(name)) is None or m.settings is not None or m.claudeignore
        for name in result.staged
    )


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
        if prev.version == pkg.version and prev.integrity != pkg.integrity:
            # A marketplace plugin whose files changed without a version bump.
            lines.append((pkg.name, 1, "~", pkg.version, "its files changed, same version"))
            continue
        if prev.version == pkg.version and set(prev.skills) != set(pkg.skills):
            # The same version, other skills of it selected (PACKAGE/SKILL).
            lines.append((pkg.name, 1, "~", pkg.version, f"skills: {', '.join(pkg.skills)}"))
            continue
        lines += [(prev.name, 0, "-", prev.version, ""), (pkg.name, 1, "+", pkg.version, "")]
    lines += [(p.name, 1, "+", p.version, "") for p in result.added]
    lines += [(p.name, 1, "+", p.version, "restored") for p in result.repaired]
    return sorted(lines)
