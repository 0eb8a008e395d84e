"""The package archive: same bytes every time, and a reader that trusts nothing."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from skillpm.errors import UnsafeContentError
from skillpm.formats.archive import FIXED_MTIME, members_of_tree, pack_to, unpack
from skillpm.integrity import integrity_of_entries, tree_integrity
from tests.helpers import write_tree

FILES = {
    "skillpm.yaml": "name: demo\n",
    "skills/demo/SKILL.md": "---\nname: demo\n---\nbody\n",
    "skills/demo/scripts/run.sh": "#!/bin/sh\necho hi\n",
    "b.txt": "b",
    "a.txt": "a",
}


def _tree(root: Path) -> Path:
    write_tree(root, FILES)
    os.chmod(root / "skills/demo/scripts/run.sh", 0o755)
    return root


def test_same_bytes_from_other_folders_times_and_modes(tmp_path: Path) -> None:
    one = _tree(tmp_path / "one")
    two = _tree(tmp_path / "elsewhere" / "two")
    # Different mtimes, permission bits and creation order must not matter.
    for path in two.rglob("*"):
        os.utime(path, (1_900_000_000, 1_900_000_000))
    os.chmod(two / "a.txt", 0o600)
    os.chmod(two / "skills/demo/scripts/run.sh", 0o700)
    first = pack_to(members_of_tree(one), tmp_path / "out1" / "demo.tar.gz")
    second = pack_to(members_of_tree(two), tmp_path / "out2" / "demo.tar.gz")
    again = pack_to(members_of_tree(one), tmp_path / "out3" / "demo.tar.gz")
    assert first == second == again
    data = (tmp_path / "out1" / "demo.tar.gz").read_bytes()
    assert hashlib.sha256(data).hexdigest() == first
    assert data[4:8] == b"\0\0\0\0"  # gzip MTIME
    assert data[3] & 0x08 == 0  # no FNAME


def test_entries_are_sorted_and_normalised(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "src")
    os.chmod(tree / "a.txt", 0o600)
    pack_to(members_of_tree(tree), tmp_path / "x.tar.gz")
    with tarfile.open(tmp_path / "x.tar.gz") as tar:
        infos = tar.getmembers()
    assert [i.name for i in infos] == sorted(FILES)
    for info in infos:
        assert (info.uid, info.gid, info.uname, info.gname) == (0, 0, "", "")
        assert info.mtime == FIXED_MTIME
        assert info.isfile()
        expected = 0o755 if info.name.endswith("run.sh") else 0o644
        assert info.mode == expected


def test_round_trip_keeps_integrity(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "src")
    pack_to(members_of_tree(tree), tmp_path / "x.tar.gz")
    entries = unpack(tmp_path / "x.tar.gz", tmp_path / "out")
    assert integrity_of_entries(entries) == tree_integrity(tree)
    assert tree_integrity(tmp_path / "out") == tree_integrity(tree)
    assert os.stat(tmp_path / "out/skills/demo/scripts/run.sh").st_mode & 0o777 == 0o755


def _archive(*members: tuple[tarfile.TarInfo, bytes | None], level: int = 6) -> bytes:
    buf = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=level) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _file(name: str, data: bytes = b"x", mode: int = 0o644) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    return info, data


def _special(name: str, kind: bytes, target: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, None


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([_special("evil", tarfile.SYMTYPE, "/etc/passwd")], "links are not allowed"),
        ([_file("a"), _special("b", tarfile.LNKTYPE, "a")], "links are not allowed"),
        ([_special("dev", tarfile.CHRTYPE)], "only regular files"),
        ([_special("fifo", tarfile.FIFOTYPE)], "only regular files"),
        ([_file("/etc/cron.d/x")], "not a relative posix path"),
        ([_file("../outside")], "escapes the package folder"),
        ([_file("skills/../../outside")], "escapes the package folder"),
        ([_file("a\\b")], "not a relative posix path"),
        ([_file("C:/x")], "not a relative posix path"),
        ([_file("a"), _file("a")], "appears twice"),
        ([_file("a"), _file("a/b")], "clashes with another entry"),
    ],
)
def test_hostile_archives_are_refused_and_leave_nothing(
    tmp_path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], message: str
) -> None:
    archive = tmp_path / "evil.tar.gz"
    archive.write_bytes(_archive(*members))
    with pytest.raises(UnsafeContentError, match=message):
        unpack(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.tar.gz"]


def test_gzip_bomb_is_refused_early(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.tar.gz"
    archive.write_bytes(_archive(_file("zeros", b"\0" * (4 * 1024 * 1024)), level=9))
    assert archive.stat().st_size < 20_000
    with pytest.raises(UnsafeContentError, match="compression ratio"):
        unpack(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_oversized_file_is_refused_from_its_header(tmp_path: Path) -> None:
    # The header claims 6 MiB; refused before a byte of it is read.
    info = tarfile.TarInfo("big")
    info.size = 6 * 1024 * 1024
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        gz.write(info.tobuf(tarfile.PAX_FORMAT))
    (tmp_path / "big.tar.gz").write_bytes(buf.getvalue())
    with pytest.raises(UnsafeContentError, match="over the 5 MiB limit"):
        unpack(tmp_path / "big.tar.gz", tmp_path / "out")


@pytest.mark.parametrize(
    "data", [b"not a gzip file at all", b"\x1f\x8b\x08\x00garbage", b""], ids=str
)
def test_garbage_is_a_clear_error(tmp_path: Path, data: bytes) -> None:
    (tmp_path / "x.tar.gz").write_bytes(data)
    with pytest.raises(UnsafeContentError, match=r"x\.tar\.gz"):
        unpack(tmp_path / "x.tar.gz", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_truncated_archive_is_refused(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "src")
    (tree / "big.txt").write_bytes(os.urandom(200_000))
    pack_to(members_of_tree(tree), tmp_path / "x.tar.gz")
    data = (tmp_path / "x.tar.gz").read_bytes()
    (tmp_path / "cut.tar.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(UnsafeContentError):
        unpack(tmp_path / "cut.tar.gz", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_unpack_needs_a_new_folder(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "src")
    pack_to(members_of_tree(tree), tmp_path / "x.tar.gz")
    (tmp_path / "out").mkdir()
    with pytest.raises(UnsafeContentError, match="already exists"):
        unpack(tmp_path / "x.tar.gz", tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_unpack_reads_a_stream(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "src")
    pack_to(members_of_tree(tree), tmp_path / "x.tar.gz")
    with open(tmp_path / "x.tar.gz", "rb") as f:
        entries = unpack(f, tmp_path / "out", where="https://example.com/x.tar.gz")
    assert [e.relpath for e in entries] == sorted(FILES)


def test_the_system_tar_reads_it(tmp_path: Path) -> None:
    tar_bin = shutil.which("tar")
    if tar_bin is None:
        pytest.skip("no tar on PATH")
    import subprocess

    tree = _tree(tmp_path / "src")
    pack_to(members_of_tree(tree), tmp_path / "x.tar.gz")
    (tmp_path / "out").mkdir()
    subprocess.run([tar_bin, "xzf", tmp_path / "x.tar.gz", "-C", tmp_path / "out"], check=True)
    assert tree_integrity(tmp_path / "out") == tree_integrity(tree)


def test_count_and_total_caps_are_enforced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The caps (10,000 files, 50 MiB) with small values, so the proof stays fast."""
    from skillpm.formats import archive

    many = _archive(*[_file(f"f{i}", b"x") for i in range(5)])
    monkeypatch.setattr(archive, "MAX_FILES", 4)
    (tmp_path / "many.tar.gz").write_bytes(many)
    with pytest.raises(UnsafeContentError, match="more than 4 files"):
        unpack(tmp_path / "many.tar.gz", tmp_path / "out")
    monkeypatch.setattr(archive, "MAX_FILES", 10_000)
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 3 * 2**20)
    big = _archive(*[_file(f"r{i}", os.urandom(2**20)) for i in range(4)], level=1)
    (tmp_path / "big.tar.gz").write_bytes(big)
    with pytest.raises(UnsafeContentError, match="unpacks to more than 3 MiB"):
        unpack(tmp_path / "big.tar.gz", tmp_path / "out")
    assert not (tmp_path / "out").exists()
