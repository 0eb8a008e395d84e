"""Plain-file tree copies: one read and one create per file, hashes of what was written."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from skillpm.fsutil import copy_entries
from skillpm.integrity import file_digest, tree_integrity, walk_tree
from tests.helpers import write_tree


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o000])
def test_copy_hashes_what_it_writes_with_normalised_modes(tmp_path: Path, umask: int) -> None:
    source = write_tree(
        tmp_path / "src",
        {"a.md": "alpha\n", "deep/er/b.bin": bytes(range(256)) * 9000, "run.sh": "#!/bin/sh\n"},
    )
    (source / "run.sh").chmod(0o700)
    (source / "a.md").chmod(0o600)
    old = os.umask(umask)
    try:
        digests = copy_entries(walk_tree(source), tmp_path / "out")
    finally:
        os.umask(old)
    out = tmp_path / "out"
    assert digests == {e.relpath: file_digest(e.path) for e in walk_tree(out)}
    assert tree_integrity(out) == tree_integrity(source)
    assert stat.S_IMODE((out / "run.sh").stat().st_mode) == 0o755
    assert stat.S_IMODE((out / "a.md").stat().st_mode) == 0o644
    assert stat.S_IMODE((out / "deep/er/b.bin").stat().st_mode) == 0o644
