"""``skillpm registry build-static SRC s3://BUCKET/PREFIX``: the site, uploaded where it changed.

The site is built exactly as for a folder (``static_site.build``, into a
temporary one), then compared object by object with one listing of the prefix:
a file whose MD5 equals the object's ETag (what S3 gives a single-part upload
without SSE-KMS) is left alone, every other file is uploaded with the headers a
publish uses. Uploads are conditional on the listed ETag (``If-None-Match: *``
for a new object), so a publish landing in the bucket meanwhile makes the build
stop with a clear line instead of being overwritten.

Objects named like site files that the build no longer produces (a package
removed from SRC, or one published straight to the bucket) are left in place
and counted: deleting from a shared bucket is for a person to decide. Only
``index.json`` goes when ``--no-full-index`` asks for none, as it would from a
folder.
"""

from __future__ import annotations

import hashlib
import mimetypes
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from skillpm.errors import RegistryError, SkillpmError
from skillpm.formats.index import (
    VersionEntry,
    index_from_bytes,
    parse_package_index,
    sorted_versions,
)
from skillpm.publish.admin import Problem
from skillpm.publish.s3 import ARCHIVE_TYPE, JSON_TYPE, Changed, S3Store


@dataclass
class Uploaded:
    """What an upload did, for the report."""

    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    rewritten_archives: list[str] = field(default_factory=list)  # published bytes that changed
    removed: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)  # site-like objects the build did not make


def content_type(rel: str) -> str:
    if rel.endswith(".json"):
        return JSON_TYPE
    if rel.endswith(".tar.gz"):
        return ARCHIVE_TYPE
    guessed = mimetypes.guess_type(rel)[0] or "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _looks_like_site_file(rel: str) -> bool:
    return (rel.startswith("index/") and rel.endswith(".json")) or (
        rel.startswith("packages/") and rel.endswith(".tar.gz")
    )


def upload(folder: Path, url: str, *, full_index: bool) -> Uploaded:
    """Make the objects under ``url`` hold the site built in ``folder``."""
    store = S3Store(url)
    listed = store.listing()
    done = Uploaded()
    todo: list[tuple[str, bytes, str | None]] = []
    produced = set()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        produced.add(rel)
        data = path.read_bytes()
        etag = listed.get(rel)
        if etag is not None and etag.strip('"') == _md5(data):
            done.unchanged += 1
        else:
            todo.append((rel, data, etag))

    def put(item: tuple[str, bytes, str | None]) -> None:
        rel, data, etag = item
        try:
            store.put(
                rel, data, content_type=content_type(rel), if_match=etag, if_none_match=not etag
            )
        except Changed:
            raise RegistryError(
                f"{store.label}: {store.location.uri(rel)} changed while the site was uploaded "
                "(a publish to the bucket?); run build-static again"
            ) from None

    store.objects  # noqa: B018 - the client, made once before the worker threads
    # Archives and catalog pages (index.html too) first, index files next, index.json last:
    # a reader never finds an entry whose archive is not there yet.
    phases = (
        [i for i in todo if not (i[0].startswith("index/") or i[0] == "index.json")],
        [i for i in todo if i[0].startswith("index/")],
        [i for i in todo if i[0] == "index.json"],
    )
    with ThreadPoolExecutor(max_workers=8) as pool:
        for phase in phases:
            for future in [pool.submit(put, item) for item in phase]:
                future.result()
    done.written = [rel for rel, _, _ in todo]
    done.rewritten_archives = [r for r, _, etag in todo if etag and r.endswith(".tar.gz")]
    if not full_index and "index.json" in listed:
        store.delete("index.json")
        done.removed.append("index.json")
    done.left = sorted(r for r in listed if _looks_like_site_file(r) and r not in produced)
    return done


def verify(url: str) -> tuple[int, list[Problem]]:
    """Every version's archive in the bucket checked against its index entry (sha256, and
    the integrity of what it unpacks to), and ``index.json`` against the index files.

    Unlike install and publish this reads everything: it lists ``index/`` once and
    downloads every archive.
    """
    store = S3Store(url)
    problems: list[Problem] = []
    packages: dict[str, dict[str, VersionEntry]] = {}
    checked = 0
    for name in store.index_names():
        rel = f"index/{name}.json"
        got = store.read(rel)
        if got is None:
            continue  # deleted since the listing
        try:
            packages[name] = parse_package_index(got.body, name, rel)
        except SkillpmError as exc:
            problems.append(Problem(rel, str(exc)))
            continue
        for _, entry in sorted_versions(packages[name]):
            checked += 1
            problem = _check_archive(store, entry)
            if problem is not None:
                problems.append(Problem(f"{entry.name} {entry.version}", problem))
    full = store.read("index.json")
    if full is not None:
        problems.extend(_compare_full(full.body, packages))
    return checked, problems


def _check_archive(store: S3Store, entry: VersionEntry) -> str | None:
    import tempfile
    from typing import BinaryIO, cast

    from skillpm.formats.archive import MAX_TOTAL_BYTES, unpack
    from skillpm.integrity import integrity_of_entries

    assert entry.archive is not None
    with tempfile.SpooledTemporaryFile(max_size=4 * 2**20) as spool:
        digest = store.objects.download(entry.archive, spool, max_bytes=MAX_TOTAL_BYTES)
        if digest is None:
            return f"{entry.archive} is missing"
        if digest != entry.archive_sha256:
            return f"{entry.archive} has sha256 {digest}, the index says {entry.archive_sha256}"
        spool.seek(0)
        with tempfile.TemporaryDirectory(prefix="skillpm-verify-") as tmp:
            try:
                files = unpack(cast("BinaryIO", spool), Path(tmp) / "p", where=entry.archive)
            except SkillpmError as exc:
                return str(exc)
            actual = integrity_of_entries(files)
    if actual != entry.integrity:
        return f"{entry.archive} unpacks to {actual}, the index says {entry.integrity}"
    return None


def _compare_full(raw: bytes, packages: dict[str, dict[str, VersionEntry]]) -> list[Problem]:
    try:
        full = index_from_bytes(raw, "index.json")
        listed = {n: dict(full.packages[n]) for n in full.packages}
    except SkillpmError as exc:
        return [Problem("index.json", str(exc))]
    problems = [
        Problem("index.json", f"lists {name}, which has no index/{name}.json")
        for name in sorted(set(listed) - set(packages))
    ]
    for name in sorted(set(packages) - set(listed)):
        problems.append(Problem("index.json", f"does not list {name}"))
    for name in sorted(set(packages) & set(listed)):
        if listed[name] != packages[name]:
            problems.append(
                Problem("index.json", f"its entry for {name} differs from index/{name}.json")
            )
    return problems
