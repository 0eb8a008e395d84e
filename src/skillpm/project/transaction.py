"""All-or-nothing changes to a project, surviving SIGKILL at any instant.

Everything new is first staged inside the transaction folder (beside
``.claude/skills``, never in it). ``commit`` then writes a journal of the swaps
(the commit point), performs them, and deletes the journal. A run killed
before the journal exists left only staging, which the next run deletes (the
old state); a run killed after it is rolled forward by the next run (the new
state). Each swap moves the old copy aside first, so an error part-way through
commit restores everything that was already swapped.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from skillpm.fsutil import atomic_write, prune_empty_dirs

JOURNAL = "journal.json"
MAX_JOURNAL_BYTES = 1024 * 1024  # a journal lists a few swaps; anything bigger is not ours
# Testing hook: SIGKILL this process after that many durable steps, to prove recovery.
CRASH_AFTER_ENV = "SKILLPM_TEST_CRASH_AFTER_STEP"

# Every path a transaction may write, relative to the project root. The staging folder
# lives in the project, so a checkout can plant a journal there: recovery honours only
# these targets (what the repository could hold anyway), never .git/, .env or the like.
_MANAGED = re.compile(
    r"^(?:skills\.yaml|skills\.lock|CLAUDE\.md|AGENTS\.md|\.claudeignore|\.claude/settings\.json"
    r"|(?:\.claude/|\.agents/)?skills/[a-z0-9]+(?:-[a-z0-9]+)*"
    r"|\.claude/(?:skillpm|rules)/[a-z0-9]+(?:-[a-z0-9]+)*\.md)$"
)


def _claude_md_link_target(project_root: Path) -> str | None:
    """Where a CLAUDE.md symlink points inside the project (AGENTS.md, say): written too."""
    link = project_root / "CLAUDE.md"
    if not link.is_symlink():
        return None
    try:
        return link.resolve().relative_to(project_root.resolve()).as_posix()
    except (OSError, ValueError):
        return None


def is_managed(rel: str, project_root: Path) -> bool:
    return bool(_MANAGED.match(rel)) or rel == _claude_md_link_target(project_root)


def check_staging_root(staging_root: Path) -> None:
    """skillpm's own folder is never a link: following one would stage, and clean up, elsewhere."""
    from skillpm.errors import UnsafeContentError

    if staging_root.is_symlink():
        raise UnsafeContentError(
            f"{staging_root} is a symbolic link; skillpm stages changes there and will not "
            "follow it: delete the link and run the command again"
        )


@dataclass(frozen=True)
class _Swap:
    target: str  # relative to the project root
    staged: str | None  # relative to the transaction folder; None removes the target
    backup: str  # relative to the transaction folder


_steps_done = 0


def checkpoint() -> None:
    """Mark a durable step: with ``CRASH_AFTER_ENV`` set, die by SIGKILL after that many."""
    global _steps_done
    crash_after = os.environ.get(CRASH_AFTER_ENV)
    if not crash_after:
        return
    _steps_done += 1
    if _steps_done >= int(crash_after):
        os.kill(os.getpid(), signal.SIGKILL)


class Transaction:
    def __init__(self, staging_root: Path, project_root: Path) -> None:
        check_staging_root(staging_root)
        self.staging_root = staging_root
        self.project_root = project_root
        self.dir = staging_root / f"txn-{os.getpid()}-{os.urandom(4).hex()}"
        self._swaps: list[_Swap] = []
        self._counter = 0
        self._done = False

    def __enter__(self) -> Transaction:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._done:
            return
        if exc_type is None:
            self.commit()
        else:
            self.rollback()

    def checkpoint(self) -> None:
        checkpoint()

    def _next(self, label: str) -> str:
        self._counter += 1
        return f"{self._counter}-{label}"

    def new_dir(self, label: str) -> Path:
        """An empty folder inside the transaction, on the project's filesystem."""
        self.checkpoint()
        path = self.dir / "new" / self._next(label)
        path.mkdir(parents=True)
        return path

    def _relative_target(self, target: Path) -> str:
        # Outside the root (the user scope's lock in the config dir): an absolute path,
        # which ``root / target`` keeps as it is when the journal is replayed.
        if not target.is_relative_to(self.project_root):
            return target.as_posix()
        rel = target.relative_to(self.project_root).as_posix()
        if not is_managed(rel, self.project_root):
            # A programming error: recovery would drop a journal naming this path.
            raise ValueError(f"{rel} is not a path skillpm manages (see _MANAGED)")
        return rel

    def replace_dir(self, target: Path, new: Path | None) -> None:
        """At commit, put ``new`` (inside a ``new_dir``) at ``target``; ``None`` removes it."""
        staged = new.relative_to(self.dir).as_posix() if new is not None else None
        backup = f"old/{self._next(target.name)}"
        self._swaps.append(_Swap(self._relative_target(target), staged, backup))

    def write_file(self, target: Path, data: bytes | None) -> None:
        """At commit, write ``data`` at ``target``; ``None`` deletes the file."""
        try:
            if data is not None and target.read_bytes() == data:
                return
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            pass
        if data is None and not os.path.lexists(target):
            return
        staged = None
        if data is not None:
            path = self.dir / "new" / self._next(target.name)
            atomic_write(path, data)
            if target.exists():
                os.chmod(path, target.stat().st_mode & 0o777)
            staged = path.relative_to(self.dir).as_posix()
            self.checkpoint()
        backup = f"old/{self._next(target.name)}"
        self._swaps.append(_Swap(self._relative_target(target), staged, backup))

    @property
    def pending(self) -> bool:
        return bool(self._swaps)

    def commit(self) -> None:
        self._done = True
        if not self._swaps:
            self._cleanup()
            return
        journal = [s.__dict__ for s in self._swaps]
        atomic_write(self.dir / JOURNAL, json.dumps(journal).encode())
        self.checkpoint()
        applied: list[_Swap] = []
        try:
            for swap in self._swaps:
                _apply(swap, self.project_root, self.dir, self.checkpoint)
                applied.append(swap)
        except Exception:
            # An error (not a crash): put back what was swapped, newest first.
            for swap in reversed(applied):
                _undo(swap, self.project_root, self.dir)
            (self.dir / JOURNAL).unlink(missing_ok=True)
            self._cleanup()
            raise
        (self.dir / JOURNAL).unlink()
        self.checkpoint()
        self._cleanup()

    def rollback(self) -> None:
        """Drop everything staged; nothing in the project was touched yet."""
        self._done = True
        self._swaps.clear()
        self._cleanup()

    def _cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        prune_empty_dirs(self.staging_root, self.project_root)


def _ensure_parent(target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)


def _apply(
    swap: _Swap, root: Path, txn_dir: Path, checkpoint: Callable[[], None] | None = None
) -> None:
    """Perform one swap; safe to repeat after a crash at any point inside it."""
    target = root / swap.target
    backup = txn_dir / swap.backup
    staged = txn_dir / swap.staged if swap.staged else None
    if staged is not None and not os.path.lexists(staged):
        return  # already moved into place by an earlier (interrupted) run
    if os.path.lexists(target) and not os.path.lexists(backup):
        backup.parent.mkdir(parents=True, exist_ok=True)
        os.replace(target, backup)
        if checkpoint is not None:
            checkpoint()
    if staged is not None:
        _ensure_parent(target)
        os.replace(staged, target)
        if checkpoint is not None:
            checkpoint()


def _undo(swap: _Swap, root: Path, txn_dir: Path) -> None:
    target = root / swap.target
    backup = txn_dir / swap.backup
    with contextlib.suppress(OSError):
        if swap.staged is not None and os.path.lexists(target):
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            else:
                target.unlink()
        if os.path.lexists(backup):
            os.replace(backup, target)


def _read_journal(
    path: Path, project_root: Path, outside: Collection[str] = ()
) -> list[_Swap] | None:
    """The swaps of a journal, or ``None`` when it is not one skillpm could have written.

    The journal is in the project folder, so a hostile checkout could plant one:
    accept only managed targets (``_MANAGED``) reached without leaving the project
    (or the absolute ``outside`` targets the caller expects), and staged and backup
    paths inside a transaction folder that holds no links.
    """
    from skillpm.errors import SkillpmError
    from skillpm.formats.index import check_relpath

    txn_dir = path.parent
    if txn_dir.is_symlink() or not txn_dir.is_dir() or path.is_symlink():
        return None
    for folder, dirs, files in os.walk(txn_dir):
        if any(os.path.islink(os.path.join(folder, n)) for n in (*dirs, *files)):
            return None
    root = project_root.resolve()
    try:
        if path.stat().st_size > MAX_JOURNAL_BYTES:
            return None
        swaps = [_Swap(**item) for item in json.loads(path.read_bytes())]
        for swap in swaps:
            check_relpath(swap.backup, str(path))
            if swap.staged is not None:
                check_relpath(swap.staged, str(path))
            if swap.target in outside:
                continue  # an absolute path the caller names (the user scope's lock)
            check_relpath(swap.target, str(path))
            if not is_managed(swap.target, project_root):
                return None
            parent = (project_root / swap.target).parent.resolve()
            if parent != root and root not in parent.parents:
                return None  # a link on the way leads outside the project
    except (OSError, ValueError, TypeError, RecursionError, SkillpmError):
        return None
    return swaps


def has_journal(staging_root: Path) -> bool:
    """Whether a change passed its commit point and has not finished: the installed
    files may be between the old state and the new one."""
    return os.path.isdir(staging_root) and any(
        os.path.lexists(txn / JOURNAL) for txn in staging_root.iterdir()
    )


def recover_interrupted(
    staging_root: Path, project_root: Path, outside: Collection[Path] = ()
) -> int:
    """Finish or drop what a killed run left (call under the project lock).

    Returns how many interrupted transactions were rolled forward. A journal that
    skillpm could not have written is dropped with its folder, and said so.
    """
    check_staging_root(staging_root)
    if not staging_root.is_dir():
        return 0
    rolled = 0
    for txn_dir in sorted(staging_root.iterdir()):
        journal = txn_dir / JOURNAL
        if os.path.lexists(journal):
            swaps = _read_journal(journal, project_root, {p.as_posix() for p in outside})
            if swaps is None:
                _warn_dropped(txn_dir, project_root)
            for swap in swaps or ():
                _apply(swap, project_root, txn_dir)
            rolled += swaps is not None
        if txn_dir.is_symlink() or not txn_dir.is_dir():
            txn_dir.unlink()
        else:
            shutil.rmtree(txn_dir, ignore_errors=True)
    prune_empty_dirs(staging_root, project_root)
    return rolled


def _warn_dropped(txn_dir: Path, project_root: Path) -> None:
    from skillpm.output import console

    console.warn(
        f"{txn_dir.relative_to(project_root).as_posix()}: not a change skillpm started "
        "(its journal names paths skillpm does not manage, or links); deleted it unread"
    )
