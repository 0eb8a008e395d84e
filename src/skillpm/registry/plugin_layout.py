"""A plugin marketplace's repository seen as a registry: one package per plugin.

A plugin stored in the marketplace repository is read from the same tree; one
stored elsewhere (``github``, ``url``, ``git-subdir``) becomes a ``RemotePlugin``,
read from its own repository only when asked for, by the same rules: the
plugin's ``plugin.json`` (unless ``strict`` is false), its ``skills`` list or
``skills/`` folder, its version then the entry's, dependencies from both. What a
plugin holds besides skills (commands, agents, hooks, MCP and LSP servers) is
recorded, so ``install`` can say what it leaves out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

from skillpm.errors import RegistryError
from skillpm.formats.index import SourcePin
from skillpm.output import redact
from skillpm.registry import marketplace as mp
from skillpm.registry.git_commands import TreeEntry
from skillpm.registry.repo_layouts import (
    SKILL_FILE,
    Catalog,
    Offer,
    Reader,
    RemotePlugin,
    RemoteTrees,
    RepoPackages,
    Tree,
    name_skills,
    skill_folders,
    skills_catalog,
)


def open_view(
    rows: Sequence[TreeEntry],
    read: Reader,
    commit: str,
    label: str,
    remotes: RemoteTrees | None = None,
) -> RepoPackages | None:
    """The view of a repository at ``commit``, or None when it offers nothing at all."""
    tree = Tree(commit, {r.path: r for r in rows}, read)  # ls-tree -r: files, links, submodules
    if mp.MARKETPLACE_FILE in tree.files:
        catalog = marketplace_catalog(tree, label)
    else:
        catalog = skills_catalog(tree.files, read, label)
        if not catalog.offers and not catalog.unavailable:
            return None
    return RepoPackages(catalog, tree, label, remotes)


def _has_folder(files: Mapping[str, TreeEntry], folder: str) -> bool:
    return not folder or any(p.startswith(folder + "/") for p in files)


def marketplace_catalog(tree: Tree, label: str, *, strict_names: bool = True) -> Catalog:
    """The plugins of a marketplace; ``strict_names=False`` keeps skills with bad names."""
    files = tree.files
    where = f"{label}: {mp.MARKETPLACE_FILE}"
    oid = files[mp.MARKETPLACE_FILE].oid
    raw = tree.read([mp.MARKETPLACE_FILE], [oid], mp.MARKETPLACE_FILE)[oid]
    try:
        market = mp.parse_marketplace(mp.load_json(raw, where), where)
    except mp.Unsupported as exc:
        raise RegistryError(str(exc)) from None
    origin_of = f"marketplace {market.name or label}"
    folders: dict[str, str] = {}
    remote: dict[str, RemotePlugin] = {}
    unavailable: dict[str, str] = {}
    for entry in market.plugins:
        if entry.name in folders or entry.name in remote or entry.name in unavailable:
            unavailable[entry.name] = f"plugin {entry.name} is listed twice in {where}"
            continue
        try:
            found = mp.plugin_folder(entry, market.plugin_root)
        except mp.Unsupported as exc:
            unavailable[entry.name] = str(exc)
            continue
        if isinstance(found, mp.RemoteSource):
            offer = _remote_offer(entry, found, origin_of)
            remote[entry.name] = RemotePlugin(found, offer, entry.version, entry.description)
        elif not _has_folder(files, found):
            unavailable[entry.name] = (
                f"plugin {entry.name}: folder {found} is not in the repository"
            )
        else:
            folders[entry.name] = found
    manifests = {
        name: f"{folder}/{mp.PLUGIN_FILE}".lstrip("/")
        for name, folder in folders.items()
        if f"{folder}/{mp.PLUGIN_FILE}".lstrip("/") in files
    }
    oids = [files[p].oid for p in manifests.values()]
    blobs = tree.read(sorted(set(manifests.values())), oids, "plugin.json files") if oids else {}
    offers: dict[str, Offer] = {}
    for entry in market.plugins:
        if entry.name not in folders or entry.name in unavailable:
            continue
        path = manifests.get(entry.name)
        try:
            own = None
            if path is not None:
                own = mp.plugin_manifest(mp.load_json(blobs[files[path].oid], path), path)
            offers[entry.name] = plugin_offer(
                entry, folders[entry.name], files, own, origin_of, strict_names=strict_names
            )
        except mp.Unsupported as exc:
            unavailable[entry.name] = str(exc)
    for old, new in sorted(market.renames.items()):
        if old not in folders and old not in remote and old not in unavailable:
            unavailable[old] = (
                f"plugin {old} was renamed to {new} in {origin_of}; install {new} instead"
            )
    return Catalog("marketplace", offers, unavailable, market.skipped, remote)


def _remote_offer(
    entry: mp.PluginEntry, source: mp.RemoteSource, origin_of: str
) -> Callable[[Tree], Offer]:
    """How to read ``entry`` once its repository's tree is at hand."""

    def offer(tree: Tree) -> Offer:
        files = tree.files
        if not _has_folder(files, source.path):
            raise mp.Unsupported(
                f"plugin {entry.name}: folder {source.path} is not in {redact(source.url)} at "
                f"commit {tree.commit[:12]}"
            )
        path = f"{source.path}/{mp.PLUGIN_FILE}".lstrip("/")
        own = None
        if path in files:
            raw = tree.read([path], [files[path].oid], path)[files[path].oid]
            own = mp.plugin_manifest(mp.load_json(raw, path), path)
        found = plugin_offer(entry, source.path, files, own, origin_of)
        pin = SourcePin(redact(source.url), source.path, tree.commit)
        return dataclasses.replace(found, tree=tree, source=pin)

    return offer


def plugin_offer(
    entry: mp.PluginEntry,
    folder: str,
    files: Mapping[str, TreeEntry],
    own: mp.PluginManifest | None,
    origin_of: str,
    *,
    strict_names: bool = True,
) -> Offer:
    """The package a plugin folder makes, by Claude Code's rules for reading a plugin."""
    version, description, listed = entry.version, entry.description, entry.skills
    deps = dict(entry.dependencies)
    declared = set(entry.components)
    if own is not None:
        # Claude Code reads the plugin's own version first, then the entry's.
        version = own.version or version
        description = description or own.description
        if entry.strict:
            listed = own.skills if listed is None else listed
            deps = {**dict(own.dependencies), **deps}
            declared |= set(own.components)
    if listed is None:
        skill_dirs = skill_folders(f"{folder}/skills".lstrip("/"), files)
    else:
        skill_dirs = []
        for path in listed:
            rel = mp.relative(path, f"plugin {entry.name}: skills")
            full = f"{folder}/{rel}".strip("/")
            found = skill_folders(full, files)
            if not found:
                raise mp.Unsupported(
                    f"plugin {entry.name}: its skills path {path} holds no {SKILL_FILE}"
                )
            skill_dirs += found
    skills = name_skills(skill_dirs, f"plugin {entry.name}", strict=strict_names)
    left_out = _left_out(folder, files, declared)
    if not skills:
        what = f" (it has {', '.join(left_out)})" if left_out else ""
        raise mp.Unsupported(
            f"plugin {entry.name} has no skills{what}; skillpm installs skills, so install it "
            "with Claude Code's /plugin install"
        )
    return Offer(
        name=entry.name,
        version=version,
        description=description or f"Plugin {entry.name} of {origin_of}",
        license=entry.license,
        skills=skills,
        origin=f"plugin {entry.name} of {origin_of}",
        dependencies=tuple(sorted(deps.items())),
        left_out=left_out,
    )


def _left_out(folder: str, files: Mapping[str, TreeEntry], declared: set[str]) -> tuple[str, ...]:
    """What the plugin has besides skills: declared in a manifest or at the default place."""
    prefix = f"{folder}/" if folder else ""
    found = []
    for key, default, label in mp.COMPONENTS:
        at = prefix + default
        if key in declared or at in files or any(p.startswith(at + "/") for p in files):
            found.append(label)
    return tuple(found)
