"""Claude Code plugin marketplaces (``.claude-plugin/marketplace.json``), read and written.

Pure functions only: parsing an entry, checking a file against the documented
required fields, and building the file ``export-marketplace`` writes. What a
repository's tree holds is passed in; ``repoview`` does the reading.

The format, as Claude Code documents it: top-level ``name`` (kebab-case),
``owner`` (an object with ``name``) and ``plugins`` (a list); each plugin has
``name`` (kebab-case) and ``source``, either a path relative to the marketplace
root (``./plugins/x``; ``./`` is the root itself; a bare name is joined to
``metadata.pluginRoot``) or an object naming a remote: ``github`` (``repo``),
``url`` (a git URL, optional ``path``) and ``git-subdir`` (``url``, ``path``), each
with optional ``ref`` and ``sha``; ``npm`` (``package``) is read but not installed.
Optional: ``version``, ``description``, ``license``, ``strict`` (default true: the
plugin's own ``.claude-plugin/plugin.json`` counts; false: the entry defines the
plugin entirely), ``skills`` (paths that replace the default ``skills/`` folder)
and ``dependencies`` (plugin names, or ``{name, version}``). Top level, ``renames``
maps a plugin's old name to its new one. Unknown keys are ignored, as Claude Code does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from skillpm.formats.index import NAME_RE
from skillpm.formats.ranges import parse_range
from skillpm.registry.urls import is_ref_name

MARKETPLACE_FILE = ".claude-plugin/marketplace.json"
PLUGIN_FILE = ".claude-plugin/plugin.json"
MAX_JSON_BYTES = 2 * 1024 * 1024
# Claude Code's rule for plugin and marketplace names (kebab-case, starting with a letter
# or digit); skillpm's package names follow the same shape.
_KEBAB = NAME_RE
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_SHA = re.compile(r"^[0-9a-f]{40}$")
_GITHUB_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+$")
_GIT_URL = re.compile(r"^(https://|ssh://|file:///|[\w.-]+@[\w.-]+:(?!//))")
# What a plugin may hold besides skills, as Claude Code reads it: the manifest key,
# the folder or file it defaults to, and how a message names it.
COMPONENTS = (
    ("commands", "commands", "commands"),
    ("agents", "agents", "agents"),
    ("hooks", "hooks/hooks.json", "hooks"),
    ("mcpServers", ".mcp.json", "MCP servers"),
    ("lspServers", ".lsp.json", "LSP servers"),
)


class Unsupported(Exception):
    """A plugin skillpm cannot install; the message says why, for one line."""


@dataclass(frozen=True)
class PluginEntry:
    """One entry of ``plugins``, as written (paths not yet resolved)."""

    name: str
    source: str | Mapping[str, Any]
    version: str | None = None
    description: str = ""
    license: str | None = None
    strict: bool = True
    skills: tuple[str, ...] | None = None  # None: not given
    dependencies: tuple[tuple[str, str], ...] = ()  # (plugin name, range)
    components: tuple[str, ...] = ()  # COMPONENTS keys the entry itself declares


@dataclass(frozen=True)
class RemoteSource:
    """Where a plugin stored outside the marketplace repository lives (a git repository)."""

    kind: str  # github, url, git-subdir: as written, for messages
    url: str  # what git fetches (https://, ssh://, file:// or git@host:path)
    path: str  # the plugin's folder in that repository, "" for its root
    ref: str | None  # a branch or tag; None for the remote's default branch
    sha: str | None  # the commit the marketplace pins, if it does

    @property
    def registry_url(self) -> str:
        """The URL a git registry reads it by: the sha when pinned, else the ref."""
        base = self.url if self.url.startswith("git@") else f"git+{self.url}"
        pin = self.sha or self.ref
        return f"{base}#{pin}" if pin else base


@dataclass(frozen=True)
class Marketplace:
    name: str
    plugin_root: str  # metadata.pluginRoot, normalised ("" when absent)
    plugins: tuple[PluginEntry, ...]
    skipped: tuple[str, ...]  # entries that are not usable at all, with the reason
    renames: Mapping[str, str] = field(default_factory=dict)  # old plugin name -> new


def load_json(raw: bytes, where: str) -> Any:
    if len(raw) > MAX_JSON_BYTES:
        raise Unsupported(f"{where}: larger than {MAX_JSON_BYTES // 2**20} MiB")
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Unsupported(f"{where} is not valid JSON ({exc})") from None


def _paths(value: Any, where: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise Unsupported(f"{where}: skills must be a path or a list of paths")


def _text(value: Any) -> str | None:
    return str(value).strip() or None if isinstance(value, (str, int, float)) else None


def dependencies(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    """``dependencies`` of a plugin: names, or ``{name, version}`` with a semver range."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise Unsupported(f"{where}: dependencies must be a list")
    found: dict[str, str] = {}
    for item in value:
        name, rng = (item, "*") if isinstance(item, str) else (None, None)
        if isinstance(item, Mapping):
            name, rng = item.get("name"), item.get("version") or "*"
        if not isinstance(name, str) or not _KEBAB.match(name) or not isinstance(rng, str):
            raise Unsupported(
                f"{where}: dependency {item!r} is not a plugin name or {{name, version}}"
            )
        try:
            parse_range(rng)
        except ValueError:
            raise Unsupported(
                f"{where}: dependency {name} has an unreadable range {rng!r}"
            ) from None
        found[name] = rng
    return tuple(sorted(found.items()))


def components(data: Mapping[str, Any]) -> tuple[str, ...]:
    """The COMPONENTS keys a plugin entry or ``plugin.json`` declares."""
    return tuple(key for key, _, _ in COMPONENTS if data.get(key))


def parse_marketplace(data: Any, where: str) -> Marketplace:
    """The entries of a marketplace file; an entry skillpm cannot use is skipped, not fatal."""
    if not isinstance(data, Mapping) or not isinstance(data.get("plugins"), list):
        raise Unsupported(f'{where}: not a plugin marketplace (no "plugins" list)')
    metadata = data.get("metadata") if isinstance(data.get("metadata"), Mapping) else {}
    root = metadata.get("pluginRoot") if isinstance(metadata, Mapping) else None
    plugin_root = ""
    if isinstance(root, str) and root.strip():
        plugin_root = relative(root, f"{where}: metadata.pluginRoot")
    plugins: list[PluginEntry] = []
    skipped: list[str] = []
    for i, item in enumerate(data["plugins"]):
        at = f"{where}: plugins[{i}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            skipped.append(f"{at}: not an object with a name")
            continue
        name = item["name"]
        if not _KEBAB.match(name) or len(name) > 64:
            skipped.append(f"{at}: {name!r} is not a kebab-case name")
            continue
        source = item.get("source")
        if not isinstance(source, (str, Mapping)):
            skipped.append(f"{at} ({name}): source must be a path or an object")
            continue
        try:
            skills = _paths(item.get("skills"), f"{at} ({name})")
            deps = dependencies(item.get("dependencies"), f"{at} ({name})")
        except Unsupported as exc:
            skipped.append(str(exc))
            continue
        plugins.append(
            PluginEntry(
                name=name,
                source=source,
                version=_text(item.get("version")),
                description=_text(item.get("description")) or "",
                license=_text(item.get("license")),
                strict=item.get("strict") is not False,
                skills=skills,
                dependencies=deps,
                components=components(item),
            )
        )
    name = data.get("name")
    renames = data.get("renames")
    return Marketplace(
        name=name if isinstance(name, str) else "",
        plugin_root=plugin_root,
        plugins=tuple(plugins),
        skipped=tuple(skipped),
        renames={
            old: new
            for old, new in (renames.items() if isinstance(renames, Mapping) else ())
            if isinstance(old, str) and isinstance(new, str)
        },
    )


def relative(path: str, where: str) -> str:
    """A path inside the repository, normalised: no ``./``, ``""`` for the root itself."""
    text = path.strip()
    if "\\" in text or text.startswith("/") or "\0" in text or re.match(r"^[A-Za-z]:", text):
        raise Unsupported(f"{where}: {path!r} is not a relative path")
    parts = [p for p in PurePosixPath(text).parts if p != "."]
    if any(p == ".." for p in parts):
        raise Unsupported(f"{where}: {path!r} points outside the repository")
    return "/".join(parts)


def plugin_folder(entry: PluginEntry, plugin_root: str) -> str | RemoteSource:
    """The folder of a plugin stored in the marketplace repository ("" for the root), or
    where a plugin stored elsewhere lives."""
    source = entry.source
    if isinstance(source, Mapping):
        return remote_source(entry.name, source)
    where = f"plugin {entry.name}: source"
    if source.startswith("./") or source in (".", "./"):
        return relative(source, where)
    if re.match(r"^[a-z][a-z0-9+.-]*://", source) or source.startswith("git@"):
        raise Unsupported(
            f"plugin {entry.name} has a bare URL as its source ({source}); the format "
            'names a remote with an object such as {"source": "url", "url": ...}'
        )
    # A bare name: Claude Code joins it to metadata.pluginRoot.
    return relative(f"{plugin_root}/{source}" if plugin_root else source, where)


def remote_source(plugin: str, source: Mapping[str, Any]) -> RemoteSource:
    """A ``github``, ``url`` or ``git-subdir`` source; one line naming what is wrong else."""
    kind = source.get("source")
    where = f"plugin {plugin} ({kind} source)"
    if kind not in ("github", "url", "git-subdir"):
        detail = source.get("package") or source.get("url") or source.get("repo")
        shown = f" ({detail})" if isinstance(detail, str) else ""
        named = f"a {kind!r}" if isinstance(kind, str) else "an unknown"
        named = "an 'npm'" if kind == "npm" else named
        raise Unsupported(
            f"plugin {plugin} has {named} source{shown}: skillpm installs plugins from git "
            "repositories only; use Claude Code's /plugin install for it"
        )
    if kind == "github":
        repo = source.get("repo")
        if not isinstance(repo, str) or not _GITHUB_REPO.match(repo):
            raise Unsupported(f"{where}: repo must be 'owner/name'")
        url = f"https://github.com/{repo.removesuffix('.git')}.git"
    else:
        given = source.get("url")
        bad = not isinstance(given, str) or not _GIT_URL.match(given)
        if bad or any(c in str(given) for c in " #\0"):
            raise Unsupported(
                f"{where}: url must be a git URL (https://, ssh://, git@host:path or file:///)"
            )
        url = str(given)
    path = source.get("path", "") if kind != "github" else ""
    if kind == "git-subdir" and not path:
        raise Unsupported(f"{where}: path is required")
    if not isinstance(path, str):
        raise Unsupported(f"{where}: path must be a string")
    ref, sha = source.get("ref"), source.get("sha")
    if ref is not None and (not isinstance(ref, str) or not is_ref_name(ref)):
        raise Unsupported(f"{where}: ref {ref!r} is not a branch or tag name")
    if sha is not None and (not isinstance(sha, str) or not _SHA.match(sha)):
        raise Unsupported(f"{where}: sha must be a full 40-digit commit id")
    return RemoteSource(kind, url, relative(path, f"{where}: path"), ref, sha)


@dataclass(frozen=True)
class PluginManifest:
    """What skillpm reads from a plugin's own ``.claude-plugin/plugin.json``."""

    version: str | None
    description: str
    skills: tuple[str, ...] | None
    dependencies: tuple[tuple[str, str], ...]
    components: tuple[str, ...]


def plugin_manifest(data: Any, where: str) -> PluginManifest:
    if not isinstance(data, Mapping):
        raise Unsupported(f"{where}: expected a JSON object")
    return PluginManifest(
        version=_text(data.get("version")),
        description=_text(data.get("description")) or "",
        skills=_paths(data.get("skills"), where),
        dependencies=dependencies(data.get("dependencies"), where),
        components=components(data),
    )


# -- checking and writing ------------------------------------------------------


def _check_relative_source(value: str, at: str) -> list[str]:
    if not value.startswith("./"):
        return [f"{at}.source: a relative path must start with ./"]
    try:
        relative(value, f"{at}.source")
    except Unsupported as exc:
        return [str(exc)]
    return []


def validate(data: Any) -> list[str]:
    """Problems with a marketplace file against the documented required fields.

    Required: ``name`` (kebab-case), ``owner`` (object with a ``name`` string;
    ``email`` a string when present), ``plugins`` (list); each plugin ``name``
    (kebab-case, unique) and ``source`` (``./`` path or an object whose ``source``
    is a known kind). Optional fields are checked for type when present.
    """
    problems: list[str] = []
    if not isinstance(data, Mapping):
        return ["the file must hold a JSON object"]
    name = data.get("name")
    if not isinstance(name, str) or not _KEBAB.match(name):
        problems.append("name: required, a kebab-case string")
    owner = data.get("owner")
    if not isinstance(owner, Mapping) or not isinstance(owner.get("name"), str):
        problems.append("owner: required, an object with a name")
    elif "email" in owner and not (
        isinstance(owner["email"], str) and _EMAIL.match(owner["email"])
    ):
        problems.append("owner.email: must be an email address")
    plugins = data.get("plugins")
    if not isinstance(plugins, list):
        problems.append("plugins: required, a list")
        return problems
    seen: set[str] = set()
    for i, plugin in enumerate(plugins):
        at = f"plugins[{i}]"
        if not isinstance(plugin, Mapping):
            problems.append(f"{at}: must be an object")
            continue
        pname = plugin.get("name")
        if not isinstance(pname, str) or not _KEBAB.match(pname):
            problems.append(f"{at}.name: required, a kebab-case string")
        elif pname in seen:
            problems.append(f"{at}.name: {pname} is listed twice")
        else:
            seen.add(pname)
        source = plugin.get("source")
        if isinstance(source, str):
            problems += _check_relative_source(source, at)
        elif isinstance(source, Mapping):
            if source.get("source") not in ("github", "url", "git-subdir", "npm"):
                problems.append(f"{at}.source.source: one of github, url, git-subdir, npm")
        else:
            problems.append(f"{at}.source: required, a ./ path or a source object")
        for key in ("version", "description", "license"):
            if key in plugin and not isinstance(plugin[key], str):
                problems.append(f"{at}.{key}: must be a string")
        if "strict" in plugin and not isinstance(plugin["strict"], bool):
            problems.append(f"{at}.strict: must be true or false")
        skills = plugin.get("skills")
        if skills is not None:
            listed = [skills] if isinstance(skills, str) else skills
            if not isinstance(listed, list) or not all(isinstance(s, str) for s in listed):
                problems.append(f"{at}.skills: a path or a list of paths")
            else:
                for s in listed:
                    problems += _check_relative_source(s, f"{at}.skills")
    return problems


@dataclass(frozen=True)
class ExportedPlugin:
    name: str
    version: str
    description: str
    folder: str  # relative to the marketplace root, posix, no ./
    skills: Sequence[str]  # skill folders relative to ``folder``
    license: str | None = None


def build_marketplace(
    name: str, owner: str, email: str | None, description: str, plugins: Sequence[ExportedPlugin]
) -> dict[str, Any]:
    """The marketplace file for ``plugins``: entries with ``strict: false`` and explicit
    skills, so the published package folders (immutable, checked by integrity) need
    no ``plugin.json`` of their own."""
    owner_obj: dict[str, Any] = {"name": owner}
    if email:
        owner_obj["email"] = email
    data: dict[str, Any] = {"name": name, "owner": owner_obj}
    if description:
        data["metadata"] = {"description": description}
    entries = []
    for p in sorted(plugins, key=lambda p: p.name):
        entry: dict[str, Any] = {
            "name": p.name,
            "source": f"./{p.folder}",
            "description": p.description,
            "version": p.version,
        }
        if p.license:
            entry["license"] = p.license
        entry["strict"] = False
        entry["skills"] = [f"./{s}" for s in p.skills]
        entries.append(entry)
    data["plugins"] = entries
    return data


def dump(data: Mapping[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()
