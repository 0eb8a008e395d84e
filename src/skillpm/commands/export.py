"""``export-marketplace``: let Claude Code's ``/plugin marketplace add`` read a skillpm registry.

Each package's newest version that is not yanked becomes a plugin whose source is
its published folder (``./packages/<name>/<version>``). Entries say
``strict: false`` and list their skills, so the folders, immutable and checked
by integrity, need no ``plugin.json``. Packages without skills (fragments only)
are left out: Claude Code has no use for CLAUDE.md fragments in a plugin.
"""

from __future__ import annotations

import re
from pathlib import Path

from skillpm.errors import ManifestError, RegistryError
from skillpm.formats.index import NAME_RE, load_index, load_package_manifest, newest
from skillpm.fsutil import atomic_write
from skillpm.output import console, plural
from skillpm.publish.folder import registry_lock
from skillpm.publish.open import registry_folder
from skillpm.registry import marketplace as mp


def _default_name(root: Path) -> str:
    stem = re.sub(r"[^a-z0-9]+", "-", root.resolve().name.lower()).strip("-")
    return stem[:64].strip("-") or "skills"


def export_marketplace(
    registry: str,
    base: Path,
    *,
    name: str | None,
    owner: str | None,
    email: str | None,
    dry_run: bool = False,
) -> Path:
    root = registry_folder(registry, base)
    if not root.is_dir():
        raise RegistryError(f"registry {root}: folder not found")
    name = name or _default_name(root)
    if not NAME_RE.match(name):
        raise ManifestError(f"--name {name!r}: a marketplace name is kebab-case (a-z, 0-9, -)")
    with registry_lock(root):
        index = load_index(root / "index.json", f"registry {root}")
        plugins: list[mp.ExportedPlugin] = []
        left_out: list[str] = []
        for pkg, versions in sorted(index.packages.items()):
            entry = newest(versions.values(), prereleases=True)
            if entry is None:
                left_out.append(f"{pkg} (every version is yanked)")
                continue
            folder = entry.path or f"packages/{pkg}/{entry.version}"
            manifest = load_package_manifest(root / folder)
            if not manifest.skills:
                left_out.append(f"{pkg} (no skills: fragments only)")
                continue
            plugins.append(
                mp.ExportedPlugin(
                    name=pkg,
                    version=entry.version,
                    description=entry.description or manifest.description,
                    folder=folder,
                    skills=manifest.skills,
                    license=manifest.license,
                )
            )
        data = mp.build_marketplace(name, owner or name, email, f"skillpm registry {name}", plugins)
        problems = mp.validate(data)
        if problems:  # a bug here, not the user's: say what the file would get wrong
            raise RegistryError(f"the marketplace file would be invalid: {problems[0]}")
        target = root / mp.MARKETPLACE_FILE
        if not dry_run:
            atomic_write(target, mp.dump(data))
    verb = "Would write" if dry_run else "Wrote"
    console.info(f"{verb} {target} ({plural(len(plugins), 'plugin')})")
    for plugin in plugins:
        console.change("+", plugin.name, plugin.version, f"skills: {', '.join(plugin.skills)}")
    for note in left_out:
        console.detail(f"left out: {note}")
    if not dry_run:
        console.info(
            f"Commit it; Claude Code users then run '/plugin marketplace add <repository>' and "
            f"'/plugin install <plugin>@{name}'"
        )
    return target
