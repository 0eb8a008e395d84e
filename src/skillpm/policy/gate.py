"""Enforcement where packages enter a project: the ``install.steps.Gate`` of the policy.

``install``, ``update`` and ``sync`` check every package of the new lock (a
``--frozen`` lock written before a denial is refused too); ``remove`` only those
a re-resolution brings in, and never reads a policy otherwise, so taking out a
denied package always works. Content rules read the staged copies. A refusal is
one ``PolicyError`` line, raised before the transaction moves anything.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

from skillpm.errors import PolicyError
from skillpm.formats.index import PackageManifest
from skillpm.formats.project_files import BUILTIN, LockedPackage, Lockfile, ProjectManifest
from skillpm.install.plan import Plan
from skillpm.output import console, redact
from skillpm.policy.evaluate import (
    MANAGED,
    PROJECT,
    Content,
    Effective,
    LintHit,
    Subject,
    Violation,
    check_content,
    check_packages,
    check_registries,
    registry_key,
)
from skillpm.policy.load import POLICY_KEY, effective
from skillpm.project.folder import Project
from skillpm.registry.urls import LOCAL, local_path, transport_of
from skillpm.signing.allowed_signers import AllowedSigners


class PolicyGate:
    """The effective policy of one project, read once, on first need."""

    def __init__(self, project: Project, *, entering_only: bool = False) -> None:
        self.project = project
        self.entering_only = entering_only
        self._effective: dict[str, Effective] = {}
        self._checked: tuple[Effective, list[str]] | None = None  # by check_lock: policy, roots

    def policy(self, manifest: ProjectManifest) -> Effective:
        key = repr(manifest.settings.get(POLICY_KEY))
        if key not in self._effective:
            text = self.project.manifest_text() if POLICY_KEY in manifest.settings else None
            base = self.project.files_dir
            self._effective[key] = effective(manifest, text, base, self.project.options)
        return self._effective[key]

    @property
    def noop_key(self) -> str | None:
        """The managed policy every package was checked against ("" for none); None when
        not every package was checked, or a project policy was (it may live behind a URL)."""
        if self._checked is None or self.entering_only:
            return None
        layers = self._checked[0].layers
        if any(layer.kind == PROJECT for layer in layers):
            return None
        return "".join(layer.key for layer in layers)

    def signature_trust(self, manifest: ProjectManifest) -> list[tuple[str, AllowedSigners]]:
        """The allowed signers of each policy with ``signatures.required``, and where that
        is said: every package must be signed by a key of each (docs/signatures.md)."""
        if self.entering_only and self._checked is None:
            return []  # a remove that brings nothing in reads no policy (see check_lock)
        return signature_trust(self.project, self.policy(manifest))

    def check_registries(self, manifest: ProjectManifest) -> None:
        if self.entering_only:
            return  # a re-resolution for remove: what it brings in is checked by check_lock
        listed = [
            (f"{name} ({redact(url)})", registry_key_of(self.project, url))
            for name, url in manifest.registries
        ]
        refuse(check_registries(self.policy(manifest), listed))

    def check_lock(self, manifest: ProjectManifest, old: Lockfile | None, new: Lockfile) -> None:
        packages = entering(old, new) if self.entering_only else list(new.packages)
        if not packages:
            return
        policy = self.policy(manifest)
        self._checked = (policy, sorted(manifest.dependencies))
        if policy.empty:
            return
        if not self.entering_only:
            self.check_registries(manifest)
        refuse(check_packages(policy, subjects(self.project, manifest, new, packages)))

    def check_staged(self, plan: Plan) -> None:
        if not plan.staged or self._checked is None:
            return
        policy, roots = self._checked
        if not content_rules(policy):
            return
        found: list[Violation] = []
        by_name = plan.lock.by_name()
        for name, folder in sorted(plan.staged.items()):
            pkg = by_name[name]
            subject = subject_of(self.project, pkg, _chain(name, roots, plan.lock))
            reaches = installed_paths(plan.manifests.get(name), pkg)
            found += check_content(policy, subject, scan(folder, policy, reaches))
        refuse(found)


def signature_trust(project: Project, policy: Effective) -> list[tuple[str, AllowedSigners]]:
    """Each requiring policy's allowed-signers file, read, with the policy's file and line."""
    from skillpm.signing.allowed_signers import load

    found = []
    for layer in policy.layers:
        item = layer.policy.allowed_signers
        if not layer.policy.requires_signatures or item is None:
            continue
        where = f"{layer.source}:{item.line}" if item.line else layer.source
        path = Path(item.text).expanduser()
        if not path.is_absolute():
            if layer.kind == MANAGED:
                path = Path(layer.source).parent / path
            elif transport_of(layer.source) == LOCAL:
                path = local_path(layer.source, project.files_dir).parent / path
            else:
                raise PolicyError(
                    f"{where}: signatures.allowed-signers: a policy read from a URL needs an "
                    "absolute path on this machine"
                )
        found.append((f"the policy ({where})", load(path, f"{where}: signatures")))
    return found


def entering(old: Lockfile | None, new: Lockfile) -> list[LockedPackage]:
    """The packages of ``new`` not in ``old`` as they are (new, or another version)."""
    before = {(p.name, p.version, p.integrity) for p in (old.packages if old else ())}
    return [p for p in new.packages if (p.name, p.version, p.integrity) not in before]


def refuse(found: Sequence[Violation]) -> None:
    """Warn about warnings; raise the first refusal, saying how many more there are."""
    for violation in found:
        if violation.warning:
            console.warn(violation.message)
    errors = [v for v in found if not v.warning]
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise PolicyError(errors[0].message + more)


def package_parts(pkg: LockedPackage) -> dict[str, tuple[str, ...]]:
    """The plugin parts a locked package provides, by content.plugin-parts name."""
    return {"skills": pkg.skills}


def registry_key_of(project: Project, url: str) -> str | None:
    """What allow-lists match for a registry URL (``evaluate.registry_key``), a folder made
    absolute the way the registry itself opens it."""
    if url != BUILTIN and transport_of(url) == LOCAL:
        url = str(local_path(url, project.files_dir))
    return registry_key(redact(url), str(project.files_dir))


def subject_of(project: Project, pkg: LockedPackage, chain: tuple[str, ...]) -> Subject:
    return Subject(
        pkg.name,
        pkg.version,
        registry_key_of(project, pkg.registry) or "",
        redact(pkg.registry),
        chain,
        package_parts(pkg),
    )


def subjects(
    project: Project, manifest: ProjectManifest, lock: Lockfile, packages: Sequence[LockedPackage]
) -> list[Subject]:
    roots = sorted(manifest.dependencies)
    return [subject_of(project, p, _chain(p.name, roots, lock)) for p in packages]


def _chain(name: str, roots: Sequence[str], lock: Lockfile) -> tuple[str, ...]:
    """The shortest path from a skills.yaml dependency down to ``name``."""
    from skillpm.resolve.depgraph import chains_to

    found, _ = chains_to(name, roots, lock.by_name())
    return tuple(found[0]) if found else (name,)


def content_rules(policy: Effective) -> bool:
    mode = policy.executables[0]
    return mode != "allow" or any(layer.policy.block_lint for layer in policy.layers)


def installed_paths(manifest: PackageManifest | None, pkg: LockedPackage) -> tuple[str, ...]:
    """What of a package reaches the project: the folders of the skills the lock selects
    (``PACKAGE/SKILL`` takes one), its fragments and its settings file; a README or the
    skills not selected never do. Folders end with ``/``; ``("",)`` is everything."""
    if manifest is None:
        return ("",)
    skills = [
        f"{rel}/" for name, rel in zip(manifest.skill_names, manifest.skills, strict=True)
        if name in pkg.skills
    ]  # fmt: skip
    return (*skills, *manifest.fragments, *([manifest.settings] if manifest.settings else []))


def scan(folder: Path, policy: Effective, reaches: Sequence[str] = ("",)) -> Content:
    """What the package at ``folder`` puts into the project (``reaches``), for the content
    rules in force."""

    def installed(rel: str) -> bool:
        return any(rel.startswith(p) if not p or p.endswith("/") else rel == p for p in reaches)

    executables = []
    for top, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = Path(top) / name
            rel = path.relative_to(folder).as_posix()
            mode = path.lstat().st_mode
            if installed(rel) and mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH):
                executables.append(rel)
    lint_errors: tuple[LintHit, ...] = ()
    if any(layer.policy.block_lint for layer in policy.layers):
        lint_errors = tuple(hit for hit in lint_package(folder) if installed(hit.file))
    return Content(tuple(executables), lint_errors)


def lint_package(folder: Path) -> tuple[LintHit, ...]:
    """The error-level lint findings of one package, inline ignores not honoured: a package
    cannot silence the gate for itself."""
    from skillpm.lint import engine
    from skillpm.lint.model import Severity
    from skillpm.lint.sources import Loader

    loader = Loader(folder)
    if not loader.add_path(folder):
        return ()
    report = engine.run(loader.ws, engine.Options(inline_ignores=False))
    return tuple(
        LintHit(f.rule, f.file, f.line, f.message)
        for f in report.findings
        if f.severity is Severity.ERROR
    )


def check_new_registry(project: Project, manifest: ProjectManifest, name: str, url: str) -> None:
    """``registry add``: a registry the policy does not allow is refused before skills.yaml
    names it."""
    listed = [(f"{name} ({redact(url)})", registry_key_of(project, url))]
    refuse(check_registries(PolicyGate(project).policy(manifest), listed))
