"""Validating a package folder (or a bare skill folder) into exactly the files a registry
stores, with their integrity: what every transport's publish starts from.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from skillpm import yamlio
from skillpm.errors import ManifestError
from skillpm.formats.archive import Member, check_sizes
from skillpm.formats.index import (
    MANIFEST_NAME,
    PackageManifest,
    VersionEntry,
    check_name,
    load_package_manifest,
    parse_package_manifest,
)
from skillpm.formats.signatures import IndexSignature
from skillpm.integrity import FileEntry, file_digest, integrity_of_entries, walk_tree

# Never part of a package, at any depth: version control and OS litter. Everything
# else in the folder is published, like cargo and npm without an ignore file.
NOT_PUBLISHED = frozenset({".git", ".hg", ".svn", ".DS_Store", "Thumbs.db", "__pycache__"})


@dataclass(frozen=True)
class Prepared:
    """A validated package, laid out as it will be stored in a registry."""

    manifest: PackageManifest
    files: list[FileEntry]  # relpaths as stored (a bare skill gets skills/<name>/ prefixed)
    generated_manifest: bytes | None  # skillpm.yaml written for a bare skill folder
    integrity: str
    signatures: tuple[IndexSignature, ...] = ()  # publish --sign

    @property
    def archive_name(self) -> str:
        return f"{self.manifest.name}-{self.manifest.version}.tar.gz"

    def stored_files(self) -> list[tuple[str, str, int]]:
        """(relpath, mode, size) of every stored file, sorted: what a dry run shows."""
        rows = [(e.relpath, e.mode, e.size) for e in self.files]
        if self.generated_manifest is not None:
            rows.append((MANIFEST_NAME, "644", len(self.generated_manifest)))
        return sorted(rows)

    def members(self) -> list[Member]:
        """The files as archive members (``skillpm pack``)."""
        members = [Member(e.relpath, e.executable, path=e.path) for e in self.files]
        if self.generated_manifest is not None:
            members.append(Member(MANIFEST_NAME, False, data=self.generated_manifest))
        return members


def check_skill(folder: Path, name: str, where: str) -> str:
    """A skill folder's SKILL.md: frontmatter name equals the folder, a description."""
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


def check_fragment(path: Path, name: str) -> None:
    """A fragment is markdown with frontmatter; a ``name`` there must match the file."""
    meta, _, _ = yamlio.split_frontmatter(yamlio.decode(path.read_bytes(), str(path)), str(path))
    if "name" in meta and meta["name"] != name:
        raise ManifestError(f"{path}: name {meta['name']!r} must equal the file name {name!r}")


def check_contents(
    folder: Path, manifest: PackageManifest, present: set[str], where: str, *, bare: bool = False
) -> None:
    """Every listed skill and fragment exists and is well-formed."""
    for rel, name in zip(manifest.skills, manifest.skill_names, strict=True):
        check_skill(folder if bare else folder / rel, name, where)
    for rel, name in zip(manifest.fragments, manifest.fragment_names, strict=True):
        if rel not in present:
            raise ManifestError(f"{where}: fragment {rel} is missing")
        check_fragment(folder / rel, name)
    if manifest.settings is not None or manifest.claudeignore:
        from skillpm.content.settings_pieces import check_pieces

        check_pieces(folder, manifest, where)
    if not (manifest.skills or manifest.fragments or manifest.settings or manifest.claudeignore):
        raise ManifestError(
            f"{folder}: the package has no skills, fragments, settings or claudeignore lines"
        )


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
    """Validate ``source`` and compute what a registry will store.

    Hostile content is refused before any file is read: the walk rejects symbolic
    links (even ones pointing inside), hard links, devices, sockets and FIFOs.
    """
    if not source.is_dir():
        raise ManifestError(f"{source}: not a folder")
    entries = walk_tree(source, refuse_hardlinks=True, skip=NOT_PUBLISHED)
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
    else:
        raise ManifestError(
            f"{source}: no {MANIFEST_NAME} or SKILL.md here (start one with 'skillpm new NAME')"
        )
    # Archives that `skillpm pack` left in the folder are output, not content.
    packed = f"{manifest.name}-*.tar.gz"
    entries = [e for e in entries if "/" in e.relpath or not fnmatch.fnmatch(e.relpath, packed)]
    check_sizes(((e.relpath, e.size) for e in entries), str(source))
    if generated is not None:
        prefix = f"skills/{manifest.name}/"
        entries = [FileEntry(prefix + e.relpath, e.path, e.executable, e.size) for e in entries]
    present = {e.relpath for e in entries}
    check_contents(
        source, manifest, present, str(source / MANIFEST_NAME), bare=generated is not None
    )
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
        signatures=prepared.signatures,
    )


def now_utc() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    return moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
