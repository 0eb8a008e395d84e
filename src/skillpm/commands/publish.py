"""``skillpm publish``: validate a package and add it to a registry."""

from __future__ import annotations

from pathlib import Path

from skillpm import publish as core
from skillpm.errors import RegistryError
from skillpm.output import console
from skillpm.registry import is_remote, redact


def publish(source: Path, registry: str, *, version: str | None, dry_run: bool) -> None:
    prepared = core.prepare(source, version=version)
    if is_remote(registry):
        raise RegistryError(f"publishing to {redact(registry)} is not supported yet")
    root = Path(registry.removeprefix("file://")).expanduser()
    with core.registry_lock(root):
        entry = core.publish_local(prepared, root, dry_run=dry_run)
    verb = "Would publish" if dry_run else "Published"
    console.info(f"{verb} {entry.name} {entry.version} to {root} ({entry.integrity[:19]}...)")
