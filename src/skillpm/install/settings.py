"""The settings half of an install: ``.claude/settings.json`` and ``.claudeignore``.

Called from ``installer.plan`` inside the transaction, after the packages are
staged and before anything is written. It works out both files' new text from
the lock's records (what skillpm added before) and the packages' pieces (what
they want now), refuses to overwrite the user's values without ``--force``,
and puts the new records in the lock, which is written last.

Why the lock holds the records: ``.claude/settings.json`` and ``.claudeignore``
are committed, so every clone needs to know which keys and lines are skillpm's
to take back; the lock is the committed file that already records what was
installed (skill and fragment hashes). A private state file would leave a
teammate's ``skillpm remove`` unable to tell skillpm's keys from the user's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from skillpm import jsonedit
from skillpm.content import settings_merge as settings_plan
from skillpm.content.settings_merge import MISSING, Owned, shown
from skillpm.content.settings_pieces import is_command, load_settings, render_settings
from skillpm.errors import ConflictError, ManifestError, SkillpmError
from skillpm.formats import claudeignore
from skillpm.formats.index import PackageManifest, load_package_manifest
from skillpm.formats.project_files import LockedPackage, Lockfile, ProjectManifest
from skillpm.install.package_copies import package_source
from skillpm.install.plan import PieceChange, PiecePlan, Plan
from skillpm.output import console
from skillpm.project.folder import Project
from skillpm.resolve.catalog import Sources

SETTINGS = settings_plan.FILE
IGNORE = claudeignore.FILE


def _read(path: Path) -> str | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ManifestError(f"{path.name}: cannot read: {exc.strerror}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ManifestError(f"{path}: not UTF-8 text") from None


def _has_records(pkg: LockedPackage) -> bool:
    return bool(pkg.settings or pkg.settings_replaced or pkg.claudeignore)


def _old_owned(old: Lockfile | None) -> dict[str, dict[str, Owned]]:
    owned: dict[str, dict[str, Owned]] = {}
    for pkg in old.packages if old else ():
        for ptr, value in pkg.settings.items():
            previous = pkg.settings_replaced.get(ptr, MISSING)
            owned.setdefault(pkg.name, {})[ptr] = Owned(value, previous)
    return owned


def _desired(
    sources: Sources,
    manifest: ProjectManifest,
    lock: Lockfile,
    old: Lockfile | None,
    staged: Mapping[str, Path],
    manifests: Mapping[str, PackageManifest],
    *,
    render: bool,
) -> tuple[dict[str, dict[str, Any]], dict[str, tuple[str, ...]]]:
    """What each locked package wants: settings leaves and ignore lines.

    Packages staged now are read from their staged copy. The others keep what the
    lock recorded, unless ``render`` (the vars changed): then each one that set
    anything is rendered again from its verified registry copy.
    """

    settings: dict[str, dict[str, Any]] = {}
    ignore: dict[str, tuple[str, ...]] = {}
    recorded = old.by_name() if old else {}
    for pkg in lock.packages:
        root = staged.get(pkg.name)
        prev = recorded.get(pkg.name)  # not staged: the same version as before
        if root is None and prev is not None and render and _has_records(prev):
            root = package_source(sources, pkg)
        if root is None:
            if prev is not None and prev.settings:
                settings[pkg.name] = dict(prev.settings)
            if prev is not None and prev.claudeignore:
                ignore[pkg.name] = prev.claudeignore
            continue
        package = manifests.get(pkg.name) if root == staged.get(pkg.name) else None
        package = package or load_package_manifest(root)  # parsed once, when staged
        template = load_settings(root, package, f"{pkg.name} {pkg.version}")
        if template is not None:
            settings[pkg.name] = render_settings(template, pkg.name, manifest.vars)
        if package.claudeignore:
            _check_ignore_lines(package.claudeignore, f"{pkg.name} {pkg.version}")
            ignore[pkg.name] = package.claudeignore
    return settings, ignore


def _check_ignore_lines(lines: tuple[str, ...], where: str) -> None:
    """What publish checks, again at install: a registry may not have run publish.
    A line break or a marker in a line would move lines out of the managed block."""
    for line in lines:
        problem = claudeignore.check_line(line)
        if problem:
            raise ManifestError(f"{where}: claudeignore line {line!r} {problem}")


def plan_pieces(
    project: Project,
    sources: Sources,
    manifest: ProjectManifest,
    old: Lockfile | None,
    result: Plan,
    *,
    force: bool,
    vars_unchanged: bool = False,
) -> None:
    """Fill ``result.pieces`` and the lock's settings records, when there is work."""
    old_pkgs = old.packages if old else ()
    created = set(old.created_files if old else ())
    if not (result.staged or created or any(_has_records(p) for p in old_pkgs)):
        return
    vars_changed = old is not None and old.manifest_hash != result.lock.manifest_hash
    render = vars_changed and not vars_unchanged
    desired, ignore = _desired(
        sources, manifest, result.lock, old, result.staged, result.manifests, render=render
    )
    if project.is_user and (desired or ignore):
        # Paths here are a project's (.claude/settings.json, .claudeignore); the user
        # scope's root is ~/.claude itself.
        raise ManifestError(
            "settings and .claudeignore pieces are for projects; install that package in a "
            "project, not with -g"
        )
    pieces = PiecePlan()
    owned = _plan_settings(project, old, desired, created, pieces, force=force)
    _plan_ignore(project, old, ignore, created, pieces, force=force)
    packages = []
    for pkg in result.lock.packages:
        leaves = owned.get(pkg.name, {})
        packages.append(
            replace(
                pkg,
                settings={p: o.value for p, o in leaves.items()},
                settings_replaced={p: o.previous for p, o in leaves.items() if o.replaced},
                claudeignore=ignore.get(pkg.name, ()),
            )
        )
    result.lock = replace(
        result.lock, packages=tuple(packages), created_files=tuple(sorted(created))
    )
    if pieces.changes or pieces.notes:
        result.pieces = pieces


def pieces_intact(project: Project, lock: Lockfile) -> bool:
    """Whether a run that installs nothing would leave both files as they are, and say
    nothing about them: every key and line the lock records is in place (what the
    next no-op may trust, see install/noop.py)."""
    desired = {p.name: dict(p.settings) for p in lock.packages if p.settings}
    ignore = {p.name: p.claudeignore for p in lock.packages if p.claudeignore}
    created = set(lock.created_files)
    pieces = PiecePlan()
    try:
        _plan_settings(project, lock, desired, created, pieces, force=False)
        _plan_ignore(project, lock, ignore, created, pieces, force=False)
    except SkillpmError:
        return False
    return not (pieces.changes or pieces.notes) and created == set(lock.created_files)


def _plan_settings(
    project: Project,
    old: Lockfile | None,
    desired: dict[str, dict[str, Any]],
    created: set[str],
    pieces: PiecePlan,
    *,
    force: bool,
) -> dict[str, dict[str, Owned]]:
    old_owned = _old_owned(old)
    if not desired and not old_owned and SETTINGS not in created:
        return {}
    text = _read(project.root / SETTINGS)
    try:
        planned = settings_plan.plan(
            text, created=SETTINGS in created, old=old_owned, desired=desired, force=force
        )
    except settings_plan.SettingsConflict as exc:
        raise ConflictError(str(exc)) from None
    except jsonedit.JsonSyntaxError as exc:
        raise ManifestError(
            f"{SETTINGS}:{exc.line}: not valid JSON ({exc}); fix it so skillpm can merge into it"
        ) from None
    created.discard(SETTINGS)
    if planned.created:
        created.add(SETTINGS)
    pieces.notes += planned.kept
    if planned.text != text:
        before = {p for leaves in old_owned.values() for p in leaves}
        after = {p for leaves in planned.owned.values() for p in leaves}
        added = sorted(after - before)
        removed = sorted(before - after - planned.yielded)
        pieces.changes.append(
            PieceChange(
                SETTINGS,
                text,
                planned.text,
                tuple(shown(p) for p in added),
                tuple(shown(p) for p in removed),
            )
        )
        pieces.notes += [
            f"{package} set {shown(p)} in {SETTINGS}, a command Claude Code runs: {leaf.value!r}"
            for package, leaves in sorted(planned.owned.items())
            for p, leaf in leaves.items()
            if p in added and is_command(p)
        ]
    return planned.owned


def _plan_ignore(
    project: Project,
    old: Lockfile | None,
    ignore: dict[str, tuple[str, ...]],
    created: set[str],
    pieces: PiecePlan,
    *,
    force: bool,
) -> None:
    old_lines = [p.claudeignore for p in sorted(old.packages if old else (), key=lambda p: p.name)]
    if not ignore and not any(old_lines) and IGNORE not in created:
        return
    text = _read(project.root / IGNORE)
    try:
        parsed = claudeignore.parse(text or "")
    except claudeignore.BlockError as exc:
        raise ConflictError(str(exc)) from None
    user = parsed.user_lines()
    ours = {line for lines in old_lines for line in lines}
    edited = parsed.block is not None and any(old_lines) and not set(parsed.block) <= ours
    if edited and not force:
        raise ConflictError(
            f"{IGNORE}: the skillpm block was edited by hand; move your lines outside the "
            "'# skillpm:' markers (they are kept there), or pass --force to rewrite the block"
        )
    lines = claudeignore.wanted([ignore[n] for n in sorted(ignore)], user)
    new: str | None = claudeignore.render(parsed, lines)
    if text is None and not new:
        new = None
    elif text is None:
        created.add(IGNORE)
    elif IGNORE in created and not new:
        new = None  # skillpm made the file and nothing else is in it
    if new is None:
        created.discard(IGNORE)
    if new != text:
        was = set(parsed.block or ())
        pieces.changes.append(
            PieceChange(
                IGNORE,
                text,
                new,
                tuple(line for line in lines if line not in was),
                tuple(line for line in parsed.block or () if line not in set(lines)),
            )
        )


def report_pieces(pieces: PiecePlan | None, *, dry_run: bool = False) -> None:
    """`` ~ .claude/settings.json: + env.AWS_REGION, - awsAuthRefresh`` per changed file."""
    if pieces is None:
        return
    for change in pieces.changes:
        parts = []
        if change.added:
            parts.append("+ " + ", ".join(change.added))
        if change.removed:
            parts.append("- " + ", ".join(change.removed))
        if change.old is None:
            verb = "created"
        elif change.new is None:
            verb = "deleted"
        else:
            verb = ""
        detail = "; ".join(p for p in (verb, *parts) if p)
        console.info(f" ~ {change.rel}" + (f" ({detail})" if detail else ""))
    if not dry_run:
        for note in pieces.notes:
            console.warn(note)
