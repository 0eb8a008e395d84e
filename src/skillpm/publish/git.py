"""Writing to a git registry: publish, yank and unyank become commits pushed to a branch.

Each attempt fetches the branch's tip into the cached mirror (the only time the
mirror lock is held), lays out a scratch folder holding the tip's ``index.json``,
and runs on it the very code that writes a local registry (``publish_local``,
``set_yanked``). What that code wrote is committed on top of the tip with git's
plumbing and a temporary index: nothing else of the registry is checked out or
downloaded, so the cost does not grow with the registry. Then it pushes,
holding no lock.

A push refused because the branch moved (another publish landed between our
fetch and our push) starts over on the new tip, a bounded number of times with
a small jittered backoff. Starting over re-runs the local code, so a version
that someone else published meanwhile is refused exactly as it is locally:
two authors publishing different packages at once both land, and two
publishing the same version get one winner and one refusal.
"""

from __future__ import annotations

import contextlib
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from skillpm.errors import RegistryError
from skillpm.formats.index import RegistryIndex, index_from_bytes, set_yanked
from skillpm.integrity import walk_tree
from skillpm.output import console, redact
from skillpm.publish.base import Published, RegistryWriter, Signed, Yanked
from skillpm.publish.folder import publish_local, write_index
from skillpm.publish.prepare import Prepared
from skillpm.registry.base import RemoteOptions
from skillpm.registry.git import GitRegistry
from skillpm.registry.git_commands import GitFailed

if TYPE_CHECKING:
    from skillpm.publish.signatures import StatementSigner

MAX_ATTEMPTS = 5
_BACKOFF_SECONDS = 0.1  # the first retry waits up to this, doubling each time
_DEFAULT_BRANCH = "main"  # for an empty remote that does not say where its HEAD points

R = TypeVar("R")


@dataclass(frozen=True)
class Change(Generic[R]):
    """What an edit did to the scratch folder: its result, and the commit message.

    ``message`` is ``None`` when there is nothing to commit (a dry run, or a
    yank of a version already yanked).
    """

    result: R
    message: str | None


@dataclass(frozen=True)
class Checkout:
    """What an edit works on: the branch's tip, laid out as far as a write needs it."""

    root: Path  # a scratch folder: the tip's index.json, and whatever the edit writes
    index: RegistryIndex  # that index.json, read (empty for a new registry)
    tip: str | None  # None: the remote has no commits yet
    registry: GitRegistry

    def has(self, path: str) -> bool:
        """Whether the tip holds ``path`` (a file or a folder), without downloading it."""
        return self.tip is not None and self.registry.has_path(self.tip, path)


Edit = Callable[[Checkout], Change[R]]


@dataclass(frozen=True)
class Target:
    """The branch a write goes to."""

    branch: str
    exists: bool  # False: the remote is empty and this write starts it
    default: bool  # the remote's HEAD names this branch (readers without '#ref' see it)
    guessed: bool  # the remote is empty and did not say which branch HEAD names


@dataclass(frozen=True)
class Outcome(Generic[R]):
    result: R
    branch: str
    commit: str | None  # the pushed commit; None when nothing was pushed
    new_registry: bool  # the tip had no registry yet (an empty repository)


class GitWriter:
    """One git registry URL as a place to write to."""

    def __init__(self, url: str) -> None:
        self.registry = GitRegistry(url, url, RemoteOptions(refresh=True))
        self.display = redact(url)
        if self.registry.source.commit:
            raise RegistryError(
                f"{self.display}: '#{self.registry.source.ref}' is a commit, which cannot move; "
                "publish to a branch (drop the '#...' or name a branch after it)"
            )

    @property
    def where(self) -> str:
        return f"registry {self.display}"

    def check_identity(self) -> None:
        try:
            self.registry.mirror.check_identity()
        except GitFailed:
            raise RegistryError(
                "git has no author identity for the publish commit; set yours with "
                "'git config --global user.name \"Your Name\"' and "
                "'git config --global user.email you@example.com' (or GIT_AUTHOR_NAME and "
                "GIT_AUTHOR_EMAIL), then run the command again"
            ) from None

    def apply(self, edit: Edit[R], *, dry_run: bool) -> Outcome[R]:
        """Run ``edit`` on the branch's tip, commit what it wrote, push; retry if raced."""
        if not dry_run:
            self.check_identity()  # before the network: fail at once, with nothing done
        target = self._target()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if target.exists:
                tip: str | None = self.registry.fetch_branch(target.branch)
            else:
                self.registry.create_mirror()
                tip = None
            with tempfile.TemporaryDirectory(prefix="skillpm-write-") as tmp:
                scratch = Path(tmp)
                root = scratch / "registry"
                root.mkdir()
                index = self._lay_out(tip, target.branch, root)
                fresh = index is None
                change = edit(Checkout(root, index or RegistryIndex({}), tip, self.registry))
                if dry_run or change.message is None:
                    return Outcome(change.result, target.branch, None, fresh)
                commit = self._commit(tip, root, change.message, scratch / "index")
            if self._push(commit, target.branch):
                self._after_push(target, tip, commit)
                return Outcome(change.result, target.branch, commit, fresh)
            if attempt < MAX_ATTEMPTS:
                console.info(
                    f"Another publish reached {target.branch} first; applying again on top of "
                    f"it (attempt {attempt + 1} of {MAX_ATTEMPTS})"
                )
                time.sleep(random.uniform(0, _BACKOFF_SECONDS * 2 ** (attempt - 1)))
            target = replace(target, exists=True)
        raise RegistryError(
            f"{self.where}: other publishes reached branch {target.branch} first "
            f"{MAX_ATTEMPTS} times in a row; nothing was pushed; run the command again"
        )

    # -- steps -------------------------------------------------------------------

    def _target(self) -> Target:
        """The branch to write to: the URL's ``#ref``, else the one the remote's HEAD names."""
        mirror, source = self.registry.mirror, self.registry.source
        try:
            remote = mirror.ls_remote(source.remote)
        except GitFailed as exc:
            raise RegistryError(
                f"{self.where}: cannot reach the remote ({self.registry.reason(exc)}); check the "
                "URL and your access (git credential helper, ssh agent); nothing was pushed"
            ) from None
        heads = "refs/heads/"
        branches = {r.removeprefix(heads) for r in remote.refs if r.startswith(heads)}
        head = remote.head.removeprefix("refs/heads/") if remote.head else None
        if source.ref:
            ref = source.ref.removeprefix("refs/heads/")
            if ref in branches or not branches:
                return Target(ref, ref in branches, ref == head, guessed=False)
            if f"refs/tags/{source.ref.removeprefix('refs/tags/')}" in remote.refs:
                raise RegistryError(
                    f"{self.where}: {source.ref!r} is a tag, which cannot move; publish to a "
                    "branch (name one after the '#', or drop the '#...')"
                )
            raise RegistryError(
                f"{self.where}: no branch {source.ref!r} on the remote; create it first "
                f"(git push origin {head or 'main'}:{source.ref}) or drop the '#...'"
            )
        if head is not None and (head in branches or not branches):
            return Target(head, head in branches, default=True, guessed=False)
        if not branches:
            return Target(_DEFAULT_BRANCH, False, default=True, guessed=True)
        raise RegistryError(
            f"{self.where}: cannot tell the remote's default branch (its HEAD names none of "
            f"{', '.join(sorted(branches))}); add '#BRANCH' to the URL"
        )

    def _lay_out(self, tip: str | None, branch: str, root: Path) -> RegistryIndex | None:
        """Write the tip's ``index.json`` into ``root`` and read it; None for no registry yet."""
        if tip is None:
            return None
        raw = self.registry.read_file(tip, "index.json")
        if raw is None:
            if self.registry.is_empty(tip):
                return None
            raise RegistryError(
                f"{self.where}: not a registry (no index.json on branch {branch} at commit "
                f"{tip[:12]}); check the URL, or publish to an empty repository to start one"
            )
        # Read here to name the registry, not the scratch folder, if it is damaged.
        index = index_from_bytes(raw, self.where)
        (root / "index.json").write_bytes(raw)
        return index

    def _commit(self, tip: str | None, root: Path, message: str, index_file: Path) -> str:
        files = [(e.relpath, e.executable) for e in walk_tree(root)]
        try:
            return self.registry.mirror.commit_files(tip, root, files, message, index_file)
        except GitFailed as exc:
            self.check_identity()  # the likely cause, with its own message
            raise RegistryError(
                f"{self.where}: git could not write the commit ({self.registry.reason(exc)}); "
                "nothing was pushed"
            ) from None

    def _push(self, commit: str, branch: str) -> bool:
        """Whether the push landed; ``False`` when the branch moved; raises on a refusal."""
        try:
            result = self.registry.mirror.push(
                self.registry.source.remote, commit, f"refs/heads/{branch}"
            )
        except GitFailed as exc:
            raise RegistryError(
                f"{self.where}: cannot push to the remote ({self.registry.reason(exc)}); check "
                "the URL and your write access (git credential helper, ssh agent); nothing "
                "was pushed"
            ) from None
        if result.pushed or result.stale:
            return result.pushed
        reason = redact(result.reason.replace(self.registry.source.remote, self.display))
        raise RegistryError(
            f"{self.where}: the remote refused the push to branch {branch} ({reason}); "
            "nothing was pushed"
        )

    def _after_push(self, target: Target, parent: str | None, commit: str) -> None:
        default = target.default
        if target.guessed:
            # An empty remote may keep its HEAD on another name (older git: master).
            try:
                head = self.registry.mirror.ls_remote(self.registry.source.remote).head
            except GitFailed:
                head = None
            default = head == f"refs/heads/{target.branch}"
            if not default:
                console.warn(
                    f"the remote's HEAD does not name branch {target.branch}, so registry URLs "
                    f"need '#{target.branch}'; or make {target.branch} the repository's default "
                    "branch"
                )
        source = self.registry.source.ref
        refs = {target.branch, *([source] if source else []), *(["HEAD"] if default else [])}
        # Only a shortcut for later reads of this cache: they fetch instead.
        with contextlib.suppress(GitFailed, RegistryError, OSError):
            self.registry.note_pushed(parent, commit, sorted(refs))


class GitRegistryWriter(RegistryWriter):
    """Publish and (un)yank on a git registry: the folder code on its tip, pushed."""

    def __init__(self, url: str) -> None:
        self.writer = GitWriter(url)

    def publish(self, prepared: Prepared, *, dry_run: bool) -> Published:
        writer = self.writer
        m = prepared.manifest
        folder = f"packages/{m.name}/{m.version}"

        def edit(tip: Checkout) -> Change[RegistryIndex]:
            if tip.has(folder):
                # All publish_local needs to know of it: the folder is there.
                (tip.root / folder).mkdir(parents=True)
            publish_local(prepared, tip.root, dry_run=dry_run, where=writer.where, index=tip.index)
            return Change(tip.index, f"publish {m.name} {m.version}")

        outcome = writer.apply(edit, dry_run=dry_run)
        return Published(
            where=f"{writer.display} (branch {outcome.branch})",
            label=writer.where,
            install_url=writer.display,
            new_registry=outcome.new_registry,
            index=outcome.result,
            commit=outcome.commit,
            nothing_done="pushed",
        )

    def set_yanked(self, name: str, version: str, *, reason: str | None, undo: bool) -> Yanked:
        writer = self.writer
        verb = "unyank" if undo else "yank"

        def edit(tip: Checkout) -> Change[bool]:
            updated = set_yanked(
                tip.index, name, version, yanked=not undo, reason=reason, where=writer.where
            )
            if updated is None:
                return Change(False, None)
            write_index(tip.root, updated)
            body = f"\n\n{reason}" if reason and not undo else ""
            return Change(True, f"{verb} {name} {version}{body}")

        outcome = writer.apply(edit, dry_run=False)
        where = f"{writer.display} (branch {outcome.branch})"
        if outcome.commit:
            where += f" as commit {outcome.commit[:12]}"
        return Yanked(outcome.result, where)

    def add_signature(self, name: str, version: str, signer: StatementSigner) -> Signed:
        from skillpm.publish.signatures import add_signature

        writer = self.writer

        def edit(tip: Checkout) -> Change[str]:
            index, key = add_signature(tip.index, name, version, signer, writer.where)
            write_index(tip.root, index)
            return Change(key, f"sign {name} {version}\n\nkey {key}")

        outcome = writer.apply(edit, dry_run=False)
        where = f"{writer.display} (branch {outcome.branch})"
        if outcome.commit:
            where += f" as commit {outcome.commit[:12]}"
        return Signed(where, outcome.result)
