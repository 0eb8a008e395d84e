"""The steps every command that changes a project shares (install, remove, update, sync,
init, registry add): resolve a lock, commit it in one transaction, recover a killed run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from skillpm.errors import LockError, ManifestError, ResolutionError, SkillpmError
from skillpm.formats.index import VersionEntry
from skillpm.formats.project_files import BUILTIN, LockedPackage, Lockfile, ProjectManifest
from skillpm.fsutil import prune_empty_dirs
from skillpm.install import installer
from skillpm.install.plan import Plan
from skillpm.output import console, elapsed, plural, redact
from skillpm.project.folder import Project
from skillpm.project.state import digest, forget_noop, record_noop
from skillpm.project.transaction import Transaction, recover_interrupted
from skillpm.registry.base import Registry
from skillpm.resolve.catalog import gather
from skillpm.store import project_lock

if TYPE_CHECKING:
    from skillpm.signing.allowed_signers import AllowedSigners


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


class Gate(Protocol):
    """What decides which packages may enter the project (``skillpm.policy.gate``). Each
    check raises to refuse, before anything in the project is written."""

    @property
    def noop_key(self) -> str | None:
        """What a no-op answered from the stat cache must find unchanged besides skills.yaml
        and skills.lock (the policy checked, "" for none); None: answer none from there."""
        ...

    def check_registries(self, manifest: ProjectManifest) -> None:
        """Before any registry is contacted."""

    def check_lock(self, manifest: ProjectManifest, old: Lockfile | None, new: Lockfile) -> None:
        """Before any package is fetched or staged."""

    def check_staged(self, plan: Plan) -> None:
        """With the new packages staged (their files readable), before anything moves."""

    def signature_trust(self, manifest: ProjectManifest) -> Sequence[tuple[str, AllowedSigners]]:
        """Allowed signers every package must be signed by, whatever its registry, each with
        where that is required (docs/signatures.md); empty for none."""
        ...


def resolve_lock(
    project: Project,
    manifest: ProjectManifest,
    old: Lockfile | None,
    *,
    gate: Gate | None,
    unpinned: frozenset[str] = frozenset(),
    prerelease: bool = False,
) -> Lockfile:
    """Resolve the manifest into a new lock, keeping locked versions where they still fit.

    ``gate`` is required so that every caller decides: None only where nothing will be
    installed from the result."""
    from skillpm.formats.ranges import parse_range
    from skillpm.resolve.resolver import Preferences, Requirement, resolve

    if gate is not None:
        gate.check_registries(manifest)
    sources = project.sources(manifest)
    pinned = {n: d.registry for n, d in manifest.dependencies.items() if d.registry}
    old_rows = old.by_name() if old else {}
    with console.status("Resolving dependencies"):
        catalog = gather(sources, manifest.dependencies, pinned, old_rows, unpinned)
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
        catalog = gather(sources, manifest.dependencies, pinned, old_rows, unpinned)
        chosen = resolve(roots, catalog, prefs)
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
        prev = old_rows.get(name)
        # An unchanged marketplace plugin keeps its row, commit included: the lock moves only
        # where packages do. (Index registries share the newest commit: fewer fetches.)
        kept = prev is not None and (prev.version, prev.integrity, prev.registry) == (
            cand.entry.version,
            cand.entry.integrity,
            redact(registry.url),
        )
        kept = kept and registry.reads_packages_at_commit()
        if prev is None:
            _say_left_out(registry, cand.entry)
        packages.append(
            LockedPackage(
                name=name,
                version=cand.entry.version,
                registry=redact(registry.url),
                integrity=cand.entry.integrity,
                commit=prev.commit if prev and kept else cand.commit or registry.pinned_commit(),
                source=prev.source if prev and kept else cand.entry.source,
                dependencies=tuple(sorted(cand.entry.dependencies)),
                skills=skills,
                fragments=tuple(cand.entry.fragments),
            )
        )
    return Lockfile(manifest.hash(), tuple(packages))


def _say_left_out(registry: Registry, entry: VersionEntry) -> None:
    try:
        left = registry.left_out(entry)
    except SkillpmError:
        return  # only a note: the install itself reports real problems
    if left:
        running = [part for part in left if part in _RUNS_CODE]
        why = f"{_listed(running)} run code" if running else "skillpm does not install them yet"
        console.info(
            f"{entry.name}: skillpm installs its skills; its {_listed(left)} are left to "
            f"Claude Code's /plugin install ({why})"
        )


def resolve_timed(
    project: Project,
    manifest: ProjectManifest,
    old: Lockfile | None,
    *,
    gate: Gate | None,
    unpinned: frozenset[str] = frozenset(),
    prerelease: bool = False,
) -> tuple[Lockfile, str]:
    """``resolve_lock``, and the uv-style line saying so, for ``commit`` to print once the
    plan is accepted: printed at once, a refusal right after it read as a success."""
    started = time.perf_counter()
    lock = resolve_lock(project, manifest, old, gate=gate, unpinned=unpinned, prerelease=prerelease)
    seconds = time.perf_counter() - started
    return lock, f"Resolved {plural(len(lock.packages), 'package')} in {elapsed(seconds)}"


_RUNS_CODE = ("hooks", "MCP servers", "LSP servers")  # commands and agents are markdown


def _listed(parts: Sequence[str]) -> str:
    return ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else parts[0]


def commit(
    project: Project,
    manifest: ProjectManifest,
    old: Lockfile | None,
    new: Lockfile,
    options: InstallOptions,
    manifest_text: str | None,
    *,
    gate: Gate | None,
    resolved: str | None = None,
) -> Plan:
    """Plan ``new`` against ``old`` and apply it in one transaction (unless the options say
    to show or dry-run it): skills, fragments and pieces, then skills.yaml, the lock last.
    ``gate`` sees the lock before anything is fetched and the staged packages before
    anything moves. ``resolved`` (from ``resolve_timed``) is printed once nothing refuses
    the plan."""
    check_pins(manifest, new)
    if gate is not None:
        gate.check_lock(manifest, old, new)
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
                required_signers=gate.signature_trust(manifest) if gate is not None else (),
            )
        if gate is not None:
            gate.check_staged(plan)
        manifest_bytes = manifest_text.encode() if manifest_text is not None else None
        if manifest_bytes is not None and digest(manifest_bytes) == project.manifest_sha:
            manifest_bytes = None  # skills.yaml would not change
        if plan.fragments is not None and not options.show_diff:
            # The fragment code loads only when fragments had work (see installer.plan).
            from skillpm.install.fragments import refuse_edits

            refuse_edits(plan.fragments)
        if resolved is not None:
            console.info(resolved)
        if options.show_diff:
            from skillpm.install.fragments import show_diff

            txn.rollback()
            _report_dry_run(plan, quiet_when_empty=True)
            if not show_diff(plan.fragments) and plan.empty:
                console.info("No changes: CLAUDE.md and the fragments agree")
            return plan
        if options.dry_run:
            txn.rollback()
            _report_dry_run(plan)
            return plan
        lock_unchanged = old is not None and old == plan.lock
        if plan.empty and lock_unchanged and manifest_bytes is None:
            txn.rollback()
            if plan.fragments is not None:
                from skillpm.install.fragments import report_fragments

                report_fragments(plan.fragments)  # hand edits kept
            _remember(project, manifest, plan.lock, project.manifest_sha, project.lock_sha, gate)
            return plan
        installer.apply(project, txn, plan, manifest_bytes=manifest_bytes)
    manifest_sha = digest(manifest_bytes) if manifest_bytes is not None else project.manifest_sha
    _remember(project, manifest, plan.lock, manifest_sha, digest(plan.lock_bytes()), gate)
    folders = [*project.skill_dirs, *project.other_skill_dirs]
    if plan.fragments is not None:  # only then can a generated fragment file have gone
        from skillpm.content.fragment_plan import IMPORT_DIR, RULES_DIR

        folders += [project.root / IMPORT_DIR, project.root / RULES_DIR]
    for folder in folders:
        prune_empty_dirs(folder, project.root)
    installer.report(plan, time.perf_counter() - started)
    if plan.empty:  # only skills.yaml and skills.lock were written: say so
        console.info("Updated skills.lock (no installed file changed)")
    return plan


def check_pins(manifest: ProjectManifest, lock: Lockfile) -> None:
    """Every locked package comes from a registry skills.yaml lists, and a dependency
    pinned to a registry in skills.yaml comes from that registry.

    A resolution always honours both, so a lock that breaks one was edited: a pull
    request could otherwise swap a team package for a look-alike from elsewhere while
    skills.yaml, the reviewed file, looks unchanged. ``commit`` checks this on every
    path, the no-op one included, before the stat cache may remember the lock as good.
    """
    listed = {redact(url) for _, url in manifest.registries} | {BUILTIN}
    for pkg in lock.packages:
        if redact(pkg.registry) not in listed:
            raise LockError(
                f"skills.lock: {pkg.name} comes from registry {redact(pkg.registry)}, which "
                "skills.yaml does not list; skills.lock was edited: restore it, or delete it "
                "and run 'skillpm install'"
            )
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
    gate: Gate | None,
) -> None:
    """After a run that left the project consistent: let the next no-op skip the work.

    Only where ``project.state.quick_noop`` can prove all a no-op would check: a
    project (not the user scope) whose lock records every skill's and fragment's
    hash, with its CLAUDE.md blocks and settings pieces proven in place
    (``install.noop.watched_outputs``), keyed to the managed policy the gate checked
    it against (a project policy, which may live behind a URL, always goes the full way).
    """
    from skillpm.install.noop import watched_outputs

    state = project.state
    skills = {s: p.skill_integrity.get(s) for p in lock.packages for s in p.skills}
    fragments = [p.fragment_hashes.get(f) for p in lock.packages for f in p.fragments]
    provable = all(skills.values()) and all(fragments) and lock.manifest_hash == manifest.hash()
    policy = gate.noop_key if gate is not None else ""
    outputs = None
    if provable and not project.is_user and manifest_sha is not None and lock_sha is not None:
        outputs = watched_outputs(project, manifest, lock)
    if outputs is None or manifest_sha is None or lock_sha is None or policy is None:
        forget_noop(state)
    else:
        record_noop(
            state,
            manifest_sha,
            lock_sha,
            {k: v for k, v in skills.items() if v},
            outputs,
            [d.relative_to(project.root).as_posix() for d in project.skill_dirs],
            [d.relative_to(project.root).as_posix() for d in project.other_skill_dirs],
            len(lock.packages),
            policy,
        )
    state.save()


def _report_dry_run(plan: Plan, *, quiet_when_empty: bool = False) -> None:
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
