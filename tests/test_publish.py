"""Authoring: ``new``, ``pack`` and ``publish`` through the real CLI."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
import yaml

from skillpm import yamlio
from tests.helpers import (
    Cli,
    git,
    make_package,
    run_skillpm,
    skill_md,
    snapshot,
    write_tree,
)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


def _index(registry: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((registry / "index.json").read_text())


# --- new --------------------------------------------------------------------------------


def test_new_publish_install_in_another_project(cli: Cli, work: Path, project: Path) -> None:
    """The whole author loop, in real subprocesses: new -> publish -> install elsewhere."""
    assert run_skillpm("new", "team-conventions", cwd=work).exit_code == 0
    registry = work / "registry"
    result = run_skillpm("publish", "team-conventions", "--registry", registry, cwd=work)
    assert result.exit_code == 0, result.stderr
    assert "Published team-conventions 0.1.0 to a new registry" in result.stdout
    assert _index(registry)["format"] == 1
    result = run_skillpm("install", "team-conventions", "--registry", registry, cwd=project)
    assert result.exit_code == 0, result.stderr
    installed = project / ".claude/skills/team-conventions"
    assert (installed / "SKILL.md").read_bytes() == (
        work / "team-conventions/skills/team-conventions/SKILL.md"
    ).read_bytes()
    assert (installed / "references/REFERENCE.md").is_file()


def test_new_writes_a_skill_that_teaches_good_form(cli: Cli, work: Path) -> None:
    result = cli("new", "cdk-patterns", cwd=work)
    assert result.exit_code == 0, result.output
    root = work / "cdk-patterns"
    manifest = yaml.safe_load((root / "skillpm.yaml").read_text())
    assert manifest["name"] == "cdk-patterns" and manifest["version"] == "0.1.0"
    assert manifest["description"]
    text = (root / "skills/cdk-patterns/SKILL.md").read_text()
    meta, body, _ = yamlio.split_frontmatter(text, "SKILL.md")
    assert meta["name"] == "cdk-patterns"
    assert "what the skill does and when" in meta["description"]
    assert "Use when" in meta["description"]
    assert len(meta["description"]) <= 1024
    # Progressive disclosure: long detail in references/, linked from the body.
    assert "(references/REFERENCE.md)" in body
    assert (root / "skills/cdk-patterns/references/REFERENCE.md").is_file()
    assert not (root / "fragments").exists()
    assert "skillpm publish" in result.stdout


def test_new_with_a_fragment(cli: Cli, work: Path) -> None:
    assert cli("new", "aws-environment", "--fragment", cwd=work).exit_code == 0
    root = work / "aws-environment"
    assert not (root / "skills").exists()
    meta, body, _ = yamlio.split_frontmatter(
        (root / "fragments/aws-environment.md").read_text(), "fragment"
    )
    assert meta["name"] == "aws-environment"
    assert {"description", "section", "order", "claims", "must-not-touch"} <= set(meta)
    assert "{{" not in body  # a scaffold must render without any vars
    assert cli("new", "both-kinds", "--skill", "--fragment", cwd=work).exit_code == 0
    assert (work / "both-kinds/skills/both-kinds/SKILL.md").is_file()
    assert (work / "both-kinds/fragments/both-kinds.md").is_file()
    registry = work / "registry"
    for name in ("aws-environment", "both-kinds"):
        result = cli("publish", work / name, "--registry", registry)
        assert result.exit_code == 0, result.output
    entry = _index(registry)["packages"]["aws-environment"]["versions"]["0.1.0"]
    assert (entry["skills"], entry["fragments"]) == ([], ["aws-environment"])


def test_new_refuses_an_existing_folder(cli: Cli, work: Path) -> None:
    (work / "taken").mkdir()
    (work / "taken/notes.txt").write_text("mine")
    before = snapshot(work)
    result = cli("new", "taken", cwd=work)
    assert result.exit_code == 1
    assert "taken: already exists" in result.stderr
    assert snapshot(work) == before
    assert sorted(p.name for p in work.iterdir()) == ["taken"]
    (work / "empty").mkdir()
    assert cli("new", "empty", cwd=work).exit_code == 1
    assert list((work / "empty").iterdir()) == []


def test_new_refuses_a_bad_name(cli: Cli, work: Path) -> None:
    result = cli("new", "Bad_Name", cwd=work)
    assert result.exit_code == 1
    assert "must be 1-64 characters" in result.stderr
    assert list(work.iterdir()) == []
    assert cli("new", "../escape", cwd=work).exit_code == 1
    assert list(work.parent.glob("escape")) == []


# --- publish ----------------------------------------------------------------------------


def test_publish_dry_run_shows_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    source = make_package(tmp_path / "pkg", "demo", "1.2.0", dependencies={"base": "^1"})
    registry = tmp_path / "registry"
    result = cli("publish", source, "--registry", registry, "--dry-run")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Would publish demo 1.2.0" in out and "a new registry" in out
    assert "sha256:" in out and "base ^1" in out
    assert "skillpm.yaml" in out and "skills/demo/SKILL.md" in out
    assert not registry.exists()


def test_publish_creates_a_missing_or_empty_registry(cli: Cli, tmp_path: Path) -> None:
    source = make_package(tmp_path / "pkg", "demo")
    for registry in (tmp_path / "missing/nested", tmp_path / "empty", tmp_path / "git-init"):
        if registry.name == "empty":
            registry.mkdir()
        if registry.name == "git-init":
            registry.mkdir()
            git("init", "-q", cwd=registry)
        result = cli("publish", source, "--registry", registry)
        assert result.exit_code == 0, result.output
        index = _index(registry)
        assert index["format"] == 1
        entry = index["packages"]["demo"]["versions"]["1.0.0"]
        assert entry["path"] == "packages/demo/1.0.0"
        assert entry["yanked"] is False
        assert (registry / "packages/demo/1.0.0/skills/demo/SKILL.md").is_file()
        assert os.stat(registry / "packages/demo/1.0.0").st_mode & 0o777 == 0o755


def test_republishing_a_version_is_refused_byte_identical(cli: Cli, tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    source = make_package(tmp_path / "pkg", "demo")
    assert cli("publish", source, "--registry", registry).exit_code == 0
    before = snapshot(registry)
    # Even with different content: a published version never changes.
    (source / "skills/demo/SKILL.md").write_text(skill_md("demo", body="changed"))
    result = cli("publish", source, "--registry", registry)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: demo 1.0.0 is already published in {registry}; versions are immutable, "
        "so bump the version in skillpm.yaml"
    )
    assert snapshot(registry) == before
    assert cli("publish", source, "--registry", registry, "--dry-run").exit_code == 1
    assert snapshot(registry) == before


def test_a_symlink_to_etc_passwd_is_refused(cli: Cli, tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    assert (
        cli("publish", make_package(tmp_path / "ok", "ok"), "--registry", registry).exit_code == 0
    )
    before = snapshot(registry)
    source = make_package(tmp_path / "pkg", "evil")
    os.symlink("/etc/passwd", source / "skills/evil/passwd.md")
    result = cli("publish", source, "--registry", registry)
    assert result.exit_code == 1
    assert "skills/evil/passwd.md: symbolic links are not allowed" in result.stderr
    assert snapshot(registry) == before
    # A fresh registry folder is not even created.
    assert cli("publish", source, "--registry", tmp_path / "fresh").exit_code == 1
    assert not (tmp_path / "fresh").exists()


@pytest.mark.parametrize("kind", ["symlinked-folder", "hardlink", "fifo"])
def test_other_hostile_content_is_refused(cli: Cli, tmp_path: Path, kind: str) -> None:
    registry = tmp_path / "registry"
    registry.mkdir()
    source = make_package(tmp_path / "pkg", "evil")
    if kind == "symlinked-folder":
        os.symlink("/etc", source / "skills/evil/etc")
        message = "symbolic links are not allowed"
    elif kind == "hardlink":
        (tmp_path / "outside.txt").write_text("secret")
        os.link(tmp_path / "outside.txt", source / "skills/evil/inside.txt")
        message = "hard links are not allowed"
    else:
        os.mkfifo(source / "skills/evil/pipe")
        message = "only regular files are allowed"
    result = cli("publish", source, "--registry", registry)
    assert result.exit_code == 1
    assert message in result.stderr
    assert list(registry.iterdir()) == []


def test_oversized_file_is_refused(cli: Cli, tmp_path: Path) -> None:
    source = make_package(
        tmp_path / "pkg", "big", files={"skills/big/assets/blob.bin": b"\0" * (5 * 2**20 + 1)}
    )
    result = cli("publish", source, "--registry", tmp_path / "registry")
    assert result.exit_code == 1
    assert "skills/big/assets/blob.bin" in result.stderr and "5 MiB limit" in result.stderr
    assert not (tmp_path / "registry").exists()


def test_a_line_break_in_a_file_name_is_refused(cli: Cli, tmp_path: Path) -> None:
    """It would make the integrity lines (one per file) ambiguous."""
    source = make_package(tmp_path / "pkg", "odd", files={"skills/odd/a\nb.md": "x"})
    result = cli("publish", source, "--registry", tmp_path / "registry")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "'skills/odd/a\\nb.md' has a control character in its name" in result.stderr
    assert not (tmp_path / "registry").exists()


def test_a_folder_that_is_not_a_registry_is_refused(cli: Cli, tmp_path: Path) -> None:
    other = write_tree(tmp_path / "docs", {"README.md": "not a registry"})
    before = snapshot(other)
    result = cli("publish", make_package(tmp_path / "pkg", "demo"), "--registry", other)
    assert result.exit_code == 1
    assert "not a registry (no index.json)" in result.stderr
    assert snapshot(other) == before


def test_an_orphaned_version_folder_points_to_reindex(cli: Cli, tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    source = make_package(tmp_path / "pkg", "demo")
    assert cli("publish", source, "--registry", registry).exit_code == 0
    (registry / "index.json").write_text('{"format": 1, "packages": {}}\n')
    (source / "skills/demo/SKILL.md").write_text(skill_md("demo", body="changed"))
    before = snapshot(registry)
    result = cli("publish", source, "--registry", registry)
    assert result.exit_code == 1
    assert "index.json does not list it, and its files differ" in result.stderr
    assert "skillpm registry reindex" in result.stderr
    assert snapshot(registry) == before


def test_an_orphaned_folder_with_the_same_files_is_adopted(cli: Cli, tmp_path: Path) -> None:
    """Publishing again what an interrupted run already put in place just lists it."""
    registry = tmp_path / "registry"
    source = make_package(tmp_path / "pkg", "demo")
    assert cli("publish", source, "--registry", registry).exit_code == 0
    published = snapshot(registry)
    (registry / "index.json").write_text('{"format": 1, "packages": {}}\n')
    result = cli("publish", source, "--registry", registry)
    assert result.exit_code == 0, result.output
    after = snapshot(registry)
    assert after.keys() == published.keys()
    assert {k: v for k, v in after.items() if k != "index.json"} == {
        k: v for k, v in published.items() if k != "index.json"
    }
    assert cli("registry", "verify", registry).exit_code == 0


def test_vcs_folders_and_packed_archives_are_not_published(cli: Cli, tmp_path: Path) -> None:
    source = make_package(
        tmp_path / "pkg",
        "demo",
        files={
            ".git/HEAD": "ref: refs/heads/main\n",
            "skills/demo/__pycache__/x.pyc": b"\0",
            ".DS_Store": b"\0",
            "demo-0.9.0.tar.gz": b"old pack output",
            "skills/demo/assets/data.tar.gz": b"kept: it is content",
        },
    )
    registry = tmp_path / "registry"
    assert cli("publish", source, "--registry", registry).exit_code == 0
    stored = set(snapshot(registry / "packages/demo/1.0.0"))
    assert stored == {"skillpm.yaml", "skills/demo/SKILL.md", "skills/demo/assets/data.tar.gz"}


def test_bare_skill_folder_with_version_option_or_metadata(cli: Cli, tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    bare = write_tree(tmp_path / "solo", {"SKILL.md": skill_md("solo"), "notes.md": "n"})
    result = cli("publish", bare, "--registry", registry)
    assert result.exit_code == 1
    assert "pass --version or set metadata.version" in result.stderr
    assert not registry.exists()
    assert cli("publish", bare, "--registry", registry, "--version", "1.0.0").exit_code == 0
    (bare / "SKILL.md").write_text(skill_md("solo", metadata={"version": "1.1.0"}))
    assert cli("publish", bare, "--registry", registry).exit_code == 0
    versions = _index(registry)["packages"]["solo"]["versions"]
    assert sorted(versions) == ["1.0.0", "1.1.0"]
    stored = set(snapshot(registry / "packages/solo/1.1.0"))
    assert stored == {"skillpm.yaml", "skills/solo/SKILL.md", "skills/solo/notes.md"}


def test_version_option_must_agree_with_the_manifest(cli: Cli, tmp_path: Path) -> None:
    source = make_package(tmp_path / "pkg", "demo", "1.0.0")
    result = cli("publish", source, "--registry", tmp_path / "r", "--version", "2.0.0")
    assert result.exit_code == 1
    assert "version is 1.0.0, but --version says 2.0.0" in result.stderr


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"skills/demo/SKILL.md": skill_md("other")}, "must equal its folder name 'demo'"),
        ({"skills/demo/SKILL.md": "no frontmatter\n"}, "missing YAML frontmatter"),
        ({"skills/demo/SKILL.md": "---\nname: demo\n---\n"}, "description is missing"),
        ({"fragments/f.md": "---\nname: g\n---\nx\n"}, "must equal the file name 'f'"),
    ],
)
def test_invalid_packages_are_refused(
    cli: Cli, tmp_path: Path, files: dict[str, str], message: str
) -> None:
    source = make_package(tmp_path / "pkg", "demo", files=files)
    result = cli("publish", source, "--registry", tmp_path / "registry")
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "registry").exists()


def test_publish_warns_about_placeholders_and_missing_dependencies(
    cli: Cli, work: Path, tmp_path: Path
) -> None:
    cli("new", "fresh", cwd=work)
    manifest = work / "fresh/skillpm.yaml"
    manifest.write_text(manifest.read_text() + "dependencies:\n  nowhere: ^1\n")
    result = cli("publish", work / "fresh", "--registry", tmp_path / "registry")
    assert result.exit_code == 0, result.output
    assert "still has the description 'skillpm new' wrote" in result.stderr
    assert "nowhere is not in" in result.stderr


def test_https_registries_are_refused_clearly(cli: Cli, tmp_path: Path) -> None:
    source = make_package(tmp_path / "pkg", "demo")
    result = cli("publish", source, "--registry", "https://user:secret@example.com/reg")
    assert result.exit_code == 1
    assert "secret" not in result.stderr
    assert "static site, which is read-only" in result.stderr and "build-static" in result.stderr


def test_a_registry_inside_the_package_is_refused(cli: Cli, tmp_path: Path) -> None:
    source = make_package(tmp_path / "pkg", "demo")
    before = snapshot(source)
    result = cli("publish", "--registry", "registry", cwd=source)
    assert result.exit_code == 1
    assert "the registry is inside the package folder" in result.stderr
    assert snapshot(source) == before and not (source / "registry").exists()


def test_two_processes_publishing_at_once_both_land(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.helpers import SRC

    registry = tmp_path / "registry"
    sources = [make_package(tmp_path / name, name) for name in ("first", "second")]
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "skillpm", "publish", src, "--registry", registry],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for src in sources
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    assert sorted(_index(registry)["packages"]) == ["first", "second"]


# --- pack -------------------------------------------------------------------------------


def test_pack_twice_gives_the_same_sha256(cli: Cli, tmp_path: Path) -> None:
    source = make_package(tmp_path / "pkg", "demo", "1.2.0")
    first = cli("pack", source, "--out-dir", tmp_path / "a")
    assert first.exit_code == 0, first.output
    archive = tmp_path / "a/demo-1.2.0.tar.gz"
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert f"sha256:{digest}" in first.stdout
    # Another copy of the source, elsewhere, with other timestamps: the same bytes.
    copy = make_package(tmp_path / "elsewhere/copy", "demo", "1.2.0")
    for path in copy.rglob("*"):
        os.utime(path, (2_000_000_000, 2_000_000_000))
    second = cli("pack", copy, "--out-dir", tmp_path / "b")
    assert second.exit_code == 0
    assert (tmp_path / "b/demo-1.2.0.tar.gz").read_bytes() == archive.read_bytes()
    # Packing in the package folder itself, twice: the archive does not swallow itself.
    for _ in range(2):
        assert cli("pack", cwd=source).exit_code == 0
    inside = hashlib.sha256((source / "demo-1.2.0.tar.gz").read_bytes()).hexdigest()
    assert inside == digest


def test_pack_holds_what_publish_stores(cli: Cli, tmp_path: Path) -> None:
    from skillpm.formats.archive import unpack
    from skillpm.integrity import tree_integrity

    bare = write_tree(tmp_path / "solo", {"SKILL.md": skill_md("solo")})
    assert cli("pack", bare, "--version", "2.0.0", "-o", tmp_path).exit_code == 0
    cli("publish", bare, "--version", "2.0.0", "--registry", tmp_path / "registry")
    unpack(tmp_path / "solo-2.0.0.tar.gz", tmp_path / "out")
    entry = _index(tmp_path / "registry")["packages"]["solo"]["versions"]["2.0.0"]
    assert tree_integrity(tmp_path / "out") == entry["integrity"]


def test_pack_refuses_a_symlink(cli: Cli, tmp_path: Path) -> None:
    source = make_package(tmp_path / "pkg", "evil")
    os.symlink("/etc/passwd", source / "skills/evil/passwd.md")
    result = cli("pack", source, "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert "symbolic links are not allowed" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_built_static_site_folder_is_not_written_to(cli: Cli, work: Path) -> None:
    """Publishing into the output of build-static would update index.json but not the
    index/<name>.json that https clients read: refused, the site unchanged."""
    registry = work / "registry"
    first = make_package(work / "src-a", "site-a", "1.0.0")
    assert cli("publish", first, "--registry", registry).exit_code == 0
    site = work / "site"
    assert cli("registry", "build-static", "--no-html", registry, site).exit_code == 0
    before = snapshot(site)
    second = make_package(work / "src-b", "site-b", "1.0.0")
    result = cli("publish", second, "--registry", site)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "static site" in result.stderr and "read-only" in result.stderr
    assert snapshot(site) == before
