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

from tests.helpers import Cli, make_package, make_registry, snapshot, write_tree


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


# -- 3. control and bidi characters in display fields -------------------------------------

HOSTILE = "Safe \x1b[31mred\x1b[0m and \u202eesrever"


def test_publish_refuses_control_characters_in_the_description(cli: Cli, tmp_path: Path) -> None:
    source = make_package(tmp_path / "src", "evil", description="x")
    manifest = source / "skillpm.yaml"
    manifest.write_text(manifest.read_text().replace("description: x", 'description: "a \\e[2J b"'))
    result = cli("publish", source, "--registry", tmp_path / "reg")
    _one_error(result, "control character")
    assert not (tmp_path / "reg").exists()
    manifest.write_text(manifest.read_text().replace("\\e[2J", "\\u202e"))
    _one_error(cli("publish", source, "--registry", tmp_path / "reg"), "U+202E")


def test_yank_refuses_control_characters_in_the_reason(cli: Cli, registry: Path) -> None:
    before = snapshot(registry)
    result = cli("yank", "alpha", "1.0.0", "--reason", "bad\x1b[2J", "--registry", registry)
    _one_error(result, "control character")
    assert snapshot(registry) == before


def test_search_and_info_neutralise_what_a_registry_holds(
    cli: Cli, project: Path, registry: Path
) -> None:
    def plant(data: dict[str, Any]) -> None:
        data["packages"]["alpha"]["versions"]["1.0.0"]["description"] = HOSTILE

    _edit_index(registry, plant)
    _use(cli, project, registry)
    for args in (("search", "alpha"), ("info", "alpha")):
        result = cli(*args, cwd=project)
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
        assert "\\x1b[31mred" in result.stdout and "\\u202eesrever" in result.stdout
    result = cli("search", "alpha", "--json", cwd=project)
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    assert json.loads(result.stdout)["results"][0]["description"] == HOSTILE  # same value


# -- 4. the no-op path validates the lock it trusts ---------------------------------------


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('registry: "../registry"', 'registry: "../elsewhere"'), "elsewhere"),
        (lambda t: t.replace("version: 1.0.0", "version: 1"), "version"),
        (lambda t: t.replace("packages:\n", "surprise: 1\npackages:\n"), "surprise"),
    ],
    ids=["unlisted-registry", "integer-version", "unknown-key"],
)
def test_a_noop_install_refuses_an_invalid_lock(
    cli: Cli, project: Path, registry: Path, edit: Callable[[str], str], message: str
) -> None:
    write_tree(project, {"skills.yaml": "registries:\n  team: ../registry\n"})
    assert cli("install", "alpha", cwd=project).exit_code == 0
    assert "Nothing to do" in cli("install", cwd=project).stdout  # the fast path is warm
    lock = project / "skills.lock"
    lock.write_text(edit(lock.read_text()))
    before = snapshot(project)
    for _ in range(2):  # the first refusal must not teach the fast path to trust it
        _one_error(cli("install", cwd=project), message)
    assert snapshot(project) == before


def test_an_empty_project_lock_with_packages_as_a_mapping_is_refused(
    cli: Cli, project: Path
) -> None:
    write_tree(project, {"skills.yaml": "dependencies: {}\n"})
    assert cli("install", cwd=project).exit_code == 0
    lock = project / "skills.lock"
    lock.write_text(lock.read_text().replace("packages: []", "packages: {}\nsurprise: 1"))
    _one_error(cli("install", cwd=project), "skills.lock")


# -- 5. a damaged skills.yaml -------------------------------------------------------------


def test_duplicate_keys_in_skills_yaml_are_refused(cli: Cli, project: Path, registry: Path) -> None:
    write_tree(project, {"skills.yaml": "registries:\n  team: ../registry\n"})
    assert cli("install", "alpha", "beta", cwd=project).exit_code == 0
    (project / "skills.yaml").write_text(
        "registries:\n  team: ../registry\ndependencies:\n  alpha: ^1.0.0\n  beta: ^1.0.0\n"
        "dependencies:\n  alpha: ^1.0.0\n"
    )
    before = snapshot(project)
    for args in (("install",), ("install", "gamma"), ("install", "--agent"), ("list",)):
        result = cli(*args, cwd=project)
        _one_error(result, "skills.yaml:6: ")
        assert "duplicate key 'dependencies' (first at line 3)" in result.stderr
        assert "Resolved" not in result.stdout
    assert snapshot(project) == before


def test_an_empty_skills_yaml_uninstalls_nothing(cli: Cli, project: Path, registry: Path) -> None:
    write_tree(project, {"skills.yaml": "registries:\n  team: ../registry\n"})
    assert cli("install", "alpha", cwd=project).exit_code == 0
    for empty in ("", "\n  \n"):
        (project / "skills.yaml").write_text(empty)
        before = snapshot(project)
        _one_error(cli("install", cwd=project), "skills.yaml:1: the file is empty")
        assert snapshot(project) == before
    # A file of comments only is a deliberate empty manifest: it stays valid.
    (project / "skills.yaml").write_text("# nothing yet\n")
    assert cli("install", cwd=project).exit_code == 0


# -- 6. index paths are exact; one bad entry does not hide a registry from search ---------


@pytest.mark.parametrize(
    "path", ["packages/alpha/1.0.0/", "./packages/alpha/1.0.0", "packages//alpha/1.0.0"]
)
def test_index_paths_must_be_exact(cli: Cli, project: Path, registry: Path, path: str) -> None:
    def inexact(data: dict[str, Any]) -> None:
        data["packages"]["alpha"]["versions"]["1.0.0"]["path"] = path

    _edit_index(registry, inexact)
    _use(cli, project, registry)
    _one_error(cli("install", "alpha", cwd=project), "is not packages/alpha/1.0.0")
    assert cli("registry", "verify", registry).exit_code == 1


def test_search_skips_a_bad_entry_and_names_it(cli: Cli, project: Path, registry: Path) -> None:
    def damage(data: dict[str, Any]) -> None:
        data["packages"]["Bad_Name"] = data["packages"]["gamma"]
        data["packages"]["beta"]["versions"]["1.0.0"]["integrity"] = "nope"

    _edit_index(registry, damage)
    _use(cli, project, registry)
    result = cli("search", "a", "--json", cwd=project)
    assert result.exit_code == 0, result.output
    results = json.loads(result.stdout)["results"]
    names = [r["name"] for r in results if r["registry"] == "team"]
    assert names == ["alpha", "gamma"]
    assert "'Bad_Name'" in result.stderr and "beta" in result.stderr
    assert result.stderr.count("warning: ") == 2, result.stderr
    # install of a good package from that registry still works
    assert cli("install", "alpha", cwd=project).exit_code == 0


def test_remove_after_registry_remove_resolves_what_stays_again(
    cli: Cli, project: Path, registry: Path, tmp_path: Path
) -> None:
    """Not "skills.lock was edited": the lock is stale, the user just moved registries."""
    mirror = tmp_path / "mirror"
    shutil.copytree(registry, mirror)
    write_tree(project, {"skills.yaml": "registries:\n  team: ../registry\n"})
    assert cli("install", "alpha", "beta", cwd=project).exit_code == 0
    assert cli("registry", "remove", "team", cwd=project).exit_code == 0
    assert cli("registry", "add", "mirror", "../mirror", cwd=project).exit_code == 0
    result = cli("remove", "alpha", cwd=project)
    assert result.exit_code == 0, result.output
    assert '"../mirror"' in (project / "skills.lock").read_text()
