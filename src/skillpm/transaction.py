"""Stage every change beside its target, swap into place, restore on failure.

Directories are swapped with ``os.replace`` (one rename each); files are written
to a temp file and renamed. The old copies wait in the transaction folder until
commit, so a failure part-way puts every swapped path back.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from skillpm.fsutil import atomic_write, prune_empty_dirs


class Transaction:
    def __init__(self, staging_root: Path, project_root: Path) -> None:
        self.staging_root = staging_root
        self.project_root = project_root
        self.dir = staging_root / f"txn-{os.getpid()}-{secrets.token_hex(4)}"
        self._undo: list[Callable[[], None]] = []
        self._created_dirs: list[Path] = []
        self._counter = 0

    def __enter__(self) -> Transaction:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.rollback()

    def new_dir(self, label: str) -> Path:
        """An empty folder inside the transaction, on the project's filesystem."""
        self._counter += 1
        path = self.dir / "new" / f"{self._counter}-{label}"
        path.mkdir(parents=True)
        return path

    def _backup(self, target: Path) -> Path | None:
        if not os.path.lexists(target):
            return None
        self._counter += 1
        saved = self.dir / "old" / f"{self._counter}-{target.name}"
        saved.parent.mkdir(parents=True, exist_ok=True)
        os.replace(target, saved)
        self._undo.append(lambda: os.replace(saved, target))
        return saved

    def _ensure_parent(self, target: Path) -> None:
        missing = []
        parent = target.parent
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        for folder in reversed(missing):
            folder.mkdir()
            self._created_dirs.append(folder)

    def replace_dir(self, target: Path, new: Path | None) -> None:
        """Put ``new`` (a folder from ``new_dir``) at ``target``; ``None`` removes it."""
        self._backup(target)
        if new is not None:
            self._ensure_parent(target)
            os.replace(new, target)
            self._undo.append(lambda: shutil.rmtree(target, ignore_errors=True))

    def write_file(self, target: Path, data: bytes | None) -> None:
        """Write ``data`` at ``target`` atomically; ``None`` deletes the file."""
        try:
            if data is not None and target.read_bytes() == data:
                return
        except (FileNotFoundError, IsADirectoryError):
            pass
        saved = self._backup(target)
        if data is None:
            return
        self._ensure_parent(target)
        atomic_write(target, data)
        if saved is not None:
            os.chmod(target, saved.stat().st_mode & 0o777)
        self._undo.append(lambda: target.unlink(missing_ok=True))

    def commit(self) -> None:
        self._undo.clear()
        self._cleanup()

    def rollback(self) -> None:
        for undo in reversed(self._undo):
            # Keep restoring the rest; the transaction folder keeps what is left.
            with contextlib.suppress(OSError):
                undo()
        self._undo.clear()
        for folder in reversed(self._created_dirs):
            with contextlib.suppress(OSError):
                folder.rmdir()
        self._cleanup()

    def _cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        prune_empty_dirs(self.staging_root, self.project_root)


def clean_stale_staging(staging_root: Path, project_root: Path) -> None:
    """Remove what an interrupted run left behind (called under the project lock)."""
    if staging_root.exists():
        shutil.rmtree(staging_root, ignore_errors=True)
        prune_empty_dirs(staging_root.parent, project_root)
