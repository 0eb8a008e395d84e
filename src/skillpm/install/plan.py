"""What an install would change: the plan the installer builds and applies.

Kept apart from the installer so the fragment and settings halves can fill in a
plan without importing the installer back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from skillpm.formats.index import PackageManifest
from skillpm.formats.project_files import LockedPackage, Lockfile, dump_lock

if TYPE_CHECKING:  # the fragment code loads only when a package has fragments
    from skillpm.content.fragment_plan import FragmentPlan


@dataclass(frozen=True)
class PieceChange:
    rel: str
    old: str | None
    new: str | None  # None: delete the file
    added: tuple[str, ...] = ()  # keys or lines skillpm adds
    removed: tuple[str, ...] = ()  # keys or lines skillpm takes back


@dataclass
class PiecePlan:
    changes: list[PieceChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # warnings to show after the summary


@dataclass
class Plan:
    """What applying a lock would change, with each new package already staged."""

    lock: Lockfile
    added: list[LockedPackage] = field(default_factory=list)
    removed: list[LockedPackage] = field(default_factory=list)
    changed: list[tuple[LockedPackage, LockedPackage]] = field(default_factory=list)
    repaired: list[LockedPackage] = field(default_factory=list)
    staged: dict[str, Path] = field(default_factory=dict)  # package name -> staged package
    fragments: FragmentPlan | None = None  # None: fragments needed no work
    pieces: PiecePlan | None = None  # .claude/settings.json and .claudeignore; None: no work
    dropped: list[Path] = field(default_factory=list)  # our copies in targets no longer used
    manifests: dict[str, PackageManifest] = field(default_factory=dict)  # of staged packages
    _dumped: tuple[Lockfile, bytes] | None = None

    def lock_bytes(self) -> bytes:
        """``skills.lock`` as written for ``lock`` (dumped once however often asked)."""
        if self._dumped is None or self._dumped[0] is not self.lock:
            self._dumped = (self.lock, dump_lock(self.lock))
        return self._dumped[1]

    @property
    def empty(self) -> bool:
        files = self.fragments is not None and bool(self.fragments.changes)
        files = files or (self.pieces is not None and bool(self.pieces.changes))
        moved = self.added or self.removed or self.changed or self.repaired or self.dropped
        return not (moved or files)
