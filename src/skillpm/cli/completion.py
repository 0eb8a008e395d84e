"""Shell completion: click's scripts, and package names read from local files only.

The shell runs ``skillpm`` on every Tab press, so completing must be quick and
must never fail or reach the network: it reads ``skills.yaml``, ``skills.lock``
and the registries' indexes already on disk (git registries opened offline, from
their cached mirror), and ignores anything it cannot read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

COMPLETE_VAR = "_SKILLPM_COMPLETE"


def script(cli: click.Command, shell: str) -> str:
    """The completion script click generates for ``shell`` (bash, zsh or fish)."""
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - the CLI restricts the choice
        raise click.BadParameter(f"unsupported shell {shell!r}")
    return cls(cli, {}, "skillpm", COMPLETE_VAR).source().rstrip("\n")


def complete_packages(root: Path | None, kind: str, incomplete: str) -> list[Any]:
    """Package names starting with ``incomplete``.

    ``kind``: ``available`` (in the configured registries), ``direct`` (in
    skills.yaml) or ``installed`` (in skills.lock).
    """
    from click.shell_completion import CompletionItem

    try:
        names = sorted(_names(Path(root or Path.cwd()).resolve(), kind))
    except Exception:  # a broken file must not break the user's shell
        return []
    prefix = incomplete.partition("@")[0]
    return [CompletionItem(n) for n in names if n.startswith(prefix)]


def _names(root: Path, kind: str) -> set[str]:
    from skillpm.formats.project_files import BUILTIN
    from skillpm.project.folder import Project
    from skillpm.registry.base import RemoteOptions

    # Offline: git registries answer from their cached mirror or not at all.
    project = Project(root, RemoteOptions(offline=True))
    manifest = project.load_manifest()
    if kind == "direct":
        return set(manifest.dependencies)
    if kind == "installed":
        lock = project.load_lock()
        return {p.name for p in lock.packages} if lock else set()
    names: set[str] = set()
    for name, url in [*manifest.registries, (BUILTIN, BUILTIN)]:
        try:
            registry = project.registry(name, url)
            names.update(registry.all_packages())
            names.update(registry.remote_listings())  # marketplace plugins stored elsewhere
        except Exception:  # e.g. a registry folder that moved: complete from the rest
            continue
    return names
