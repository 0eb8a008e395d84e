"""``install``, ``sync`` and ``remove``: manifest -> resolution -> lock -> installed files
(the shared steps are in ``skillpm.install.steps``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from skillpm.errors import LockError, ManifestError, PackageNotFound
from skillpm.formats.filenames import MANIFEST_FILE
from skillpm.formats.manifest_edit import edit_manifest
from skillpm.formats.project_files import DependencySpec, Lockfile, ProjectManifest
from skillpm.install.steps import InstallOptions, commit, recover, resolve_lock
from skillpm.output import console, up_to_date
from skillpm.policy.gate import PolicyGate
from skillpm.project.folder import Project, parse_install_spec, registry_name_for
from skillpm.store import project_lock


def install(
    project: Project,
    specs: Sequence[str],
    *,
    registry_url: str | None = None,
    options: InstallOptions = InstallOptions(),  # noqa: B008 (frozen)
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

    current = targets_of(parse_manifest(loads(text or "", MANIFEST_FILE), MANIFEST_FILE).settings)
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
    gate = PolicyGate(project)
    lock = resolve_lock(
        project,
        trial,
        old,
        gate=gate,
        unpinned=frozenset(ranges),
        prerelease=options.prerelease,
        report=True,
    )
    # Like npm and uv: a bare name is saved as a caret range of the version chosen.
    chosen = lock.by_name()
    # A version derived from content (``0.0.0+c<hash>``, or ``+g<commit>`` before: a
    # plugin or skill folder that declares none) says nothing about the next: save "*".
    derived = {n for n, p in chosen.items() if p.version.startswith("0.0.0+")}
    saved = {
        name: rng or ("*" if name in derived else f"^{chosen[name].version}")
        for name, rng in parsed
    }
    final_text = edit_manifest(
        text, set_dependencies=saved, add_registries=add_registries, dependency_skills=selections
    )
    final = project.load_manifest(final_text)
    lock = Lockfile(final.hash(), lock.packages)
    commit(project, final, old, lock, options, final_text, gate=gate)


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
    gate = PolicyGate(project)
    if fresh and old is not None:
        new = old
    else:
        new = resolve_lock(
            project, manifest, old, gate=gate, prerelease=options.prerelease, report=True
        )
    plan = commit(project, manifest, old, new, options, edited, gate=gate)
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
        # Removing never needs the policy, unless a re-resolution brings packages in.
        gate = PolicyGate(project, entering_only=True)
        if roots <= set(locked):
            from skillpm.resolve.depgraph import reachable

            # Prune the locked graph: no registry needed, nothing else moves.
            keep = reachable(roots, locked)
            new = Lockfile(new_manifest.hash(), tuple(p for p in old.packages if p.name in keep))
            # vars are as they were when the lock was written: the fragments that stay
            # need no rendering (and so no registry) unless their blocks are damaged.
            options = replace(options, vars_unchanged=old.manifest_hash == manifest.hash())
        else:
            new = resolve_lock(project, new_manifest, old, gate=gate, report=True)
        commit(project, new_manifest, old, new, options, new_text, gate=gate)
