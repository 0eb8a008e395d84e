"""A registry folder as a publish target: write a version, (un)yank, recover.

``publish_local`` writes a version under ``packages/<name>/<version>/`` and adds
it to ``index.json``. A git registry publishes by running the same code on a
scratch copy of its tip and pushing the commit.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from skillpm.errors import RegistryError, SkillpmError
from skillpm.formats.index import (
    INDEX_FORMAT,
    MANIFEST_NAME,
    RegistryIndex,
    VersionEntry,
    dump_index,
    load_index,
    set_yanked,
)
from skillpm.fsutil import atomic_write, copy_entries, prune_empty_dirs
from skillpm.integrity import integrity_of_entries, walk_tree
from skillpm.output import console
from skillpm.project.transaction import checkpoint
from skillpm.publish.base import Published, RegistryWriter, Signed, Yanked
from skillpm.publish.prepare import Prepared, now_utc, version_entry
from skillpm.store import path_lock

if TYPE_CHECKING:
    from skillpm.publish.signatures import StatementSigner


def registry_lock(root: Path) -> contextlib.AbstractContextManager[None]:
    """One writer at a time per local registry.

    The lock lives in the cache, not the registry, so a refused publish leaves the
    registry byte-identical.
    """
    return path_lock("registry", root)


def open_index(root: Path, *, create: bool = False) -> RegistryIndex:
    """The index of the registry folder ``root``.

    With ``create``, a missing or empty folder is a new, empty registry (nothing
    is written here; the first publish writes ``index.json``).
    """
    index_path = root / "index.json"
    if root.exists() and not root.is_dir():
        raise RegistryError(f"{root}: not a folder")
    if index_path.exists():
        return load_index(index_path, str(root))
    # A fresh `git init` or clone of an empty repository counts as empty.
    if create and (not root.exists() or all(p.name == ".git" for p in root.iterdir())):
        return RegistryIndex({})
    if not root.exists():
        raise RegistryError(f"{root}: folder not found")
    raise RegistryError(
        f"{root}: not a registry (no index.json); publish to an empty or new folder to "
        "start one, or run 'skillpm registry reindex' if packages/ is there"
    )


def write_index(root: Path, index: RegistryIndex) -> None:
    assert INDEX_FORMAT == 1  # dump_index writes the format this module reads
    atomic_write(root / "index.json", dump_index(index))


# What mkdtemp(prefix=".<version>.") names the copy of a publish in progress.
_TMP_DIR = re.compile(r"^\.[0-9A-Za-z.+!_-]+\.[a-z0-9_]{8}$")


def _marker(root: Path, name: str, version: str) -> Path:
    """The journal of a publish in progress: the index entry it is about to add."""
    return root / "packages" / name / f".{version}.publish.json"


def recover_publishes(root: Path) -> list[VersionEntry]:
    """Finish or drop what a killed publish left in ``root`` (call under the registry lock).

    A publish copies the files into a hidden folder, writes its marker (the new
    index entry), renames the folder into place, writes ``index.json``, then
    deletes the marker. Readers see only ``index.json``, so the registry is old or
    new at every instant; this brings the folder back in line with it: a version
    folder whose marker's integrity matches its files is added to the index (the
    new state), everything else that a publish left is deleted (the old state).
    Returns the entries added.
    """
    packages = root / "packages"
    if not packages.is_dir():
        return []
    finished: list[VersionEntry] = []
    index: RegistryIndex | None = None
    for pkg in sorted(packages.iterdir()):
        if pkg.is_symlink() or not pkg.is_dir():
            continue
        for leftover in sorted(pkg.glob(".*")):
            if _TMP_DIR.match(leftover.name) and leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)  # copied, never renamed
            elif leftover.name.endswith(".publish.json") and leftover.is_file():
                entry = _read_marker(leftover, root, pkg.name)
                if entry is not None:
                    if index is None:
                        has_index = (root / "index.json").is_file()
                        index = open_index(root) if has_index else RegistryIndex({})
                    if entry.version not in index.packages.get(entry.name, {}):
                        versions = {n: dict(v) for n, v in index.packages.items()}
                        versions.setdefault(entry.name, {})[entry.version] = entry
                        index = RegistryIndex(versions)
                        write_index(root, index)
                        finished.append(entry)
                leftover.unlink()
        prune_empty_dirs(pkg, root)
    return finished


def _read_marker(path: Path, root: Path, name: str) -> VersionEntry | None:
    """The entry a marker records, if its version folder holds exactly those files."""
    from skillpm.formats.index import parse_version_entry

    try:
        data = json.loads(path.read_bytes())
        entry = parse_version_entry(name, str(data["version"]), data["entry"], str(path))
        folder = root / f"packages/{name}/{entry.version}"
        if not folder.is_dir() or folder.is_symlink():
            return None  # killed before the rename: the old state
        if integrity_of_entries(walk_tree(folder, refuse_hardlinks=True)) != entry.integrity:
            return None  # not what the publish wrote: leave it to 'registry verify'
    except (OSError, ValueError, KeyError, TypeError, SkillpmError):
        return None
    return entry


def publish_local(
    prepared: Prepared,
    root: Path,
    *,
    dry_run: bool = False,
    where: str | None = None,
    index: RegistryIndex | None = None,
) -> VersionEntry:
    """Write the package under ``root/packages`` and add it to ``index.json``.

    Refusals happen before anything is written. The steps are ordered so that a
    run killed at any instant leaves the index old or new, and the next write to
    the registry (``recover_publishes``, under the lock) tidies the folder; an error
    part-way through undoes what was done. A git registry runs this on a scratch
    copy of its tip: ``where`` names the registry in messages, and ``index`` is
    that copy's ``index.json``, already read.
    """
    m = prepared.manifest
    where = where or str(root)
    if index is None:
        index = open_index(root, create=True)
    folder = root / "packages" / m.name / m.version
    if m.version in index.packages.get(m.name, {}):
        raise RegistryError(
            f"{m.name} {m.version} is already published in {where}; versions are immutable, "
            "so bump the version in skillpm.yaml"
        )
    adopt = False
    if folder.exists():
        # An unlisted folder with exactly these files is this publish, done before
        # (by hand, or by a run killed before it wrote its marker): list it.
        try:
            adopt = integrity_of_entries(walk_tree(folder, refuse_hardlinks=True)) == (
                prepared.integrity
            )
        except SkillpmError:
            adopt = False
        if not adopt:
            raise RegistryError(
                f"{where}: packages/{m.name}/{m.version} exists but index.json does not list "
                "it, and its files differ from this package's; run 'skillpm registry reindex' "
                "(or 'registry verify') on the registry first"
            )
    entry = version_entry(prepared, now_utc())
    if dry_run:
        return entry
    marker = _marker(root, m.name, m.version)
    target = root / entry.path  # type: ignore[operator]
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = None if adopt else Path(tempfile.mkdtemp(prefix=f".{m.version}.", dir=target.parent))
    try:
        if tmp is not None:
            copy_entries(prepared.files, tmp)
            if prepared.generated_manifest is not None:
                (tmp / MANIFEST_NAME).write_bytes(prepared.generated_manifest)
            if integrity_of_entries(walk_tree(tmp)) != prepared.integrity:
                raise RegistryError(f"{m.name} {m.version}: files changed while publishing; retry")
            os.chmod(tmp, 0o755)  # mkdtemp makes it 700; readers of the registry need 755
            checkpoint()
            data = {"version": m.version, "entry": entry.to_json()}
            atomic_write(marker, json.dumps(data).encode())
            checkpoint()
            os.replace(tmp, target)
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        marker.unlink(missing_ok=True)
        prune_empty_dirs(target.parent, root)
        raise
    checkpoint()
    packages = {n: dict(v) for n, v in index.packages.items()}
    packages.setdefault(m.name, {})[m.version] = entry
    try:
        write_index(root, RegistryIndex(packages))
        checkpoint()
    except BaseException:
        if not adopt:
            shutil.rmtree(target, ignore_errors=True)
        marker.unlink(missing_ok=True)
        prune_empty_dirs(target.parent, root)
        raise
    marker.unlink(missing_ok=True)
    checkpoint()
    return entry


def recover(root: Path) -> None:
    """Finish or drop what a killed publish left (under the registry lock)."""
    if not root.is_dir():
        return
    for entry in recover_publishes(root):
        console.warn(f"finished the publish of {entry.name} {entry.version} that was interrupted")


class FolderWriter(RegistryWriter):
    """A registry folder on disk (the DESIGN 3 layout)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def check_source(self, source: Path) -> None:
        if self.root.resolve().is_relative_to(source.resolve()):
            raise RegistryError(
                f"{self.root}: the registry is inside the package folder {source}; publish to "
                "a folder outside it"
            )

    def publish(self, prepared: Prepared, *, dry_run: bool) -> Published:
        root = self.root
        with registry_lock(root):
            if not dry_run:
                recover(root)
            fresh = not (root / "index.json").exists()
            publish_local(prepared, root, dry_run=dry_run)
            try:
                index: RegistryIndex | None = open_index(root, create=True)
            except RegistryError:
                index = None
        return Published(str(root), str(root), str(root), fresh, index)

    def set_yanked(self, name: str, version: str, *, reason: str | None, undo: bool) -> Yanked:
        root = self.root
        with registry_lock(root):
            recover(root)
            index = open_index(root)
            updated = set_yanked(
                index, name, version, yanked=not undo, reason=reason, where=f"registry {root}"
            )
            if updated is not None:
                write_index(root, updated)
        return Yanked(updated is not None, str(root))

    def add_signature(self, name: str, version: str, signer: StatementSigner) -> Signed:
        from skillpm.publish.signatures import add_signature

        root = self.root
        with registry_lock(root):
            recover(root)
            index, key = add_signature(open_index(root), name, version, signer, str(root))
            write_index(root, index)
        return Signed(str(root), key)
