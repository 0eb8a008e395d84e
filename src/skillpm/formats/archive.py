"""The package archive: reproducible ``.tar.gz`` writing and safe reading.

``skillpm pack`` writes it and the static HTTPS registry serves it (DESIGN 3), so
this module has no other skillpm dependencies than the file walk and the errors.

Format: a gzip'd POSIX (pax) tar holding one entry per regular file of the package,
at its path relative to the package root (no top folder; the registry's unpacked
``packages/<name>/<version>/`` holds exactly these paths). Entries are sorted by
path; mtime is fixed, uid/gid 0, uname/gname empty, mode 644 or 755; the gzip
header carries no time and no file name. The same files therefore give the same
bytes whenever and wherever they are packed.

Archives come from other people's servers, so ``unpack`` trusts nothing: only
regular files at clean relative paths, bounded sizes, bounded compression ratio.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, BinaryIO

from skillpm.errors import UnsafeContentError
from skillpm.integrity import FileEntry, walk_tree

if TYPE_CHECKING:
    import gzip
    import tarfile

# gzip and tarfile are imported where they are used: a git registry needs only the
# limits here (check_sizes), and a cold install should not pay for the archive code.

# 1980-01-01T00:00:00Z, like wheels' zip entries: old enough to never look "new",
# and not 0 so tools that treat 0 as "unknown" behave.
FIXED_MTIME = 315_532_800
COMPRESS_LEVEL = 9

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_TOTAL_BYTES = 50 * 1024 * 1024
MAX_FILES = 10_000
MAX_RATIO = 500  # decompressed/compressed: markdown packs ~4:1, very repetitive text ~200:1
RATIO_GRACE = 1024 * 1024  # small archives may compress well; the total cap bounds them
_CHUNK = 1 << 16


def check_sizes(files: Iterable[tuple[str, int]], where: str) -> None:
    """The package limits, for any transport: (relpath, size) of every file."""
    total = 0
    for count, (relpath, size) in enumerate(files, start=1):
        if count > MAX_FILES:
            raise UnsafeContentError(f"{where}: more than {MAX_FILES} files")
        # A line break would make the integrity lines (DESIGN 4) ambiguous.
        if any(ord(c) < 32 or ord(c) == 127 for c in relpath):
            raise UnsafeContentError(
                f"{where}: {relpath!r} has a control character in its name; rename it"
            )
        if size > MAX_FILE_BYTES:
            raise UnsafeContentError(
                f"{where}: {relpath}: {size // 1024} KiB is over the "
                f"{MAX_FILE_BYTES // 2**20} MiB limit for one file"
            )
        total += size
    if total > MAX_TOTAL_BYTES:
        raise UnsafeContentError(
            f"{where}: {total // 2**20} MiB is over the {MAX_TOTAL_BYTES // 2**20} MiB limit "
            "for a package"
        )


@dataclass(frozen=True)
class Member:
    """One file to put into an archive: its stored path, and where its bytes come from."""

    relpath: str
    executable: bool
    path: Path | None = None
    data: bytes | None = None  # used instead of ``path`` for generated files

    def open(self) -> BinaryIO:
        if self.data is not None:
            return io.BytesIO(self.data)
        assert self.path is not None
        return open(self.path, "rb")


def members_of_tree(root: Path) -> list[Member]:
    return [Member(e.relpath, e.executable, path=e.path) for e in walk_tree(root)]


def _tarinfo(member: Member, size: int) -> tarfile.TarInfo:
    import tarfile

    info = tarfile.TarInfo(member.relpath)
    info.size = size
    info.mtime = FIXED_MTIME
    info.mode = 0o755 if member.executable else 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    return info


def write_archive(members: Iterable[Member], out: BinaryIO) -> None:
    """Write the reproducible archive of ``members`` to the binary stream ``out``."""
    import gzip
    import tarfile

    ordered = sorted(members, key=lambda m: m.relpath)
    seen: set[str] = set()
    # filename="" and mtime=0 keep the gzip header free of a name and a time.
    with (
        gzip.GzipFile(
            filename="", mode="wb", fileobj=out, compresslevel=COMPRESS_LEVEL, mtime=0
        ) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for member in ordered:
            if member.relpath in seen:
                raise UnsafeContentError(f"{member.relpath}: listed twice in the archive")
            seen.add(member.relpath)
            with member.open() as f:
                data = f.read(MAX_FILE_BYTES + 1)
            if len(data) > MAX_FILE_BYTES:
                raise UnsafeContentError(
                    f"{member.relpath}: over the {MAX_FILE_BYTES // 2**20} MiB limit for one file"
                )
            tar.addfile(_tarinfo(member, len(data)), io.BytesIO(data))


def pack_to(members: Iterable[Member], target: Path) -> str:
    """Write the archive to ``target`` atomically; return its sha256 hex."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            write_archive(members, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return sha256_file(target)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


class _Counting(io.RawIOBase):
    """Counts the compressed bytes read from the source stream."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


class _Bounded(io.RawIOBase):
    """The decompressed stream, refused once it grows past the caps (a gzip bomb)."""

    def __init__(self, gz: gzip.GzipFile, counter: _Counting, where: str) -> None:
        self.gz = gz
        self.counter = counter
        self.where = where
        self.count = 0
        # tar headers and padding add to the file bytes; allow for them.
        self.limit = MAX_TOTAL_BYTES + MAX_FILES * 1024 + 1024 * 1024

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        import zlib  # loaded with gzip already

        try:
            data = self.gz.read(len(buffer))
        except (OSError, EOFError, zlib.error) as exc:
            raise UnsafeContentError(f"{self.where}: not a valid .tar.gz ({exc})") from None
        n = len(data)
        buffer[:n] = data
        self.count += n
        if self.count > self.limit:
            raise UnsafeContentError(
                f"{self.where}: unpacks to more than {MAX_TOTAL_BYTES // 2**20} MiB"
            )
        if self.count > RATIO_GRACE and self.count > MAX_RATIO * max(self.counter.count, 1):
            raise UnsafeContentError(
                f"{self.where}: compression ratio over {MAX_RATIO}:1 (a gzip bomb?)"
            )
        return n


def _check_member(info: tarfile.TarInfo, where: str) -> str:
    import tarfile

    name = info.name
    label = f"{where}: {name!r}"
    if info.issym() or info.islnk():
        raise UnsafeContentError(f"{label}: links are not allowed in a package")
    if info.isdir():
        return ""
    if not info.isfile() or info.issparse() or info.type == tarfile.CONTTYPE:
        raise UnsafeContentError(f"{label}: only regular files are allowed in a package")
    if (
        not name
        or "\\" in name
        or "\0" in name
        or name.startswith("/")
        or (len(name) > 1 and name[0].isalpha() and name[1] == ":")
    ):
        raise UnsafeContentError(f"{label}: not a relative posix path")
    parts = [p for p in name.split("/") if p != "."]
    if not parts or any(p in ("", "..") for p in parts):
        raise UnsafeContentError(f"{label}: escapes the package folder")
    # A line break would make the integrity lines (DESIGN 4) ambiguous.
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise UnsafeContentError(f"{label}: has a control character in its name")
    if info.size > MAX_FILE_BYTES:
        raise UnsafeContentError(
            f"{label}: {info.size // 1024} KiB is over the {MAX_FILE_BYTES // 2**20} MiB "
            "limit for one file"
        )
    return "/".join(parts)


def unpack(source: Path | BinaryIO, dest: Path, *, where: str | None = None) -> list[FileEntry]:
    """Extract a package archive into the new folder ``dest``; return its files.

    ``dest`` must not exist; it is removed again if anything is refused, so a
    caller either gets a complete tree or an ``UnsafeContentError``. The caller
    checks the integrity of what it gets (``integrity_of_entries``).
    """
    import gzip
    import shutil

    label = where or (str(source) if isinstance(source, Path) else "archive")
    if dest.exists() or dest.is_symlink():
        raise UnsafeContentError(f"{dest}: already exists; unpack needs a new folder")
    with contextlib.ExitStack() as stack:
        raw = stack.enter_context(open(source, "rb")) if isinstance(source, Path) else source
        dest.mkdir(parents=True)
        try:
            counter = _Counting(raw)
            gz = gzip.GzipFile(fileobj=io.BufferedReader(counter, _CHUNK), mode="rb")
            stream = io.BufferedReader(_Bounded(gz, counter, label), _CHUNK)
            return _extract(stream, dest, label)
        except BaseException:
            shutil.rmtree(dest, ignore_errors=True)
            raise
    raise AssertionError("unreachable")  # pragma: no cover - for type checkers


def _extract(stream: BinaryIO, dest: Path, where: str) -> list[FileEntry]:
    import tarfile

    entries: list[FileEntry] = []
    seen: set[str] = set()
    total = 0
    try:
        tar = tarfile.TarFile.open(fileobj=stream, mode="r|")
    except tarfile.TarError as exc:
        raise UnsafeContentError(f"{where}: not a valid .tar.gz ({exc})") from None
    with tar:
        while True:
            try:
                info = tar.next()
            except tarfile.TarError as exc:
                raise UnsafeContentError(f"{where}: not a valid .tar.gz ({exc})") from None
            if info is None:
                break
            rel = _check_member(info, where)
            if not rel:
                continue  # folders are implied by the files in them
            if rel in seen:
                raise UnsafeContentError(f"{where}: {rel!r} appears twice")
            seen.add(rel)
            if len(seen) > MAX_FILES:
                raise UnsafeContentError(f"{where}: more than {MAX_FILES} files")
            total += info.size
            if total > MAX_TOTAL_BYTES:
                raise UnsafeContentError(
                    f"{where}: unpacks to more than {MAX_TOTAL_BYTES // 2**20} MiB"
                )
            executable = bool(info.mode & 0o111)
            target = dest.joinpath(*PurePosixPath(rel).parts)
            _write_member(tar, info, target, executable, where, rel)
            entries.append(FileEntry(rel, target, executable, info.size))
    entries.sort(key=lambda e: e.relpath)
    return entries


def _write_member(
    tar: tarfile.TarFile,
    info: tarfile.TarInfo,
    target: Path,
    executable: bool,
    where: str,
    rel: str,
) -> None:
    # dest is a fresh folder and only this function creates things in it, so no link
    # can be waiting on the path; O_EXCL|O_NOFOLLOW make that a guarantee, not a hope.
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(target, flags, 0o755 if executable else 0o644)
    except (FileExistsError, NotADirectoryError):
        raise UnsafeContentError(f"{where}: {rel!r} clashes with another entry") from None
    with os.fdopen(fd, "wb") as out:
        reader = tar.extractfile(info)
        assert reader is not None  # a regular file always has a reader
        written = 0
        while chunk := reader.read(_CHUNK):
            written += len(chunk)
            out.write(chunk)
        if written != info.size:
            raise UnsafeContentError(f"{where}: {rel!r} is truncated")
    os.chmod(target, 0o755 if executable else 0o644)
