from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillpm.errors import ResolutionError
from skillpm.formats.index import VersionEntry
from skillpm.formats.ranges import parse_range, parse_version
from skillpm.resolve.resolver import (
    Candidate,
    Preferences,
    Requirement,
    _Provider,
    _search,
    _without_search,
    resolve,
)

HASH = "sha256:" + "0" * 64


def catalog(
    spec: dict[str, dict[str, dict[str, str]]], yanked: frozenset[str] = frozenset()
) -> dict[str, list[Candidate]]:
    out: dict[str, list[Candidate]] = {}
    for name, versions in spec.items():
        out[name] = [
            Candidate(
                name,
                parse_version(v),
                VersionEntry(name, v, HASH, dependencies=deps, yanked=f"{name}@{v}" in yanked),
                "r",
            )
            for v, deps in versions.items()
        ]
    return out


def req(name: str, rng: str = "*") -> Requirement:
    return Requirement(name, parse_range(rng))


def picked(result: dict[str, Candidate]) -> dict[str, str]:
    return {n: c.entry.version for n, c in result.items()}


def test_newest_matching_with_transitive_dependencies() -> None:
    cat = catalog(
        {
            "app": {"1.0.0": {"base": "^1"}, "2.0.0": {"base": "^2"}},
            "base": {"1.0.0": {}, "1.5.0": {}, "2.1.0": {}},
        }
    )
    assert picked(resolve([req("app", "^1")], cat)) == {"app": "1.0.0", "base": "1.5.0"}
    assert picked(resolve([req("app")], cat)) == {"app": "2.0.0", "base": "2.1.0"}


def test_backtracks_to_an_older_version() -> None:
    cat = catalog(
        {
            "app": {"1.0.0": {"base": "^1"}, "2.0.0": {"base": "^2"}},
            "base": {"1.0.0": {}, "2.0.0": {}},
        }
    )
    assert picked(resolve([req("app"), req("base", "~1.0")], cat)) == {
        "app": "1.0.0",
        "base": "1.0.0",
    }


def test_conflict_explained_in_words() -> None:
    cat = catalog({"app": {"2.0.0": {"base": "^2"}}, "base": {"1.4.0": {}, "2.0.0": {}}})
    with pytest.raises(ResolutionError) as exc:
        resolve([req("app", "^2"), req("base", "~1.4")], cat)
    text = str(exc.value)
    assert "app 2.0.0 needs base ^2" in text
    assert "skills.yaml requires base ~1.4" in text


def test_missing_dependency_explained() -> None:
    cat = catalog({"app": {"1.0.0": {"ghost": "^1"}}})
    with pytest.raises(ResolutionError, match="no configured registry has ghost"):
        resolve([req("app")], cat)


def test_no_matching_version_lists_available() -> None:
    cat = catalog({"base": {"1.0.0": {}, "1.1.0": {}}})
    with pytest.raises(ResolutionError, match="available versions are 1.0.0, 1.1.0"):
        resolve([req("base", "^5")], cat)


def test_locked_versions_preferred_and_yanked_skipped() -> None:
    cat = catalog({"base": {"1.0.0": {}, "1.1.0": {}, "1.2.0": {}}}, yanked={"base@1.2.0"})
    assert picked(resolve([req("base")], cat)) == {"base": "1.1.0"}
    prefs = Preferences(locked={"base": "1.0.0"})
    assert picked(resolve([req("base")], cat, prefs)) == {"base": "1.0.0"}
    prefs = Preferences(locked={"base": "1.2.0"})
    assert picked(resolve([req("base")], cat, prefs)) == {"base": "1.2.0"}


def test_prereleases_only_when_allowed() -> None:
    cat = catalog({"base": {"1.0.0": {}, "1.1.0rc1": {}}})
    assert picked(resolve([req("base")], cat)) == {"base": "1.0.0"}
    prefs = Preferences(prereleases=frozenset({"base"}))
    assert picked(resolve([req("base")], cat, prefs)) == {"base": "1.1.0rc1"}


VERSIONS = ("1.0.0", "1.1.0", "2.0.0")
RANGES = ("*", "^1.0", "^1.1", ">=2", "<2", "1.0.0")
NAMES = ("a", "b", "c", "d", "e")


@st.composite
def problems(draw: st.DrawFn) -> tuple[dict[str, list[Candidate]], list[Requirement], Preferences]:
    spec: dict[str, dict[str, dict[str, str]]] = {}
    for name in NAMES:
        versions = draw(st.lists(st.sampled_from(VERSIONS), unique=True, max_size=3))
        spec[name] = {
            v: draw(
                st.dictionaries(
                    st.sampled_from([n for n in NAMES if n != name]),
                    st.sampled_from(RANGES),
                    max_size=2,
                )
            )
            for v in versions
        }
    roots = draw(st.lists(st.sampled_from(NAMES), unique=True, min_size=1, max_size=4))
    ranges = [draw(st.sampled_from(RANGES)) for _ in roots]
    locked = draw(st.dictionaries(st.sampled_from(NAMES), st.sampled_from(VERSIONS), max_size=2))
    reqs = [req(n, r) for n, r in zip(roots, ranges, strict=True)]
    return catalog(spec), reqs, Preferences(locked)


@settings(max_examples=150, deadline=None)
@given(problems())
def test_the_quick_path_gives_resolvelibs_answer(
    problem: tuple[dict[str, list[Candidate]], list[Requirement], Preferences],
) -> None:
    """Without search, the same answer resolvelib gives, or none (then resolvelib runs)."""
    cat, roots, prefs = problem
    provider = _Provider(cat, prefs)
    quick = _without_search(provider, roots)
    try:
        full = picked(_search(_Provider(cat, prefs), roots))
    except ResolutionError:
        assert quick is None
        return
    except RecursionError:  # resolvelib's own limit on some dependency cycles
        return
    if quick is not None:
        assert picked(quick) == full


def test_many_roots_resolve_without_search() -> None:
    cat = catalog({f"p{i:03d}": {"1.0.0": {}, "1.1.0": {}} for i in range(300)})
    roots = [req(f"p{i:03d}", "^1.0") for i in range(300)]
    provider = _Provider(cat, Preferences())
    quick = _without_search(provider, roots)
    assert quick is not None and set(picked(quick).values()) == {"1.1.0"}
