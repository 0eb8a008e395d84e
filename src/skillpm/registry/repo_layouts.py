"""Repositories without an ``index.json``, seen as registries.

Two shapes are understood, read at one commit of a git registry:

- a Claude Code plugin marketplace (``.claude-plugin/marketplace.json``): each
  plugin stored in the repository is a package named after the plugin, holding
  the plugin's skills (its ``skills`` list, else its ``skills/`` folder);
- a plain repository of skill folders (``skills/*/SKILL.md``, else
  ``.claude/skills/*/SKILL.md``, else ``SKILL.md`` folders up to three levels
  deep): each skill is a package of its own.

A package is laid out as ``publish`` would store it: ``skills/<skill>/...`` and a
generated ``skillpm.yaml``. Its integrity is computed over that layout from the
bytes at the commit, so the lock pins it and an install verifies it like any
other. A version comes from the plugin (``plugin.json``, then the marketplace
entry, as Claude Code reads it) or the skill (``metadata.version``); without
one it is ``0.0.0+g<commit>``, which changes with each commit the lock pins.

Entries are computed on demand, so resolving one plugin reads only its files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from skillpm import yamlio
from skillpm.errors import RegistryError, SkillpmError, UnsafeContentError
from skillpm.formats.archive import MAX_FILE_BYTES, MAX_FILES, MAX_TOTAL_BYTES
from skillpm.formats.index import MANIFEST_NAME, NAME_RE, VersionEntry
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
class Offer:
    """A package the repository offers."""

    name: str
    version: str | None  # None: derived from the commit
    description: str
    license: str | None
    skills: tuple[tuple[str, str], ...]  # (skill name, folder in the repository)
    origin: str  # for messages: "plugin x of marketplace y", "skill folder skills/x"


@dataclass(frozen=True)
class Catalog:
    kind: str  # "marketplace" or "skills"
    offers: Mapping[str, Offer]
    unavailable: Mapping[str, str]  # name -> why it cannot be installed
    notes: tuple[str, ...] = ()  # entries left out entirely (bad names, ...)


def commit_version(commit: str) -> str:
    """The version of something that declares none: sorts after 0.0.0, names the commit."""
    return f"0.0.0+g{commit[:COMMIT_VERSION_DIGITS]}"


def _skill_folders(listed: str, files: Mapping[str, TreeEntry]) -> list[str]:
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


def _name_skills(
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


def marketplace_catalog(
    files: Mapping[str, TreeEntry], read: Reader, label: str, *, strict_names: bool = True
) -> Catalog:
    """The plugins of a marketplace; ``strict_names=False`` keeps skills with bad names."""
    where = f"{label}: {mp.MARKETPLACE_FILE}"
    oid = files[mp.MARKETPLACE_FILE].oid
    raw = read([mp.MARKETPLACE_FILE], [oid], mp.MARKETPLACE_FILE)[oid]
    try:
        market = mp.parse_marketplace(mp.load_json(raw, where), where)
    except mp.Unsupported as exc:
        raise RegistryError(str(exc)) from None
    folders: dict[str, str] = {}
    unavailable: dict[str, str] = {}
    for entry in market.plugins:
        if entry.name in folders or entry.name in unavailable:
            unavailable[entry.name] = f"plugin {entry.name} is listed twice in {where}"
            continue
        try:
            folder = mp.plugin_folder(entry, market.plugin_root)
        except mp.Unsupported as exc:
            unavailable[entry.name] = str(exc)
            continue
        if folder and not any(p.startswith(folder + "/") for p in files):
            unavailable[entry.name] = (
                f"plugin {entry.name}: folder {folder} is not in the repository"
            )
            continue
        folders[entry.name] = folder
    manifests = {
        name: f"{folder}/{mp.PLUGIN_FILE}".lstrip("/")
        for name, folder in folders.items()
        if f"{folder}/{mp.PLUGIN_FILE}".lstrip("/") in files
    }
    oids = [files[p].oid for p in manifests.values()]
    blobs = read(sorted(set(manifests.values())), oids, "plugin.json files") if oids else {}
    offers: dict[str, Offer] = {}
    origin_of = f"marketplace {market.name or label}"
    for entry in market.plugins:
        if entry.name not in folders or entry.name in unavailable:
            continue
        folder = folders[entry.name]
        try:
            version, description, listed = entry.version, entry.description, entry.skills
            if entry.name in manifests:
                path = manifests[entry.name]
                own = mp.plugin_manifest(mp.load_json(blobs[files[path].oid], path), path)
                # Claude Code reads the plugin's own version first, then the entry's.
                version = own[0] or version
                description = description or own[1]
                if listed is None and entry.strict:
                    listed = own[2]
            if listed is None:
                skill_dirs = _skill_folders(f"{folder}/skills".lstrip("/"), files)
            else:
                skill_dirs = []
                for path in listed:
                    rel = mp.relative(path, f"plugin {entry.name}: skills")
                    full = f"{folder}/{rel}".strip("/")
                    found = _skill_folders(full, files)
                    if not found:
                        raise mp.Unsupported(
                            f"plugin {entry.name}: its skills path {path} holds no {SKILL_FILE}"
                        )
                    skill_dirs += found
            skills = _name_skills(skill_dirs, f"plugin {entry.name}", strict=strict_names)
            if not skills:
                raise mp.Unsupported(
                    f"plugin {entry.name} has no skills; skillpm installs skills (its commands, "
                    "agents and hooks are for Claude Code's /plugin install)"
                )
        except mp.Unsupported as exc:
            unavailable[entry.name] = str(exc)
            continue
        offers[entry.name] = Offer(
            name=entry.name,
            version=version,
            description=description or f"Plugin {entry.name} of {origin_of}",
            license=entry.license,
            skills=skills,
            origin=f"plugin {entry.name} of {origin_of}",
        )
    return Catalog("marketplace", offers, unavailable, market.skipped)


def plain_skill_folders(files: Mapping[str, TreeEntry]) -> list[str]:
    """Skill folders of a plain repository, by the first layout that has any."""
    paths = [p for p in files if p.endswith(SKILL_FILE)]
    for root in ("skills", ".claude/skills"):
        found = _skill_folders(root, files)
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
    skills = ", ".join(json.dumps(f"skills/{name}") for name, _ in offer.skills)
    lines += [f"skills: [{skills}]", "fragments: []"]
    return ("\n".join(lines) + "\n").encode()


class RepoPackages(Mapping[str, Mapping[str, VersionEntry]]):
    """The packages of a catalog at one commit, each computed when first asked for.

    Asking for an unavailable name raises the reason, so ``install`` says why.
    """

    def __init__(
        self,
        catalog: Catalog,
        commit: str,
        files: Mapping[str, TreeEntry],
        read: Reader,
        label: str,
    ) -> None:
        self.catalog = catalog
        self.commit = commit
        self._files = files
        self._read = read
        self._label = label
        self._entries: dict[str, VersionEntry] = {}
        self._contents: dict[str, list[PackageFile]] = {}

    def __iter__(self) -> Iterator[str]:
        return iter(sorted({*self.catalog.offers, *self.catalog.unavailable}))

    def __len__(self) -> int:
        return len({*self.catalog.offers, *self.catalog.unavailable})

    def __contains__(self, name: object) -> bool:
        return name in self.catalog.offers or name in self.catalog.unavailable

    def __getitem__(self, name: str) -> Mapping[str, VersionEntry]:
        entry = self.entry(name)
        return {entry.version: entry}

    def available(self) -> dict[str, Mapping[str, VersionEntry]]:
        """Every package that can be computed (for search); broken ones left out."""
        found: dict[str, Mapping[str, VersionEntry]] = {}
        for name in sorted(self.catalog.offers):
            try:
                found[name] = self[name]
            except SkillpmError:
                continue
        return found

    def entry(self, name: str) -> VersionEntry:
        if name in self.catalog.unavailable:
            raise RegistryError(f"registry {self._label}: {self.catalog.unavailable[name]}")
        if name not in self._entries:
            offer = self.catalog.offers[name]
            version = offer.version or commit_version(self.commit)
            parse_version(version, f"registry {self._label}: {offer.origin}: version")
            files = self._package_files(offer, version)
            lines = [(rel, mode, hashlib.sha256(data).hexdigest()) for rel, mode, data in files]
            self._contents[name] = files
            self._entries[name] = VersionEntry(
                name=name,
                version=version,
                integrity=integrity_of_lines(lines),
                description=offer.description,
                skills=tuple(s for s, _ in offer.skills),
            )
        return self._entries[name]

    def files(self, name: str, version: str) -> list[PackageFile]:
        """The files of ``name`` as a package, for unpacking; the caller checks integrity."""
        if name not in self:
            raise RegistryError(
                f"registry {self._label} has no {name} at commit {self.commit[:12]}; run "
                "'skillpm update' to resolve again"
            )
        entry = self.entry(name)
        if entry.version != version:
            raise RegistryError(
                f"registry {self._label}: {name} is {entry.version} at commit "
                f"{self.commit[:12]}, not {version}; run 'skillpm update' to resolve again"
            )
        return self._contents[name]

    def _package_files(self, offer: Offer, version: str) -> list[PackageFile]:
        where = f"{offer.origin} in registry {self._label}"
        rows: list[tuple[str, TreeEntry]] = []
        for skill, folder in offer.skills:
            prefix = f"{folder}/"
            for path, row in self._files.items():
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
        folders = [folder for _, folder in offer.skills]
        blobs = self._read(folders, [row.oid for _, row in rows], offer.origin)
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


def open_view(
    rows: Sequence[TreeEntry], read: Reader, commit: str, label: str
) -> RepoPackages | None:
    """The view of a repository at ``commit``, or None when it offers nothing at all."""
    files = {r.path: r for r in rows}  # ls-tree -r: files, links and submodules
    if mp.MARKETPLACE_FILE in files:
        catalog = marketplace_catalog(files, read, label)
    else:
        catalog = skills_catalog(files, read, label)
        if not catalog.offers and not catalog.unavailable:
            return None
    return RepoPackages(catalog, commit, files, read, label)
