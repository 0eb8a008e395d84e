"""Dependency resolution: resolvelib over an in-memory catalog. No I/O here.

The catalog is gathered beforehand (``catalog.py``), so this module is a pure
function from requirements and candidates to a set of pinned versions.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from heapq import heapify, heappop, heappush
from typing import Any

from packaging.version import Version
from resolvelib import AbstractProvider

from skillpm.errors import ResolutionError
from skillpm.formats.filenames import MANIFEST_FILE
from skillpm.formats.index import VersionEntry
from skillpm.formats.ranges import Range, parse_range

ROOT = MANIFEST_FILE


@dataclass(frozen=True)
class Candidate:
    name: str
    version: Version
    entry: VersionEntry
    registry: str  # the registry's configured name
    commit: str | None = None  # the registry commit it was read at; None: the current one
    current: bool = True  # False: a locked version the registry no longer offers

    def __str__(self) -> str:
        return f"{self.name} {self.entry.version}"


@dataclass(frozen=True)
class Requirement:
    name: str
    range: Range
    parent: str | None = None  # "cdk-patterns 1.1.0"; None for skills.yaml


@dataclass(frozen=True)
class Preferences:
    """Hints that change which candidates are tried, not which are valid."""

    locked: Mapping[str, str] = field(default_factory=dict)  # keep these versions if possible
    prereleases: frozenset[str] = frozenset()  # names for which prereleases may be chosen


class _Provider(AbstractProvider[Requirement, Candidate, str]):
    def __init__(self, catalog: Mapping[str, Sequence[Candidate]], prefs: Preferences) -> None:
        self.catalog = catalog
        self.prefs = prefs
        # resolvelib re-checks every pin against every requirement each round (n^2 for
        # n roots); a specifier match is the costly part, and its answer never changes.
        self._matches: dict[tuple[str, str, str], bool] = {}

    def identify(self, requirement_or_candidate: Requirement | Candidate) -> str:
        return requirement_or_candidate.name

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[Any]],
        backtrack_causes: Sequence[Any],
    ) -> tuple[bool, bool, str]:
        is_root = any(info.parent is None for info in information[identifier])
        caused = any(c.requirement.name == identifier for c in backtrack_causes)
        return (not caused, not is_root, identifier)

    def _allowed(self, req: Requirement, cand: Candidate) -> bool:
        key = (req.range.text, cand.name, cand.entry.version)
        found = self._matches.get(key)
        if found is None:
            pre = cand.name in self.prefs.prereleases
            found = self._matches[key] = req.range.contains(cand.version, prereleases=pre)
        return found

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Requirement]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> list[Candidate]:
        bad = {c.version for c in incompatibilities[identifier]}
        return self.matches(identifier, list(requirements[identifier]), bad)

    def matches(
        self, identifier: str, reqs: Sequence[Requirement], bad: Collection[Version] = ()
    ) -> list[Candidate]:
        locked = self.prefs.locked.get(identifier)
        matches = [
            c
            for c in self.catalog.get(identifier, ())
            if c.version not in bad
            and (not c.entry.yanked or c.entry.version == locked)
            and all(self._allowed(r, c) for r in reqs)
        ]
        # What the registry offers now beats a stale locked version (a marketplace's one
        # version per plugin may be derived from content, so not ordered by its number).
        matches.sort(key=lambda c: (c.entry.version == locked, c.current, c.version), reverse=True)
        return matches

    def is_satisfied_by(self, requirement: Requirement, candidate: Candidate) -> bool:
        return self._allowed(requirement, candidate)

    def get_dependencies(self, candidate: Candidate) -> list[Requirement]:
        return [
            Requirement(name, parse_range(rng), parent=str(candidate))
            for name, rng in sorted(candidate.entry.dependencies.items())
        ]

    def narrow_requirement_selection(
        self,
        identifiers: Iterable[str],
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[Any]],
        backtrack_causes: Sequence[Any],
    ) -> Iterable[str]:
        return identifiers


def resolve(
    roots: Sequence[Requirement],
    catalog: Mapping[str, Sequence[Candidate]],
    prefs: Preferences | None = None,
) -> dict[str, Candidate]:
    """Pick one candidate per needed name, or raise ``ResolutionError`` explaining why not."""
    provider = _Provider(catalog, prefs or Preferences())
    settled = _without_search(provider, roots)
    return settled if settled is not None else _search(provider, roots)


def _search(provider: _Provider, roots: Sequence[Requirement]) -> dict[str, Candidate]:
    """resolvelib's backtracking search."""
    from resolvelib import BaseReporter, Resolver
    from resolvelib.resolvers import ResolutionImpossible, ResolutionTooDeep

    resolver: Resolver[Requirement, Candidate, str] = Resolver(provider, BaseReporter())
    try:
        result = resolver.resolve(roots, max_rounds=10_000)
    except ResolutionImpossible as exc:
        raise ResolutionError(explain(exc.causes, provider.catalog)) from None
    except ResolutionTooDeep:
        raise ResolutionError(
            "dependency resolution gave up after too many attempts; pin versions in skills.yaml "
            "to narrow the search"
        ) from None
    return dict(result.mapping)


def _without_search(
    provider: _Provider, roots: Sequence[Requirement]
) -> dict[str, Candidate] | None:
    """resolvelib's answer when it would never revisit a choice, in O(n log n); else None.

    resolvelib re-checks every pin against every requirement in every round, which
    is quadratic in the number of packages (200 roots cost it ~100 ms). This walks
    the same path: in each round the unpinned name it would prefer (roots first,
    then by name), pinned to the first candidate ``find_matches`` offers. Where
    resolvelib would have to look further (no candidate, a dependency left without
    one, a dependency that rules out an existing pin) this gives up, and the caller
    runs resolvelib, whose answer and errors are then the ones returned.
    """
    reqs: dict[str, list[Requirement]] = {}
    for root in roots:
        reqs.setdefault(root.name, []).append(root)
    root_names = set(reqs)
    pending = [(False, name) for name in reqs]  # resolvelib's preference, uncaused
    heapify(pending)
    chosen: dict[str, Candidate] = {}
    while pending:
        _, name = heappop(pending)
        found = provider.matches(name, reqs[name])
        if not found:
            return None
        candidate = found[0]
        for dep in provider.get_dependencies(candidate):
            known = dep.name in reqs
            reqs.setdefault(dep.name, []).append(dep)
            pinned = chosen.get(dep.name) or (candidate if dep.name == name else None)
            if pinned is not None:
                if not provider.is_satisfied_by(dep, pinned):
                    return None
            elif not provider.matches(dep.name, reqs[dep.name]):
                return None
            if not known:
                heappush(pending, (dep.name not in root_names, dep.name))
        chosen[name] = candidate
    return chosen


def explain(causes: Iterable[Any], catalog: Mapping[str, Sequence[Candidate]]) -> str:
    """Turn resolvelib's causes into lines a user can act on."""
    by_name: dict[str, list[Any]] = {}
    for cause in causes:
        by_name.setdefault(cause.requirement.name, []).append(cause)
    lines = ["cannot resolve dependencies:"]
    for name, group in by_name.items():
        wants = []
        for cause in group:
            req: Requirement = cause.requirement
            who = f"{cause.parent}" if cause.parent is not None else ROOT
            verb = "needs" if cause.parent is not None else "requires"
            wants.append(f"{who} {verb} {name} {req.range}")
        wants = sorted(set(wants))
        available = [c.entry.version for c in catalog.get(name, ()) if not c.entry.yanked]
        yanked = [c.entry.version for c in catalog.get(name, ()) if c.entry.yanked]
        shown = ", ".join(available) or "none"
        if yanked:
            shown += f"; yanked: {', '.join(yanked)}"
        if not catalog.get(name):
            lines.append(f"  {wants[0]}, but no configured registry has {name}")
            continue
        if len(wants) == 1:
            lines.append(f"  {wants[0]}, but the available versions are {shown}")
        else:
            lines.append(f"  {wants[0]}, but " + ", and ".join(wants[1:]))
            lines.append(f"  no version of {name} satisfies all of these (available: {shown})")
    return "\n".join(lines)
