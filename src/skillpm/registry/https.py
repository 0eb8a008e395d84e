"""A registry served as static files over HTTPS (DESIGN 3), read like cargo's sparse index.

``lookup`` fetches ``index/<name>.json`` for just the names the resolver asks
about, several at once; ``package_dir`` downloads just the archive of a version
being installed. Nothing ever reads the whole site, so an install costs a few
small requests however many packages the registry holds.

Cache, under ``cache_dir()``::

    http/<key>/index/<name>.json   a header line (status, ETag, Last-Modified), then the body
    http/<key>/index.json          the same for the optional full index (search)
    packages/sha256-<hex>/         unpacked, verified package trees, shared with git registries

An index file fetched or revalidated less than ``fetch_interval`` seconds ago
(the file's mtime) is used without a request; an older one is revalidated with
If-None-Match / If-Modified-Since, so an unchanged file costs one empty 304. A
cached "not found" is always asked again (online), so a package published a
minute ago is found. ``--offline`` reads only the cache, at any age.

An archive is trusted only once its sha256 matches the index and the tree it
unpacks to (under ``archive.unpack``'s hostile-input limits) matches the
integrity; only then does it move into the package cache.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO, Protocol, TypeVar, cast
from urllib.parse import quote, urlunsplit

from skillpm import store
from skillpm.errors import IntegrityError, RegistryError
from skillpm.formats.index import (
    RegistryIndex,
    VersionEntry,
    check_site_entry,
    parse_index,
    parse_package_index,
)
from skillpm.fsutil import atomic_write
from skillpm.output import redact
from skillpm.registry.base import Registry, RemoteOptions
from skillpm.registry.urls import check_http_url

if TYPE_CHECKING:  # the client pulls in http.client, ssl and email: only load it to fetch
    from skillpm.registry.httpclient import Client, Fetched, HttpSettings

MAX_INDEX_FILE = 16 * 1024 * 1024  # one package's versions
MAX_FULL_INDEX = 256 * 1024 * 1024  # every package: only search reads it
_SPOOL = 4 * 1024 * 1024  # archives up to this size never touch the disk before unpacking

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class SiteUrl:
    base: str  # scheme://host[:port]/path/ with no credentials: what requests and the cache use
    host: str
    userinfo: tuple[str, str] | None

    def url_of(self, rel: str) -> str:
        # "+" (semver build metadata) is percent-encoded: S3 reads a bare "+" as a space.
        return self.base + quote(rel, safe="/")


def parse_site_url(url: str, *, allow_http: bool, label: str) -> SiteUrl:
    parts = check_http_url(url, allow_http=allow_http, label=label)
    if parts.query or parts.fragment:
        raise RegistryError(
            f"{label}: {redact(url)}: a static registry URL is the site's folder, without "
            "?query or #fragment"
        )
    host = parts.hostname or ""
    netloc = parts.netloc.rpartition("@")[2].lower()
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    userinfo = None
    if parts.username is not None:
        userinfo = (parts.username, parts.password or "")
    base = urlunsplit((parts.scheme.lower(), netloc, path, "", ""))
    return SiteUrl(base, host, userinfo)


class SiteFiles(Protocol):
    """How a transport reads a site's files, named by their path under the site."""

    def get(
        self, rel: str, *, max_bytes: int, etag: str | None, last_modified: str | None
    ) -> Fetched | None:
        """A small document (an index file), or a 304 for the cached copy; None: no such file."""

    def download(self, rel: str, sink: IO[bytes], *, max_bytes: int) -> str | None:
        """Stream a file into ``sink``; its sha256 hex, or None when there is no such file."""


@dataclass(frozen=True)
class _HttpFiles:
    client: Client
    site: SiteUrl

    def get(
        self, rel: str, *, max_bytes: int, etag: str | None, last_modified: str | None
    ) -> Fetched | None:
        url = self.site.url_of(rel)
        return self.client.get(url, max_bytes=max_bytes, etag=etag, last_modified=last_modified)

    def download(self, rel: str, sink: IO[bytes], *, max_bytes: int) -> str | None:
        return self.client.download(self.site.url_of(rel), sink, max_bytes=max_bytes)


@dataclass(frozen=True)
class _Record:
    """A cached index file: what the server said, and how long ago."""

    status: int  # 200, or 404 for "no such package here"
    etag: str | None
    last_modified: str | None
    body: bytes
    age: float  # seconds since it was fetched or revalidated

    def dump(self) -> bytes:
        head = {"status": self.status, "etag": self.etag, "last-modified": self.last_modified}
        return json.dumps(head, sort_keys=True).encode() + b"\n" + self.body


def _read_record(path: Path) -> _Record | None:
    try:
        raw = path.read_bytes()
        age = time.time() - path.stat().st_mtime
    except OSError:
        return None
    head, sep, body = raw.partition(b"\n")
    try:
        meta = json.loads(head) if sep else None
    except ValueError:
        meta = None
    if not isinstance(meta, dict) or meta.get("status") not in (200, 404):
        return None  # damaged: fetched again
    etag, modified = meta.get("etag"), meta.get("last-modified")
    return _Record(
        meta["status"],
        etag if isinstance(etag, str) else None,
        modified if isinstance(modified, str) else None,
        body,
        age,
    )


def _pool_map(fn: Callable[[T], U], items: Sequence[T], workers: int) -> list[U]:
    """``fn`` over ``items`` on at most ``workers`` threads; the first failure is raised."""
    if len(items) <= 1 or workers <= 1:
        return [fn(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        futures = [pool.submit(fn, item) for item in items]
    return [f.result() for f in futures]


class HttpRegistry(Registry):
    """A static site with ``index/<name>.json`` and ``packages/<name>/<name>-<version>.tar.gz``.

    Another transport serving the same layout (S3) subclasses it, replacing only
    ``_base`` (the URL checked and normalised) and ``_open_files`` (the reads).
    """

    site: SiteUrl  # set by _base

    def __init__(self, name: str, url: str, options: RemoteOptions) -> None:
        super().__init__(name, url)
        self.options = options
        self.cache = store.cache_dir() / "http" / store.url_key(self._base())
        self._files: SiteFiles | None = None
        self._settings: HttpSettings | None = None
        self._known: dict[str, dict[str, VersionEntry]] = {}
        self._absent: set[str] = set()
        self._stale_ok: set[str] = set()  # names taken from the cache without asking
        self._force = options.refresh
        self._full: RegistryIndex | None = None
        self._verified: set[str] = set()  # integrities checked in the package cache

    @property
    def label(self) -> str:
        return f"registry {self.display}"

    @property
    def settings(self) -> HttpSettings:
        if self._settings is None:
            from skillpm.registry.httpclient import HttpSettings

            self._settings = HttpSettings.from_env(allow_http=self.options.allow_http)
        return self._settings

    def _base(self) -> str:
        """The URL checked and normalised, without credentials: what keys the cache."""
        self.site = parse_site_url(self.url, allow_http=self.options.allow_http, label=self.label)
        return self.site.base

    @property
    def files(self) -> SiteFiles:
        if self._files is None:  # credentials are looked up only when a request is made
            self._files = self._open_files()
        return self._files

    def _open_files(self) -> SiteFiles:
        from skillpm.registry.httpclient import Client, find_credential

        credential = find_credential(self.site.host, self.site.userinfo)
        return _HttpFiles(Client(self.settings, self.label, self.site.host, credential), self.site)

    # -- index files ---------------------------------------------------------------------

    def lookup(self, names: Collection[str]) -> Mapping[str, Mapping[str, VersionEntry]]:
        wanted = [n for n in dict.fromkeys(names) if n not in self._known and n not in self._absent]
        to_fetch: list[tuple[str, _Record | None]] = []
        for name in wanted:
            record = _read_record(self._index_path(name))
            if record is not None and (self.options.offline or self._fresh(record)):
                try:
                    self._take(name, record)
                except RegistryError:
                    record = None  # damaged in the cache: fetched again
                else:
                    self._stale_ok.add(name)
                    continue
            if self.options.offline:
                raise RegistryError(
                    f"{self.label}: the index of {name!r} is not in the cache and --offline "
                    "forbids fetching it; run the command once without --offline"
                )
            to_fetch.append((name, record))
        if to_fetch:
            self.files  # noqa: B018 - made once here, not raced for on the worker threads
        fetched = _pool_map(self._fetch_index, to_fetch, self.settings.concurrency)
        for (name, _), record in zip(to_fetch, fetched, strict=True):
            self._take(name, record)
        return {n: self._known[n] for n in names if n in self._known}

    def _index_path(self, name: str) -> Path:
        return self.cache / "index" / f"{name}.json"

    def _fresh(self, record: _Record) -> bool:
        # A cached "not found" is never fresh: it would hide a package just published.
        return (
            not self._force
            and record.status == 200
            and 0 <= record.age < self.options.fetch_interval
        )

    def _parse(self, name: str, record: _Record) -> dict[str, VersionEntry]:
        return parse_package_index(record.body, name, f"{self.label}: index/{name}.json")

    def _take(self, name: str, record: _Record) -> None:
        if record.status == 404:
            self._absent.add(name)
        else:
            self._known[name] = self._parse(name, record)

    def _fetch_index(self, item: tuple[str, _Record | None]) -> _Record:
        """Fetch or revalidate one index file (on a worker thread) and cache it."""
        name, cached = item
        return self._fetch_document(f"index/{name}.json", self._index_path(name), cached, name)

    def _fetch_document(
        self, rel: str, path: Path, cached: _Record | None, name: str | None
    ) -> _Record:
        good = cached if cached is not None and cached.status == 200 else None
        limit = MAX_FULL_INDEX if name is None else MAX_INDEX_FILE
        got = self.files.get(
            rel,
            max_bytes=limit,
            etag=good.etag if good else None,
            last_modified=good.last_modified if good else None,
        )
        if got is None:
            record = _Record(404, None, None, b"", 0.0)
        elif got.status == 304 and good is not None:
            try:
                os.utime(path)  # revalidated: fresh again
            except OSError:
                atomic_write(path, good.dump())
            return replace(good, age=0.0)
        else:
            record = _Record(200, got.etag, got.last_modified, got.body, 0.0)
            if name is not None:
                self._parse(name, record)  # refuse a broken file before caching it
        atomic_write(path, record.dump())
        return record

    def read_document(self, rel: str) -> bytes | None:
        """Another file of the site (a ``skillpm-policy.yaml``), cached and revalidated like
        an index file; None when the site has none. ``--offline`` reads only the cache."""
        path = self.cache / "files" / rel
        record = _read_record(path)
        if self.options.offline:
            if record is None:
                raise RegistryError(
                    f"{self.label}: {rel} is not in the cache and --offline forbids fetching "
                    "it; run the command once without --offline"
                )
        elif record is None or not self._fresh(record):
            record = self._fetch_document(rel, path, record, None)
        return record.body if record.status == 200 else None

    def all_packages(self) -> Mapping[str, Mapping[str, VersionEntry]]:
        """The site's optional full ``index.json``: for search and suggestions only.

        Offline, without it in the cache, the packages whose index files are cached.
        """
        if self._full is None:
            path = self.cache / "index.json"
            record = _read_record(path)
            if self.options.offline:
                if record is None:
                    # What the cache knows, package by package (shell completion, say).
                    return self._cached_packages()
            elif record is None or not self._fresh(record):
                record = self._fetch_document("index.json", path, record, None)
            if record.status == 404:
                raise RegistryError(
                    f"{self.label} publishes no full index.json, so it cannot be searched "
                    "(it was built with --no-full-index); 'skillpm info NAME' still works"
                )
            try:
                self._full = self._parse_full(record.body)
            except RegistryError:
                path.unlink(missing_ok=True)  # fetched again next time, whatever its age
                raise
        return self._full.packages

    def _cached_packages(self) -> dict[str, dict[str, VersionEntry]]:
        found: dict[str, dict[str, VersionEntry]] = {}
        folder = self.cache / "index"
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
            record = _read_record(path)
            if record is not None and record.status == 200:
                try:
                    found[path.stem] = self._parse(path.stem, record)
                except RegistryError:
                    continue
        return found

    def _parse_full(self, body: bytes) -> RegistryIndex:
        where = f"{self.label}: index.json"
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise RegistryError(f"{where}: not valid JSON ({exc})") from None
        index = parse_index(data, where)
        for versions in index.packages.values():
            for entry in versions.values():
                check_site_entry(entry, where)
        return index

    def known_entry(self, name: str, version: str) -> VersionEntry | None:
        """One version's entry from what is already cached, without a request."""
        if name in self._known:
            return self._known[name].get(version)
        record = _read_record(self._index_path(name))
        if record is None or record.status != 200:
            return None
        try:
            return self._parse(name, record).get(version)
        except RegistryError:
            return None

    def refresh(self) -> bool:
        """From now on revalidate every index file, even fresh ones (``update`` and a failed
        resolution call this); whether names already taken from the cache may change."""
        if self.options.offline:
            return False
        self._force = True
        stale = bool(self._stale_ok)
        for name in self._stale_ok:
            self._known.pop(name, None)
            self._absent.discard(name)
        self._stale_ok.clear()
        return stale

    # -- archives --------------------------------------------------------------------------

    def package_dir(self, entry: VersionEntry, commit: str | None = None) -> Path:
        self._fill_cache([entry])
        return store.package_cache_path(entry.integrity)

    def prefetch(self, items: Sequence[tuple[VersionEntry, str | None]]) -> None:
        """Download the archives of several versions at once (bounded concurrency)."""
        self._fill_cache([e for e, _ in items])

    def _cached(self, entry: VersionEntry) -> bool:
        """Whether the package cache holds this version intact (checked once per process)."""
        if entry.integrity in self._verified:
            return True
        if store.cached_package(entry.integrity) is None:
            return False
        self._verified.add(entry.integrity)
        return True

    def _fill_cache(self, entries: Iterable[VersionEntry]) -> None:
        todo = {e.integrity: e for e in entries if not self._cached(e)}
        if not todo:
            return
        if self.options.offline:
            first = next(iter(todo.values()))
            raise RegistryError(
                f"{self.label}: {first.name} {first.version} is not in the cache and "
                "--offline forbids downloading it; run the command once without --offline"
            )
        located = self._locate(list(todo.values()))
        self.files  # noqa: B018 - made once here, not raced for on the worker threads
        _pool_map(self._download, located, self.settings.concurrency)
        self._verified.update(todo)

    def _locate(self, entries: list[VersionEntry]) -> list[VersionEntry]:
        """Entries with their archive and sha256; an entry built from a lock has neither."""
        bare = sorted({e.name for e in entries if e.archive is None or e.archive_sha256 is None})
        listed = self.lookup(bare) if bare else {}
        located = []
        for entry in entries:
            if entry.archive is not None and entry.archive_sha256 is not None:
                located.append(entry)
                continue
            found = listed.get(entry.name, {}).get(entry.version)
            if found is None:
                raise RegistryError(
                    f"{self.label} no longer has {entry.name} {entry.version}; run "
                    "'skillpm install' to resolve again"
                )
            if found.integrity != entry.integrity:
                raise IntegrityError(
                    f"integrity check failed for {entry.name} {entry.version} from "
                    f"{self.display}: skills.lock says {entry.integrity}, the registry's index "
                    f"says {found.integrity}; the registry's copy changed after it was locked. "
                    "Nothing was installed"
                )
            located.append(found)
        return located

    def _download(self, entry: VersionEntry) -> None:
        """Fetch, check and unpack one archive into the package cache (on a worker thread)."""
        import tempfile

        from skillpm.formats.archive import MAX_TOTAL_BYTES, unpack
        from skillpm.integrity import integrity_of_entries

        assert entry.archive is not None
        what = f"{entry.name} {entry.version} from {self.display}"
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL) as spool:
            digest = self.files.download(entry.archive, spool, max_bytes=MAX_TOTAL_BYTES)
            if digest is None:
                raise RegistryError(
                    f"{self.label}: {entry.archive} is missing on the server (HTTP 404); the "
                    "site is incomplete: rebuild it with 'skillpm registry build-static' and "
                    "upload it again"
                )
            if digest != entry.archive_sha256:
                raise IntegrityError(
                    f"integrity check failed for {what}: the archive's sha256 is {digest}, "
                    f"the index says {entry.archive_sha256}; the file on the server was "
                    "changed or damaged. Nothing was installed"
                )
            spool.seek(0)

            def build(tmp: Path) -> None:
                tmp.rmdir()  # unpack makes the folder itself, and refuses one that exists
                files = unpack(cast("BinaryIO", spool), tmp, where=f"{what}: archive")
                actual = integrity_of_entries(files)
                if actual != entry.integrity:
                    raise IntegrityError(
                        f"integrity check failed for {what}: the archive unpacks to {actual}, "
                        f"the index says {entry.integrity}. Nothing was installed"
                    )

            store.create_dir_atomically(store.package_cache_path(entry.integrity), build)
