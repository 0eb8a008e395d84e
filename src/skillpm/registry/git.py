"""A registry kept in a git repository, read through a cached mirror.

The registry is read at one commit: the ``#ref`` of its URL (a branch, tag or
commit; the remote's default branch without one) resolved in the mirror. That
commit is what the lock records, and a locked install reads packages at it even
after the branch moved on, fetching it when the mirror lacks it.

Freshness follows uv and cargo: a ref fetched less than ``fetch_interval``
seconds ago is used as cached, unless a name the cached index lacks is asked
for (then one fetch, once per process) or ``--refresh`` forces one.
``--offline`` never touches the network. Unpacked package versions live in the
cache by integrity, so another project installing the same version never runs
git at all.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from skillpm import store
from skillpm.errors import IntegrityError, RegistryError, UnsafeContentError
from skillpm.formats.archive import check_sizes
from skillpm.formats.index import RegistryIndex, VersionEntry, check_relpath, index_from_bytes
from skillpm.formats.project_files import LockedPackage
from skillpm.fsutil import write_files
from skillpm.integrity import integrity_of_lines
from skillpm.output import console, plural
from skillpm.registry.base import Registry, RemoteOptions
from skillpm.registry.git_commands import GitFailed, Mirror, TreeEntry
from skillpm.registry.git_errors import fetch_error, hidden
from skillpm.registry.urls import parse_git_url

if TYPE_CHECKING:  # loaded only for a commit without index.json (a marketplace, say)
    from skillpm.registry.repo_layouts import RemoteTrees, RepoPackages

_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's id of a tree with nothing in it


class GitRegistry(Registry):
    """A registry in a git repository; nothing touches git until something is asked."""

    def __init__(
        self, name: str, url: str, options: RemoteOptions, remotes: RemoteTrees | None = None
    ) -> None:
        super().__init__(name, url)
        self.source = parse_git_url(url)
        self.options = options
        self.remotes = remotes  # reads marketplace plugins stored in other repositories
        self.key = store.url_key(self.source.key)
        self.mirror = Mirror(store.mirror_path(self.key))
        self._commit: str | None = None
        self._fetched = False  # fetched the ref in this process: never twice
        self._indexes: dict[str, RegistryIndex] = {}
        self._views: dict[str, RepoPackages | None] = {}  # commit -> view (None: index.json)
        self._present: set[str] = set()  # commits known to be in the mirror
        self._oids: dict[tuple[str, str], str | None] = {}  # (commit, path) -> object id
        self._unpacked: set[str] = set()  # integrities unpacked and verified by this process

    # -- the Registry interface ------------------------------------------------

    def pinned_commit(self) -> str:
        if self._commit is None:
            self._commit = self._resolve(force=self.options.refresh)
        return self._commit

    def lookup(self, names: Collection[str]) -> Mapping[str, Mapping[str, VersionEntry]]:
        packages = self._index().packages
        if any(n not in packages for n in names) and self.refresh():
            packages = self._index().packages
        return {n: packages[n] for n in names if n in packages}

    def all_packages(self) -> Mapping[str, Mapping[str, VersionEntry]]:
        index = self._index()
        view = self._view(self.pinned_commit())
        return view.available() if view is not None else index.packages

    def describe(self) -> str:
        self._index()  # reports a repository that is no registry at all
        view = self._view(self.pinned_commit())
        if view is None:
            return super().describe()
        if view.catalog.kind == "marketplace":
            return f"a Claude Code plugin marketplace ({plural(len(view), 'plugin')})"
        return f"a repository of skill folders ({plural(len(view), 'skill')})"

    def remote_listings(self) -> Mapping[str, tuple[str | None, str]]:
        self._index()  # reports a repository that is no registry at all
        view = self._view(self.pinned_commit())
        return view.remote_listings() if view is not None else {}

    def refresh(self) -> bool:
        if self.remotes is not None and not self.options.offline:
            self.remotes.refresh()
        if self.options.offline or self._fetched or self.source.commit:
            return False
        before = self._commit
        self._commit = self._resolve(force=True)
        return self._commit != before

    def known_entry(self, name: str, version: str) -> VersionEntry | None:
        # Only an index already read in this process: a locked install reads none.
        index = self._indexes.get(self._commit) if self._commit else None
        return index.packages.get(name, {}).get(version) if index else None

    def reads_packages_at_commit(self) -> bool:
        return self._view(self.pinned_commit()) is not None

    def locked_entry(self, pkg: LockedPackage) -> VersionEntry | None:
        # A marketplace offers one version per plugin: a locked one is read at its commit.
        if pkg.commit is None:
            return None
        self._ensure_commit(pkg.commit)
        view, pin = self._view(pkg.commit), pkg.source.commit if pkg.source else None
        return view.entry_at(pkg.name, pkg.version, pin) if view else None

    def left_out(self, entry: VersionEntry) -> tuple[str, ...]:
        view = self._view(self.pinned_commit())
        pin = entry.source.commit if entry.source else None
        return view.offer(entry.name, pin).left_out if view and entry.name in view else ()

    def entry_at(self, name: str, version: str, commit: str | None) -> VersionEntry | None:
        self._ensure_commit(commit or self.pinned_commit())
        return self._index(commit).packages.get(name, {}).get(version)

    def package_dir(self, entry: VersionEntry, commit: str | None = None) -> Path:
        self.prefetch([(entry, commit)])
        return store.package_cache_path(entry.integrity)

    def prefetch(self, items: Sequence[tuple[VersionEntry, str | None]]) -> None:
        """Unpack every version not yet cached, with one fetch and one read for all of them."""
        todo: dict[str, tuple[VersionEntry, str]] = {}
        for entry, commit in items:
            if entry.integrity in self._unpacked:
                continue
            if store.cached_package(entry.integrity) is not None:
                self._unpacked.add(entry.integrity)
                continue
            todo.setdefault(entry.integrity, (entry, commit or self.pinned_commit()))
        if not todo:
            return
        by_commit: dict[str, list[VersionEntry]] = {}
        for entry, commit in todo.values():
            by_commit.setdefault(commit, []).append(entry)
        for commit, entries in sorted(by_commit.items()):
            self._ensure_commit(commit)
            self._unpack(commit, entries)

    # -- resolving the ref -----------------------------------------------------

    @property
    def _dest(self) -> str:
        return f"refs/skillpm/refs/{self.source.ref or 'HEAD'}"

    @property
    def _what(self) -> str:
        return f"{self.source.ref!r}" if self.source.ref else "the default branch"

    def _resolve(self, *, force: bool) -> str:
        """The commit the URL's ref names, fetching when stale, forced or never fetched."""
        if self.source.commit:
            self._ensure_commit(self.source.commit)
            return self.source.commit
        ref = self.source.ref or "HEAD"
        cached = self.mirror.resolve(self._dest) if self.mirror.exists() else None
        if self.options.offline:
            if cached is None:
                raise RegistryError(
                    f"registry {self.display} is not in the cache and --offline forbids "
                    "fetching it; run the command once without --offline"
                )
            return cached
        age = store.seconds_since_fetch(self.mirror.path, ref)
        fresh = cached is not None and age is not None and age < self.options.fetch_interval
        if force or not fresh:
            self._fetch_ref(ref, force=force)
            cached = self.mirror.resolve(self._dest)
            if cached is None:
                raise RegistryError(f"registry {self.display}: {self._what} is not a commit")
        assert cached is not None
        self._present.add(cached)
        return cached

    def _fetch_ref(self, ref: str, *, force: bool) -> None:
        started = time.time()
        with store.mirror_lock(self.key, f"the cache of registry {self.display}"):
            # Re-check under the lock: another process may have fetched while we waited.
            age = store.seconds_since_fetch(self.mirror.path, ref)
            if age is not None and self.mirror.resolve(self._dest) is not None:
                fetched_at = time.time() - age
                if fetched_at >= started or (not force and age < self.options.fetch_interval):
                    self._fetched = True
                    return
            previous = self.mirror.resolve(self._dest) if self.mirror.exists() else None
            if previous is not None:
                self._keep(previous)  # before the fetch moves the ref off it (see _keep)
            self._fetch(ref, self._dest)
            store.mark_fetched(self.mirror.path, ref)
        self._fetched = True

    def _ensure_commit(self, sha: str) -> None:
        """Make ``sha`` available in the mirror, fetching it by id if needed."""
        if sha in self._present or (self.mirror.exists() and self.mirror.has_commit(sha)):
            self._present.add(sha)
            return
        if self.options.offline:
            what = "is not in the cache" if self.mirror.exists() else "is not in the cache at all"
            raise RegistryError(
                f"registry {self.display}: commit {sha[:12]} {what} and --offline forbids "
                "fetching it; run the command once without --offline"
            )
        with store.mirror_lock(self.key, f"the cache of registry {self.display}"):
            if not (self.mirror.exists() and self.mirror.has_commit(sha)):
                self._fetch(sha, f"refs/skillpm/commits/{sha}")
        self._present.add(sha)

    def _keep(self, commit: str) -> None:
        # A ref per commit ever resolved: a lock naming it installs offline even after
        # the branch moved on and git's housekeeping ran. A fetched tip is kept when the
        # next fetch is to move its ref (which holds it until then): one git run less.
        try:
            self.mirror.keep(commit, f"refs/skillpm/commits/{commit}")
        except GitFailed as exc:
            raise self.error(exc, commit) from None

    def _fetch(self, source: str, dest: str) -> None:
        """One fetch (the caller holds the mirror lock); creates the mirror on first use."""
        with console.status(f"Fetching registry {self.display}"):
            self._fetch_now(source, dest)
        # Said once it worked: a failed fetch is one error line, whatever the verbosity.
        what = f"commit {source[:12]}" if _COMMIT.match(source) else source
        console.detail(f"fetched {what} of registry {self.display}", level=2)

    def _fetch_now(self, source: str, dest: str) -> None:
        remote = self.source.remote
        try:
            if self.mirror.exists():
                self.mirror.fetch(remote, source, dest)
                return

            def build(tmp: Path) -> None:
                mirror = Mirror(tmp)
                mirror.init()
                mirror.fetch(remote, source, dest)

            store.create_dir_atomically(self.mirror.path, build)
        except GitFailed as exc:
            raise self.error(exc, source) from None

    def error(self, exc: GitFailed, source: str) -> RegistryError:
        return fetch_error(self.display, self.source.remote, exc, source)

    def reason(self, exc: GitFailed) -> str:
        """git's reason for a failure, with any credentials in the URL hidden."""
        return hidden(exc.reason, self.source.remote)

    # -- for writers (gitpublish) ----------------------------------------------

    def fetch_branch(self, branch: str) -> str:
        """Fetch ``branch`` now, whatever the cache's age, and return its tip."""
        dest = f"refs/skillpm/heads/{branch}"
        # Resolved under the lock: another process may fetch into the same ref.
        with store.mirror_lock(self.key, f"the cache of registry {self.display}"):
            self._fetch(f"refs/heads/{branch}", dest)
            tip = self.mirror.resolve(dest)
        if tip is None:
            raise RegistryError(f"registry {self.display}: branch {branch!r} is not a commit")
        self._present.add(tip)
        return tip

    def create_mirror(self) -> None:
        """An empty mirror, for a remote with no commits yet (its first publish)."""
        if self.mirror.exists():
            return
        with store.mirror_lock(self.key, f"the cache of registry {self.display}"):
            if not self.mirror.exists():
                store.create_dir_atomically(self.mirror.path, lambda tmp: Mirror(tmp).init())

    def read_file(self, commit: str, path: str) -> bytes | None:
        """The bytes of one file at ``commit``, or ``None`` when there is none."""
        oid = self._tree_oid(commit, path)
        if oid is None:
            return None
        return self._read(commit, [path], [oid], path)[oid]

    def has_path(self, commit: str, path: str) -> bool:
        return self._tree_oid(commit, path) is not None

    def is_empty(self, commit: str) -> bool:
        return self._tree_oid(commit, "") == _EMPTY_TREE

    def note_pushed(self, parent: str | None, commit: str, refs: Sequence[str]) -> None:
        """Let readers of this cache see ``commit``, just pushed, without fetching.

        ``refs`` are the reader refs it is now the tip of ("HEAD", the branch). One
        is moved only from ``parent``: a reader that fetched meanwhile is newer.
        """
        with store.mirror_lock(self.key, f"the cache of registry {self.display}"):
            self._keep(commit)
            for ref in refs:
                dest = f"refs/skillpm/refs/{ref}"
                current = self.mirror.resolve(dest)
                if current in (None, parent) and self.mirror.advance(dest, commit, current):
                    store.mark_fetched(self.mirror.path, ref)

    # -- reading at a commit ---------------------------------------------------

    def _index(self, at: str | None = None) -> RegistryIndex:
        commit = at or self.pinned_commit()
        if commit not in self._indexes:
            where = f"registry {self.display}"
            try:
                found = self.mirror.file_blob(commit, "index.json")
            except GitFailed as exc:
                raise self.error(exc, commit) from None
            self._oids[(commit, "index.json")] = found[0] if found else None
            if found is None:
                view = self._view(commit)
                if view is None:
                    raise RegistryError(
                        f"{where}: not a registry (no index.json, no "
                        f".claude-plugin/marketplace.json and no SKILL.md folders in "
                        f"{self._what} at commit {commit[:12]}); check the URL"
                    )
                self._indexes[commit] = RegistryIndex(view)
                return self._indexes[commit]
            oid, present = found
            raw = self._read(commit, None, [oid], "index.json", () if present else (oid,))[oid]
            self._indexes[commit] = index_from_bytes(raw, where, console.warn)
        return self._indexes[commit]

    def _view(self, commit: str) -> RepoPackages | None:
        """The marketplace or skill-folder view of a commit without index.json, else None."""
        if commit not in self._views:
            view = None
            if self._tree_oid(commit, "index.json") is None:
                try:
                    rows = self.mirror.ls_tree(commit, [])
                except GitFailed as exc:
                    raise self.error(exc, commit) from None

                def read(paths: Sequence[str], oids: Sequence[str], what: str) -> dict[str, bytes]:
                    return self._read(commit, paths, oids, what)

                from skillpm.registry.plugin_layout import open_view

                view = open_view(rows, read, commit, self.display, self.remotes)
            self._views[commit] = view
        return self._views[commit]

    def _tree_oid(self, commit: str, path: str) -> str | None:
        """The object at ``path`` in ``commit``, asked of git once per process."""
        if (commit, path) not in self._oids:
            self._oids[(commit, path)] = self.mirror.tree_oid(commit, path)
        return self._oids[(commit, path)]

    def _read(
        self,
        commit: str,
        paths: Sequence[str] | None,
        oids: Sequence[str],
        what: str,
        missing: Sequence[str] = (),
    ) -> dict[str, bytes]:
        """The blobs ``oids`` (found under ``paths`` at ``commit``), fetching missing ones
        first (``paths`` None: the caller knows what is ``missing``)."""
        try:
            if paths is not None:
                missing = self.mirror.missing_blobs(commit, paths)
            if missing:
                self._fetch_blobs(missing, what)
            blobs = self.mirror.read_blobs(oids)
        except GitFailed as exc:
            raise self.error(exc, commit) from None
        absent = [oid for oid, data in blobs.items() if data is None]
        if absent:
            raise RegistryError(
                f"registry {self.display}: the remote did not send object {absent[0][:12]}; "
                "run the command again with --refresh"
            )
        return {oid: data for oid, data in blobs.items() if data is not None}

    def _fetch_blobs(self, oids: Sequence[str], what: str) -> None:
        if self.options.offline:
            raise RegistryError(
                f"registry {self.display}: the files of {what} are not in the cache and "
                "--offline forbids fetching them; run the command once without --offline"
            )
        # No mirror lock: this fetch writes objects only, which git does atomically.
        try:
            with console.status(f"Fetching {what} from registry {self.display}"):
                self.mirror.fetch_objects(self.source.remote, oids)
        except GitFailed as exc:
            raise self.error(exc, "objects") from None

    def _unpack(self, commit: str, entries: Sequence[VersionEntry]) -> None:
        """Read the entries' trees at ``commit`` into the package cache, verified."""
        view = self._view(commit)
        if view is not None:
            for entry in entries:
                label = f"{entry.name} {entry.version} in registry {self.display}"
                pin = entry.source.commit if entry.source else None
                self._store_files(entry, commit, label, view.files(entry.name, entry.version, pin))
            return
        paths = {e.integrity: e.path or f"packages/{e.name}/{e.version}" for e in entries}
        folders = sorted(f"{p}/" for p in paths.values())
        try:
            rows = self.mirror.ls_tree(commit, folders)
        except GitFailed as exc:
            raise self.error(exc, commit) from None
        what = ", ".join(f"{e.name} {e.version}" for e in entries)
        blobs = self._read(commit, folders, [r.oid for r in rows if r.kind == "blob"], what)
        for entry in entries:
            prefix = paths[entry.integrity] + "/"
            files = [r for r in rows if r.path.startswith(prefix)]
            self._store(entry, commit, prefix, files, blobs)

    def _store(
        self,
        entry: VersionEntry,
        commit: str,
        prefix: str,
        rows: Sequence[TreeEntry],
        blobs: Mapping[str, bytes],
    ) -> None:
        label = f"{entry.name} {entry.version} in registry {self.display}"
        if not rows:
            raise RegistryError(f"{label}: no files at commit {commit[:12]}")
        files: list[tuple[str, str, bytes]] = []
        for row in rows:
            rel = check_relpath(row.path[len(prefix) :], label)
            if row.mode not in ("100644", "100755") or row.kind != "blob":
                kind = {"120000": "a symbolic link", "160000": "a submodule"}.get(row.mode)
                raise UnsafeContentError(
                    f"{label}: {rel} is {kind or 'not a regular file'}; packages hold plain "
                    "files only"
                )
            files.append((rel, "755" if row.mode == "100755" else "644", blobs[row.oid]))
        self._store_files(entry, commit, label, files)

    def _store_files(
        self, entry: VersionEntry, commit: str, label: str, files: Sequence[tuple[str, str, bytes]]
    ) -> None:
        """Verify ``files`` against the entry's integrity, then cache them by it."""
        check_sizes(((rel, len(data)) for rel, _, data in files), label)
        actual = integrity_of_lines([(r, m, hashlib.sha256(d).hexdigest()) for r, m, d in files])
        if actual != entry.integrity:
            raise IntegrityError(
                f"integrity check failed for {label} at commit {commit[:12]}: expected "
                f"{entry.integrity}, got {actual}; the registry's copy changed after it was "
                "published. Nothing was installed"
            )
        written = [(rel, mode == "755", data) for rel, mode, data in files]
        store.create_dir_atomically(
            store.package_cache_path(entry.integrity), lambda tmp: write_files(tmp, written)
        )
        self._unpacked.add(entry.integrity)
