"""The user-level cache: where it lives, and the locks that serialise processes.

Layout under ``cache_dir()``::

    git/<key>/                 one bare mirror per remote (key: hash of the normalised URL)
    packages/sha256-<hex>/     unpacked package versions, verified, keyed by integrity
    locks/                     process locks (projects, mirrors, local registries)
    projects/<key>.marshal     what a project's last run verified (project.state's stat cache)
    logs/                      logs of unexpected failures
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from skillpm.cachedir import cache_root
from skillpm.output import console

# A temp folder this old was left by a process that died; younger ones may be in use.
_STALE_TMP_SECONDS = 3600


def _hex(text: str) -> str:
    # hashlib (OpenSSL) is imported when a key is needed: a no-op install needs only
    # cache_dir(), and loading OpenSSL costs it ~2 ms.
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def cache_dir() -> Path:
    return Path(cache_root())


# Locks held by this process: path -> (fd, depth). Re-entering a held lock nests
# (as filelock did) instead of deadlocking on a second flock of the same file.
_held: dict[str, list[int]] = {}


@contextlib.contextmanager
def exclusive(lock_path: Path, what: str) -> Iterator[None]:
    """Hold a process lock; when another process has it, say so and wait."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    if os.name != "posix":  # pragma: no cover - Windows
        with _filelock(lock_path, what):
            yield
        return
    import fcntl

    key = str(lock_path)
    if key in _held:
        _held[key][1] += 1
        try:
            yield
        finally:
            _held[key][1] -= 1
        return
    # flock, as filelock does on POSIX (so both interoperate), without its imports.
    fd = os.open(key, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            console.warn(f"waiting for another skillpm process to finish with {what}")
            fcntl.flock(fd, fcntl.LOCK_EX)
        _held[key] = [fd, 1]
        try:
            yield
        finally:
            del _held[key]
    finally:
        os.close(fd)  # releases the lock


@contextlib.contextmanager
def _filelock(lock_path: Path, what: str) -> Iterator[None]:  # pragma: no cover - Windows
    import filelock

    lock = filelock.FileLock(str(lock_path))
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        console.warn(f"waiting for another skillpm process to finish with {what}")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _lock_path(kind: str, path: Path) -> Path:
    key = _hex(str(path.resolve()))[:24]
    return cache_dir() / "locks" / f"{kind}-{key}.lock"


def path_lock(kind: str, path: Path) -> contextlib.AbstractContextManager[None]:
    """One skillpm process at a time working on the ``kind`` (project, registry, site) at
    ``path``. The lock file lives in the cache, keyed by the resolved path, so taking it
    writes nothing where ``path`` is."""
    return exclusive(_lock_path(kind, path), f"{kind} {path}")


def project_lock(root: Path) -> contextlib.AbstractContextManager[None]:
    """One skillpm process per project."""
    return path_lock("project", root)


def project_busy(root: Path) -> bool:
    """Whether another process holds the project lock right now (never waits)."""
    path = _lock_path("project", root)
    if not path.exists():
        return False
    if os.name != "posix":  # pragma: no cover - Windows
        import filelock

        lock = filelock.FileLock(str(path))
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            return True
        except OSError:
            return False
        lock.release()
        return False
    import fcntl

    if str(path) in _held:
        return True  # held by this process: a change is running here
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # releases the probe's lock, if it got one
    return False


def url_key(normalised_url: str) -> str:
    """A short, filesystem-safe key for one remote (credentials are never part of it)."""
    return _hex(normalised_url)[:24]


def mirror_path(key: str) -> Path:
    return cache_dir() / "git" / key


def mirror_lock(key: str, what: str) -> contextlib.AbstractContextManager[None]:
    """One process fetches into a mirror at a time; the others wait, then re-check."""
    return exclusive(cache_dir() / "locks" / f"git-{key}.lock", what)


def create_dir_atomically(final: Path, build: Callable[[Path], None]) -> None:
    """Build a folder in a temp dir beside ``final``, then rename it into place.

    A crash leaves only a ``.tmp-*`` folder (swept by the next call), never a
    half-built ``final``. If another process got there first, its copy wins.
    """
    import shutil
    import tempfile

    final.parent.mkdir(parents=True, exist_ok=True)
    _sweep_stale(final.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=final.parent))
    try:
        build(tmp)
        try:
            os.replace(tmp, final)
        except OSError:
            if not final.is_dir():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


_swept: set[Path] = set()


def _sweep_stale(folder: Path) -> None:
    """Remove the ``.tmp-*`` folders crashed runs left in ``folder``, once per process
    and folder: a cold install builds many packages side by side, and listing the
    package cache for each of them would grow with the cache."""
    if folder in _swept:
        return
    import shutil

    _swept.add(folder)
    now = time.time()
    with os.scandir(folder) as entries:
        for entry in entries:
            if not entry.name.startswith(".tmp-"):
                continue
            try:  # another process may rename or sweep it between the listing and here
                stale = entry.is_dir(follow_symlinks=False) and (
                    now - entry.stat(follow_symlinks=False).st_mtime > _STALE_TMP_SECONDS
                )
            except FileNotFoundError:
                continue
            if stale:
                shutil.rmtree(entry.path, ignore_errors=True)


def fetch_stamp(mirror: Path, ref: str) -> Path:
    return mirror / "skillpm-fetched" / _hex(ref)[:16]


def seconds_since_fetch(mirror: Path, ref: str) -> float | None:
    try:
        return time.time() - fetch_stamp(mirror, ref).stat().st_mtime
    except FileNotFoundError:
        return None


def mark_fetched(mirror: Path, ref: str) -> None:
    stamp = fetch_stamp(mirror, ref)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(ref + "\n", encoding="utf-8")


def package_cache_path(integrity: str) -> Path:
    """Where the unpacked, verified files of the package with ``integrity`` are kept."""
    algo, _, digest = integrity.partition(":")
    return cache_dir() / "packages" / f"{algo}-{digest}"


def cached_package(integrity: str) -> Path | None:
    """The cached tree of the package with ``integrity``, if it is there and intact.

    A damaged entry (edited, truncated, holding a link) is removed, so the caller
    fetches it again instead of installing it or failing on it.
    """
    import shutil

    from skillpm.errors import SkillpmError
    from skillpm.integrity import tree_integrity

    path = package_cache_path(integrity)
    if not path.is_dir():
        return None
    try:
        intact = tree_integrity(path) == integrity
    except SkillpmError:  # a link or a vanished folder: damaged too
        intact = False
    if intact:
        return path
    shutil.rmtree(path)
    return None
