"""Writing an S3 registry: publish, yank and unyank as conditional writes of the site's objects.

The bucket holds a static site's files (DESIGN 3), so a publish writes exactly
what ``build-static`` would have uploaded, with the headers CloudFront needs:

1. The archive, ``packages/<name>/<name>-<version>.tar.gz``, with ``If-None-Match: *``:
   a version is immutable, so an object already there is never replaced. If it
   holds these very bytes (a publish killed after this step, or a racer with the
   same package) it is used as it is; otherwise the publish is refused.
2. ``index/<name>.json``, read with its ETag, the version added, and written back
   with ``If-Match`` on that ETag (``If-None-Match: *`` for a new package). A 412
   means someone else wrote it meanwhile: read again and apply again, a bounded
   number of times. A version that appeared meanwhile is refused, so two
   publishers of one version get one success and one refusal, while publishers
   of different packages (or versions) all land.
3. The full ``index.json`` the same way, when the registry keeps one: the
   package's entry becomes what step 2 wrote, so it also heals a publish that was
   killed between 2 and 3.

A registry keeps ``index.json`` if it has one, or if the publish found it empty
(one ``ListObjectsV2`` with ``MaxKeys=1``, made only when ``index.json`` is absent):
a site built with ``--no-full-index`` stays without. Publishers racing to start a
registry may skip step 3 because another one's objects made it look non-empty
before that one created ``index.json``; so whoever starts it lists the (new,
small) registry's index files afterwards and adds any that ``index.json`` lacks.
Otherwise nothing lists the bucket, so a publish costs the same few requests
however many packages the bucket holds.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from skillpm.errors import IntegrityError, RegistryError, UnsafeContentError
from skillpm.formats.archive import (
    MAX_RATIO,
    MAX_TOTAL_BYTES,
    RATIO_GRACE,
    Member,
    write_archive,
)
from skillpm.formats.index import (
    INDEX_FORMAT,
    MANIFEST_NAME,
    NAME_RE,
    RegistryIndex,
    VersionEntry,
    archive_relpath,
    dump_package_index,
    dump_site_index,
    index_from_bytes,
    parse_package_index,
    set_yanked,
    sorted_versions,
)
from skillpm.integrity import FileEntry, integrity_of_entries
from skillpm.output import console
from skillpm.publish.base import Published, RegistryWriter, Signed, Yanked
from skillpm.publish.prepare import Prepared, now_utc, version_entry
from skillpm.registry.s3 import S3Objects, parse_s3_url, status_of

if TYPE_CHECKING:
    from skillpm.publish.signatures import StatementSigner
    from skillpm.registry.httpclient import Fetched

# The headers of a static site on S3 (docs/s3.md): CDNs keep archives for a year (their names
# never repeat) and index files five minutes.
JSON_TYPE = "application/json"
ARCHIVE_TYPE = "application/gzip"
INDEX_CACHE = "public, max-age=300"
ARCHIVE_CACHE = "public, max-age=31536000, immutable"

MAX_ATTEMPTS = 10  # read-modify-write rounds on one index file before giving up
_BACKOFF_SECONDS = 0.05  # the first retry waits up to this, doubling each time (capped)
_MAX_BACKOFF = 2.0
MAX_DOCUMENT = 256 * 1024 * 1024  # as the HTTPS reader allows for the full index
_CHANGED = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"})

R = TypeVar("R")


class Changed(Exception):
    """A conditional write lost: the object is not what was read (or no longer absent)."""


@dataclass(frozen=True)
class Read:
    """An object as read a moment ago (``got`` None: it was absent): where an update may
    start instead of reading it again."""

    got: Fetched | None


def cache_control(rel: str) -> str:
    """Archives never change; anything else (index files, pages) may."""
    return ARCHIVE_CACHE if rel.startswith("packages/") and rel.endswith(".tar.gz") else INDEX_CACHE


class S3Store:
    """The objects of one S3 registry, for writing: reads through ``S3Objects``, plus
    conditional puts, the one emptiness check and (for build-static) listing."""

    def __init__(self, url: str) -> None:
        self.location = parse_s3_url(url, "registry")
        self.display = self.location.url
        self.label = f"registry {self.display}"
        self._objects: S3Objects | None = None

    @property
    def objects(self) -> S3Objects:
        if self._objects is None:  # boto3 is imported here, not for --help or a dry parse
            from skillpm.registry.httpclient import HttpSettings

            self._objects = S3Objects(
                self.location, HttpSettings.from_env(allow_http=False), self.label
            )
        return self._objects

    def read(self, rel: str) -> Fetched | None:
        return self.objects.get(rel, max_bytes=MAX_DOCUMENT)

    def put(
        self,
        rel: str,
        data: bytes,
        *,
        content_type: str,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> str:
        """Write one object with the site's headers; its new ETag. ``Changed`` when a
        condition does not hold."""
        from botocore.exceptions import BotoCoreError, ClientError

        request: dict[str, Any] = {
            "Bucket": self.location.bucket,
            "Key": self.location.key(rel),
            "Body": data,
            "ContentType": content_type,
            "CacheControl": cache_control(rel),
        }
        if if_none_match:
            request["IfNoneMatch"] = "*"
        elif if_match is not None:
            request["IfMatch"] = if_match
        try:
            return str(self.objects.client.put_object(**request).get("ETag", ""))
        except ClientError as exc:
            code, status = status_of(exc)
            if code in _CHANGED or status in (409, 412):
                raise Changed(code) from None
            raise self.objects.fail(exc, rel, "s3:PutObject") from None
        except BotoCoreError as exc:
            raise self.objects.fail(exc, rel, "s3:PutObject") from None

    def is_empty(self) -> bool:
        """Whether nothing at all is stored under the prefix (one request, one key at most)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            found = self.objects.client.list_objects_v2(
                Bucket=self.location.bucket, Prefix=self.location.prefix, MaxKeys=1
            )
        except (BotoCoreError, ClientError) as exc:
            raise self.objects.fail(exc, None, "s3:ListBucket") from None
        return not found.get("KeyCount") and not found.get("Contents")

    def listing(self) -> dict[str, str]:
        """Every object under the prefix (relative name) and its ETag: for build-static."""
        from botocore.exceptions import BotoCoreError, ClientError

        found = {}
        try:
            pages = self.objects.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.location.bucket, Prefix=self.location.prefix
            )
            for page in pages:
                for item in page.get("Contents", ()):
                    found[str(item["Key"])[len(self.location.prefix) :]] = str(item["ETag"])
        except (BotoCoreError, ClientError) as exc:
            raise self.objects.fail(exc, None, "s3:ListBucket") from None
        return found

    def delete(self, rel: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.objects.client.delete_object(
                Bucket=self.location.bucket, Key=self.location.key(rel)
            )
        except (BotoCoreError, ClientError) as exc:
            raise self.objects.fail(exc, rel, "s3:DeleteObject") from None

    def index_names(self) -> list[str]:
        """The packages with an ``index/<name>.json`` (a listing: only for a new registry)."""
        from botocore.exceptions import BotoCoreError, ClientError

        folder = self.location.key("index/")
        names = []
        try:
            pages = self.objects.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.location.bucket, Prefix=folder
            )
            for page in pages:
                for item in page.get("Contents", ()):
                    rel = str(item["Key"])[len(folder) :]
                    name = rel.removesuffix(".json")
                    if rel.endswith(".json") and NAME_RE.match(name):
                        names.append(name)
        except (BotoCoreError, ClientError) as exc:
            raise self.objects.fail(exc, None, "s3:ListBucket") from None
        return sorted(names)

    def update(
        self,
        rel: str,
        edit: Callable[[bytes | None], tuple[bytes | None, R]],
        known: Read | None = None,
    ) -> R:
        """Read ``rel`` (or start from ``known``), let ``edit`` turn its bytes (None: absent)
        into new bytes (None: leave it) and a result, and write them only if nobody wrote
        ``rel`` meanwhile; otherwise read and edit again, up to ``MAX_ATTEMPTS`` times."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            got = known.got if known is not None and attempt == 1 else self.read(rel)
            if got is not None and not got.etag:
                raise RegistryError(
                    f"{self.label}: the store sent no ETag for {self.location.uri(rel)}, so it "
                    "cannot be updated safely (skillpm needs S3 conditional writes)"
                )
            data, result = edit(got.body if got is not None else None)
            if data is None:
                return result
            try:
                self.put(
                    rel,
                    data,
                    content_type=JSON_TYPE,
                    if_match=got.etag if got is not None else None,
                    if_none_match=got is None,
                )
                return result
            except Changed:
                if attempt < MAX_ATTEMPTS:
                    console.detail(f"{rel} changed under another writer; applying again")
                    pause = min(_MAX_BACKOFF, _BACKOFF_SECONDS * 2 ** (attempt - 1))
                    time.sleep(random.uniform(0, pause))
        raise RegistryError(
            f"{self.label}: {self.location.uri(rel)} changed under other writers "
            f"{MAX_ATTEMPTS} times in a row; run the command again"
        )


def _with_package(raw: bytes, name: str, versions: dict[str, VersionEntry], where: str) -> bytes:
    """``index.json`` with one package's entry replaced, the others kept as they are: parsing
    and writing again every entry of a 10,000-package index would cost seconds a publish."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise RegistryError(f"{where}: not valid JSON ({exc})") from None
    is_index = isinstance(data, dict) and data.get("format") == INDEX_FORMAT
    packages = data.get("packages") if is_index else None
    if not isinstance(packages, dict):
        raise RegistryError(f'{where}: not a skillpm index (expected "format": {INDEX_FORMAT})')
    packages[name] = {"versions": {v: e.to_json() for v, e in sorted_versions(versions)}}
    data["packages"] = dict(sorted(packages.items()))
    # The compact form dump_site_index writes, so a build-static of the same registry agrees.
    return (json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


def pack(prepared: Prepared) -> bytes:
    """The ``skillpm pack`` archive of ``prepared``, from one read of each file, checked
    against its integrity (a file edited since ``prepare`` is refused)."""
    members, digests, entries = [], {}, list(prepared.files)
    for e in prepared.files:
        data = e.path.read_bytes()
        digests[e.relpath] = hashlib.sha256(data).hexdigest()
        members.append(Member(e.relpath, e.executable, data=data))
    if prepared.generated_manifest is not None:
        generated = prepared.generated_manifest
        digests[MANIFEST_NAME] = hashlib.sha256(generated).hexdigest()
        members.append(Member(MANIFEST_NAME, False, data=generated))
        entries.append(FileEntry(MANIFEST_NAME, Path(), False, len(generated)))
    entries.sort(key=lambda e: e.relpath)
    m = prepared.manifest
    if integrity_of_entries(entries, digests) != prepared.integrity:
        raise IntegrityError(f"{m.name} {m.version}: files changed while publishing; retry")
    out = io.BytesIO()
    write_archive(members, out)
    data = out.getvalue()
    total = sum(e.size for e in entries)
    if total > RATIO_GRACE and total > MAX_RATIO * len(data):
        raise UnsafeContentError(
            f"{m.name} {m.version}: compresses more than {MAX_RATIO}:1, which clients refuse "
            "as a gzip bomb"
        )
    return data


@dataclass(frozen=True)
class _Plan:
    """What a publish read before writing anything."""

    entry: VersionEntry
    archive: bytes
    package: Read  # index/<name>.json
    full: Read  # index.json
    new_registry: bool  # nothing was stored under the prefix: this publish starts it
    index: RegistryIndex | None  # the full index as read, for the dependency warning


class S3RegistryWriter(RegistryWriter):
    """Publish and (un)yank on ``s3://BUCKET/PREFIX``."""

    def __init__(self, url: str) -> None:
        self.store = S3Store(url)

    def publish(self, prepared: Prepared, *, dry_run: bool) -> Published:
        store = self.store
        plan = self._plan(prepared)
        if not dry_run:
            self._put_archive(plan)
            name = plan.entry.name
            versions = store.update(f"index/{name}.json", self._adding(plan.entry), plan.package)
            replacing = self._replacing(name, versions, plan.new_registry)
            # Absent when planned: read it again, now that our index file is written. A
            # publisher starting the registry meanwhile either created it before this read
            # (and it is updated) or lists index/ after it (and finds our package there).
            known = plan.full if plan.full.got is not None else None
            store.update("index.json", replacing, known)
            if plan.new_registry:
                store.update("index.json", self._adding_unlisted(store.index_names()))
        return Published(
            where=store.display,
            label=store.label,
            install_url=store.display,
            new_registry=plan.new_registry,
            index=plan.index,
            nothing_done="uploaded",
        )

    def set_yanked(self, name: str, version: str, *, reason: str | None, undo: bool) -> Yanked:
        store = self.store

        def edit(raw: bytes | None) -> tuple[bytes | None, dict[str, VersionEntry] | None]:
            if raw is None:
                raise RegistryError(f"{store.label}: no package named {name!r}")
            versions = self._parse(name, raw)
            updated = set_yanked(
                RegistryIndex({name: versions}),
                name,
                version,
                yanked=not undo,
                reason=reason,
                where=store.label,
            )
            if updated is None:
                return None, None
            new = dict(updated.packages[name])
            return dump_package_index(name, new), new

        versions = store.update(f"index/{name}.json", edit)
        if versions is not None:
            store.update("index.json", self._replacing(name, versions, create=False))
        return Yanked(versions is not None, store.display)

    def add_signature(self, name: str, version: str, signer: StatementSigner) -> Signed:
        from skillpm.publish.signatures import add_signature

        store = self.store

        def edit(raw: bytes | None) -> tuple[bytes, tuple[dict[str, VersionEntry], str]]:
            if raw is None:
                raise RegistryError(f"{store.label}: no package named {name!r}")
            index = RegistryIndex({name: self._parse(name, raw)})
            index, key = add_signature(index, name, version, signer, store.label)
            versions = dict(index.packages[name])
            return dump_package_index(name, versions), (versions, key)

        versions, key = store.update(f"index/{name}.json", edit)
        store.update("index.json", self._replacing(name, versions, create=False))
        return Signed(store.display, key)

    # -- steps -------------------------------------------------------------------------

    def _parse(self, name: str, raw: bytes) -> dict[str, VersionEntry]:
        return parse_package_index(raw, name, f"{self.store.label}: index/{name}.json")

    def _plan(self, prepared: Prepared) -> _Plan:
        """Everything a publish reads, and its refusals, before anything is written."""
        store, m = self.store, prepared.manifest
        archive = pack(prepared)
        rel = archive_relpath(m.name, m.version)
        entry = replace(
            version_entry(prepared, now_utc()),
            path=None,
            archive=rel,
            archive_sha256=hashlib.sha256(archive).hexdigest(),
        )
        current = store.read(f"index/{m.name}.json")
        if current is not None and m.version in self._parse(m.name, current.body):
            raise self._already(entry)
        full = store.read("index.json")
        index = None
        if full is not None:
            index = index_from_bytes(full.body, f"{store.label}: index.json")
        new_registry = full is None and current is None and store.is_empty()
        return _Plan(entry, archive, Read(current), Read(full), new_registry, index)

    def _already(self, entry: VersionEntry) -> RegistryError:
        return RegistryError(
            f"{entry.name} {entry.version} is already published in {self.store.label}; "
            "versions are immutable, so bump the version in skillpm.yaml"
        )

    def _put_archive(self, plan: _Plan) -> None:
        store, entry = self.store, plan.entry
        assert entry.archive is not None
        try:
            store.put(entry.archive, plan.archive, content_type=ARCHIVE_TYPE, if_none_match=True)
            return
        except Changed:
            pass
        # The archive is there already: these bytes (reused) or others (refused).
        with io.BytesIO() as sink:
            found = store.objects.download(entry.archive, sink, max_bytes=MAX_TOTAL_BYTES)
        if found == entry.archive_sha256:
            console.detail(f"{entry.archive} already holds these bytes; using it")
            return
        current = store.read(f"index/{entry.name}.json")
        if current is not None and entry.version in self._parse(entry.name, current.body):
            raise self._already(entry)
        raise RegistryError(
            f"{store.label}: {store.location.uri(entry.archive)} exists with other bytes, but no "
            "index lists it (a publish of other files for this version was interrupted, or is "
            "running now); if no one is publishing it, delete that object and publish again"
        )

    def _adding(
        self, entry: VersionEntry
    ) -> Callable[[bytes | None], tuple[bytes, dict[str, VersionEntry]]]:
        def edit(raw: bytes | None) -> tuple[bytes, dict[str, VersionEntry]]:
            versions = {} if raw is None else self._parse(entry.name, raw)
            if entry.version in versions:  # someone else's publish of it landed meanwhile
                raise self._already(entry)
            versions[entry.version] = entry
            return dump_package_index(entry.name, versions), versions

        return edit

    def _replacing(
        self, name: str, versions: dict[str, VersionEntry], create: bool
    ) -> Callable[[bytes | None], tuple[bytes | None, None]]:
        """index.json with ``name``'s entry set to ``versions`` (what its index file says);
        a missing index.json is left missing unless ``create``."""
        where = f"{self.store.label}: index.json"

        def edit(raw: bytes | None) -> tuple[bytes | None, None]:
            if raw is None:
                data = dump_site_index(RegistryIndex({name: versions})) if create else None
                return data, None
            return _with_package(raw, name, versions, where), None

        return edit

    def _adding_unlisted(
        self, names: list[str]
    ) -> Callable[[bytes | None], tuple[bytes | None, None]]:
        """index.json with every package of ``names`` it lacks, from its index file."""
        where = f"{self.store.label}: index.json"

        def edit(raw: bytes | None) -> tuple[bytes | None, None]:
            index = RegistryIndex({}) if raw is None else index_from_bytes(raw, where)
            packages = dict(index.packages)
            for name in names:
                got = None if name in packages else self.store.read(f"index/{name}.json")
                if got is not None:
                    packages[name] = self._parse(name, got.body)
            if len(packages) == len(index.packages):
                return None, None
            return dump_site_index(RegistryIndex(packages)), None

        return edit
