"""Version ranges in npm style (``^1.2``, ``~1.2.3``, ``1.x``, ``>=1 <2``, ``a || b``)
and PEP 440 style (``>=1.2,<2``, ``~=1.2``, ``==1.2.*``), both mapped onto
``packaging`` specifiers so there is one notion of "matches".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from skillpm.errors import ManifestError

_PARTIAL = re.compile(
    r"^v?(?P<major>\d+|[xX*])(?:\.(?P<minor>\d+|[xX*]))?(?:\.(?P<patch>\d+|[xX*]))?"
    r"(?P<pre>-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$"
)
_COMPARATOR = re.compile(r"^(?P<op><=|>=|<|>|=)?\s*(?P<ver>\S+)$")
_PEP440_HINTS = (",", "~=", "==", "!=", "===")


@dataclass(frozen=True)
class Range:
    """A union of specifier sets (npm's ``||``); usually just one."""

    text: str
    alternatives: tuple[SpecifierSet, ...]

    def contains(self, version: Version, *, prereleases: bool = False) -> bool:
        # Like npm and pip: a prerelease matches only when asked for, or when the
        # range itself names a prerelease.
        allow = prereleases or self.names_prerelease
        return any(spec.contains(version, prereleases=allow) for spec in self.alternatives)

    @property
    def names_prerelease(self) -> bool:
        return any(_is_pre(s.version) for spec in self.alternatives for s in spec)

    def __str__(self) -> str:
        return self.text


def _is_pre(text: str) -> bool:
    try:
        return Version(text.removesuffix(".*")).is_prerelease
    except InvalidVersion:
        return False


def parse_version(text: str, where: str = "version") -> Version:
    try:
        return _version(str(text))
    except InvalidVersion:
        raise ManifestError(
            f"{where}: {text!r} is not a valid version (expected e.g. 1.2.0)"
        ) from None


@lru_cache(maxsize=16384)
def _version(text: str) -> Version:
    # Versions repeat (1.0.0 in many packages; each read from index, lock and catalog),
    # and a Version is immutable.
    return Version(text)


def range_text(value: object, where: str) -> str:
    """A range as written in YAML. A bare ``1.10`` is read by YAML as the float 1.1,
    which would silently mean another range: refuse it rather than guess."""
    if value is None:
        return "*"
    if isinstance(value, float):
        raise ManifestError(f"{where}: quote the version range ('{value}' is read as a number)")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ManifestError(f"{where}: expected a version range string")
    text = str(value)
    try:
        parse_range(text)
    except ValueError as exc:
        raise ManifestError(f"{where}: {exc}") from None
    return text


@lru_cache(maxsize=4096)
def parse_range(text: str) -> Range:
    """Parse a range; raises ``ValueError`` with a short reason when it is not one."""
    text = str(text).strip()
    if text in ("", "*", "x", "X", "latest"):
        return Range(text or "*", (SpecifierSet(),))
    if any(h in text for h in _PEP440_HINTS):
        try:
            return Range(text, (SpecifierSet(text),))
        except InvalidSpecifier:
            raise ValueError(f"{text!r} is not a valid version range") from None
    alternatives = tuple(_npm_set(part.strip(), text) for part in text.split("||"))
    return Range(text, alternatives)


def _npm_set(text: str, whole: str) -> SpecifierSet:
    if not text:
        raise ValueError(f"{whole!r} has an empty alternative around '||'")
    hyphen = re.fullmatch(r"(\S+)\s+-\s+(\S+)", text)
    if hyphen:
        low, high = hyphen.groups()
        nums, _ = _parts(high, whole)
        upper = (
            f"<={_exact(high, whole)}" if nums[2] is not None else _npm_token(f"<={high}", whole)[0]
        )
        return SpecifierSet(f">={_exact(low, whole)},{upper}")
    specs: list[str] = []
    for token in re.sub(r"(<=|>=|<|>|=|\^|~)\s+", r"\1", text).split():
        specs.extend(_npm_token(token, whole))
    try:
        return SpecifierSet(",".join(specs))
    except InvalidSpecifier:
        raise ValueError(f"{whole!r} is not a valid version range") from None


def _parts(text: str, whole: str) -> tuple[list[int | None], str]:
    m = _PARTIAL.match(text)
    if not m:
        raise ValueError(f"{whole!r} is not a valid version range")
    nums: list[int | None] = []
    for key in ("major", "minor", "patch"):
        raw = m.group(key)
        nums.append(None if raw is None or raw in "xX*" else int(raw))
    # A wildcard makes every later part a wildcard too: 1.x.3 means 1.x.
    for i, n in enumerate(nums):
        if n is None:
            nums[i:] = [None] * (3 - i)
            break
    return nums, (m.group("pre") or "")


def _fmt(nums: list[int], pre: str = "") -> str:
    return ".".join(str(n) for n in nums) + pre


def _exact(text: str, whole: str) -> str:
    nums, pre = _parts(text, whole)
    return _fmt([n or 0 for n in nums], pre if nums[2] is not None else "")


def _npm_token(token: str, whole: str) -> list[str]:
    if token.startswith("^"):
        nums, pre = _parts(token[1:], whole)
        major, minor, patch = nums
        if major is None:
            return []
        low = _fmt([major, minor or 0, patch or 0], pre)
        if major > 0 or minor is None:
            high = f"{major + 1}.0.0"
        elif minor > 0 or patch is None:
            high = f"0.{minor + 1}.0"
        else:
            high = f"0.0.{patch + 1}"
        return [f">={low}", f"<{high}"]
    if token.startswith("~") and not token.startswith("~="):
        nums, pre = _parts(token[1:], whole)
        major, minor, patch = nums
        if major is None:
            return []
        low = _fmt([major, minor or 0, patch or 0], pre)
        high = f"{major + 1}.0.0" if minor is None else f"{major}.{minor + 1}.0"
        return [f">={low}", f"<{high}"]
    m = _COMPARATOR.match(token)
    if not m:
        raise ValueError(f"{whole!r} is not a valid version range")
    op, ver = m.group("op") or "", m.group("ver")
    nums, pre = _parts(ver, whole)
    major, minor, patch = nums
    if op in ("", "="):
        if patch is not None:
            return [f"=={_fmt([major or 0, minor or 0, patch], pre)}"]
        if major is None:
            return []
        if minor is None:
            return [f">={major}.0.0", f"<{major + 1}.0.0"]
        return [f">={major}.{minor}.0", f"<{major}.{minor + 1}.0"]
    if major is None:
        return [] if op in (">=", "<=") else ["<0.0.0"]
    filled = _fmt([major, minor or 0, patch or 0], pre)
    if op in (">=", "<"):
        return [f"{op}{filled}"]
    # ">1.2" in npm means ">=1.3.0"; "<=1.2" means "<1.3.0".
    if patch is None:
        bump = f"{major + 1}.0.0" if minor is None else f"{major}.{minor + 1}.0"
        return [f">={bump}"] if op == ">" else [f"<{bump}"]
    return [f"{op}{filled}"]
