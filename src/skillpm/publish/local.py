"""Publishing a package folder (or a bare skill folder) into a local registry folder.

``prepare`` validates a source folder into exactly the files a registry stores;
``publish_local`` writes them under ``packages/<name>/<version>/`` and adds the
version to ``index.json``. A git registry publishes by running ``publish_local``
on a checkout and pushing the commit.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fnmatch
import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from skillpm import yamlio
from skillpm.errors import ManifestError, RegistryError, SkillpmError
from skillpm.formats.archive import Member, check_sizes
from skillpm.formats.index import (
    INDEX_FORMAT,
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
from skillpm.fsutil import atomic_write, copy_entries, prune_empty_dirs
from skillpm.integrity import FileEntry, file_digest, integrity_of_entries, walk_tree
from skillpm.project.transaction import checkpoint
from skillpm.store import path_lock

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
    )


def now_utc() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    return moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def registry_lock(root: Path) -> contextlib.AbstractContextManager[None]:
    """One writer at a time per local registry.

    The lock lives in the cache, not the registry, so a refused publish leaves the
    registry byte-identical.
    """
    return path_lock("registry", root)


def open_index(root: Path, *, create: bool = False) -> RegistryIndex:
    """The index of the registry folder ``root``.

    With ``create``, a missing or empty folder is a new, empty registry (nothing
    is written here; the first publish writes ``index.json``).
    """
    index_path = root / "index.json"
    if root.exists() and not root.is_dir():
        raise RegistryError(f"{root}: not a folder")
    if index_path.exists():
        return load_index(index_path, str(root))
    # A fresh `git init` or clone of an empty repository counts as empty.
    if create and (not root.exists() or all(p.name == ".git" for p in root.iterdir())):
        return RegistryIndex({})
    if not root.exists():
        raise RegistryError(f"{root}: folder not found")
    raise RegistryError(
        f"{root}: not a registry (no index.json); publish to an empty or new folder to "
        "start one, or run 'skillpm registry reindex' if packages/ is there"
    )


def write_index(root: Path, index: RegistryIndex) -> None:
    assert INDEX_FORMAT == 1  # dump_index writes the format this module reads
    atomic_write(root / "index.json", dump_index(index))


# What mkdtemp(prefix=".<version>.") names the copy of a publish in progress.
_TMP_DIR = re.compile(r"^\.[0-9A-Za-z.+!_-]+\.[a-z0-9_]{8}$")


def _marker(root: Path, name: str, version: str) -> Path:
    """The journal of a publish in progress: the index entry it is about to add."""
    return root / "packages" / name / f".{version}.publish.json"


def recover_publishes(root: Path) -> list[VersionEntry]:
    """Finish or drop what a killed publish left in ``root`` (call under the registry lock).

    A publish copies the files into a hidden folder, writes its marker (the new
    index entry), renames the folder into place, writes ``index.json``, then
    deletes the marker. Readers see only ``index.json``, so the registry is old or
    new at every instant; this brings the folder back in line with it: a version
    folder whose marker's integrity matches its files is added to the index (the
    new state), everything else that a publish left is deleted (the old state).
    Returns the entries added.
    """
    packages = root / "packages"
    if not packages.is_dir():
        return []
    finished: list[VersionEntry] = []
    index: RegistryIndex | None = None
    for pkg in sorted(packages.iterdir()):
        if pkg.is_symlink() or not pkg.is_dir():
            continue
        for leftover in sorted(pkg.glob(".*")):
            if _TMP_DIR.match(leftover.name) and leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)  # copied, never renamed
            elif leftover.name.endswith(".publish.json") and leftover.is_file():
                entry = _read_marker(leftover, root, pkg.name)
                if entry is not None:
                    if index is None:
                        has_index = (root / "index.json").is_file()
                        index = open_index(root) if has_index else RegistryIndex({})
                    if entry.version not in index.packages.get(entry.name, {}):
                        versions = {n: dict(v) for n, v in index.packages.items()}
                        versions.setdefault(entry.name, {})[entry.version] = entry
                        index = RegistryIndex(versions)
                        write_index(root, index)
                        finished.append(entry)
                leftover.unlink()
        prune_empty_dirs(pkg, root)
    return finished


def _read_marker(path: Path, root: Path, name: str) -> VersionEntry | None:
    """The entry a marker records, if its version folder holds exactly those files."""
    from skillpm.formats.index import parse_version_entry

    try:
        data = json.loads(path.read_bytes())
        entry = parse_version_entry(name, str(data["version"]), data["entry"], str(path))
        folder = root / f"packages/{name}/{entry.version}"
        if not folder.is_dir() or folder.is_symlink():
            return None  # killed before the rename: the old state
        if integrity_of_entries(walk_tree(folder, refuse_hardlinks=True)) != entry.integrity:
            return None  # not what the publish wrote: leave it to 'registry verify'
    except (OSError, ValueError, KeyError, TypeError, SkillpmError):
        return None
    return entry


def publish_local(
    prepared: Prepared,
    root: Path,
    *,
    dry_run: bool = False,
    where: str | None = None,
    index: RegistryIndex | None = None,
) -> VersionEntry:
    """Write the package under ``root/packages`` and add it to ``index.json``.

    Refusals happen before anything is written. The steps are ordered so that a
    run killed at any instant leaves the index old or new, and the next write to
    the registry (``recover_publishes``, under the lock) tidies the folder; an error
    part-way through undoes what was done. A git registry runs this on a scratch
    copy of its tip: ``where`` names the registry in messages, and ``index`` is
    that copy's ``index.json``, already read.
    """
    m = prepared.manifest
    where = where or str(root)
    if index is None:
        index = open_index(root, create=True)
    folder = root / "packages" / m.name / m.version
    if m.version in index.packages.get(m.name, {}):
        raise RegistryError(
            f"{m.name} {m.version} is already published in {where}; versions are immutable, "
            "so bump the version in skillpm.yaml"
        )
    adopt = False
    if folder.exists():
        # An unlisted folder with exactly these files is this publish, done before
        # (by hand, or by a run killed before it wrote its marker): list it.
        try:
            adopt = integrity_of_entries(walk_tree(folder, refuse_hardlinks=True)) == (
                prepared.integrity
            )
        except SkillpmError:
            adopt = False
        if not adopt:
            raise RegistryError(
                f"{where}: packages/{m.name}/{m.version} exists but index.json does not list "
                "it, and its files differ from this package's; run 'skillpm registry reindex' "
                "(or 'registry verify') on the registry first"
            )
    entry = version_entry(prepared, now_utc())
    if dry_run:
        return entry
    marker = _marker(root, m.name, m.version)
    target = root / entry.path  # type: ignore[operator]
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = None if adopt else Path(tempfile.mkdtemp(prefix=f".{m.version}.", dir=target.parent))
    try:
        if tmp is not None:
            copy_entries(prepared.files, tmp)
            if prepared.generated_manifest is not None:
                (tmp / MANIFEST_NAME).write_bytes(prepared.generated_manifest)
            if integrity_of_entries(walk_tree(tmp)) != prepared.integrity:
                raise RegistryError(f"{m.name} {m.version}: files changed while publishing; retry")
            os.chmod(tmp, 0o755)  # mkdtemp makes it 700; readers of the registry need 755
            checkpoint()
            data = {"version": m.version, "entry": entry.to_json()}
            atomic_write(marker, json.dumps(data).encode())
            checkpoint()
            os.replace(tmp, target)
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        marker.unlink(missing_ok=True)
        prune_empty_dirs(target.parent, root)
        raise
    checkpoint()
    packages = {n: dict(v) for n, v in index.packages.items()}
    packages.setdefault(m.name, {})[m.version] = entry
    try:
        write_index(root, RegistryIndex(packages))
        checkpoint()
    except BaseException:
        if not adopt:
            shutil.rmtree(target, ignore_errors=True)
        marker.unlink(missing_ok=True)
        prune_empty_dirs(target.parent, root)
        raise
    marker.unlink(missing_ok=True)
    checkpoint()
    return entry
