"""What a first week of hostile input found (issue 23, items 1 and 3-6): links in a registry
folder, control characters in display fields, an edited skills.lock on the no-op path, a
damaged skills.yaml, inexact index paths and one bad index entry."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Cli, make_registry, snapshot, write_tree


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return make_registry(
        tmp_path / "registry", [{"name": "alpha"}, {"name": "beta"}, {"name": "gamma"}]
    )


def _use(cli: Cli, project: Path, registry: Path) -> None:
    write_tree(project, {"skills.yaml": f"registries:\n  team: {registry}\n"})


def _edit_index(registry: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads((registry / "index.json").read_text())
    edit(data)
    (registry / "index.json").write_text(json.dumps(data))


def _one_error(result: Any, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr, result.stderr


# -- 1. links in a local registry's packages/ tree ----------------------------------------


@pytest.mark.parametrize("linked", ["packages", "packages/alpha", "packages/alpha/1.0.0"])
def test_a_linked_registry_folder_is_refused(
    cli: Cli, project: Path, registry: Path, tmp_path: Path, linked: str
) -> None:
    outside = tmp_path / "outside"
    shutil.copytree(registry / linked, outside)  # the same bytes, served from elsewhere
    shutil.rmtree(registry / linked)
    (registry / linked).symlink_to(outside, target_is_directory=True)
    _use(cli, project, registry)
    before = snapshot(project)
    result = cli("install", "alpha", cwd=project)
    _one_error(result, "symbolic link")
    assert snapshot(project) == before
    verify = cli("registry", "verify", registry)
    assert verify.exit_code == 1, verify.output
    assert "symbolic link" in verify.output
