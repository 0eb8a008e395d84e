"""Tree integrity (DESIGN 4) and the walk that refuses what a package must not hold."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import NamedTuple

from skillpm.errors import UnsafeContentError

_CHUNK = 1 << 20


class FileEntry(NamedTuple):
    relpath: str  # posix, relative to the tree root
    path: Path
    executable: bool
    size: int
    # (size, mtime_ns, ctime_ns, inode, mode) as walked: what a stat cache compares.
    stamp: tuple[int, ...] = ()

    @property
    def mode(self) -> str:
        return "755" if self.executable else "644"


def walk_tree(
    root: Path, *, refuse_hardlinks: bool = False, skip: frozenset[str] = frozenset()
) -> list[FileEntry]:
    """Every regular file under ``root``, ordered by posix path (code-point order).

    Symlinks, devices, sockets and FIFOs are refused: a package is plain files.
    Entries named in ``skip`` (at any depth) are left out before they are looked at.
    """
    entries: list[FileEntry] = []
    pending = [(root, "")]
    while pending:
        folder, prefix = pending.pop()
        try:
            scan = list(os.scandir(folder))
        except FileNotFoundError:
            raise UnsafeContentError(f"{folder}: folder not found") from None
        for item in scan:
            if item.name in skip:
                continue
            rel = f"{prefix}{item.name}"
            st = item.stat(follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                raise UnsafeContentError(f"{rel}: symbolic links are not allowed in a package")
            if stat.S_ISDIR(st.st_mode):
                pending.append((Path(item.path), rel + "/"))
            elif stat.S_ISREG(st.st_mode):
                if refuse_hardlinks and st.st_nlink > 1:
                    raise UnsafeContentError(f"{rel}: hard links are not allowed in a package")
                stamp = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_mode)
                entries.append(
                    FileEntry(rel, Path(item.path), bool(st.st_mode & 0o111), st.st_size, stamp)
                )
            else:
                raise UnsafeContentError(f"{rel}: only regular files are allowed in a package")
    entries.sort(key=lambda e: e.relpath)
    return entries


def plain_folder(root: Path, rel: str) -> Path:
    """``root/rel``, refused when a folder on the way down from ``root`` is a symbolic link.

    ``walk_tree`` refuses links inside a package; this covers the folders above it in a
    registry (``packages/``, ``packages/<name>``, ``packages/<name>/<version>``), which
    ``os.scandir`` would otherwise follow out of the registry.
    """
    path = root
    for part in rel.split("/"):
        path = path / part
        if path.is_symlink():
            raise UnsafeContentError(
                f"{path}: symbolic links are not allowed in a registry's packages/ folder"
            )
    return path


# hashlib is imported where it is used: loading OpenSSL is a noticeable part of a
# no-op install, which walks trees here but only hashes what it doubts.


def file_digest(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def integrity_of_entries(entries: list[FileEntry], digests: dict[str, str] | None = None) -> str:
    import hashlib

    h = hashlib.sha256()
    for e in entries:
        digest = digests[e.relpath] if digests is not None else file_digest(e.path)
        h.update(f"{digest} {e.mode} {e.relpath}\n".encode())
    return "sha256:" + h.hexdigest()


def tree_integrity(root: Path) -> str:
    return integrity_of_entries(walk_tree(root))


def integrity_of_lines(lines: list[tuple[str, str, str]]) -> str:
    """Integrity from (relpath, mode, sha256 hex) triples, e.g. read from git or a tarball."""
    import hashlib

    h = hashlib.sha256()
    for relpath, mode, digest in sorted(lines):
        h.update(f"{digest} {mode} {relpath}\n".encode())
    return "sha256:" + h.hexdigest()
