"""Registries: where published packages come from.

Every transport (a local folder, a git repository, a static HTTPS site)
implements ``Registry``; the resolver only ever sees ``VersionEntry`` values
gathered through ``lookup``, so it never knows which transport it reads.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from skillpm.clientlib import RegistryIndex, VersionEntry, load_index
from skillpm.envvars import FETCH_INTERVAL, env_number
from skillpm.errors import RegistryError
from skillpm.output import redact as redact  # the one redaction, for every transport
from skillpm.projectfiles import BUILTIN

_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:(?!//)")


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

    def prefetch(self, items: Sequence[tuple[VersionEntry, str | None]]) -> None:
        """Make ``package_dir`` cheap for each (entry, commit): a batching hint, optional."""
        return None

    def refresh(self) -> bool:
        """Update a cached view of the registry if that is possible and allowed.

        Returns whether anything may have changed; called when resolution fails
        on what is cached, before giving up.
        """
        return False


class LocalRegistry(Registry):
    """A folder with ``index.json`` and ``packages/<name>/<version>/``."""

    def __init__(self, name: str, url: str, root: Path) -> None:
        super().__init__(name, url)
        self.root = root
        self._index: RegistryIndex | None = None

    @property
    def index(self) -> RegistryIndex:
        if self._index is None:
            if not self.root.is_dir():
                raise RegistryError(f"registry {self.display}: folder {self.root} not found")
            self._index = load_index(self.root / "index.json", f"registry {self.display}")
        return self._index

    def lookup(self, names: Collection[str]) -> Mapping[str, Mapping[str, VersionEntry]]:
        packages = self.index.packages
        return {n: packages[n] for n in names if n in packages}

    def all_packages(self) -> Mapping[str, Mapping[str, VersionEntry]]:
        return self.index.packages

    def package_dir(self, entry: VersionEntry, commit: str | None = None) -> Path:
        path = self.root / (entry.path or f"packages/{entry.name}/{entry.version}")
        if not path.is_dir():
            raise RegistryError(
                f"registry {self.display} no longer has {entry.name} {entry.version} "
                f"({path} is missing)"
            )
        return path


def builtin_registry_root() -> Path:
    """The registry shipped in the wheel, or the checkout's ``registry/`` in development."""
    here = Path(__file__).resolve().parent
    shipped = here / "_registry"
    if shipped.is_dir():
        return shipped
    return here.parent.parent / "registry"


GIT, HTTPS, LOCAL = "git", "https", "local"


def transport_of(url: str) -> str:
    """The transport a registry URL names: ``git`` (git+..., git@host:path), ``https`` (a
    static site, http:// too) or ``local`` (a folder, file:// too)."""
    if is_git_url(url):
        return GIT
    if url.startswith(("http://", "https://")):
        return HTTPS
    return LOCAL


def is_remote(url: str) -> bool:
    return transport_of(url) != LOCAL


def is_git_url(url: str) -> bool:
    return url.startswith("git+") or bool(_SCP_LIKE.match(url))


def local_path(url: str, base: Path) -> Path:
    """The folder a local registry URL names, relative to ``base`` unless absolute."""
    return base / Path(url.removeprefix("file://")).expanduser()


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_http_url(url: str, *, allow_http: bool, label: str) -> SplitResult:
    """The parts of ``url`` if skillpm may fetch it, else a ``RegistryError``."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise RegistryError(f"{label}: {redact(url)} is not an http(s) URL with a host")
    if scheme == "http" and not allow_http and not is_loopback(parts.hostname):
        raise RegistryError(
            f"{label}: plain http:// to {parts.hostname} is refused, since anyone on the way "
            "could change what gets installed; use https://, or pass --allow-http "
            "(SKILLPM_ALLOW_HTTP=1) to accept the risk"
        )
    return parts


def open_registry(
    name: str, url: str, project_root: Path, options: RemoteOptions | None = None
) -> Registry:
    """The one place that maps a registry URL to its transport."""
    if name == BUILTIN:
        return LocalRegistry(BUILTIN, BUILTIN, builtin_registry_root())
    transport = transport_of(url)
    if transport == GIT:
        from skillpm.gitregistry import GitRegistry

        return GitRegistry(name, url, options or RemoteOptions())
    if transport == HTTPS:
        from skillpm.httpregistry import HttpRegistry

        return HttpRegistry(name, url, options or RemoteOptions())
    return LocalRegistry(name, url, local_path(url, project_root))
