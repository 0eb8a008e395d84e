"""Gather the candidates the resolver may pick from: the I/O half of resolution.

A name is served by the first registry (in ``skills.yaml`` order, the built-in
last) that has it, unless the dependency names its registry: versions of one
package never mix across registries, so a public registry cannot shadow a
team's package (dependency confusion).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from skillpm.errors import PackageNotFound, RegistryError
from skillpm.formats.index import VersionEntry, latest_entry
from skillpm.formats.project_files import LockedPackage
from skillpm.formats.ranges import parse_version
from skillpm.output import redact
from skillpm.registry.base import Registry
from skillpm.resolve.resolver import Candidate


@dataclass
class Sources:
    """The opened registries of a project, in lookup order."""

    registries: Sequence[Registry]

    def named(self, name: str) -> Registry:
        for registry in self.registries:
            if registry.name == name:
                return registry
        raise RegistryError(f"no registry named {name!r} in skills.yaml registries")

    def by_url(self, url: str) -> Registry | None:
        """The registry a lock entry names (the lock keeps URLs without credentials)."""
        for registry in self.registries:
            if redact(registry.url) == redact(url):
                return registry
        return None

    def refresh(self) -> bool:
        """Ask every registry to update its cached view; whether any may have changed."""
        changed = [registry.refresh() for registry in self.registries]
        return any(changed)

    def all_names(self) -> set[str]:
        names: set[str] = set()
        for registry in self.registries:
            names.update(registry.all_packages())
            names.update(registry.remote_listings())
        return names

    def skill_owner(self, skill: str) -> str | None:
        """The first package (in lookup order) whose newest entry has a skill of that name.
        Plugins in other repositories are not searched (that would fetch each one). A
        registry that cannot be listed raises, unless another one has the skill: "no such
        skill" must not stand in for "could not look"."""
        failure: RegistryError | None = None
        for registry in self.registries:
            try:
                packages = registry.all_packages()
            except RegistryError as exc:
                failure = failure or exc
                continue
            for name, versions in sorted(packages.items()):
                if versions and skill in latest_entry(versions).skills:
                    return name
        if failure is not None:
            raise failure
        return None

    def suggest(self, name: str) -> list[str]:
        """Close package names, led by ``PACKAGE/SKILL`` when ``name`` is a skill's name."""
        try:
            owner = self.skill_owner(name)
            names = self.all_names()
        except RegistryError:
            return []
        close = difflib.get_close_matches(name, sorted(names), n=3, cutoff=0.6)
        return ([f"{owner}/{name}"] if owner else []) + close


def _candidates(registry: Registry, versions: Mapping[str, VersionEntry]) -> list[Candidate]:
    return [Candidate(e.name, parse_version(v), e, registry.name) for v, e in versions.items()]


def _locked_candidate(sources: Sources, pkg: LockedPackage | None) -> Candidate | None:
    """The locked version of a package its registry no longer offers (a marketplace
    moved on), read where the lock says; None when that cannot be had."""
    registry = sources.by_url(pkg.registry) if pkg is not None else None
    if pkg is None or registry is None:
        return None
    try:
        entry = registry.locked_entry(pkg)
    except RegistryError:
        return None  # gone from the remote and the cache: resolve without it
    if entry is None:
        return None
    version = parse_version(entry.version)
    return Candidate(pkg.name, version, entry, registry.name, commit=pkg.commit, current=False)


def _add_locked(
    sources: Sources,
    catalog: dict[str, list[Candidate]],
    name: str,
    pkg: LockedPackage | None,
    movable: bool,
) -> None:
    """Make the locked version of ``name`` a candidate if its registry no longer offers it.

    A marketplace may offer the locked version number with other files (changed without a
    version bump): unless ``name`` may move, the locked files stand in for the new ones.
    """
    have = catalog.get(name, [])
    if pkg is None:
        return
    same = [c for c in have if c.entry.version == pkg.version]
    if same and (movable or same[0].entry.integrity == pkg.integrity):
        return
    if have and redact(sources.named(have[0].registry).url) != redact(pkg.registry):
        return  # served by another registry now: versions never mix across registries
    cand = _locked_candidate(sources, pkg)
    if cand is not None:
        catalog[name] = [*(c for c in have if c not in same), cand]


def gather(
    sources: Sources,
    roots: Iterable[str],
    pinned: Mapping[str, str] | None = None,
    locked: Mapping[str, LockedPackage] | None = None,
    movable: Collection[str] = (),
) -> dict[str, list[Candidate]]:
    """Every version of every name reachable from ``roots`` through dependencies.

    ``pinned`` maps a name to the registry it must come from. ``locked`` (the lock's
    packages) adds each locked version its registry no longer offers, so a package
    nobody asked to move (not in ``movable``) can stay where it is.
    """
    roots = set(roots)
    pinned = pinned or {}
    locked = locked or {}
    catalog: dict[str, list[Candidate]] = {}
    missing: set[str] = set()
    pending = set(roots)
    while pending:
        batch = pending
        pending = set()
        for name in sorted(n for n in batch if n in pinned):
            registry = sources.named(pinned[name])
            found = registry.lookup([name])
            if name in found:
                catalog[name] = _candidates(registry, found[name])
            else:
                missing.add(name)
        remaining = {n for n in batch if n not in pinned}
        for registry in sources.registries:
            if not remaining:
                break
            found = registry.lookup(sorted(remaining))
            for name, versions in found.items():
                catalog[name] = _candidates(registry, versions)
            remaining -= set(found)
        for name in sorted(batch):
            _add_locked(sources, catalog, name, locked.get(name), name in movable)
        remaining -= set(catalog)
        missing |= remaining
        for name in batch:
            for cand in catalog.get(name, ()):
                pending.update(d for d in cand.entry.dependencies if d not in catalog)
        pending -= missing
        pending -= set(catalog)
    for name in sorted(missing):
        if name in roots:
            raise PackageNotFound(name, sources.suggest(name))
    return catalog
