"""Registry maintenance commands: ``yank``, ``unyank``, ``registry reindex``/``verify``."""

from __future__ import annotations

from pathlib import Path

from skillpm.errors import IntegrityError, RegistryError
from skillpm.formats.index import dump_index
from skillpm.output import console, plural
from skillpm.publish import admin as core
from skillpm.publish.folder import recover, registry_lock, write_index
from skillpm.publish.open import open_writer, registry_folder
from skillpm.registry.base import Registry, RemoteOptions


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


def verify(registry: str, base: Path) -> None:
    from skillpm.registry.urls import S3, transport_of

    if transport_of(registry) == S3:
        _verify_s3(registry)
        return
    path = registry_folder(registry, base)
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


def _verify_s3(url: str) -> None:
    from skillpm.publish import s3_site

    checked, problems = s3_site.verify(url)
    for problem in problems:
        console.error(str(problem))
    if problems:
        raise IntegrityError(
            f"registry {url}: {plural(len(problems), 'problem')} in "
            f"{plural(checked, 'version')}; publish the affected versions again from their "
            "sources, or rebuild the bucket with 'skillpm registry build-static SRC " + url + "'"
        )
    console.info(f"Verified {plural(checked, 'version')} in {url}: every integrity matches")


def build_static(
    source: str,
    out: str,
    base: Path,
    *,
    full_index: bool,
    html: bool = True,
    options: RemoteOptions | None = None,
) -> None:
    from skillpm.output import redact
    from skillpm.publish import static_site
    from skillpm.registry.open import open_registry
    from skillpm.registry.urls import LOCAL, S3, local_path, transport_of
    from skillpm.store import path_lock

    transport = transport_of(out)
    if transport not in (LOCAL, S3):
        raise RegistryError(
            f"{redact(out)}: build-static writes a folder or an S3 location (s3://BUCKET/PREFIX)"
        )
    folder = local_path(out, base) if transport == LOCAL else None
    static_site.check_source(source, folder, base)
    label = redact(source)
    registry = open_registry(label, source, base, options)
    if folder is None:
        _build_to_s3(registry, out, label, full_index=full_index, html=html)
        return
    with path_lock("site", folder):
        built = static_site.build(registry, folder, full_index=full_index, html=html)
    _warn_rewritten(built.rewritten_archives)
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
    console.info(f"Built static registry {folder} from {label} ({summary})")


def _warn_rewritten(archives: list[str]) -> None:
    for rel in archives:
        console.warn(
            f"{rel} changed although published versions are immutable; CDN caches keep the "
            "old bytes for a year, so invalidate that path after uploading"
        )


def _build_to_s3(registry: Registry, url: str, label: str, *, full_index: bool, html: bool) -> None:
    """The site built in a scratch folder, then uploaded where the bucket differs."""
    import tempfile

    from skillpm.publish import s3_site, static_site

    with tempfile.TemporaryDirectory(prefix="skillpm-site-") as tmp:
        built = static_site.build(registry, Path(tmp), full_index=full_index, html=html)
        done = s3_site.upload(Path(tmp), url, full_index=full_index)
    _warn_rewritten(done.rewritten_archives)
    for rel in done.written:
        console.detail(f"  uploaded {rel}")
    for rel in done.removed:
        console.detail(f"  deleted {rel}")
    if done.left:
        console.warn(
            f"{plural(len(done.left), 'object')} in {url} named like site files "
            f"({done.left[0]}{', ...' if len(done.left) > 1 else ''}) are not in {label}; left "
            "in place (delete them with 'aws s3 rm' if they should go)"
        )
    summary = (
        f"{plural(built.packages, 'package')}, {plural(built.versions, 'version')}: "
        f"{plural(len(done.written), 'object')} uploaded, {done.unchanged} unchanged"
    )
    if done.removed:
        summary += f", {len(done.removed)} deleted"
    console.info(f"Built static registry {url} from {label} ({summary})")
