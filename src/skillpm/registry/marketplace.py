"""Claude Code plugin marketplaces (``.claude-plugin/marketplace.json``), read and written.

Pure functions only: parsing an entry, checking a file against the documented
required fields, and building the file ``export-marketplace`` writes. What a
repository's tree holds is passed in; ``repoview`` does the reading.

The format, as Claude Code documents it: top-level ``name`` (kebab-case),
``owner`` (an object with ``name``) and ``plugins`` (a list); each plugin has
``name`` (kebab-case) and ``source``, either a path relative to the marketplace
root (``./plugins/x``; ``./`` is the root itself; a bare name is joined to
``metadata.pluginRoot``) or an object naming a remote (``github``, ``url``,
``git-subdir``, ``npm``). Optional: ``version``, ``description``, ``license``,
``strict`` (default true: the plugin's own ``.claude-plugin/plugin.json`` counts;
false: the entry defines the plugin entirely) and ``skills`` (paths that replace
the default ``skills/`` folder). Unknown keys are ignored, as Claude Code does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from skillpm.formats.index import NAME_RE

MARKETPLACE_FILE = ".claude-plugin/marketplace.json"
PLUGIN_FILE = ".claude-plugin/plugin.json"
MAX_JSON_BYTES = 2 * 1024 * 1024
# Claude Code's rule for plugin and marketplace names (kebab-case, starting with a letter
# or digit); skillpm's package names follow the same shape.
_KEBAB = NAME_RE
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


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


@dataclass(frozen=True)
class Marketplace:
    name: str
    plugin_root: str  # metadata.pluginRoot, normalised ("" when absent)
    plugins: tuple[PluginEntry, ...]
    skipped: tuple[str, ...]  # entries that are not usable at all, with the reason


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
            )
        )
    name = data.get("name")
    return Marketplace(
        name=name if isinstance(name, str) else "",
        plugin_root=plugin_root,
        plugins=tuple(plugins),
        skipped=tuple(skipped),
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


def plugin_folder(entry: PluginEntry, plugin_root: str) -> str:
    """The folder of a plugin stored in the marketplace repository ("" for the root)."""
    source = entry.source
    if isinstance(source, Mapping):
        kind = source.get("source")
        what = f"a {kind!r} source" if isinstance(kind, str) else "a remote source"
        detail = source.get("repo") or source.get("url") or source.get("package")
        shown = f" ({detail})" if isinstance(detail, str) else ""
        raise Unsupported(
            f"plugin {entry.name} has {what}{shown}: skillpm installs only plugins stored in "
            "the marketplace repository itself (relative sources) so far"
        )
    where = f"plugin {entry.name}: source"
    if source.startswith("./") or source in (".", "./"):
        return relative(source, where)
    if re.match(r"^[a-z][a-z0-9+.-]*://", source) or source.startswith("git@"):
        raise Unsupported(
            f"plugin {entry.name} has a remote source ({source}): skillpm installs only plugins "
            "stored in the marketplace repository itself so far"
        )
    # A bare name: Claude Code joins it to metadata.pluginRoot.
    return relative(f"{plugin_root}/{source}" if plugin_root else source, where)


def plugin_manifest(data: Any, where: str) -> tuple[str | None, str, tuple[str, ...] | None]:
    """(version, description, skills) from a ``plugin.json``."""
    if not isinstance(data, Mapping):
        raise Unsupported(f"{where}: expected a JSON object")
    return (
        _text(data.get("version")),
        _text(data.get("description")) or "",
        _paths(data.get("skills"), where),
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
