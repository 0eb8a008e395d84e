"""The interface every registry transport implements, and the network options they share.

Every transport (a local folder, a git repository, a static HTTPS site)
implements ``Registry``; the resolver only ever sees ``VersionEntry`` values
gathered through ``lookup``, so it never knows which transport it reads.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from skillpm.envvars import FETCH_INTERVAL, env_number
from skillpm.formats.index import VersionEntry
from skillpm.formats.project_files import LockedPackage
from skillpm.output import redact


@dataclass(frozen=True)
class RemoteOptions:
    """How transports may use the network, decided once on the command line."""

    offline: bool = False  # never touch the network; work from the cache or fail
    refresh: bool = False  # fetch now, whatever the cache's age
    fetch_interval: float = 300.0  # seconds a fetched view counts as fresh
    allow_http: bool = False  # plain http:// to hosts other than loopback

    @classmethod
    def from_env(cls, *, offline: bool, refresh: bool, allow_http: bool) -> RemoteOptions:
        """The command line's flags, with ``SKILLPM_FETCH_INTERVAL`` applied. (The HTTP
        settings are read when a site is first used: see ``httpclient.HttpSettings``.)"""
        return cls(
            offline=offline,
            refresh=refresh,
            fetch_interval=env_number(FETCH_INTERVAL, cls.fetch_interval),
            allow_http=allow_http,
        )


class Registry(abc.ABC):
    """One source of packages. ``url`` is its identity in the lock."""

    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.url = url

    @property
    def display(self) -> str:
        if self.name == self.url:  # a registry known by its URL alone
            return redact(self.url)
        return f"{self.name} ({redact(self.url)})"

    @abc.abstractmethod
    def lookup(self, names: Collection[str]) -> Mapping[str, Mapping[str, VersionEntry]]:
        """Versions of each of ``names`` this registry has; absent names are left out."""

    @abc.abstractmethod
    def all_packages(self) -> Mapping[str, Mapping[str, VersionEntry]]:
        """Every package, for search and suggestions (may be costly for large registries)."""

    @abc.abstractmethod
    def package_dir(self, entry: VersionEntry, commit: str | None = None) -> Path:
        """A folder holding the package's files; the installer verifies them."""

    def pinned_commit(self) -> str | None:
        """The revision resolved against, for transports that have one (git)."""
        return None

    def known_entry(self, name: str, version: str) -> VersionEntry | None:
        """The index entry of one version if known without touching the network, else None."""
        return self.lookup([name]).get(name, {}).get(version)

    def entry_at(self, name: str, version: str, commit: str | None) -> VersionEntry | None:
        """The index entry of a locked version (its signatures), as of ``commit`` where the
        transport has commits; may read the index, which a locked install otherwise skips."""
        return self.lookup([name]).get(name, {}).get(version)

    def remote_listings(self) -> Mapping[str, tuple[str | None, str]]:
        """Packages known by name but stored elsewhere, not read until installed (a
        marketplace's plugins in other repositories): (version or None, description)."""
        return {}

    def reads_packages_at_commit(self) -> bool:
        """Whether a package's files are those at the commit it was resolved at (a
        marketplace or plain repository), rather than an immutable published folder that
        any later commit still holds: then an unchanged package keeps its locked commit."""
        return False

    def locked_entry(self, pkg: LockedPackage) -> VersionEntry | None:
        """The entry of a locked version the registry no longer offers (a marketplace moved
        on), read where the lock says, so it stays installable; None when unknown."""
        return None

    def left_out(self, entry: VersionEntry) -> tuple[str, ...]:
        """What the package's source holds that skillpm does not install ("commands", ...)."""
        return ()

    def prefetch(self, items: Sequence[tuple[VersionEntry, str | None]]) -> None:
        """Make ``package_dir`` cheap for each (entry, commit): a batching hint, optional."""
        return None

    def refresh(self) -> bool:
        """Update a cached view of the registry if that is possible and allowed.

        Returns whether anything may have changed; called when resolution fails
        on what is cached, before giving up.
        """
        return False
