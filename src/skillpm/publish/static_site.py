"""``skillpm registry build-static``: a registry as static files for any web host (DESIGN 3).

From any readable registry (a local folder, or a git registry through its
transport) it writes::

    OUT/index/<name>.json                        one package's versions (+ archive, sha256)
    OUT/packages/<name>/<name>-<version>.tar.gz  the reproducible ``skillpm pack`` archive
    OUT/index.json                               the full index, unless --no-full-index
    OUT/index.html, OUT/catalog/...              the catalog people browse, unless --no-html

Every byte is a function of the registry's content: the same registry gives the
same site, and a file whose bytes would not change is not written at all (its
mtime stays), so ``aws s3 sync`` or ``rsync`` uploads only what changed. Files
under ``index/``, ``packages/`` and ``catalog/`` named like site files but no longer
produced (a version removed from the registry) are deleted, and so is an
``index.html`` skillpm wrote; anything else in OUT is left alone.

Each version's files are checked against the integrity its index records
before they are packed, and against the limits clients enforce when unpacking,
so a site never serves an archive every client would refuse.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from skillpm.errors import IntegrityError, RegistryError, SkillpmError, UnsafeContentError
from skillpm.formats.archive import (
    MAX_FILES,
    MAX_RATIO,
    MAX_TOTAL_BYTES,
    RATIO_GRACE,
    Member,
    write_archive,
)
from skillpm.formats.index import (
    RegistryIndex,
    VersionEntry,
    archive_relpath,
    dump_package_index,
    dump_site_index,
    latest_entry,
    load_package_manifest,
    parse_index,
    sorted_versions,
)
from skillpm.fsutil import prune_empty_dirs
from skillpm.integrity import integrity_of_entries, walk_tree
from skillpm.output import redact
from skillpm.publish.catalog_html import GENERATOR, Doc, PackageDocs, render_catalog
from skillpm.registry.base import Registry
from skillpm.registry.urls import HTTPS, LOCAL, S3, local_path, transport_of

_SITE_INDEX = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\.json$")
_SITE_ARCHIVE = re.compile(r"^(?P<name>[a-z0-9]+(?:-[a-z0-9]+)*)-[^/]+\.tar\.gz$")
_CATALOG_FILE = re.compile(
    r"^catalog/(?:pages/[1-9][0-9]*\.html|packages/[a-z0-9]+(?:-[a-z0-9]+)*\.html"
    r"|search\.json|catalog\.css|catalog\.js|icon\.svg)$"
)


@dataclass
class Built:
    """What a build did, for the report."""

    written: list[str] = field(default_factory=list)  # site paths created or changed
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    rewritten_archives: list[str] = field(default_factory=list)  # published bytes that changed
    packages: int = 0
    versions: int = 0


def pack_version(folder: Path, entry: VersionEntry) -> bytes:
    """The archive of one version, after checking its files against ``entry``.

    Each file is read once: its bytes feed both the integrity and the archive.
    """
    files = walk_tree(folder)
    where = f"{entry.name} {entry.version}"
    if len(files) > MAX_FILES:
        raise UnsafeContentError(f"{where}: more than {MAX_FILES} files")
    total = sum(f.size for f in files)
    if total > MAX_TOTAL_BYTES:
        raise UnsafeContentError(f"{where}: over the {MAX_TOTAL_BYTES // 2**20} MiB limit")
    members, digests = [], {}
    for f in files:
        data = f.path.read_bytes()
        digests[f.relpath] = hashlib.sha256(data).hexdigest()
        members.append(Member(f.relpath, f.executable, data=data))
    actual = integrity_of_entries(files, digests)
    if actual != entry.integrity:
        raise IntegrityError(
            f"{where}: integrity mismatch: the registry's index says {entry.integrity}, its "
            f"files give {actual}; run 'skillpm registry verify' on the registry. No site "
            "file was changed for it"
        )
    out = io.BytesIO()
    write_archive(members, out)
    data = out.getvalue()
    if total > RATIO_GRACE and total > MAX_RATIO * len(data):
        raise UnsafeContentError(
            f"{where}: compresses more than {MAX_RATIO}:1, which clients refuse as a gzip bomb"
        )
    return data


def _put(out: Path, rel: str, data: bytes, built: Built) -> bool:
    """Write ``out/rel`` unless it already holds ``data``; whether an old file differed."""
    path = out / rel
    try:
        old: bytes | None = path.read_bytes()
    except FileNotFoundError:
        old = None
    if old == data:
        built.unchanged += 1
        return False
    # Renamed into place so a sync running meanwhile never uploads half a file; no fsync:
    # a crash only means running the build again.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o644)  # whatever the umask: web hosts serve what they can read
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    built.written.append(rel)
    return old is not None


def _site_files(out: Path) -> set[str]:
    """Files under OUT that look like ones a build writes (and may therefore delete)."""
    found: set[str] = set()
    index = out / "index"
    if index.is_dir():
        found |= {f"index/{p.name}" for p in index.iterdir() if _SITE_INDEX.match(p.name)}
    packages = out / "packages"
    if packages.is_dir():
        for folder in packages.iterdir():
            if not folder.is_dir() or folder.is_symlink():
                continue
            for p in folder.iterdir():
                m = _SITE_ARCHIVE.match(p.name)
                if m and m["name"] == folder.name and p.is_file():
                    found.add(f"packages/{folder.name}/{p.name}")
    catalog = out / "catalog"
    if catalog.is_dir() and not catalog.is_symlink():
        found |= {
            rel
            for p in catalog.rglob("*")
            if _CATALOG_FILE.match(rel := p.relative_to(out).as_posix()) and p.is_file()
        }
    if _is_our_page(out / "index.html"):
        found.add("index.html")
    return found


def _read(out: Path, rel: str) -> bytes | None:
    """``out/rel`` as the last build left it, if it is there."""
    try:
        return (out / rel).read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _is_our_page(path: Path) -> bool:
    """Whether ``path`` is a catalog page skillpm wrote (its head names the generator)."""
    try:
        with path.open("rb") as f:
            return GENERATOR.encode() in f.read(1024)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return False


def package_docs(folder: Path, entry: VersionEntry) -> PackageDocs:
    """The SKILL.md and fragment texts of one version, for its catalog page."""
    manifest = load_package_manifest(folder, f"{entry.name} {entry.version}: skillpm.yaml")

    def text(rel: str) -> str:
        # Bytes the integrity check vouched for; an odd byte must not fail the whole site.
        return (folder / rel).read_bytes().decode("utf-8", errors="replace")

    return PackageDocs(
        skills=tuple(Doc(Path(rel).name, text(f"{rel}/SKILL.md")) for rel in manifest.skills),
        fragments=tuple(Doc(Path(rel).stem, text(rel)) for rel in manifest.fragments),
    )


def holds_registry(out: Path) -> bool:
    """Whether ``out/index.json`` is a registry's (its entries name package folders), where
    writing a site would replace the registry's index and archives."""
    try:
        data = json.loads((out / "index.json").read_bytes())
    except (OSError, ValueError, RecursionError):
        return False
    try:
        index = parse_index(data, str(out))  # entries are parsed as they are read, below
        return any(e.path is not None for v in index.packages.values() for e in v.values())
    except SkillpmError:
        # An index skillpm cannot read: still a registry's if an entry names a folder.
        packages = data.get("packages") if isinstance(data, Mapping) else None
        return any(
            isinstance(entry, Mapping) and "path" in entry
            for package in (packages.values() if isinstance(packages, Mapping) else ())
            if isinstance(package, Mapping) and isinstance(package.get("versions"), Mapping)
            for entry in package["versions"].values()
        )


def build(source: Registry, out: Path, *, full_index: bool = True, html: bool = True) -> Built:
    """Write the static site of ``source`` into ``out`` (created if missing)."""
    if holds_registry(out):
        raise RegistryError(
            f"{out}: holds a registry (its index.json lists package folders), not a static "
            "site; pick an empty or new folder"
        )
    if html and (out / "index.html").exists() and not _is_our_page(out / "index.html"):
        raise RegistryError(
            f"{out / 'index.html'}: not a page skillpm wrote; move it away, or pass --no-html "
            "to build the site without the catalog"
        )
    built = Built()
    packages: Mapping[str, Mapping[str, VersionEntry]] = source.all_packages()
    commit = source.pinned_commit()
    before = _site_files(out)
    produced: set[str] = set()
    site: dict[str, dict[str, VersionEntry]] = {}
    latest_folders: dict[str, tuple[Path, VersionEntry]] = {}
    for name, versions in sorted(packages.items()):
        built.packages += 1
        latest = latest_entry(versions)
        for version, entry in sorted_versions(versions):
            built.versions += 1
            folder = source.package_dir(entry, commit)
            data = pack_version(folder, entry)
            if entry is latest:
                latest_folders[name] = (folder, entry)
            rel = archive_relpath(name, version)
            if _put(out, rel, data, built):
                built.rewritten_archives.append(rel)
            produced.add(rel)
            site.setdefault(name, {})[version] = replace(
                entry, path=None, archive=rel, archive_sha256=hashlib.sha256(data).hexdigest()
            )
        rel = f"index/{name}.json"
        _put(out, rel, dump_package_index(name, site.get(name, {})), built)
        produced.add(rel)
    if full_index:
        _put(out, "index.json", dump_site_index(RegistryIndex(site)), built)
    elif (out / "index.json").is_file():
        (out / "index.json").unlink()
        built.removed.append("index.json")
    if html:
        pages = render_catalog(
            site,
            lambda name: package_docs(*latest_folders[name]),
            previous=functools.partial(_read, out),
        )
        for rel, data in sorted(pages.items()):
            _put(out, rel, data, built)
            produced.add(rel)
    for rel in sorted(before - produced):
        (out / rel).unlink()
        built.removed.append(rel)
        prune_empty_dirs((out / rel).parent, out)
    return built


def check_source(source: str, out: Path | None, base: Path) -> None:
    """Refuse a source that is already a site, or a site written inside its registry
    (``out`` None: the site goes to S3)."""
    transport = transport_of(source)
    if transport in (HTTPS, S3):
        raise RegistryError(
            f"{redact(source)} is already a static site; build-static reads a local folder "
            "or git registry"
        )
    if transport == LOCAL and out is not None:
        root = local_path(source, base).resolve()
        if out.resolve() == root or root in out.resolve().parents:
            raise RegistryError(
                f"{out}: the site must be written outside the registry folder {root}"
            )
