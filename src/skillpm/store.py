"""The user-level cache: where it lives, and the locks that serialise processes."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from skillpm.output import console


def cache_dir() -> Path:
    override = os.environ.get("SKILLPM_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("skillpm", appauthor=False))


@contextlib.contextmanager
def exclusive(lock_path: Path, what: str) -> Iterator[None]:
    """Hold a process lock; when another process has it, say so and wait."""
    import filelock

    lock_path.parent.mkdir(parents=True, exist_ok=True)
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


def project_lock(root: Path) -> contextlib.AbstractContextManager[None]:
    """One skillpm process per project. The lock file lives in the cache, not the project."""
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:24]
    return exclusive(cache_dir() / "locks" / f"project-{key}.lock", f"project {root}")
