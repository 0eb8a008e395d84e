"""``skillpm registry build-static``: layout, reproducibility, incremental rebuilds, refusals."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from skillpm.formats.archive import unpack
from skillpm.formats.index import load_index, parse_index, parse_package_index
from skillpm.integrity import integrity_of_entries
from tests.helpers import (
    Cli,
    make_git_registry,
    make_git_repo,
    make_package,
    make_registry,
    publish_to,
    skill_md,
    snapshot,
)
from tests.sitehelpers import SiteServer

PACKAGES = [
    {"name": "aws-env", "skills": {}, "fragments": {"aws-env": "---\nname: aws-env\n---\nx\n"}},
    {"name": "cdk-kit", "dependencies": {"aws-env": "^1.0"}},
    {"name": "cdk-kit", "version": "1.1.0", "dependencies": {"aws-env": "^1.0"}},
]


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return make_registry(tmp_path / "registry", PACKAGES)


def build(cli: Cli, registry: Path | str, out: Path, *args: str) -> str:
    """The registry files of a site; the catalog pages have their own tests (test_catalog)."""
    result = cli("-v", "registry", "build-static", "--no-html", registry, out, *args)
    assert result.exit_code == 0, result.output
    return result.output


def mtimes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*")}


def test_layout_matches_the_design(cli: Cli, registry: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(cli, registry, out)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "index.json",
        "index/aws-env.json",
        "index/cdk-kit.json",
        "packages/aws-env/aws-env-1.0.0.tar.gz",
        "packages/cdk-kit/cdk-kit-1.0.0.tar.gz",
        "packages/cdk-kit/cdk-kit-1.1.0.tar.gz",
    ]
    source = load_index(registry / "index.json", "registry")
    raw = json.loads((out / "index/cdk-kit.json").read_bytes())
    assert raw["format"] == 1 and raw["name"] == "cdk-kit"
    assert all("path" not in e for e in raw["versions"].values())
    versions = parse_package_index((out / "index/cdk-kit.json").read_bytes(), "cdk-kit", "t")
    assert list(versions) == ["1.0.0", "1.1.0"]
    for version, entry in versions.items():
        listed = source.packages["cdk-kit"][version]
        assert (entry.integrity, entry.dependencies, entry.skills, entry.published) == (
            listed.integrity,
            listed.dependencies,
            listed.skills,
            listed.published,
        )
        archive = out / f"packages/cdk-kit/cdk-kit-{version}.tar.gz"
        assert entry.archive == f"packages/cdk-kit/cdk-kit-{version}.tar.gz"
        assert entry.archive_sha256 == hashlib.sha256(archive.read_bytes()).hexdigest()
        files = unpack(archive, tmp_path / f"unpacked-{version}")
        assert integrity_of_entries(files) == entry.integrity
    full = parse_index(json.loads((out / "index.json").read_bytes()), "index.json")
    assert sorted(full.packages) == ["aws-env", "cdk-kit"]
    assert full.packages["cdk-kit"]["1.1.0"] == versions["1.1.0"]


def test_archives_are_the_pack_archives(cli: Cli, registry: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(cli, registry, out)
    packed = tmp_path / "packed"
    result = cli("pack", registry / "packages/cdk-kit/1.1.0", "-o", packed)
    assert result.exit_code == 0, result.output
    assert (packed / "cdk-kit-1.1.0.tar.gz").read_bytes() == (
        out / "packages/cdk-kit/cdk-kit-1.1.0.tar.gz"
    ).read_bytes()


def test_rebuilding_an_unchanged_registry_touches_nothing(
    cli: Cli, registry: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build(cli, registry, out)
    before, stamps = snapshot(out), mtimes(out)
    output = build(cli, registry, out)
    assert "0 files written, 6 unchanged" in output
    assert snapshot(out) == before
    assert mtimes(out) == stamps  # not even rewritten with the same bytes: sync uploads nothing


def test_two_sites_from_the_same_registry_are_identical(
    cli: Cli, registry: Path, tmp_path: Path
) -> None:
    build(cli, registry, tmp_path / "one")
    build(cli, registry, tmp_path / "two")
    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "two")


def test_a_new_version_rewrites_only_its_index_and_adds_its_archive(
    cli: Cli, registry: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build(cli, registry, out)
    stamps = mtimes(out)
    publish_to(registry, make_package(tmp_path / "src", "cdk-kit", "1.2.0"))
    output = build(cli, registry, out)
    written = {line.split("wrote ")[1] for line in output.splitlines() if "wrote " in line}
    assert written == {
        "index/cdk-kit.json",
        "packages/cdk-kit/cdk-kit-1.2.0.tar.gz",
        "index.json",
    }
    after = mtimes(out)
    for rel in ("index/aws-env.json", "packages/cdk-kit/cdk-kit-1.0.0.tar.gz"):
        assert after[rel] == stamps[rel]


def test_a_yank_rewrites_only_index_files(cli: Cli, registry: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(cli, registry, out)
    assert cli("yank", "cdk-kit", "1.0.0", "--registry", registry).exit_code == 0
    output = build(cli, registry, out)
    assert "2 files written" in output
    versions = parse_package_index((out / "index/cdk-kit.json").read_bytes(), "cdk-kit", "t")
    assert versions["1.0.0"].yanked


def test_a_removed_version_is_removed_and_other_files_are_left_alone(
    cli: Cli, registry: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build(cli, registry, out)
    (out / "robots.txt").write_text("User-agent: *\n")
    (out / "packages/cdk-kit/NOTES.md").write_text("hand-written\n")
    shutil.rmtree(registry / "packages/cdk-kit/1.0.0")
    assert cli("registry", "reindex", registry).exit_code == 0
    output = build(cli, registry, out)
    assert "removed packages/cdk-kit/cdk-kit-1.0.0.tar.gz" in output
    assert not (out / "packages/cdk-kit/cdk-kit-1.0.0.tar.gz").exists()
    assert (out / "robots.txt").exists() and (out / "packages/cdk-kit/NOTES.md").exists()
    versions = parse_package_index((out / "index/cdk-kit.json").read_bytes(), "cdk-kit", "t")
    assert list(versions) == ["1.1.0"]


def test_no_full_index(cli: Cli, registry: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(cli, registry, out)
    build(cli, registry, out, "--no-full-index")
    assert not (out / "index.json").exists()
    assert (out / "index/cdk-kit.json").exists()


def test_a_registry_folder_that_fails_its_integrity_is_refused(
    cli: Cli, registry: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build(cli, registry, out)
    before = snapshot(out)
    skill = registry / "packages/cdk-kit/1.1.0/skills/cdk-kit/SKILL.md"
    skill.write_text(skill.read_text() + "tampered\n")
    result = cli("registry", "build-static", registry, out)
    assert result.exit_code == 1
    assert "integrity mismatch" in result.stderr and "cdk-kit 1.1.0" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(out) == before


@pytest.mark.parametrize(
    ("source", "out", "message"),
    [
        ("registry", "registry/site", "outside the registry folder"),
        ("registry", "registry", "outside the registry folder"),
        ("https://skills.example.com/", "site", "already a static site"),
        ("missing", "site", "not found"),
    ],
)
def test_bad_arguments_are_refused(
    cli: Cli, registry: Path, tmp_path: Path, source: str, out: str, message: str
) -> None:
    before = snapshot(tmp_path)
    result = cli("registry", "build-static", source, out, cwd=tmp_path)
    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(tmp_path) == before


def test_a_registry_folder_is_not_overwritten_as_a_site(
    cli: Cli, registry: Path, tmp_path: Path
) -> None:
    other = make_registry(tmp_path / "other", [{"name": "solo"}])
    before = snapshot(other)
    result = cli("registry", "build-static", registry, other)
    assert result.exit_code == 1
    assert "holds a registry" in result.stderr
    assert snapshot(other) == before
    # An index skillpm cannot read any more is still a registry's: it names package folders.
    good = json.loads((other / "index.json").read_text())
    for damage in ("format", "integrity"):
        index = json.loads(json.dumps(good))
        if damage == "format":
            index["format"] = 99
        else:
            index["packages"]["solo"]["versions"]["1.0.0"]["integrity"] = "sha256:bad"
        (other / "index.json").write_text(json.dumps(index))
        before = snapshot(other)
        result = cli("registry", "build-static", registry, other)
        assert result.exit_code == 1
        assert "holds a registry" in result.stderr
        assert snapshot(other) == before


def test_a_site_is_rebuilt_in_place_whatever_its_packages_are_named(
    cli: Cli, tmp_path: Path
) -> None:
    """A dependency named "path" is not a package folder: the site is still a site."""
    registry = make_registry(
        tmp_path / "registry",
        [{"name": "path"}, {"name": "user", "dependencies": {"path": "^1.0"}}],
    )
    out = tmp_path / "site"
    build(cli, registry, out)
    publish_to(registry, make_package(tmp_path / "src", "user", "1.1.0"))
    build(cli, registry, out)
    assert (out / "packages/user/user-1.1.0.tar.gz").is_file()


def test_a_git_registry_builds_the_same_site_as_its_checkout(cli: Cli, tmp_path: Path) -> None:
    remote = make_git_registry(tmp_path / "git", PACKAGES)
    build(cli, remote.url, tmp_path / "from-git")
    build(cli, remote.work, tmp_path / "from-folder")
    assert snapshot(tmp_path / "from-git") == snapshot(tmp_path / "from-folder")
    assert (tmp_path / "from-git/packages/cdk-kit/cdk-kit-1.1.0.tar.gz").is_file()


def test_registry_add_accepts_a_site_url_and_refuses_a_malformed_one(
    cli: Cli, project: Path
) -> None:
    result = cli(
        "registry", "add", "public", "https://skills.example.com/reg/", "--offline", cwd=project
    )
    assert result.exit_code == 0, result.output
    before = snapshot(project)
    result = cli(
        "registry", "add", "other", "https://skills.example.com/?sig=1", "--offline", cwd=project
    )
    assert result.exit_code == 1
    assert "without ?query" in result.stderr
    assert snapshot(project) == before


def test_a_skill_repository_becomes_an_installable_site(
    cli: Cli, tmp_path: Path, project: Path
) -> None:
    """A git repository of bare skill folders (no index.json) is published as a site too."""
    repo = make_git_repo(
        tmp_path / "server",
        {
            "skills/terraform-review/SKILL.md": skill_md(
                "terraform-review", metadata={"version": "2.1.0"}
            ),
            "skills/terraform-review/scripts/check.sh": "#!/bin/sh\necho ok\n",
            "skills/incident-notes/SKILL.md": skill_md("incident-notes"),
        },
    )
    out = tmp_path / "site"
    build(cli, repo.url, out)
    with SiteServer(out) as server:
        result = cli(
            "install", "--registry", server.url, "terraform-review", "incident-notes", cwd=project
        )
        assert result.exit_code == 0, result.output
    assert (project / ".claude/skills/terraform-review/scripts/check.sh").is_file()
    assert (project / ".claude/skills/incident-notes/SKILL.md").is_file()
