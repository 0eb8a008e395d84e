"""Small filesystem primitives: atomic writes and plain-file tree copies."""

from __future__ import annotations

import os
import tempfile
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

    umask = _umask()
    os.makedirs(dest, exist_ok=True)
    made = {os.fspath(dest)}
    digests: dict[str, str] = {}
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for entry in entries:
        target = os.path.join(dest, entry.relpath)
        parent = os.path.dirname(target)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            while parent not in made:
                made.add(parent)
                parent = os.path.dirname(parent)
        mode = 0o755 if entry.executable else 0o644
        h = hashlib.sha256()
        fd = os.open(target, flags, mode)
        try:
            with open(entry.path, "rb") as src:
                while chunk := src.read(_COPY_CHUNK):
                    h.update(chunk)
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(fd, view) :]
            if mode & umask:
                os.fchmod(fd, mode)  # the umask took bits the package asks for
        finally:
            os.close(fd)
        digests[entry.relpath] = h.hexdigest()
    return digests


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
