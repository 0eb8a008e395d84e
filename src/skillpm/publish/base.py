"""The interface every registry transport implements for writing (publish, yank).

The read side has ``registry.base.Registry``; this is its counterpart, one
implementation per writable transport, chosen by ``publish.open.open_writer``.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from skillpm.errors import RegistryError
from skillpm.formats.index import RegistryIndex
from skillpm.publish.prepare import Prepared

if TYPE_CHECKING:
    from skillpm.publish.signatures import StatementSigner


@dataclass(frozen=True)
class Published:
    """What a publish (or its dry run) did, for the command to report."""

    where: str  # where it went: a folder, or "url (branch main)"
    label: str  # the registry as warnings name it
    install_url: str  # what `skillpm install NAME --registry ...` takes
    new_registry: bool  # this publish starts the registry
    index: RegistryIndex | None  # the registry's index after the publish, if readable
    commit: str | None = None  # the commit that records it (git); None for a dry run
    nothing_done: str = "written"  # the verb a dry run did not do ("written", "pushed")


@dataclass(frozen=True)
class Yanked:
    changed: bool  # False: the version was already in the asked state
    where: str  # the registry in messages, with the commit where there is one


@dataclass(frozen=True)
class Signed:
    where: str  # the registry in messages, with the commit where there is one
    key: str  # the fingerprint of the key that signed


class RegistryWriter(abc.ABC):
    """A registry that skillpm can write to."""

    def check_source(self, source: Path) -> None:
        """Refuse a package folder this registry cannot take (before anything is read)."""
        return None

    @abc.abstractmethod
    def publish(self, prepared: Prepared, *, dry_run: bool) -> Published:
        """Add one version; refuse (before writing anything) if it exists."""

    @abc.abstractmethod
    def set_yanked(self, name: str, version: str, *, reason: str | None, undo: bool) -> Yanked:
        """Mark a version yanked (or no longer yanked): resolutions skip it, locks keep it."""

    def add_signature(self, name: str, version: str, signer: StatementSigner) -> Signed:
        """Add a signature to a published version's index entry; its files stay as they are."""
        raise RegistryError("this registry cannot be signed in place")
