"""Publishing a package folder (or a bare skill folder) into a local registry."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from skillpm import yamlio
from skillpm.clientlib import (
    MANIFEST_NAME,
    PackageManifest,
    RegistryIndex,
    VersionEntry,
    check_name,
    dump_index,
    load_index,
    load_package_manifest,
    parse_package_manifest,
)
from skillpm.errors import ManifestError, RegistryError, UnsafeContentError
from skillpm.fsutil import atomic_write, copy_entries
from skillpm.integrity import FileEntry, file_digest, integrity_of_entries, walk_tree
from skillpm.store import cache_dir, exclusive

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_PACKAGE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Prepared:
    """A validated package, laid out as it will be stored in a registry."""

    manifest: PackageManifest
    files: list[FileEntry]  # relpaths as stored (a bare skill gets skills/<name>/ prefixed)
    generated_manifest: bytes | None  # skillpm.yaml written for a bare skill folder
    integrity: str


def _check_skill(folder: Path, name: str, where: str) -> str:
    skill_md = folder / "SKILL.md"
    if not skill_md.is_file():
        raise ManifestError(f"{where}: {folder.name}/SKILL.md is missing")
    meta, _, _ = yamlio.split_frontmatter(
        yamlio.decode(skill_md.read_bytes(), str(skill_md)), str(skill_md)
    )
    if meta.get("name") != name:
        raise ManifestError(
            f"{skill_md}: name {meta.get('name')!r} must equal its folder name {name!r}"
        )
    description = meta.get("description")
    if not isinstance(description, str) or not description.strip():
        raise ManifestError(f"{skill_md}: description is missing")
    if len(description) > 1024:
        raise ManifestError(f"{skill_md}: description is longer than 1024 characters")
    return description.strip()


def _bare_skill_manifest(source: Path, version: str | None) -> tuple[PackageManifest, bytes]:
    skill_md = source / "SKILL.md"
    meta, _, _ = yamlio.split_frontmatter(
        yamlio.decode(skill_md.read_bytes(), str(skill_md)), str(skill_md)
    )
    name = check_name(meta.get("name"), str(skill_md), "skill name")
    metadata = meta.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    version = version or (str(metadata["version"]) if metadata.get("version") else None)
    if version is None:
        raise ManifestError(
            f"{skill_md}: a bare skill needs a version: pass --version or set metadata.version"
        )
    data = {
        "name": name,
        "version": version,
        "description": str(meta.get("description") or "").strip(),
        "skills": [f"skills/{name}"],
        "fragments": [],
    }
    if meta.get("license"):
        data["license"] = str(meta["license"])
    manifest = parse_package_manifest(data, source, str(skill_md))
    import yaml

    text = yaml.safe_dump(manifest.to_yaml_dict(), sort_keys=False, allow_unicode=True)
    return manifest, text.encode()


def prepare(source: Path, *, version: str | None = None) -> Prepared:
    """Validate ``source`` and compute what a registry will store."""
    if not source.is_dir():
        raise ManifestError(f"{source}: not a folder")
    entries = walk_tree(source, refuse_hardlinks=True)
    total = 0
    for e in entries:
        if e.size > MAX_FILE_BYTES:
            raise UnsafeContentError(
                f"{e.relpath}: {e.size // 1024} KiB is over the {MAX_FILE_BYTES // 2**20} MiB "
                "limit for one file"
            )
        total += e.size
    if total > MAX_PACKAGE_BYTES:
        raise UnsafeContentError(f"{source}: over the {MAX_PACKAGE_BYTES // 2**20} MiB limit")
    generated = None
    if (source / MANIFEST_NAME).is_file():
        manifest = load_package_manifest(source)
        if version is not None and version != manifest.version:
            raise ManifestError(
                f"{source / MANIFEST_NAME}: version is {manifest.version}, but --version says "
                f"{version}; change one of them"
            )
    elif (source / "SKILL.md").is_file():
        manifest, generated = _bare_skill_manifest(source, version)
        prefix = f"skills/{manifest.name}/"
        entries = [FileEntry(prefix + e.relpath, e.path, e.executable, e.size) for e in entries]
    else:
        raise ManifestError(f"{source}: no {MANIFEST_NAME} or SKILL.md here")
    present = {e.relpath for e in entries}
    for rel, name in zip(manifest.skills, manifest.skill_names, strict=True):
        folder = source if generated is not None else source / rel
        _check_skill(folder, name, str(source / MANIFEST_NAME))
    for rel in manifest.fragments:
        if rel not in present:
            raise ManifestError(f"{source / MANIFEST_NAME}: fragment {rel} is missing")
    if not manifest.skills and not manifest.fragments:
        raise ManifestError(f"{source}: the package has no skills and no fragments")
    if generated is not None:
        digests = {e.relpath: file_digest(e.path) for e in entries}
        digests[MANIFEST_NAME] = hashlib.sha256(generated).hexdigest()
        stored = sorted(
            [*entries, FileEntry(MANIFEST_NAME, Path(), False, len(generated))],
            key=lambda e: e.relpath,
        )
        integrity = integrity_of_entries(stored, digests)
    else:
        integrity = integrity_of_entries(entries)
    return Prepared(manifest, entries, generated, integrity)


def version_entry(prepared: Prepared, published: str) -> VersionEntry:
    m = prepared.manifest
    return VersionEntry(
        name=m.name,
        version=m.version,
        integrity=prepared.integrity,
        description=m.description,
        dependencies=dict(m.dependencies),
        skills=m.skill_names,
        fragments=m.fragment_names,
        published=published,
        path=f"packages/{m.name}/{m.version}",
    )


def now_utc() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    return moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def registry_lock(root: Path) -> contextlib.AbstractContextManager[None]:
    """One publisher at a time per local registry; the lock lives in the cache."""

    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:24]
    return exclusive(cache_dir() / "locks" / f"registry-{key}.lock", f"registry {root}")


def publish_local(prepared: Prepared, root: Path, *, dry_run: bool = False) -> VersionEntry:
    """Write the package under ``root/packages`` and add it to ``index.json``."""
    m = prepared.manifest
    index_path = root / "index.json"
    if root.exists() and not root.is_dir():
        raise RegistryError(f"{root}: not a folder")
    if root.is_dir() and any(root.iterdir()) and not index_path.exists():
        raise RegistryError(f"{root}: not a registry (no index.json) and not empty")
    index = load_index(index_path, str(root)) if index_path.exists() else RegistryIndex({})
    if (
        m.version in index.packages.get(m.name, {})
        or (root / "packages" / m.name / m.version).exists()
    ):
        raise RegistryError(
            f"{m.name} {m.version} is already published in {root}; versions are immutable, "
            "so bump the version in skillpm.yaml"
        )
    entry = version_entry(prepared, now_utc())
    if dry_run:
        return entry
    target = root / entry.path  # type: ignore[operator]
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{m.version}.", dir=target.parent))
    try:
        copy_entries(prepared.files, tmp)
        if prepared.generated_manifest is not None:
            (tmp / MANIFEST_NAME).write_bytes(prepared.generated_manifest)
        if integrity_of_entries(walk_tree(tmp)) != prepared.integrity:
            raise RegistryError(f"{m.name} {m.version}: files changed while publishing; retry")
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    packages = {n: dict(v) for n, v in index.packages.items()}
    packages.setdefault(m.name, {})[m.version] = entry
    try:
        atomic_write(index_path, dump_index(RegistryIndex(packages)))
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return entry
