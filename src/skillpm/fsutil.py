"""Small filesystem primitives: atomic writes and plain-file tree copies."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from skillpm.integrity import FileEntry


def atomic_write(path: Path, data: bytes) -> None:
    """Write to a temp file beside ``path``, fsync, then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def copy_entries(entries: list[FileEntry], dest: Path) -> dict[str, str]:
    """Copy walked files into ``dest`` with normalised modes (644/755).

    Returns the sha256 hex of the bytes written for each relpath: hashing them on
    the way spares a second read to verify the copy. Each file costs one read of
    the source and one exclusive create (with its mode) of the target.
    """
    import hashlib

    digests: dict[str, str] = {}
    writer = _Writer(dest)
    for entry in entries:
        h = hashlib.sha256()
        with writer.create(entry.relpath, entry.executable) as fd, open(entry.path, "rb") as src:
            while chunk := src.read(_COPY_CHUNK):
                h.update(chunk)
                _write_all(fd, chunk)
        digests[entry.relpath] = h.hexdigest()
    return digests


def write_files(dest: Path, files: Iterable[tuple[str, bool, bytes]]) -> None:
    """Write (relpath, executable, bytes) files under ``dest`` with modes 644/755, each
    with one exclusive create: no pathlib, no chmod unless the umask took a bit."""
    writer = _Writer(dest)
    for relpath, executable, data in files:
        with writer.create(relpath, executable) as fd:
            _write_all(fd, data)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class _Writer:
    """Creates files under one folder, making each parent folder once."""

    _FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)

    def __init__(self, dest: Path) -> None:
        self.root = os.fspath(dest)
        self.umask = _umask()
        self.made = {self.root}
        os.makedirs(self.root, exist_ok=True)

    @contextlib.contextmanager
    def create(self, relpath: str, executable: bool) -> Iterator[int]:
        target = os.path.join(self.root, relpath)
        parent = os.path.dirname(target)
        if parent not in self.made:
            os.makedirs(parent, exist_ok=True)
            while parent not in self.made:
                self.made.add(parent)
                parent = os.path.dirname(parent)
        mode = 0o755 if executable else 0o644
        fd = os.open(target, self._FLAGS, mode)
        try:
            yield fd
            if mode & self.umask:
                os.fchmod(fd, mode)  # the umask took bits the package asks for
        finally:
            os.close(fd)


_COPY_CHUNK = 1 << 22


def _umask() -> int:
    # Reading the umask means setting it; done once per copy, in one thread.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def prune_empty_dirs(path: Path, stop: Path) -> None:
    """Remove ``path`` and its parents while empty, never ``stop`` or above."""
    stop = stop.resolve()
    current = path
    while current.resolve() != stop and stop in current.resolve().parents:
        try:
            current.rmdir()
        except OSError:
            return
        current = current.parent
