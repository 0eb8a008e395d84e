"""What skillpm last verified in a project, so the next run can trust stat() instead of bytes.

A no-op ``install`` in a git hook or CI step should cost little more than
starting Python. Two records, in one small JSON file per project under the
cache (``projects/<key>.json``; never in the project, whose ``.claude/`` is
usually committed):

- ``trees``: for each installed skill folder, the stat stamp of every file
  (size, mtime_ns, ctime_ns, inode, mode) and the integrity its bytes had.
  The stamps are taken before the bytes are read, and a file whose ctime is
  younger than ``RACY_NS`` at that moment is not trusted (a write in the same
  clock tick could leave its stamp unchanged, git's "racy clean" problem). A
  write, chmod, rename or replacement changes ctime, which no user can set, so
  equal stamps prove equal bytes; any difference only means "hash it again".
- ``noop``: the sha256 of the ``skills.yaml`` and ``skills.lock`` bytes of a
  run that found (or made) the lock fresh and everything installed, with what
  a no-op needs from them (skills and their integrity), and the sha256 of every
  file the fragment and settings checks read (``CLAUDE.md``, ``AGENTS.md``,
  ``.claude/settings.json``, ``.claudeignore``, ...; absent ones too) taken
  around a check that passed. Equal bytes parse to the same manifest and lock
  and pass the same checks, so the YAML, the resolver, the registries and the
  fragment renderer need not be loaded to know nothing is to do. The installed
  tree and those files are always checked live.

Each record proves itself: a stale or foreign file only costs a full check. The
file is in ``marshal`` format, Python's own for the bytecode cache: reading it
imports nothing (``json`` would bring ``re`` along, more than the whole check),
and a file another Python wrote, or a broken one, fails to load, which is a miss.
"""

from __future__ import annotations

import marshal
import os
import sys
import time
from stat import S_ISDIR, S_ISLNK, S_ISREG

from skillpm import __version__
from skillpm.formats.filenames import LOCK_FILE, MANIFEST_FILE

# Nothing here imports pathlib or typing at run time: on the no-op path they would
# cost more than the check itself. Paths are strings (``os.PathLike`` accepted).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any

    StrPath = str | os.PathLike[str]


def _builtin_sha256() -> Callable[[bytes], Any]:
    """The interpreter's own SHA-256 (same digests): hashlib's OpenSSL costs a no-op ~3 ms."""
    for name in ("_sha2", "_sha256"):  # Python 3.12+, 3.11
        try:
            return __import__(name).sha256  # type: ignore[no-any-return]
        except (ImportError, AttributeError):
            continue
    from hashlib import sha256  # pragma: no cover - an interpreter without them

    return sha256  # pragma: no cover


_sha256 = _builtin_sha256()
_PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"  # marshal's format is Python's own

FORMAT = 4
RACY_NS = 2_000_000_000  # coarser than any filesystem timestamp skillpm is likely to meet
STAGING = ".claude/.skillpm-staging"


def digest(data: bytes) -> str:
    return str(_sha256(data).hexdigest())


def state_path(root: StrPath) -> str:
    from skillpm.cachedir import cache_root

    key = digest(os.fspath(root).encode())[:24]
    return os.path.join(cache_root(), "projects", f"{key}.marshal")


class ProjectState:
    """The records of one project; ``save`` writes them back if anything changed."""

    def __init__(self, root: StrPath) -> None:
        self.root = os.fspath(root)
        self.path = state_path(root)
        self.trees: dict[str, Any] = {}
        self.noop: dict[str, Any] | None = None
        self.dirty = False
        try:
            with open(self.path, "rb") as f:
                data = marshal.loads(f.read())
        except (OSError, ValueError, EOFError, TypeError):
            return
        if (
            isinstance(data, dict)
            and data.get("format") == FORMAT
            and data.get("skillpm") == __version__
            and data.get("python") == _PYTHON
            and data.get("root") == self.root
        ):
            trees, noop = data.get("trees"), data.get("noop")
            self.trees = trees if isinstance(trees, dict) else {}
            self.noop = noop if isinstance(noop, dict) else None

    def tree_integrity(self, folder: StrPath) -> str:
        """DESIGN-4 integrity of an installed folder: from its stamps if they prove it."""
        started = time.time_ns()
        root = os.fspath(folder)
        inside = root.startswith(self.root + os.sep)  # the usual case, without relpath's work
        key = root[len(self.root) + 1 :] if inside else os.path.relpath(root, self.root)
        key = key.replace(os.sep, "/")
        known = self.trees.get(key)
        if isinstance(known, dict) and _proven(root, known):
            return str(known["integrity"])
        from pathlib import Path

        from skillpm.integrity import integrity_of_entries, walk_tree

        stamps = _stamps(root)  # taken before any byte is read
        entries = walk_tree(Path(root))  # refuses what a package must not hold, as before
        integrity = integrity_of_entries(entries)
        files = [[e.relpath, *e.stamp] for e in entries]
        dirs = stamps[0] if stamps is not None and stamps[1] == files else None
        settled = started - RACY_NS  # a ctime after this may hide a write in the same tick
        if (
            dirs is not None
            and all(row[2] < settled for row in dirs)
            and all(e.stamp[2] < settled for e in entries)
        ):
            self.trees[key] = {"integrity": integrity, "dirs": dirs, "files": files}
            self.dirty = True
        elif self.trees.pop(key, None) is not None:
            self.dirty = True
        return integrity

    def save(self) -> None:
        """Write the records if they changed; a cache, so failing to write is no error."""
        if not self.dirty:
            return
        data = {
            "format": FORMAT,
            "skillpm": __version__,
            "python": _PYTHON,
            "root": str(self.root),
            "trees": self.trees,
            "noop": self.noop,
        }
        import tempfile

        folder = os.path.dirname(self.path)
        try:
            os.makedirs(folder, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
            with os.fdopen(fd, "wb") as f:
                f.write(marshal.dumps(data))
            os.replace(tmp, self.path)
        except OSError:
            return
        self.dirty = False


def _stamps(root: str) -> tuple[list[list[Any]], list[list[Any]]] | None:
    """Stamps of every folder and file under ``root``, files ordered as ``walk_tree`` does.

    A folder's stamp is ``[relpath, mtime_ns, ctime_ns, inode]`` (what changes when
    an entry is added, removed or renamed in it), a file's ``[relpath, *FileEntry.stamp]``.
    ``None`` for anything ``walk_tree`` would refuse or fail on.
    """
    dirs: list[list[Any]] = []
    files: list[list[Any]] = []
    pending = [(root, "")]
    while pending:
        folder, prefix = pending.pop()
        try:
            st = os.lstat(folder)
            scan = os.scandir(folder)
        except OSError:
            return None
        dirs.append([prefix, st.st_mtime_ns, st.st_ctime_ns, st.st_ino])
        with scan:
            for item in scan:
                st = item.stat(follow_symlinks=False)
                rel = prefix + item.name
                if S_ISDIR(st.st_mode):
                    pending.append((item.path, rel + "/"))
                elif S_ISREG(st.st_mode):
                    stamp = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_mode]
                    files.append([rel, *stamp])
                else:
                    return None
    files.sort(key=lambda row: str(row[0]))
    return dirs, files


def _proven(root: str, known: Mapping[str, Any]) -> bool:
    """Whether the folder is as recorded, from one lstat per recorded folder and file.

    A folder whose stamp is unchanged has the same entries (adding, removing or
    renaming one changes its mtime and ctime), so the files recorded are all there is.
    """
    try:
        for rel, mtime, ctime, ino in known["dirs"]:
            st = os.lstat(f"{root}/{rel}")
            if not S_ISDIR(st.st_mode) or (st.st_mtime_ns, st.st_ctime_ns, st.st_ino) != (
                mtime,
                ctime,
                ino,
            ):
                return False
        for rel, size, mtime, ctime, ino, mode in known["files"]:
            st = os.lstat(f"{root}/{rel}")
            if (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_mode) != (
                size,
                mtime,
                ctime,
                ino,
                mode,
            ):
                return False
    except (OSError, KeyError, TypeError, ValueError):
        return False
    return True


def output_digest(root: str, rel: str) -> str | None:
    """What a no-op compares for a file a check read: the sha256 of its bytes, after
    ``link <target>`` for a symbolic link (a link replaced by a copy is a change);
    ``None`` when there is no such file."""
    path = os.path.join(root, rel)
    try:
        st = os.lstat(path)
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    except OSError:  # a folder, a dangling link, unreadable: never what a check passed
        return "unreadable"
    link = f"link {os.readlink(path)} " if S_ISLNK(st.st_mode) else ""
    return link + digest(data)


def output_digests(root: StrPath, rels: Sequence[str]) -> dict[str, str | None]:
    root = os.fspath(root)
    return {rel: output_digest(root, rel) for rel in rels}


def record_noop(
    state: ProjectState,
    manifest_sha: str,
    lock_sha: str,
    skills: Mapping[str, str],
    outputs: Mapping[str, str | None],
    skill_dirs: Sequence[str],
    other_dirs: Sequence[str],
    packages: int,
    policy: str = "",
) -> None:
    """Remember that these manifest and lock bytes need nothing more than what is installed.

    ``policy`` keys the record to the managed policy the lock was checked against
    (``policy.managed.policy_key``; "" for none), so a changed policy is never
    answered from here.

    ``skill_dirs`` are the targets' skill folders (relative to the root), each holding
    every skill; ``other_dirs`` those of targets not in use, where a copy of a locked
    skill would be work for the full path (it removes copies of a dropped target).
    ``outputs`` are ``output_digests`` of the files the fragment and settings checks
    passed on (see install/noop.py).
    """
    state.noop = {
        "manifest": manifest_sha,
        "lock": lock_sha,
        "skills": dict(skills),
        "outputs": dict(outputs),
        "skill-dirs": list(skill_dirs),
        "other-dirs": list(other_dirs),
        "packages": packages,
        "policy": policy,
    }
    state.dirty = True


def forget_noop(state: ProjectState) -> None:
    if state.noop is not None:
        state.noop = None
        state.dirty = True


def quick_noop(root: StrPath, policy: str = "") -> int | None:
    """The number of locked packages if ``install`` has nothing to do here, else None.

    ``policy`` is the key of the managed policy in force now (see ``record_noop``).

    ``None`` means "not proven", never "something is wrong": the caller then runs
    the full install, which finds and reports whatever it is. Read-only except
    for the stat cache, so it needs no project lock; a concurrent run mid-change
    leaves a staging folder or changed stamps, either of which sends the caller
    down the full path (which takes the lock).
    """
    root = os.fspath(root)
    try:
        if os.path.lexists(os.path.join(root, STAGING)):
            return None
        with open(os.path.join(root, MANIFEST_FILE), "rb") as f:
            manifest = f.read()
        with open(os.path.join(root, LOCK_FILE), "rb") as f:
            lock = f.read()
    except OSError:
        return None
    state = ProjectState(root)
    record = state.noop
    if record is None or (record.get("manifest"), record.get("lock"), record.get("policy", "")) != (
        digest(manifest),
        digest(lock),
        policy,
    ):
        return None
    try:
        # Targets not in use: a folder that is not there holds no copy (one lstat for all).
        others = [w for w in record["other-dirs"] if os.path.lexists(os.path.join(root, w))]
        for skill, integrity in record["skills"].items():
            for where in record["skill-dirs"]:
                # A missing folder fails its recorded stamp, or the walk (caught below).
                if state.tree_integrity(os.path.join(root, where, skill)) != integrity:
                    return None
            if any(os.path.lexists(os.path.join(root, w, skill)) for w in others):
                return None
        for rel, expected in record["outputs"].items():
            if output_digest(root, rel) != expected:
                return None
        packages = int(record["packages"])
    except Exception:  # anything unexpected: let the full path judge (and report) it
        return None
    state.save()
    return packages
