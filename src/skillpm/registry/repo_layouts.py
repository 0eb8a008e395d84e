"""Repositories without an ``index.json``, seen as registries.

Two shapes are understood, read at one commit of a git registry:

- a Claude Code plugin marketplace (``.claude-plugin/marketplace.json``): each
  plugin is a package named after the plugin, holding the plugin's skills (its
  ``skills`` list, else its ``skills/`` folder); ``plugin_layout`` reads it into a
  ``Catalog``. A plugin stored in another git repository (a ``github``, ``url`` or
  ``git-subdir`` source) is read from there, through ``RemoteTrees``, when first
  asked for;
- a plain repository of skill folders (``skills/*/SKILL.md``, else
  ``.claude/skills/*/SKILL.md``, else ``SKILL.md`` folders up to three levels
  deep): each skill is a package of its own.

This module holds what both share: the catalog, the package layout, ``RepoPackages``.

A package is laid out as ``publish`` would store it: ``skills/<skill>/...`` and a
generated ``skillpm.yaml``. Its integrity is computed over that layout from the
bytes at the commit, so the lock pins it and an install verifies it like any
other. A version comes from the plugin (``plugin.json``, then the marketplace
entry, as Claude Code reads it) or the skill (``metadata.version``); without
one it is derived from the package's own files (``0.0.0+c<hash>``), so it moves
only when they change, not with every commit of the repository.

Entries are computed on demand, so resolving one plugin reads only its files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Protocol

from skillpm import yamlio
from skillpm.errors import RegistryError, SkillpmError, UnsafeContentError
from skillpm.formats.archive import MAX_FILE_BYTES, MAX_FILES, MAX_TOTAL_BYTES
from skillpm.formats.index import MANIFEST_NAME, NAME_RE, SourcePin, VersionEntry
from skillpm.formats.ranges import parse_version
from skillpm.integrity import integrity_of_lines
from skillpm.registry import marketplace as mp
from skillpm.registry.git_commands import TreeEntry

SKILL_FILE = "SKILL.md"
MAX_SKILL_DEPTH = 3  # folders above SKILL.md in a plain repository: a/b/skill/SKILL.md
COMMIT_VERSION_DIGITS = 12

# Read blobs: (paths to look under, blob ids, what for an error message) -> bytes by id.
Reader = Callable[[Sequence[str], Sequence[str], str], Mapping[str, bytes]]
PackageFile = tuple[str, str, bytes]  # (path in the package, mode 644|755, bytes)


@dataclass(frozen=True)
class Tree:
    """A repository's files at one commit, and how to read their bytes."""

    commit: str
    files: Mapping[str, TreeEntry]  # every file, link and submodule, by path
    read: Reader


@dataclass(frozen=True)
class Offer:
    """A package the repository offers."""

    name: str
    version: str | None  # None: derived from the package's files
    description: str
    license: str | None
    skills: tuple[tuple[str, str], ...]  # (skill name, folder in the repository)
    origin: str  # for messages: "plugin x of marketplace y", "skill folder skills/x"
    dependencies: tuple[tuple[str, str], ...] = ()  # (package name, range)
    left_out: tuple[str, ...] = ()  # what the plugin has besides skills: "commands", ...
    tree: Tree | None = None  # where its files are; None: the catalog's own repository
    source: SourcePin | None = None  # set with ``tree``


@dataclass(frozen=True)
class RemotePlugin:
    """A marketplace plugin stored in another repository: where, and how to read it there."""

    source: mp.RemoteSource
    offer: Callable[[Tree], Offer]  # raises ``mp.Unsupported`` when it offers no skills
    version: str | None  # what the marketplace entry says, shown before fetching
    description: str


class RemoteTrees(Protocol):
    """Opens plugin repositories (the git transport implements it with its mirror cache)."""

    def open(self, plugin: str, source: mp.RemoteSource, commit: str | None) -> Tree:
        """``source`` at ``commit`` (a locked one), else at its sha, ref or default branch."""
        ...

    def refresh(self) -> None:
        """Fetch refs again when next opened, whatever the cache's age."""
        ...


@dataclass(frozen=True)
class Catalog:
    kind: str  # "marketplace" or "skills"
    offers: Mapping[str, Offer]
    unavailable: Mapping[str, str]  # name -> why it cannot be installed
    notes: tuple[str, ...] = ()  # entries left out entirely (bad names, ...)
    remote: Mapping[str, RemotePlugin] = dataclasses.field(default_factory=dict)


def commit_version(commit: str) -> str:
    """What skillpm before content versions locked for a package declaring no version."""
    return f"0.0.0+g{commit[:COMMIT_VERSION_DIGITS]}"


def content_version(rows: Sequence[tuple[str, TreeEntry]], manifest: bytes) -> str:
    """The version of a package declaring none: a hash of its own files (git's ids,
    which are content hashes) and of its generated manifest, so it moves exactly when
    what gets installed changes."""
    digest = hashlib.sha256()
    for rel, row in sorted(rows):
        digest.update(f"{row.mode} {row.oid} {rel}\n".encode())
    digest.update(manifest)
    return f"0.0.0+c{digest.hexdigest()[:COMMIT_VERSION_DIGITS]}"


def skill_folders(listed: str, files: Mapping[str, TreeEntry]) -> list[str]:
    """A listed skills path: a skill folder itself, or a folder of skill folders."""
    if f"{listed}/{SKILL_FILE}".lstrip("/") in files:
        return [listed]
    prefix = f"{listed}/" if listed else ""
    found = []
    for path in files:
        if path.startswith(prefix) and path.endswith(f"/{SKILL_FILE}"):
            rest = path[len(prefix) :].split("/")
            if len(rest) == 2:
                found.append(prefix + rest[0])
    return sorted(found)


def name_skills(
    folders: Sequence[str], where: str, *, strict: bool = True
) -> tuple[tuple[str, str], ...]:
    if not strict:  # lint reports bad and clashing names itself, skill by skill
        return tuple((PurePosixPath(folder).name, folder) for folder in sorted(folders))
    named: dict[str, str] = {}
    for folder in folders:
        name = PurePosixPath(folder).name
        if not NAME_RE.match(name) or len(name) > 64:
            raise mp.Unsupported(f"{where}: skill folder {folder!r} is not a valid skill name")
        if name in named:
            raise mp.Unsupported(
                f"{where}: two skills are named {name} ({named[name]} and {folder})"
            )
        named[name] = folder
    return tuple(sorted(named.items()))


def plain_skill_folders(files: Mapping[str, TreeEntry]) -> list[str]:
    """Skill folders of a plain repository, by the first layout that has any."""
    paths = [p for p in files if p.endswith(SKILL_FILE)]
    for root in ("skills", ".claude/skills"):
        found = skill_folders(root, files)
        if found:
            return found
    shallow = []
    for path in paths:
        parts = path.split("/")
        if parts[-1] != SKILL_FILE or not 2 <= len(parts) <= MAX_SKILL_DEPTH + 1:
            continue
        if any(p.startswith(".") for p in parts[:-1]):
            continue
        shallow.append("/".join(parts[:-1]))
    return sorted(shallow)


def skills_catalog(files: Mapping[str, TreeEntry], read: Reader, label: str) -> Catalog:
    folders = plain_skill_folders(files)
    paths = [f"{f}/{SKILL_FILE}" for f in folders]
    blobs = read(paths, [files[p].oid for p in paths], "SKILL.md files") if paths else {}
    offers: dict[str, Offer] = {}
    unavailable: dict[str, str] = {}
    seen: dict[str, str] = {}
    notes = []
    for folder, path in zip(folders, paths, strict=True):
        name = PurePosixPath(folder).name
        if not NAME_RE.match(name) or len(name) > 64:
            notes.append(f"{folder}: not a valid skill name")
            continue
        if name in seen:
            unavailable[name] = (
                f"two skill folders are named {name} ({seen[name]} and {folder}); skillpm "
                "cannot tell which one you mean"
            )
            offers.pop(name, None)
            continue
        seen[name] = folder
        try:
            text = yamlio.decode(blobs[files[path].oid], path)
            meta, _, _ = yamlio.split_frontmatter(text, path)
        except SkillpmError as exc:
            unavailable[name] = f"skill {name}: {exc}"
            continue
        metadata = meta.get("metadata") if isinstance(meta.get("metadata"), dict) else {}
        version = metadata.get("version") if isinstance(metadata, dict) else None
        description = meta.get("description")
        offers[name] = Offer(
            name=name,
            version=str(version) if version not in (None, "") else None,
            description=str(description).strip() if description else f"Skill {name}",
            license=str(meta["license"]) if meta.get("license") else None,
            skills=((name, folder),),
            origin=f"skill folder {folder}",
        )
    return Catalog("skills", offers, unavailable, tuple(notes))


def generated_manifest(offer: Offer, version: str) -> bytes:
    """``skillpm.yaml`` for a view package: JSON scalars (valid YAML), one fixed layout."""
    lines = [
        "# Generated by skillpm: the source repository has no skillpm.yaml.",
        f"name: {offer.name}",
        f"version: {json.dumps(version)}",
        f"description: {json.dumps(offer.description, ensure_ascii=False)}",
    ]
    if offer.license:
        lines.append(f"license: {json.dumps(offer.license, ensure_ascii=False)}")
    if offer.dependencies:
        deps = ", ".join(f"{json.dumps(n)}: {json.dumps(r)}" for n, r in offer.dependencies)
        lines.append(f"dependencies: {{{deps}}}")
    skills = ", ".join(json.dumps(f"skills/{name}") for name, _ in offer.skills)
    lines += [f"skills: [{skills}]", "fragments: []"]
    return ("\n".join(lines) + "\n").encode()


class RepoPackages(Mapping[str, Mapping[str, VersionEntry]]):
    """The packages of a catalog at one commit, each computed when first asked for.

    Asking for an unavailable name raises the reason, so ``install`` says why.
    """

    def __init__(
        self, catalog: Catalog, tree: Tree, label: str, remotes: RemoteTrees | None = None
    ) -> None:
        self.catalog = catalog
        self.commit = tree.commit
        self._tree = tree
        self._label = label
        self._remotes = remotes
        # By (name, locked commit of its own repository or None), then by version.
        self._offers: dict[tuple[str, str | None], Offer] = {}
        self._entries: dict[tuple[str, str | None, str | None], VersionEntry] = {}
        self._contents: dict[tuple[str, str | None, str], list[PackageFile]] = {}

    def _names(self) -> set[str]:
        return {*self.catalog.offers, *self.catalog.unavailable, *self.catalog.remote}

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._names()))

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._names()

    def __getitem__(self, name: str) -> Mapping[str, VersionEntry]:
        entry = self.entry(name)
        return {entry.version: entry}

    def available(self) -> dict[str, Mapping[str, VersionEntry]]:
        """Every package computable without fetching another repository (for search)."""
        found: dict[str, Mapping[str, VersionEntry]] = {}
        for name in sorted(self.catalog.offers):
            try:
                found[name] = self[name]
            except SkillpmError:
                continue
        return found

    def remote_listings(self) -> dict[str, tuple[str | None, str]]:
        """Plugins in other repositories: (version, description) as the entry says."""
        return {
            name: (remote.version, remote.description)
            for name, remote in sorted(self.catalog.remote.items())
            if name not in self.catalog.unavailable
        }

    def offer(self, name: str, pin: str | None = None) -> Offer:
        """What ``name`` is; a plugin in another repository is read there (at ``pin``)."""
        if name in self.catalog.unavailable:
            raise RegistryError(f"registry {self._label}: {self.catalog.unavailable[name]}")
        if name in self.catalog.offers:
            return self.catalog.offers[name]
        key = (name, pin)
        if key not in self._offers:
            remote = self.catalog.remote[name]
            if self._remotes is None:
                raise RegistryError(
                    f"registry {self._label}: plugin {name} is in another repository, which "
                    "this registry cannot read"
                )
            tree = self._remotes.open(name, remote.source, pin)
            try:
                self._offers[key] = remote.offer(tree)
            except mp.Unsupported as exc:
                raise RegistryError(f"registry {self._label}: {exc}") from None
        return self._offers[key]

    def entry(self, name: str, pin: str | None = None, version: str | None = None) -> VersionEntry:
        """``name``'s entry; ``version`` asks for the one an older skillpm locked for a
        package declaring none (``commit_version``), which only the file layout differs in."""
        offer = self.offer(name, pin)
        key = (name, pin, version)
        if key not in self._entries:
            where = f"registry {self._label}: {offer.origin}"
            rows = self._rows(offer, where)
            chosen = offer.version or version
            if chosen is None:
                chosen = content_version(rows, generated_manifest(offer, ""))
            parse_version(chosen, f"{where}: version")
            files = self._read_files(offer, rows, chosen, where)
            lines = [(rel, mode, hashlib.sha256(data).hexdigest()) for rel, mode, data in files]
            self._contents[(name, pin, chosen)] = files
            self._entries[key] = VersionEntry(
                name=name,
                version=chosen,
                integrity=integrity_of_lines(lines),
                description=offer.description,
                dependencies=dict(offer.dependencies),
                skills=tuple(s for s, _ in offer.skills),
                source=offer.source,
            )
        return self._entries[key]

    def entry_at(self, name: str, version: str, pin: str | None = None) -> VersionEntry | None:
        """``name``'s entry if it is ``version`` here (a lock's), else None."""
        if name not in self:
            return None
        entry = self.entry(name, pin)
        legacy = version == commit_version(self.commit) and self.offer(name, pin).version is None
        if entry.version != version and legacy:
            entry = self.entry(name, pin, version)
        return entry if entry.version == version else None

    def files(self, name: str, version: str, pin: str | None = None) -> list[PackageFile]:
        """The files of ``name`` as a package, for unpacking; the caller checks integrity."""
        if name not in self:
            raise RegistryError(
                f"registry {self._label} has no {name} at commit {self.commit[:12]}; run "
                "'skillpm update' to resolve again"
            )
        entry = self.entry_at(name, version, pin)
        if entry is None:
            raise RegistryError(
                f"registry {self._label}: {name} is {self.entry(name, pin).version} at commit "
                f"{self.commit[:12]}, not {version}; run 'skillpm update' to resolve again"
            )
        return self._contents[(name, pin, version)]

    def _rows(self, offer: Offer, where: str) -> list[tuple[str, TreeEntry]]:
        """The package's files as (path in the package, git's row), checked for kind and count."""
        files = (offer.tree or self._tree).files
        rows: list[tuple[str, TreeEntry]] = []
        for skill, folder in offer.skills:
            prefix = f"{folder}/"
            for path, row in files.items():
                if path.startswith(prefix):
                    rows.append((f"skills/{skill}/{path[len(prefix) :]}", row))
        if len(rows) > MAX_FILES:
            raise UnsafeContentError(f"{where}: more than {MAX_FILES} files")
        for rel, row in rows:
            if row.kind != "blob" or row.mode not in ("100644", "100755"):
                kind = {"120000": "a symbolic link", "160000": "a submodule"}.get(row.mode)
                raise UnsafeContentError(
                    f"{where}: {rel} is {kind or 'not a regular file'}; packages hold plain "
                    "files only"
                )
        return rows

    def _read_files(
        self, offer: Offer, rows: Sequence[tuple[str, TreeEntry]], version: str, where: str
    ) -> list[PackageFile]:
        folders = [folder for _, folder in offer.skills]
        read = (offer.tree or self._tree).read
        blobs = read(folders, [row.oid for _, row in rows], offer.origin)
        files: list[PackageFile] = []
        total = 0
        for rel, row in rows:
            data = blobs[row.oid]
            total += len(data)
            if len(data) > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
                raise UnsafeContentError(f"{where}: {rel} goes over the size limits of a package")
            files.append((rel, "755" if row.mode == "100755" else "644", data))
        files.append((MANIFEST_NAME, "644", generated_manifest(offer, version)))
        return sorted(files)
