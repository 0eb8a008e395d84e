"""Repositories that marketplace plugins live in, read through the mirror cache.

A plugin with a ``github``, ``url`` or ``git-subdir`` source is read from its own
git repository exactly as a git registry is: one shallow, blob-less mirror per
URL (shared by every plugin of that repository and by a registry on the same
URL), fetched by git with its own credentials, the URL never written to disk.
The marketplace's ``sha`` pins the commit; without one, its ``ref`` (or the
default branch) is resolved, subject to the fetch interval, and the lock records
the commit it gave. Only the plugin's folder is listed and read.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from skillpm.errors import RegistryError
from skillpm.output import redact
from skillpm.registry.base import RemoteOptions
from skillpm.registry.git import GitRegistry
from skillpm.registry.git_commands import GitFailed

if TYPE_CHECKING:  # every git registry opens a PluginRepos; only marketplaces use it
    from skillpm.registry.marketplace import RemoteSource
    from skillpm.registry.repo_layouts import Tree


class PluginRepo(GitRegistry):
    """The repository of one plugin source; messages name the plugin and the URL."""

    def __init__(
        self,
        plugin: str,
        source: RemoteSource,
        options: RemoteOptions,
        fetched: set[tuple[str, str]],
    ) -> None:
        try:
            super().__init__(f"plugin {plugin}", source.registry_url, options)
        except RegistryError:
            raise RegistryError(
                f"plugin {plugin}: {redact(source.url)} is not a git URL skillpm can fetch"
            ) from None
        self.plugin = plugin
        self.plugin_source = source
        self.fetched = fetched  # (mirror, ref) fetched by any plugin of this marketplace

    def _fetch_ref(self, ref: str, *, force: bool) -> None:
        # Plugins of one repository share its mirror: a ref another plugin fetched in
        # this process is as fresh as a fetch now (``update`` would fetch once per plugin).
        if (self.key, ref) in self.fetched and self.mirror.resolve(self._dest) is not None:
            return
        super()._fetch_ref(ref, force=force)
        self.fetched.add((self.key, ref))

    @property
    def display(self) -> str:
        return f"{redact(self.plugin_source.url)} (the repository of plugin {self.plugin})"

    def error(self, exc: GitFailed, source: str) -> RegistryError:
        where = f"plugin {self.plugin}: {redact(self.plugin_source.url)}"
        if exc.not_found:
            if re.fullmatch(r"[0-9a-f]{40}", source):
                return RegistryError(
                    f"{where} has no commit {source[:12]} (was its history rewritten?); "
                    "nothing was installed"
                )
            return RegistryError(f"{where} has no branch or tag {source!r}")
        return RegistryError(f"{where}: cannot fetch ({self.reason(exc)})")

    def tree(self, commit: str | None) -> Tree:
        """The plugin's folder at ``commit`` (a locked one), else at the source's pin."""
        from skillpm.registry.repo_layouts import Tree

        commit = commit or self.pinned_commit()
        self._ensure_commit(commit)
        path = self.plugin_source.path
        try:
            rows = self.mirror.ls_tree(commit, [f"{path}/"] if path else [])
        except GitFailed as exc:
            raise self.error(exc, commit) from None
        pinned = commit

        def read(paths: Sequence[str], oids: Sequence[str], what: str) -> dict[str, bytes]:
            return self._read(pinned, paths, oids, what)

        return Tree(commit, {row.path: row for row in rows}, read)


class PluginRepos:
    """``RemoteTrees`` for a git registry: one ``PluginRepo`` per plugin and source.

    ``local`` says the marketplace itself is on this machine (``git+file://``): only
    then may its plugins name ``file://`` repositories, so a marketplace on a server
    cannot make skillpm read repositories that happen to be on the user's disk.
    """

    def __init__(self, options: RemoteOptions, *, local: bool) -> None:
        self.options = options
        self.local = local
        self._repos: dict[tuple[str, RemoteSource], PluginRepo] = {}
        self._fetched: set[tuple[str, str]] = set()

    def open(self, plugin: str, source: RemoteSource, commit: str | None) -> Tree:
        if source.url.startswith("file:") and not self.local:
            raise RegistryError(
                f"plugin {plugin}: its source {source.url} is a local path, which only a "
                "marketplace on this machine (git+file://) may name"
            )
        key = (plugin, source)
        if key not in self._repos:
            self._repos[key] = PluginRepo(plugin, source, self.options, self._fetched)
        return self._repos[key].tree(commit)

    def refresh(self) -> None:
        # Like the marketplace itself (``update`` fetches first): refs fetched now.
        self.options = dataclasses.replace(self.options, refresh=True)
        for repo in self._repos.values():
            repo.refresh()
