"""Maintaining a registry folder: yank, unyank, reindex and verify.

Each function works on a folder with the DESIGN 3 layout (a local registry, or
the checkout of a git registry), so a git transport can run the same code on its
working tree and commit the result.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from skillpm.errors import RegistryError, SkillpmError
from skillpm.formats.index import (
    MANIFEST_NAME,
    NAME_RE,
    RegistryIndex,
    VersionEntry,
    load_index,
    load_package_manifest,
    sorted_versions,
)
from skillpm.formats.ranges import parse_version
from skillpm.integrity import integrity_of_entries, walk_tree
from skillpm.publish.folder import open_index
from skillpm.publish.prepare import check_contents, now_utc


def entry_from_folder(root: Path, name: str, version: str) -> VersionEntry:
    """Describe ``packages/<name>/<version>`` from its files, validating them as publish does."""
    rel = f"packages/{name}/{version}"
    folder = root / rel
    where = str(folder / MANIFEST_NAME)
    files = walk_tree(folder, refuse_hardlinks=False)
    if not (folder / MANIFEST_NAME).is_file():
        raise RegistryError(f"{folder}: {MANIFEST_NAME} is missing")
    manifest = load_package_manifest(folder)
    if (manifest.name, manifest.version) != (name, version):
        raise RegistryError(
            f"{where}: says {manifest.name} {manifest.version}, but the folder is {rel}"
        )
    check_contents(folder, manifest, {e.relpath for e in files}, where)
    return VersionEntry(
        name=name,
        version=version,
        integrity=integrity_of_entries(files),
        description=manifest.description,
        dependencies=dict(manifest.dependencies),
        skills=manifest.skill_names,
        fragments=manifest.fragment_names,
        path=rel,
    )


def _is_version(text: str) -> bool:
    try:
        parse_version(text)
    except SkillpmError:
        return False
    return True


def scan(root: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """The (name, version) folders under ``packages/``, and entries that are not one.

    Hidden entries (an interrupted publish leaves ``.<version>.<random>``) and
    anything else out of place are returned as the second list.
    """
    found: list[tuple[str, str]] = []
    stray: list[str] = []
    packages = root / "packages"
    if not packages.is_dir():
        return found, stray
    for pkg in sorted(os.scandir(packages), key=lambda e: e.name):
        if not pkg.is_dir(follow_symlinks=False) or not NAME_RE.match(pkg.name):
            stray.append(f"packages/{pkg.name}")
            continue
        for ver in sorted(os.scandir(pkg.path), key=lambda e: e.name):
            if ver.is_dir(follow_symlinks=False) and _is_version(ver.name):
                found.append((pkg.name, ver.name))
            else:
                stray.append(f"packages/{pkg.name}/{ver.name}")
    return found, stray


@dataclass(frozen=True)
class Reindexed:
    index: RegistryIndex
    added: list[VersionEntry]
    removed: list[VersionEntry]
    changed: list[VersionEntry]  # integrity or metadata differ from the old index
    stray: list[str]
    old_unreadable: str | None  # why the old index could not be read, if it could not


def reindex(root: Path) -> Reindexed:
    """Rebuild the index from ``packages/``, keeping published dates and yank state."""
    old: RegistryIndex
    unreadable = None
    if not (root / "index.json").exists() and not (root / "packages").is_dir():
        raise RegistryError(f"{root}: not a registry (no index.json and no packages/ folder)")
    old = RegistryIndex({})
    if (root / "index.json").exists():
        try:
            old = open_index(root)
        except SkillpmError as exc:
            unreadable = str(exc)
    found, stray = scan(root)
    stamp = now_utc()
    packages: dict[str, dict[str, VersionEntry]] = {}
    added, changed = [], []
    for name, version in found:
        fresh = entry_from_folder(root, name, version)
        prev = old.packages.get(name, {}).get(version)
        if prev is None:
            entry = replace(fresh, published=stamp)
            added.append(entry)
        else:
            # Signatures stay while what they sign stays (docs/signatures.md).
            same = (fresh.integrity, fresh.dependencies) == (prev.integrity, prev.dependencies)
            entry = replace(
                fresh,
                published=prev.published,
                yanked=prev.yanked,
                yank_reason=prev.yank_reason,
                signatures=prev.signatures if same else (),
            )
            if entry != prev:
                changed.append(entry)
        packages.setdefault(name, {})[version] = entry
    removed = [
        e
        for name, versions in sorted(old.packages.items())
        for _, e in sorted_versions(versions)
        if version_missing(packages, e)
    ]
    return Reindexed(RegistryIndex(packages), added, removed, changed, stray, unreadable)


def version_missing(packages: Mapping[str, Mapping[str, VersionEntry]], e: VersionEntry) -> bool:
    return e.version not in packages.get(e.name, {})


@dataclass(frozen=True)
class Problem:
    where: str  # "name version" or a path under the registry
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def verify(root: Path) -> tuple[int, list[Problem], list[str]]:
    """Recompute every version's integrity and compare the index with the files.

    Returns the number of versions checked, the problems, and stray entries.
    """
    index = load_index(root / "index.json", str(root))
    problems: list[Problem] = []
    checked = 0
    for name, versions in sorted(index.packages.items()):
        for version, entry in sorted_versions(versions):
            checked += 1
            label = f"{name} {version}"
            if entry.path is None:
                problems.append(Problem(label, "the index gives no path"))
                continue
            if not (root / entry.path).is_dir():
                problems.append(Problem(label, f"{entry.path} is missing"))
                continue
            try:
                actual = entry_from_folder(root, name, version)
            except SkillpmError as exc:
                problems.append(Problem(label, str(exc)))
                continue
            if actual.integrity != entry.integrity:
                problems.append(
                    Problem(
                        label,
                        f"integrity mismatch: index.json says {entry.integrity}, "
                        f"the files in {entry.path} give {actual.integrity}",
                    )
                )
            for field_name in ("description", "dependencies", "skills", "fragments"):
                listed, real = getattr(entry, field_name), getattr(actual, field_name)
                if _plain(listed) != _plain(real):
                    problems.append(
                        Problem(
                            label,
                            f"index.json lists {field_name} {_plain(listed)!r} but "
                            f"{entry.path}/{MANIFEST_NAME} says {_plain(real)!r}",
                        )
                    )
    found, stray = scan(root)
    for name, version in found:
        if version not in index.packages.get(name, {}):
            problems.append(
                Problem(
                    f"packages/{name}/{version}",
                    "not listed in index.json (run 'skillpm registry reindex')",
                )
            )
    return checked, problems, stray


def _plain(value: object) -> object:
    if isinstance(value, Mapping):
        return dict(sorted(value.items()))
    if isinstance(value, tuple):
        return list(value)
    return value
