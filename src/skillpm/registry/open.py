"""The one place that maps a registry URL to its transport."""

from __future__ import annotations

from pathlib import Path

from skillpm.formats.project_files import BUILTIN
from skillpm.registry.base import Registry, RemoteOptions
from skillpm.registry.local import LocalRegistry, builtin_registry_root
from skillpm.registry.urls import GIT, HTTPS, S3, local_path, transport_of


def open_registry(
    name: str, url: str, project_root: Path, options: RemoteOptions | None = None
) -> Registry:
    """The one place that maps a registry URL to its transport."""
    if name == BUILTIN:
        return LocalRegistry(BUILTIN, BUILTIN, builtin_registry_root())
    transport = transport_of(url)
    if transport == GIT:
        from skillpm.registry.git import GitRegistry
        from skillpm.registry.plugin_repos import PluginRepos

        options = options or RemoteOptions()
        local = url.startswith("git+file:")
        return GitRegistry(name, url, options, PluginRepos(options, local=local))
    if transport == HTTPS:
        from skillpm.registry.https import HttpRegistry

        return HttpRegistry(name, url, options or RemoteOptions())
    if transport == S3:
        from skillpm.registry.s3 import S3Registry

        return S3Registry(name, url, options or RemoteOptions())
    return LocalRegistry(name, url, local_path(url, project_root))
