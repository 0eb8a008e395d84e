"""The one place that maps a registry URL to the transport that writes it."""

from __future__ import annotations

from pathlib import Path

from skillpm.errors import RegistryError
from skillpm.output import redact
from skillpm.publish.base import RegistryWriter
from skillpm.registry.urls import GIT, HTTPS, S3, local_path, transport_of


def open_writer(url: str, base: Path) -> RegistryWriter:
    """A writer for the registry at ``url`` (a folder relative to ``base``, git or S3)."""
    transport = transport_of(url)
    if transport == GIT:
        from skillpm.publish.git import GitRegistryWriter

        return GitRegistryWriter(url)
    if transport == S3:
        from skillpm.publish.s3 import S3RegistryWriter

        return S3RegistryWriter(url)
    from skillpm.publish.folder import FolderWriter

    return FolderWriter(registry_folder(url, base))


def registry_folder(url: str, base: Path) -> Path:
    """The folder of a registry given on the command line, for commands that work on a
    folder only (reindex, verify, export-marketplace)."""
    transport = transport_of(url)
    if transport == HTTPS:
        raise RegistryError(
            f"{redact(url)} is a static site, which is read-only: publish to the registry "
            "folder it is built from, then run 'skillpm registry build-static' and upload the site"
        )
    if transport == GIT:
        raise RegistryError(
            f"{redact(url)} is a git registry, and this command works on a registry "
            "folder: run it on a clone of the repository"
        )
    if transport == S3:
        raise RegistryError(
            f"{url} is an S3 registry, and this command works on a registry folder: run it on "
            "the folder the bucket is built from"
        )
    root = local_path(url, base)
    if (root / "index").is_dir():  # index/<name>.json: the layout of a built static site
        raise RegistryError(
            f"{root} is a static site built by 'skillpm registry build-static', which is "
            "read-only: publish to the registry folder it is built from, then build it again"
        )
    return root
