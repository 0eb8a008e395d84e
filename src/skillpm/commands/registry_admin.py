"""Registry maintenance commands: ``yank``, ``unyank``, ``registry reindex``/``verify``."""

from __future__ import annotations

from pathlib import Path

from skillpm.errors import IntegrityError, RegistryError
from skillpm.formats.index import dump_index
from skillpm.output import console, plural
from skillpm.publish import admin as core
from skillpm.publish.folder import recover, registry_lock, write_index
from skillpm.publish.open import open_writer
from skillpm.registry.base import RemoteOptions


def yank(
    registry: str, base: Path, name: str, version: str, *, reason: str | None, undo: bool
) -> None:
    done = open_writer(registry, base).set_yanked(name, version, reason=reason, undo=undo)
    if undo:
        state = "is no longer yanked" if done.changed else "was not yanked"
        console.info(f"{name} {version} {state} in {done.where}")
    elif not done.changed:
        console.info(f"{name} {version} was already yanked in {done.where}")
    else:
        console.info(
            f"Yanked {name} {version} in {done.where}: new resolutions skip it; projects whose "
            "skills.lock pins it still install it"
        )


def reindex(path: Path) -> None:
    with registry_lock(path):
        recover(path)
        result = core.reindex(path)
        data = dump_index(result.index)
        index_path = path / "index.json"
        unchanged = index_path.is_file() and index_path.read_bytes() == data
        if not unchanged:
            write_index(path, result.index)
    if result.old_unreadable:
        console.warn(
            f"the old index could not be read ({result.old_unreadable}); published dates and "
            "yank state were not kept"
        )
    for stray in result.stray:
        console.warn(f"{stray}: not a package version folder; left alone")
    for entry in result.removed:
        console.change("-", entry.name, entry.version)
    for entry in result.changed:
        console.change("~", entry.name, entry.version, "index entry updated from its files")
    for entry in result.added:
        console.change("+", entry.name, entry.version)
    versions = sum(len(v) for v in result.index.packages.values())
    summary = f"{plural(len(result.index.packages), 'package')}, {plural(versions, 'version')}"
    if unchanged:
        console.info(f"index.json is up to date ({summary})")
    else:
        console.info(f"Rebuilt {index_path} ({summary})")


def verify(path: Path) -> None:
    if not path.is_dir():
        raise RegistryError(f"{path}: folder not found")
    checked, problems, stray = core.verify(path)
    for stray_entry in stray:
        console.warn(f"{stray_entry}: not a package version folder")
    for problem in problems:
        console.error(str(problem))
    if problems:
        raise IntegrityError(
            f"registry {path}: {plural(len(problems), 'problem')} in "
            f"{plural(checked, 'version')}; restore the files (from version control, say), or run "
            "'skillpm registry reindex' to accept them as they are"
        )
    console.info(f"Verified {plural(checked, 'version')} in {path}: every integrity matches")


def build_static(
    source: str,
    out: Path,
    base: Path,
    *,
    full_index: bool,
    html: bool = True,
    options: RemoteOptions | None = None,
) -> None:
    from skillpm.output import redact
    from skillpm.publish import static_site
    from skillpm.registry.open import open_registry
    from skillpm.store import path_lock

    static_site.check_source(source, out, base)
    label = redact(source)
    registry = open_registry(label, source, base, options)
    with path_lock("site", out):
        built = static_site.build(registry, out, full_index=full_index, html=html)
    for rel in built.rewritten_archives:
        console.warn(
            f"{rel} changed although published versions are immutable; CDN caches keep the "
            "old bytes for a year, so invalidate that path after uploading"
        )
    for rel in built.written:
        console.detail(f"  wrote {rel}")
    for rel in built.removed:
        console.detail(f"  removed {rel}")
    summary = (
        f"{plural(built.packages, 'package')}, {plural(built.versions, 'version')}: "
        f"{plural(len(built.written), 'file')} written, {built.unchanged} unchanged"
    )
    if built.removed:
        summary += f", {len(built.removed)} removed"
    console.info(f"Built static registry {out} from {label} ({summary})")
