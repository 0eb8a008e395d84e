"""Schemas of the files skillpm reads from packages and registries.

Each file is parsed once at the boundary into frozen dataclasses; everything
past this module can trust names, paths and versions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from skillpm import yamlio
from skillpm.errors import ManifestError, RegistryError, SkillpmError, UnsafeContentError
from skillpm.formats.ranges import parse_version, range_text
from skillpm.formats.signatures import IndexSignature, parse_index_signatures
from skillpm.output import unsafe_display

NAME_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_NAME = 64
INDEX_FORMAT = 1
_INTEGRITY_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


def check_name(value: Any, where: str, what: str = "name") -> str:
    if not isinstance(value, str) or not value:
        raise ManifestError(f"{where}: {what} is missing")
    if len(value) > MAX_NAME or not NAME_RE.match(value):
        raise UnsafeContentError(
            f"{where}: {what} {value!r} must be 1-{MAX_NAME} characters of a-z, 0-9 and single "
            "hyphens, not starting or ending with a hyphen"
        )
    return value


def check_relpath(value: Any, where: str) -> str:
    """A relative posix path that stays inside its root."""
    if not isinstance(value, str) or not value:
        raise ManifestError(f"{where}: expected a relative path")
    if "\\" in value or value.startswith("/") or re.match(r"^[A-Za-z]:", value) or "\0" in value:
        raise UnsafeContentError(f"{where}: {value!r} is not a relative posix path")
    parts = PurePosixPath(value).parts
    if any(p in ("..", "") for p in parts):
        raise UnsafeContentError(f"{where}: {value!r} escapes its folder")
    return str(PurePosixPath(value))


def check_display_text(value: str, where: str, what: str) -> str:
    """Text a registry publishes for terminals to show (a description, a yank reason)."""
    found = unsafe_display().search(value)
    if found is not None:
        raise UnsafeContentError(
            f"{where}: {what} holds the control character U+{ord(found.group()):04X}; remove "
            "it (a terminal showing it would act on it: colours, cursor moves, reordered text)"
        )
    return value


def check_integrity(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _INTEGRITY_RE.match(value):
        raise ManifestError(f"{where}: integrity must be 'sha256:' and 64 hex digits")
    return value


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ManifestError(f"{where}: expected a list of strings")
    return tuple(value)


def _dependencies(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ManifestError(f"{where}: dependencies must map package names to version ranges")
    deps: dict[str, str] = {}
    for name, rng in value.items():
        check_name(name, where, "dependency name")
        deps[name] = range_text(rng, f"{where}: dependency {name}")
    return deps


@dataclass(frozen=True)
class PackageManifest:
    """``skillpm.yaml``: what an author writes."""

    name: str
    version: str
    description: str
    license: str | None
    dependencies: Mapping[str, str]
    skills: tuple[str, ...]  # relative folders holding a SKILL.md
    fragments: tuple[str, ...]  # relative markdown files
    settings: str | None = None  # a JSON file merged into .claude/settings.json
    claudeignore: tuple[str, ...] = ()  # lines for the managed block in .claudeignore

    @property
    def skill_names(self) -> tuple[str, ...]:
        return tuple(PurePosixPath(p).name for p in self.skills)

    @property
    def fragment_names(self) -> tuple[str, ...]:
        return tuple(PurePosixPath(p).stem for p in self.fragments)

    def to_yaml_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "description": self.description,
        }
        if self.license:
            data["license"] = self.license
        if self.dependencies:
            data["dependencies"] = dict(self.dependencies)
        data["skills"] = list(self.skills)
        data["fragments"] = list(self.fragments)
        if self.settings is not None:
            data["settings"] = self.settings
        if self.claudeignore:
            data["claudeignore"] = list(self.claudeignore)
        return data


MANIFEST_NAME = "skillpm.yaml"
SETTINGS_PIECE = "settings.json"  # the default settings piece of a package


def load_package_manifest(root: Path, where: str | None = None) -> PackageManifest:
    """``root/skillpm.yaml``; ``where`` names it in messages (a staged copy's path
    means nothing to the user: say which package it is instead)."""
    where = where or str(root / MANIFEST_NAME)
    data = yamlio.load_file(root / MANIFEST_NAME, where)
    if not isinstance(data, dict):
        raise ManifestError(f"{where}: expected a mapping with name, version and description")
    return parse_package_manifest(data, root, where)


def parse_package_manifest(data: Mapping[str, Any], root: Path, where: str) -> PackageManifest:
    name = check_name(data.get("name"), where, "package name")
    version = data.get("version")
    if version is None:
        raise ManifestError(f"{where}: version is missing")
    parse_version(str(version), f"{where}: version")
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        raise ManifestError(f"{where}: description is missing")
    if "skills" in data:
        skills = tuple(
            check_relpath(p, f"{where}: skills") for p in _str_list(data["skills"], where)
        )
    else:
        skills = tuple(
            p.parent.relative_to(root).as_posix() for p in sorted(root.glob("skills/*/SKILL.md"))
        )
    if "fragments" in data:
        fragments = tuple(
            check_relpath(p, f"{where}: fragments") for p in _str_list(data["fragments"], where)
        )
    else:
        fragments = tuple(
            p.relative_to(root).as_posix() for p in sorted(root.glob("fragments/*.md"))
        )
    if data.get("settings") is not None:
        settings: str | None = check_relpath(data["settings"], f"{where}: settings")
    else:
        settings = SETTINGS_PIECE if (root / SETTINGS_PIECE).is_file() else None
    claudeignore = _str_list(data.get("claudeignore"), f"{where}: claudeignore")
    manifest = PackageManifest(
        name=name,
        version=str(version),
        description=description.strip(),
        license=str(data["license"]) if data.get("license") else None,
        dependencies=_dependencies(data.get("dependencies"), where),
        skills=skills,
        fragments=fragments,
        settings=settings,
        claudeignore=tuple(line.rstrip() for line in claudeignore),
    )
    for skill in manifest.skill_names:
        check_name(skill, where, "skill name")
    for fragment in manifest.fragment_names:
        check_name(fragment, where, "fragment name")
    for names, what in ((manifest.skill_names, "skill"), (manifest.fragment_names, "fragment")):
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ManifestError(f"{where}: {what} {dupes[0]!r} is listed twice")
    return manifest


@dataclass(frozen=True)
class SourcePin:
    """Where a marketplace plugin stored in another git repository was read: that
    repository's URL (credentials redacted), the plugin's folder in it ("" for the
    root) and the commit. Recorded in the lock so an install reads exactly it."""

    url: str
    path: str
    commit: str


@dataclass(frozen=True)
class VersionEntry:
    """One published version, as ``index.json`` describes it."""

    name: str
    version: str
    integrity: str
    description: str = ""
    dependencies: Mapping[str, str] = field(default_factory=dict)
    skills: tuple[str, ...] = ()
    fragments: tuple[str, ...] = ()
    published: str | None = None
    yanked: bool = False
    yank_reason: str | None = None
    path: str | None = None  # local and git registries
    archive: str | None = None  # static HTTPS registries
    archive_sha256: str | None = None
    signatures: tuple[IndexSignature, ...] = ()  # docs/signatures.md
    source: SourcePin | None = None  # marketplace plugins from another repository

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.path is not None:
            data["path"] = self.path
        if self.archive is not None:
            data["archive"] = self.archive
            data["archive-sha256"] = self.archive_sha256
        data.update(
            integrity=self.integrity,
            description=self.description,
            dependencies=dict(self.dependencies),
            skills=list(self.skills),
            fragments=list(self.fragments),
            published=self.published,
            yanked=self.yanked,
        )
        if self.yank_reason:
            data["yank-reason"] = self.yank_reason
        if self.signatures:  # absent when unsigned: older indexes keep their bytes
            data["signatures"] = [s.to_json() for s in self.signatures]
        return data


def parse_version_entry(name: str, version: str, data: Any, where: str) -> VersionEntry:
    where = f"{where}: {name} {version}"
    if not isinstance(data, Mapping):
        raise RegistryError(f"{where}: expected an object")
    parse_version(version, where)
    path = data.get("path")
    # The only path allowed is this one, byte for byte (SECURITY.md), never normalised:
    # safe by construction for a valid name and a parsed version.
    if path is not None and (path != f"packages/{name}/{version}" or not NAME_RE.match(name)):
        raise UnsafeContentError(f"{where}: path {path!r} is not packages/{name}/{version}")
    archive = data.get("archive")
    if archive is not None:
        archive = check_relpath(archive, f"{where}: archive")
        if not archive.startswith(f"packages/{name}/"):
            raise UnsafeContentError(f"{where}: archive {archive!r} is outside packages/{name}/")
    skills = _str_list(data.get("skills"), f"{where}: skills")
    fragments = _str_list(data.get("fragments"), f"{where}: fragments")
    for skill in skills:
        check_name(skill, where, "skill name")
    for fragment in fragments:
        check_name(fragment, where, "fragment name")
    sha = data.get("archive-sha256")
    return VersionEntry(
        name=name,
        version=version,
        integrity=check_integrity(data.get("integrity"), where),
        description=str(data.get("description") or ""),
        dependencies=_dependencies(data.get("dependencies"), where),
        skills=skills,
        fragments=fragments,
        published=str(data["published"]) if data.get("published") else None,
        yanked=bool(data.get("yanked", False)),
        yank_reason=str(data["yank-reason"]) if data.get("yank-reason") else None,
        path=path,
        archive=archive,
        archive_sha256=str(sha) if sha else None,
        signatures=parse_index_signatures(data.get("signatures"), where),
    )


@dataclass(frozen=True)
class RegistryIndex:
    packages: Mapping[str, Mapping[str, VersionEntry]]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": INDEX_FORMAT,
            "packages": {
                name: {"versions": {v: e.to_json() for v, e in sorted_versions(versions)}}
                for name, versions in sorted(self.packages.items())
            },
        }


def sorted_versions(versions: Mapping[str, VersionEntry]) -> list[tuple[str, VersionEntry]]:
    return sorted(versions.items(), key=lambda kv: parse_version(kv[0]))


def newest(versions: Iterable[VersionEntry], *, prereleases: bool = False) -> VersionEntry | None:
    """The highest version that is not yanked (nor a prerelease, unless ``prereleases``)."""
    live = [
        e
        for e in versions
        if not e.yanked and (prereleases or not parse_version(e.version).is_prerelease)
    ]
    return max(live, key=lambda e: parse_version(e.version), default=None)


def latest_entry(versions: Mapping[str, VersionEntry]) -> VersionEntry:
    """What a bare ``install NAME`` would pick: the newest release that is not yanked
    (else the newest prerelease, else the newest of all: every version is yanked)."""
    live = newest(versions.values()) or newest(versions.values(), prereleases=True)
    return live or sorted_versions(versions)[-1][1]


def parse_index(
    data: Any, where: str, on_invalid: Callable[[str], None] | None = None
) -> RegistryIndex:
    """Check an index's shape and names now; each package's entries when first used.

    A project reads a handful of packages from an index that may list thousands
    (5,000 x 20 versions is 100,000 entries): parsing every entry up front cost
    several times the ``json.loads`` itself. A malformed entry is still reported,
    with the same message, by whatever reads that package (install, search,
    ``registry verify``).
    """
    if not isinstance(data, Mapping) or data.get("format") != INDEX_FORMAT:
        raise RegistryError(f'{where}: not a skillpm index (expected "format": {INDEX_FORMAT})')
    packages = data.get("packages")
    if not isinstance(packages, Mapping):
        raise RegistryError(f'{where}: "packages" must be an object')
    invalid = []
    for name, pkg in packages.items():
        try:
            check_name(name, where, "package name")
            versions = pkg.get("versions") if isinstance(pkg, Mapping) else None
            if not isinstance(versions, Mapping):
                raise RegistryError(f'{where}: {name}: "versions" must be an object')
        except SkillpmError as exc:
            if on_invalid is None:
                raise
            on_invalid(f"{exc}; left out")
            invalid.append(name)
    if invalid:
        packages = {n: p for n, p in packages.items() if n not in invalid}
    return RegistryIndex(_PackagesOnDemand(packages, where))


class _PackagesOnDemand(Mapping[str, Mapping[str, VersionEntry]]):
    """An index's packages, each parsed into ``VersionEntry`` values on first access."""

    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        self._raw = raw
        self._where = where
        self._parsed: dict[str, dict[str, VersionEntry]] = {}

    def __getitem__(self, name: str) -> Mapping[str, VersionEntry]:
        parsed = self._parsed.get(name)
        if parsed is None:
            versions = self._raw[name]["versions"]
            parsed = {
                str(v): parse_version_entry(name, str(v), e, self._where)
                for v, e in versions.items()
            }
            self._parsed[name] = parsed
        return parsed

    def __contains__(self, name: object) -> bool:
        return name in self._raw

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


def load_index(
    path: Path, where: str, on_invalid: Callable[[str], None] | None = None
) -> RegistryIndex:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RegistryError(f"{where}: not a registry (no index.json)") from None
    return index_from_bytes(raw, where, on_invalid)


def index_from_bytes(
    raw: bytes, where: str, on_invalid: Callable[[str], None] | None = None
) -> RegistryIndex:
    """``on_invalid``: readers pass a warning, and a package with a bad name or shape is
    left out; writers (publish, reindex, verify) pass nothing, and it is an error."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise RegistryError(f"{where}: index.json is not valid JSON ({exc})") from None
    return parse_index(data, where, on_invalid)


def dump_index(index: RegistryIndex) -> bytes:
    return (
        json.dumps(index.to_json(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    ).encode()


# The static HTTPS registry (DESIGN 3): one index file per package, entries with an archive.
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def archive_relpath(name: str, version: str) -> str:
    return f"packages/{name}/{name}-{version}.tar.gz"


def check_site_entry(entry: VersionEntry, where: str) -> VersionEntry:
    """A static site's entry names its archive and the archive's sha256."""
    if entry.archive is None or not _SHA256_RE.match(entry.archive_sha256 or ""):
        raise RegistryError(
            f'{where}: {entry.name} {entry.version} needs "archive" and "archive-sha256" '
            "(64 hex digits); rebuild the site with 'skillpm registry build-static'"
        )
    return entry


def parse_package_index(raw: bytes, name: str, where: str) -> dict[str, VersionEntry]:
    """``index/<name>.json`` of a static site: the versions of one package."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise RegistryError(f"{where}: not valid JSON ({exc})") from None
    if not isinstance(data, Mapping) or data.get("format") != INDEX_FORMAT:
        raise RegistryError(f'{where}: not a skillpm index (expected "format": {INDEX_FORMAT})')
    if data.get("name") != name:
        raise RegistryError(f"{where}: describes {data.get('name')!r}, not {name!r}")
    versions = data.get("versions")
    if not isinstance(versions, Mapping):
        raise RegistryError(f'{where}: "versions" must be an object')
    return {
        str(v): check_site_entry(parse_version_entry(name, str(v), e, where), where)
        for v, e in versions.items()
    }


def dump_package_index(name: str, versions: Mapping[str, VersionEntry]) -> bytes:
    """Compact JSON: these files are for machines, fetched per install (cargo's are too)."""
    data = {
        "format": INDEX_FORMAT,
        "name": name,
        "versions": {v: e.to_json() for v, e in sorted_versions(versions)},
    }
    return _compact(data)


def dump_site_index(index: RegistryIndex) -> bytes:
    """A static site's optional full ``index.json``, compact like its per-package files."""
    return _compact(index.to_json())


def _compact(data: Any) -> bytes:
    return (json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


def find_version(index: RegistryIndex, name: str, version: str, where: str) -> VersionEntry:
    """The entry of ``name version``, or an error naming the versions there are."""
    versions = index.packages.get(name)
    if versions is None:
        raise RegistryError(f"{where}: no package named {name!r}")
    entry = versions.get(version)
    if entry is None:
        known = ", ".join(v for v, _ in sorted_versions(versions))
        raise RegistryError(f"{where}: {name} has no version {version} (it has {known})")
    return entry


def with_entry(index: RegistryIndex, entry: VersionEntry) -> RegistryIndex:
    """The index with ``entry`` replacing the one of its name and version."""
    packages = {n: dict(v) for n, v in index.packages.items()}
    packages[entry.name][entry.version] = entry
    return RegistryIndex(packages)


def set_yanked(
    index: RegistryIndex, name: str, version: str, *, yanked: bool, reason: str | None, where: str
) -> RegistryIndex | None:
    """The index with ``name version`` (un)yanked; ``None`` when it already was."""
    if reason is not None:
        check_display_text(reason, where, "the yank reason")
    entry = find_version(index, name, version, where)
    new_reason = reason if yanked else None
    if entry.yanked == yanked and (not yanked or reason is None or reason == entry.yank_reason):
        return None
    return with_entry(index, replace(entry, yanked=yanked, yank_reason=new_reason))
