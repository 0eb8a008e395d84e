"""Commands that said too little or the wrong thing (issue 23, items 9-15)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import (
    Cli,
    fragment_md,
    make_registry,
    write_tree,
)

POLICY = fragment_md("pol", "Use haiku.\n", section="Policy")


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return make_registry(
        tmp_path / "registry",
        [
            {"name": "pol", "fragments": {"pol": POLICY}},
            {"name": "app", "skills": {"app": "", "app-extra": ""}},
            {"name": "tool"},
        ],
    )


@pytest.fixture
def team(project: Path, registry: Path) -> Path:
    write_tree(project, {"skills.yaml": "registries:\n  team: ../registry\n"})
    return project


# -- 9. one notion of intact ----------------------------------------------------------------


def test_a_hand_edited_block_is_not_intact_anywhere(cli: Cli, team: Path) -> None:
    assert cli("install", "pol", cwd=team).exit_code == 0
    claude = team / "CLAUDE.md"
    claude.write_text(claude.read_text().replace("Use haiku.", "Use opus."))
    assert cli("lint", cwd=team).exit_code == 1
    doctor = cli("doctor", "--json", cwd=team)
    codes = [f["code"] for f in json.loads(doctor.stdout)["findings"]]
    assert "fragment-modified" in codes, doctor.output
    listed = json.loads(cli("list", "--json", cwd=team).stdout)
    assert [p["intact"] for p in listed["packages"]] == [False]
    assert "modified or missing" in cli("list", cwd=team).stdout
