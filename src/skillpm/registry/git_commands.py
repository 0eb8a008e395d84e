"""Every git call skillpm makes goes through this module.

Each operation here is one run of the git binary (``fetch``, ``ls-tree``, one
``cat-file --batch`` for many blobs), through subprocess: GitPython's object
model is slow for what a registry needs, and importing it alone cost a cold
install more than the git processes it ran.

A mirror is a bare repository holding one registry's history, shallow and
without blobs (a partial clone): commits and trees arrive on fetch, and only
the blobs skillpm reads (``index.json``, the packages it installs) are fetched
afterwards, in one batch. The remote's URL is never stored in the mirror: it is
passed on each command that talks to the network (``-c remote.skillpm.url=``),
so a token in a URL is not written to disk, and a command run without it (every
``--offline`` one) cannot reach the network even through git's lazy fetch.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillpm.errors import RegistryError

REMOTE = "skillpm"  # the promisor remote of every mirror; its URL is passed per command
_ENV = {
    # A missing credential fails instead of waiting on a prompt nobody sees.
    "GIT_TERMINAL_PROMPT": "0",
    "GCM_INTERACTIVE": "never",
    # Our commands read the mirror only; never a repository the caller sits in.
    "GIT_ALTERNATE_OBJECT_DIRECTORIES": "",
}


class GitMissing(RegistryError):
    def __init__(self) -> None:
        super().__init__("git is not installed or not on PATH; install git to use git registries")


# git's words when a remote lacks what was asked for.
_NOT_FOUND = (
    "couldn't find remote ref",
    "not our ref",
    "no such remote ref",
    "unadvertised object",
)


class GitFailed(Exception):
    """A git command exited non-zero; ``stderr`` is git's own message (not yet redacted)."""

    def __init__(self, args: Sequence[str], status: int, stderr: str) -> None:
        super().__init__(f"git {' '.join(args)} exited {status}")
        self.status = status
        self.stderr = stderr

    @property
    def not_found(self) -> bool:
        """Whether the remote has no such ref or commit (as opposed to being unreachable)."""
        text = self.stderr.lower()
        return any(marker in text for marker in _NOT_FOUND)

    @property
    def reason(self) -> str:
        """The most telling line of git's message."""
        lines = [ln.strip() for ln in self.stderr.splitlines() if ln.strip()]
        for line in lines:
            if line.startswith(("fatal:", "error:")):
                return line.split(":", 1)[1].strip()
        return lines[-1] if lines else f"git exited with status {self.status}"


def _git_binary() -> str:
    # GitPython's variable, still honoured: it is how a non-PATH git was configured.
    return os.environ.get("GIT_PYTHON_GIT_EXECUTABLE") or "git"


@dataclass(frozen=True)
class TreeEntry:
    mode: str  # git's mode: 100644, 100755, 120000 (link), 160000 (submodule), ...
    kind: str  # blob, tree, commit
    oid: str
    path: str


class Mirror:
    """A bare, shallow, blobless repository under the cache."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def exists(self) -> bool:
        return (self.path / "HEAD").is_file()

    def _run(
        self,
        args: Sequence[str],
        *,
        url: str | None = None,
        stdin: bytes | None = None,
        binary: bool = False,
        env: dict[str, str] | None = None,
    ) -> Any:
        """Run ``git args`` on the mirror; ``url`` enables the network for this one call."""
        status, out, err = self._execute(args, url=url, stdin=stdin, binary=binary, env=env)
        if status != 0:
            text = err.decode(errors="replace") if isinstance(err, bytes) else str(err)
            raise GitFailed(args, status, text)
        return out

    def _execute(
        self,
        args: Sequence[str],
        *,
        url: str | None = None,
        stdin: bytes | None = None,
        binary: bool = False,
        env: dict[str, str] | None = None,
    ) -> tuple[int, Any, Any]:
        """Run ``git args`` on the mirror: (status, stdout, stderr), whatever the status.

        The mirror need not exist yet: git treats a missing ``GIT_DIR`` as "no
        repository", which is all ``ls-remote`` and ``var`` need.
        """
        config = ["-c", f"remote.{REMOTE}.url={url}"] if url is not None else []
        full_env = dict(os.environ)
        full_env.update(_ENV)
        # English messages: GitFailed.reason and the callers read them.
        full_env.update(LANGUAGE="C", LC_ALL="C")
        full_env.update(GIT_DIR=str(self.path), GIT_OBJECT_DIRECTORY=str(self.path / "objects"))
        full_env.update(env or {})
        try:
            proc = subprocess.run(
                [_git_binary(), *config, *args],
                cwd=self.path.parent if self.path.parent.is_dir() else None,
                env=full_env,
                input=stdin,
                stdin=None if stdin is not None else subprocess.DEVNULL,
                capture_output=True,
                check=False,
            )
        except FileNotFoundError:
            raise GitMissing() from None
        out = proc.stdout if binary else proc.stdout.decode(errors="replace")
        return proc.returncode, out, proc.stderr

    # -- creating and fetching -------------------------------------------------

    def init(self) -> None:
        """A fresh bare repository at ``path`` (a temp dir the caller renames into place)."""
        self.path.mkdir(parents=True, exist_ok=True)
        # No template: a mirror needs no sample hooks, and each file costs a write.
        self._run(["init", "--quiet", "--bare", "--template=", str(self.path)])
        # Written directly rather than by six `git config` processes: the file is ours,
        # fresh from `git init`, and this is its documented format.
        config = self.path / "config"
        text = config.read_text(encoding="utf-8")
        text = re.sub(r"repositoryformatversion = 0", "repositoryformatversion = 1", text)
        config.write_text(
            text
            + "[extensions]\n"
            + f"\tpartialClone = {REMOTE}\n"
            + f'[remote "{REMOTE}"]\n'
            + "\tpromisor = true\n"
            + "\tpartialclonefilter = blob:none\n"
            # Housekeeping runs in the foreground: no process outlives skillpm.
            + "[gc]\n\tautoDetach = false\n"
            + "[maintenance]\n\tauto = false\n",
            encoding="utf-8",
        )

    def fetch(self, url: str, source: str, dest: str) -> None:
        """Fetch one ref or commit (``source``) shallowly into ``dest``, commits and trees only.

        A server that does not filter (git's own default for file://) sends the
        blobs too; git warns and carries on, and so do we.
        """
        self._run(
            [
                "fetch",
                "--quiet",
                "--no-tags",
                "--no-write-fetch-head",
                "--depth=1",
                "--filter=blob:none",
                REMOTE,
                f"+{source}:{dest}",
            ],
            url=url,
        )

    def fetch_objects(self, url: str, oids: Iterable[str]) -> None:
        """Fetch the given blobs in one request (what git's lazy fetch does, batched)."""
        wanted = sorted(set(oids))
        if not wanted:
            return
        self._run(
            [
                "-c",
                "fetch.negotiationAlgorithm=noop",
                "fetch",
                "--quiet",
                "--no-tags",
                "--no-write-fetch-head",
                "--recurse-submodules=no",
                "--filter=blob:none",
                "--stdin",
                REMOTE,
            ],
            url=url,
            stdin="".join(f"{oid}\n" for oid in wanted).encode(),
        )

    def keep(self, commit: str, ref: str) -> None:
        """Point ``ref`` at ``commit`` so git's housekeeping never prunes it."""
        self._run(["update-ref", ref, commit])

    # -- reading ---------------------------------------------------------------

    def resolve(self, rev: str) -> str | None:
        """The commit ``rev`` names in the mirror, or ``None``."""
        try:
            out = self._run(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"])
        except GitFailed:
            return None
        return str(out).strip() or None

    def has_commit(self, sha: str) -> bool:
        # rev-list never lazily fetches, so this answers from the mirror alone.
        try:
            self._run(["rev-list", "--no-walk", "--missing=print", "-n1", sha])
        except GitFailed:
            return False
        return True

    def tree_oid(self, commit: str, path: str) -> str | None:
        try:
            out = self._run(["rev-parse", "--verify", "--quiet", f"{commit}:{path}"])
        except GitFailed:
            return None
        return str(out).strip() or None

    def file_blob(self, commit: str, path: str) -> tuple[str, bool] | None:
        """The blob at ``path`` (a file at the top of the tree) and whether the mirror
        has its bytes, in one git run (``rev-parse`` and ``missing_blobs`` in one);
        ``None`` when no file is there. Never fetches."""
        out = str(
            self._run(["rev-list", "--objects", "--missing=print", "--no-walk", commit, "--", path])
        )
        present, missing = None, []
        for line in out.splitlines()[1:]:  # the commit first, then the root tree
            if line.startswith("?"):
                missing.append(line[1:].strip())
                continue
            oid, _, name = line.partition(" ")
            if name == path:
                present = oid
            elif name.startswith(f"{path}/"):
                return None  # a folder of that name
        if present is not None:
            return present, True
        return (missing[0], False) if len(missing) == 1 else None

    def ls_tree(self, commit: str, paths: Sequence[str]) -> list[TreeEntry]:
        """Every file under ``paths`` at ``commit``, recursively."""
        out: bytes = self._run(
            ["ls-tree", "-r", "-z", "--full-tree", commit, "--", *paths], binary=True
        )
        entries = []
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, path = record.partition(b"\t")
            mode, kind, oid = meta.decode().split(" ")
            entries.append(TreeEntry(mode, kind, oid, path.decode("utf-8", "surrogateescape")))
        return entries

    def missing_blobs(self, commit: str, paths: Sequence[str]) -> list[str]:
        """Blobs under ``paths`` at ``commit`` that the mirror lacks (never fetches)."""
        out = str(
            self._run(
                ["rev-list", "--objects", "--missing=print", "--no-walk", commit, "--", *paths]
            )
        )
        return [line[1:].strip() for line in out.splitlines() if line.startswith("?")]

    def read_blobs(self, oids: Sequence[str]) -> dict[str, bytes | None]:
        """The bytes of each blob, in one git process.

        Check ``missing_blobs`` first: in a partial clone git dies on a missing blob
        rather than report it (``None`` is for a plain repository lacking it).
        """
        wanted = list(dict.fromkeys(oids))
        if not wanted:
            return {}
        out: bytes = self._run(
            ["cat-file", "--batch"],
            stdin="".join(f"{oid}\n" for oid in wanted).encode(),
            binary=True,
        )
        blobs: dict[str, bytes | None] = {}
        pos = 0
        for oid in wanted:
            end = out.index(b"\n", pos)
            header = out[pos:end].decode().split(" ")
            pos = end + 1
            if len(header) != 3:  # "<oid> missing"
                blobs[oid] = None
                continue
            size = int(header[2])
            blobs[oid] = out[pos : pos + size]
            pos += size + 1
        return blobs

    # -- writing (publishing to a git registry) --------------------------------

    def ls_remote(self, url: str) -> RemoteRefs:
        """The remote's refs and the branch its HEAD names, in one request."""
        out = str(self._run(["ls-remote", "--symref", REMOTE], url=url))
        refs: dict[str, str] = {}
        head = None
        for line in out.splitlines():
            left, _, name = line.partition("\t")
            if left.startswith("ref: "):
                if name == "HEAD":
                    head = left.removeprefix("ref: ")
            elif name:
                refs[name] = left
        return RemoteRefs(refs, head)

    def check_identity(self) -> None:
        """``GitFailed`` unless git has an author and committer configured.

        ``user.useConfigOnly`` stops git from guessing one from the user and host
        names: a registry's history says who published what.
        """
        for var in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
            self._run(["-c", "user.useConfigOnly=true", "var", var])

    def commit_files(
        self,
        parent: str | None,
        folder: Path,
        files: Sequence[tuple[str, bool]],
        message: str,
        index_file: Path,
    ) -> str:
        """A commit on ``parent`` whose tree is the parent's with ``files`` added or replaced.

        ``files`` are (path relative to ``folder``, executable). Nothing is checked
        out: a temporary index starts from the parent's tree (trees only, so no
        blob is fetched), the files are hashed as they are (``--no-filters``: no
        line-ending or attribute conversion, so their integrity holds) and written.
        """
        if not files:
            raise ValueError("commit_files needs at least one file")
        paths = b"".join(os.fsencode(folder / rel) + b"\n" for rel, _ in files)
        oids = str(self._run(["hash-object", "-w", "--no-filters", "--stdin-paths"], stdin=paths))
        env = {"GIT_INDEX_FILE": str(index_file)}
        self._run(["read-tree", parent] if parent else ["read-tree", "--empty"], env=env)
        records = b"".join(
            f"{'100755' if executable else '100644'} blob {oid}\t".encode()
            + os.fsencode(rel)
            + b"\0"
            for (rel, executable), oid in zip(files, oids.split(), strict=True)
        )
        self._run(["update-index", "-z", "--index-info"], stdin=records, env=env)
        # The parent's blobs are not in a blobless mirror; the remote has them.
        tree = str(self._run(["write-tree", "--missing-ok"], env=env)).strip()
        parents = ["-p", parent] if parent else []
        args = ["-c", "user.useConfigOnly=true", "commit-tree", tree, *parents, "-m", message]
        return str(self._run(args)).strip()

    def push(self, url: str, commit: str, ref: str) -> PushResult:
        """Push ``commit`` to ``ref`` on the remote (a fast-forward, never forced).

        A refusal by the remote is returned; a failure to talk to it raises ``GitFailed``.
        """
        status, out, err = self._execute(
            ["push", "--porcelain", "--no-verify", REMOTE, f"{commit}:{ref}"], url=url
        )
        stderr = err.decode(errors="replace") if isinstance(err, bytes) else str(err)
        for line in str(out).splitlines():
            flag, _, rest = line.partition("\t")
            spec, _, summary = rest.partition("\t")
            if not spec.endswith(f":{ref}"):
                continue
            if flag != "!":
                return PushResult(True, False, "")
            # git's own words: the branch moved (client side), or moved after the
            # server advertised it (its ref update lost a race).
            stale = any(word in summary for word in _STALE)
            said = [
                ln.removeprefix("remote:").strip()
                for ln in stderr.splitlines()
                if ln.startswith("remote:") and ln.removeprefix("remote:").strip()
            ]
            reason = summary.strip("[] ").replace("] (", ": ").rstrip(")")
            if said and not stale:
                reason += f"; the remote said: {said[0]}"
            return PushResult(False, stale, reason)
        if status == 0:
            return PushResult(True, False, "")
        raise GitFailed(["push"], status, stderr)

    def advance(self, ref: str, new: str, old: str | None) -> bool:
        """Point ``ref`` at ``new`` if it is still at ``old`` (absent, for ``None``)."""
        try:
            self._run(["update-ref", ref, new, old or "0" * 40])
        except GitFailed:
            return False
        return True


# Words of git's push summary when the target branch moved under us.
_STALE = ("fetch first", "non-fast-forward", "failed to update ref", "cannot lock ref", "stale")


@dataclass(frozen=True)
class RemoteRefs:
    refs: dict[str, str]  # full ref name (and "HEAD") -> commit
    head: str | None  # the ref the remote's HEAD points to, if the remote says


@dataclass(frozen=True)
class PushResult:
    pushed: bool
    stale: bool  # refused because the branch moved: fetch, re-apply and push again
    reason: str  # git's reason for a refusal
