from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from skillpm.formats.ranges import parse_range


@pytest.mark.parametrize(
    ("rng", "inside", "outside"),
    [
        ("^1.2", ["1.2.0", "1.9.9"], ["1.1.9", "2.0.0"]),
        ("^0.3", ["0.3.0", "0.3.9"], ["0.4.0", "0.2.9"]),
        ("^0.0.3", ["0.0.3"], ["0.0.4"]),
        ("~1.2.3", ["1.2.3", "1.2.9"], ["1.3.0", "1.2.2"]),
        ("~1.0", ["1.0.0", "1.0.7"], ["1.1.0"]),
        ("1.x", ["1.0.0", "1.99.0"], ["2.0.0", "0.9.0"]),
        ("1.2.x", ["1.2.5"], ["1.3.0"]),
        ("1", ["1.4.0"], ["2.0.0"]),
        ("*", ["0.0.1", "9.0.0"], []),
        (">=1 <2", ["1.0.0", "1.5.0"], ["2.0.0", "0.9.0"]),
        (">1.2", ["1.3.0"], ["1.2.5"]),
        ("<=1.2", ["1.2.9"], ["1.3.0"]),
        ("1.0.0 - 1.2", ["1.0.0", "1.2.9"], ["1.3.0"]),
        ("^1.0 || ^3.0", ["1.5.0", "3.1.0"], ["2.0.0"]),
        ("1.2.3", ["1.2.3"], ["1.2.4"]),
        (">=1.2,<2", ["1.2", "1.9.9"], ["2.0"]),
        ("~=1.2", ["1.2", "1.9"], ["2.0"]),
        ("==1.2.*", ["1.2.0", "1.2.7"], ["1.3.0"]),
    ],
)
def test_ranges(rng: str, inside: list[str], outside: list[str]) -> None:
    parsed = parse_range(rng)
    for v in inside:
        assert parsed.contains(Version(v)), (rng, v)
    for v in outside:
        assert not parsed.contains(Version(v)), (rng, v)


def test_prereleases_only_when_asked_or_named() -> None:
    assert not parse_range("^1.2").contains(Version("1.3.0rc1"))
    assert parse_range("^1.2").contains(Version("1.3.0rc1"), prereleases=True)
    assert parse_range("^1.3.0-rc.1").contains(Version("1.3.0rc2"))
    assert not parse_range("*").contains(Version("2.0.0b1"))


@pytest.mark.parametrize("bad", ["^^1", "abc", "1.2.3.4.x", ">=", "1 ||", ">=1.2,<<2"])
def test_invalid_ranges(bad: str) -> None:
    with pytest.raises(ValueError, match="not a valid version range|empty alternative"):
        parse_range(bad)


@given(st.text(max_size=30))
def test_parse_never_raises_anything_else(text: str) -> None:
    with contextlib.suppress(ValueError):
        parse_range(text)
