"""``install`` and ``remove``: manifest -> resolution -> lock -> installed files.

``resolve_lock``, ``commit`` and ``recover`` are the steps every command that changes a
project shares (``update``, ``sync``, ``registry add``, ``init``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from skillpm.errors import LockError, ManifestError, PackageNotFound, ResolutionError
from skillpm.formats.manifest_edit import edit_manifest
from skillpm.formats.project_files import DependencySpec, LockedPackage, Lockfile, ProjectManifest
from skillpm.fsutil import prune_empty_dirs
from skillpm.install import installer
from skillpm.output import console, elapsed, plural, redact, up_to_date
from skillpm.project.folder import Project, parse_install_spec, registry_name_for
from skillpm.project.state import digest, forget_noop, record_noop
from skillpm.project.transaction import Transaction, recover_interrupted
from skillpm.resolve.catalog import gather
from skillpm.store import project_lock


@dataclass(frozen=True)
class InstallOptions:
    frozen: bool = False
    dry_run: bool = False
    force: bool = False  # skills and CLAUDE.md blocks
    prerelease: bool = False
    force_fragments: bool = False  # CLAUDE.md blocks only (sync --force)
    rerender: bool = False  # render every fragment even if nothing changed (sync)
    show_diff: bool = False  # print what fragments would change, write nothing (diff)
    vars_unchanged: bool = False  # the lock was fresh before this change (remove)
    agent: bool = False  # add the "agents" target (.agents/skills, AGENTS.md) to skills.yaml


def resolve_lock(
    project: Project,
    manifest: ProjectManifest,
    old: Lockfile | None,
    *,
    unpinned: frozenset[str] = frozenset(),
    prerelease: bool = False,
    report: bool = False,
) -> Lockfile:
    """Resolve the manifest into a new lock, keeping locked versions where they still fit."""
    from skillpm.formats.ranges import parse_range
    from skillpm.resolve.resolver import Preferences, Requirement, resolve

    started = time.perf_counter()
    sources = project.sources(manifest)
    pinned = {n: d.registry for n, d in manifest.dependencies.items() if d.registry}
    with console.status("Resolving dependencies"):
        catalog = gather(sources, manifest.dependencies, pinned)
    roots = [Requirement(n, parse_range(d.range)) for n, d in sorted(manifest.dependencies.items())]
    locked = {p.name: p.version for p in old.packages} if old else {}
    prefs = Preferences(
        locked={n: v for n, v in locked.items() if n not in unpinned},
        prereleases=frozenset(manifest.dependencies) if prerelease else frozenset(),
    )
    try:
        chosen = resolve(roots, catalog, prefs)
    except ResolutionError:
        # A cached registry view may lack the version asked for: update it once, retry.
        if not sources.refresh():
            raise
        catalog = gather(sources, manifest.dependencies, pinned)
        chosen = resolve(roots, catalog, prefs)
    if report:  # uv-style, on the install and remove paths
        seconds = time.perf_counter() - started
        console.info(f"Resolved {plural(len(chosen), 'package')} in {elapsed(seconds)}")
    packages = []
    for name, cand in sorted(chosen.items()):
        registry = sources.named(cand.registry)
        skills = tuple(cand.entry.skills)
        dep = manifest.dependencies.get(name)
        if dep is not None and dep.skills is not None:
            missing = [s for s in dep.skills if s not in skills]
            if missing:
                raise ManifestError(
                    f"{name} {cand.entry.version} has no skill {missing[0]!r} (its skills: "
                    f"{', '.join(skills) or 'none'}); fix skills.yaml or the PACKAGE/SKILL "
                    "asked for"
                )
            skills = tuple(s for s in skills if s in dep.skills)
        packages.append(
            LockedPackage(
                name=name,
                version=cand.entry.version,
                registry=redact(registry.url),
                integrity=cand.entry.integrity,
                commit=registry.pinned_commit(),
                dependencies=tuple(sorted(cand.entry.dependencies)),
                skills=skills,
                fragments=tuple(cand.entry.fragments),
            )
        )
    return Lockfile(manifest.hash(), tuple(packages))


def commit(
    project: Project,
    manifest: ProjectManifest,
    old: Lockfile | None,
    new: Lockfile,
    options: InstallOptions,
    manifest_text: str | None,
) -> installer.Plan:
    """Plan ``new`` against ``old`` and apply it in one transaction (unless the options say
    to show or dry-run it): skills, fragments and pieces, then skills.yaml, the lock last."""
    from skillpm.content.fragment_plan import IMPORT_DIR, RULES_DIR
    from skillpm.install.fragments import refuse_edits, report_fragments, show_diff

    check_pins(manifest, new)
    started = time.perf_counter()
    project.use_targets(manifest)
    with Transaction(project.staging_root, project.root) as txn:
        with console.status("Preparing packages"):
            plan = installer.plan(
                project,
                txn,
                project.sources(manifest),
                old,
                new,
                force=options.force,
                manifest=manifest,
                rerender=options.rerender,
                force_fragments=options.force_fragments,
                vars_unchanged=options.vars_unchanged,
            )
        manifest_bytes = manifest_text.encode() if manifest_text is not None else None
        if options.show_diff:
            txn.rollback()
            _report_dry_run(plan, quiet_when_empty=True)
            if not show_diff(plan.fragments) and plan.empty:
                console.info("No changes: CLAUDE.md and the fragments agree")
            return plan
        if plan.fragments is not None:
            refuse_edits(plan.fragments)
        if options.dry_run:
            txn.rollback()
            _report_dry_run(plan)
            return plan
        lock_unchanged = old is not None and old == plan.lock
        if plan.empty and lock_unchanged and manifest_bytes is None:
            txn.rollback()
            if plan.fragments is not None:
                report_fragments(plan.fragments)  # hand edits kept
            _remember(project, manifest, plan.lock, project.manifest_sha, project.lock_sha)
            return plan
        installer.apply(project, txn, plan, manifest_bytes=manifest_bytes)
    manifest_sha = digest(manifest_bytes) if manifest_bytes is not None else project.manifest_sha
    _remember(project, manifest, plan.lock, manifest_sha, digest(plan.lock_bytes()))
    for folder in (
        *project.skill_dirs,
        *project.other_skill_dirs,
        project.root / IMPORT_DIR,
        project.root / RULES_DIR,
    ):
        prune_empty_dirs(folder, project.root)
    installer.report(plan, time.perf_counter() - started)
    return plan


def check_pins(manifest: ProjectManifest, lock: Lockfile) -> None:
    """A dependency pinned to a registry in skills.yaml comes from that registry.

    A resolution always honours the pin, so a lock that breaks it was edited: a
    pull request could otherwise swap a team package for a look-alike from another
    listed registry while skills.yaml, the reviewed file, looks unchanged.
    """
    for pkg in lock.packages:
        dep = manifest.dependencies.get(pkg.name)
        if dep is None or dep.registry is None:
            continue
        url = manifest.registry_url(dep.registry)
        if url is not None and redact(url) != redact(pkg.registry):
            raise LockError(
                f"skills.lock: {pkg.name} comes from registry {redact(pkg.registry)}, but "
                f"skills.yaml pins it to registry {dep.registry} ({redact(url)}); skills.lock "
                "was edited: restore it, or delete it and run 'skillpm install'"
            )


def _remember(
    project: Project,
    manifest: ProjectManifest,
    lock: Lockfile,
    manifest_sha: str | None,
    lock_sha: str | None,
) -> None:
    """After a run that left the project consistent: let the next no-op skip the work.

    Only where ``installstate.quick_noop`` can prove all a no-op would check: a
    project (not the user scope) whose lock records every skill's and fragment's
    hash and has no settings or .claudeignore pieces (those go the full way).
    """
    from skillpm.content.fragment_plan import placement_of

    state = project.state
    skills = {s: p.skill_integrity.get(s) for p in lock.packages for s in p.skills}
    fragments = {f: p.fragment_hashes.get(f) for p in lock.packages for f in p.fragments}
    complete = all(skills.values()) and all(fragments.values())
    pieces = lock.created_files or any(
        p.settings or p.settings_replaced or p.claudeignore for p in lock.packages
    )
    provable = complete and not pieces and lock.manifest_hash == manifest.hash()
    if project.is_user or manifest_sha is None or lock_sha is None or not provable:
        forget_noop(state)
    else:
        record_noop(
            state,
            manifest_sha,
            lock_sha,
            {k: v for k, v in skills.items() if v},
            {k: v for k, v in fragments.items() if v},
            placement_of(manifest.settings),
            [d.relative_to(project.root).as_posix() for d in project.skill_dirs],
            [d.relative_to(project.root).as_posix() for d in project.other_skill_dirs],
            list(project.memory_files),
            len(lock.packages),
        )
    state.save()


def _report_dry_run(plan: installer.Plan, *, quiet_when_empty: bool = False) -> None:
    if plan.empty:
        if not quiet_when_empty:
            console.info("Would change nothing (dry run)")
        return
    packages = plan.removed or plan.changed or plan.added or plan.repaired
    if packages or not quiet_when_empty:
        console.info("Would change (dry run):")
    for name, _, sign, version, note in installer.change_lines(plan):
        console.change(sign, name, version, note)
    if not quiet_when_empty:
        for change in plan.fragments.changes if plan.fragments else ():
            console.info(f" ~ {change.rel}")
        from skillpm.install.settings import report_pieces

        report_pieces(plan.pieces, dry_run=True)


def install(
    project: Project,
    specs: Sequence[str],
    *,
    registry_url: str | None = None,
    options: InstallOptions = InstallOptions(),
) -> None:
    with project_lock(project.root):
        recover(project)
        if specs or registry_url:
            if options.frozen:
                raise LockError(
                    "--frozen installs exactly what skills.lock says; it cannot add "
                    "packages (drop --frozen, or the package names)"
                )
            _install_new(project, specs, registry_url, options)
        else:
            _install_from_manifest(project, options)


def _with_agents(text: str | None, options: InstallOptions) -> str | None:
    """skills.yaml with the "agents" target added (``--agent``); None when unchanged."""
    from skillpm.formats.targets import AGENTS, TARGETS, targets_of

    if not options.agent:
        return None
    from skillpm.formats.project_files import parse_manifest
    from skillpm.yamlio import loads

    current = targets_of(parse_manifest(loads(text or "", "skills.yaml"), "skills.yaml").settings)
    if AGENTS in current:
        return None
    wanted = [t for t in TARGETS if t in (*current, AGENTS)]
    return edit_manifest(text, set_targets=wanted)


def _install_new(
    project: Project, specs: Sequence[str], registry_url: str | None, options: InstallOptions
) -> None:
    text = project.manifest_text()
    text = _with_agents(text, options) or text
    manifest = project.load_manifest(text)
    old = project.load_lock()
    wanted = [parse_install_spec(s) for s in specs]
    parsed = list({name: (name, rng) for name, _, rng in wanted}.values())
    selections = _selections(manifest, wanted)
    add_registries = []
    if registry_url and registry_url not in {u for _, u in manifest.registries}:
        add_registries.append((registry_name_for(registry_url, manifest), registry_url))
    # First pass: resolve with the requested ranges ("*" when none) to learn the versions.
    ranges = {name: rng or "*" for name, rng in parsed}
    trial = _with_changes(manifest, ranges, add_registries, selections)
    lock = resolve_lock(
        project,
        trial,
        old,
        unpinned=frozenset(ranges),
        prerelease=options.prerelease,
        report=True,
    )
    # Like npm and uv: a bare name is saved as a caret range of the version chosen.
    chosen = lock.by_name()
    # A version derived from a commit (``0.0.0+g<sha>``, a plugin or skill folder that
    # declares none) says nothing about the next commit's: save "*" for it.
    saved = {
        name: rng or ("*" if "+g" in chosen[name].version else f"^{chosen[name].version}")
        for name, rng in parsed
    }
    final_text = edit_manifest(
        text, set_dependencies=saved, add_registries=add_registries, dependency_skills=selections
    )
    final = project.load_manifest(final_text)
    lock = Lockfile(final.hash(), lock.packages)
    commit(project, final, old, lock, options, final_text)


def _with_changes(
    manifest: ProjectManifest,
    ranges: Mapping[str, str],
    add_registries: Sequence[tuple[str, str]],
    selections: Mapping[str, tuple[str, ...] | None],
) -> ProjectManifest:
    """``manifest`` as ``edit_manifest`` with these changes would make it, without the text
    (a ruamel round trip of a long skills.yaml costs more than the rest of an add).

    A dependency keeps the registry it names; its skills become those selected; new
    registries come last.
    """
    deps = dict(manifest.dependencies)
    for name, rng in ranges.items():
        current = deps.get(name)
        skills = selections.get(name, current.skills if current else None)
        registry = current.registry if current else None
        deps[name] = DependencySpec(name, rng, registry, skills or None)
    registries = manifest.registries + tuple((n, u.strip()) for n, u in add_registries)
    return replace(manifest, registries=registries, dependencies=deps)


def _selections(
    manifest: ProjectManifest, wanted: Sequence[tuple[str, str | None, str | None]]
) -> dict[str, tuple[str, ...] | None]:
    """The skills each named package installs: ``PKG`` all of them, ``PKG/SKILL`` adds
    one to what skills.yaml already selects (a package already installed whole stays so)."""
    chosen: dict[str, set[str] | None] = {}
    for name, skill, _ in wanted:
        current = manifest.dependencies.get(name)
        if name not in chosen:
            if current is not None and current.skills is None:
                chosen[name] = None
            else:
                chosen[name] = set(current.skills or ()) if current else set()
        picked = chosen[name]
        if skill is None:
            chosen[name] = None
        elif picked is not None:
            picked.add(skill)
    return {n: tuple(sorted(v)) if v is not None else None for n, v in chosen.items()}


def _install_from_manifest(project: Project, options: InstallOptions) -> None:
    text = project.manifest_text()
    edited = _with_agents(text, options)
    if edited is not None and options.frozen:
        raise LockError("--frozen installs exactly what skills.lock says; drop --agent or --frozen")
    text = edited or text
    old = project.load_lock()
    if text is None and old is None:
        if options.frozen:
            raise LockError("--frozen needs skills.lock, and there is none here")
        console.info(
            "Nothing to do: no skills.yaml here (add a package with 'skillpm install NAME')"
        )
        return
    manifest = project.load_manifest(text)
    fresh = old is not None and old.manifest_hash == manifest.hash()
    if options.frozen and not fresh:
        raise LockError(
            "skills.lock is missing or out of date with skills.yaml, and --frozen forbids "
            "resolving; run 'skillpm install' and commit skills.lock"
        )
    if fresh and old is not None:
        new = old
    else:
        new = resolve_lock(project, manifest, old, prerelease=options.prerelease, report=True)
    plan = commit(project, manifest, old, new, options, edited)
    quiet = options.dry_run or options.show_diff
    if plan.empty and not quiet and (old is not None and old == plan.lock):
        n = len(new.packages)
        what = "fragment" if options.rerender else "package"
        if options.rerender:
            n = sum(len(p.fragments) for p in new.packages)
        console.info(up_to_date(n, what))


def sync(project: Project, options: InstallOptions) -> None:
    """Re-render every fragment with the current vars (``sync``), or show it (``diff``).

    Like ``install`` with no arguments, it first brings the lock up to date with
    skills.yaml; then every fragment is rendered and put in place, whether or
    not anything seems to have changed.
    """
    with project_lock(project.root):
        recover(project)
        _install_from_manifest(project, replace(options, rerender=True))


def remove(project: Project, names: Sequence[str], options: InstallOptions) -> None:
    with project_lock(project.root):
        recover(project)
        text = project.manifest_text()
        manifest = project.load_manifest(text)
        old = project.load_lock() or Lockfile(manifest.hash())
        locked = old.by_name()
        for name in names:
            if name in manifest.dependencies:
                continue
            if name in locked:
                needers = sorted(p.name for p in old.packages if name in p.dependencies)
                raise ManifestError(
                    f"{name} is not in skills.yaml dependencies; it is installed because "
                    f"{', '.join(needers) or 'the lock lists it'} needs it"
                )
            import difflib

            close = difflib.get_close_matches(name, sorted(manifest.dependencies), n=3)
            raise PackageNotFound(
                name, close, "in skills.yaml dependencies", "'skillpm list' shows what is installed"
            ) from None
        new_text = edit_manifest(text, remove_dependencies=names)
        new_manifest = project.load_manifest(new_text)
        roots = set(new_manifest.dependencies)
        if roots <= set(locked):
            from skillpm.resolve.depgraph import reachable

            # Prune the locked graph: no registry needed, nothing else moves.
            keep = reachable(roots, locked)
            new = Lockfile(new_manifest.hash(), tuple(p for p in old.packages if p.name in keep))
            # vars are as they were when the lock was written: the fragments that stay
            # need no rendering (and so no registry) unless their blocks are damaged.
            options = replace(options, vars_unchanged=old.manifest_hash == manifest.hash())
        else:
            new = resolve_lock(project, new_manifest, old, report=True)
        commit(project, new_manifest, old, new, options, new_text)


def recover(project: Project) -> None:
    """Finish or drop what a killed run left; every command that changes the project
    calls this first, under the project lock."""
    outside = [project.manifest_path, project.lock_path] if project.is_user else []
    if recover_interrupted(project.staging_root, project.root, outside):
        console.warn("finished a change that an interrupted skillpm run had started")


def settle(project: Project) -> None:
    """Before a read-only command looks at the installed files: when a change is in
    flight (another process) or was interrupted (a killed one), wait for it or finish
    it, so what is shown is the old state or the new one, never a mix."""
    if os.path.lexists(project.staging_root):
        with project_lock(project.root):
            recover(project)
