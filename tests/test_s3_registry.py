"""s3:// registries against a real S3 API (moto's server on 127.0.0.1): publish, install, yank."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from skillpm.formats.project_files import load_lock
from tests.helpers import SRC, Cli, make_package
from tests.s3helpers import Bucket


def publish(cli: Cli, s3: Bucket, tmp_path: Path, name: str, version: str = "1.0.0", **kw: object):  # type: ignore[no-untyped-def]
    source = make_package(tmp_path / f"src-{name}-{version}", name, version, **kw)  # type: ignore[arg-type]
    return cli("publish", source, "--registry", s3.url)


def test_publish_writes_the_static_layout_with_its_headers(
    cli: Cli, s3: Bucket, tmp_path: Path
) -> None:
    result = publish(cli, s3, tmp_path, "aws-env")
    assert result.exit_code == 0, result.output
    assert f"Published aws-env 1.0.0 to a new registry at {s3.url}/" in result.stdout
    assert f"skillpm install aws-env --registry {s3.url}/" in result.stdout
    assert sorted(s3.objects()) == [
        s3.key("index.json"),
        s3.key("index/aws-env.json"),
        s3.key("packages/aws-env/aws-env-1.0.0.tar.gz"),
    ]
    archive = s3.read("packages/aws-env/aws-env-1.0.0.tar.gz")
    entry = s3.index("aws-env")["versions"]["1.0.0"]
    assert entry["archive"] == "packages/aws-env/aws-env-1.0.0.tar.gz"
    assert entry["archive-sha256"] == hashlib.sha256(archive).hexdigest()
    assert "path" not in entry
    # The same bytes `skillpm pack` writes for the folder.
    packed = cli("pack", tmp_path / "src-aws-env-1.0.0", "--out-dir", tmp_path / "packed")
    assert packed.exit_code == 0, packed.output
    assert (tmp_path / "packed/aws-env-1.0.0.tar.gz").read_bytes() == archive
    full = json.loads(s3.read("index.json"))
    assert full["packages"]["aws-env"]["versions"]["1.0.0"] == entry
    head = s3.head("packages/aws-env/aws-env-1.0.0.tar.gz")
    assert head["ContentType"] == "application/gzip"
    assert head["CacheControl"] == "public, max-age=31536000, immutable"
    for rel in ("index/aws-env.json", "index.json"):
        head = s3.head(rel)
        assert (head["ContentType"], head["CacheControl"]) == (
            "application/json",
            "public, max-age=300",
        )


def test_install_from_s3_locks_the_url_and_integrity(
    cli: Cli, s3: Bucket, tmp_path: Path, project: Path
) -> None:
    assert publish(cli, s3, tmp_path, "aws-env").exit_code == 0
    result = publish(cli, s3, tmp_path, "cdk-kit", dependencies={"aws-env": "^1.0"})
    assert result.exit_code == 0, result.output
    assert "to a new registry" not in result.stdout
    result = cli("install", "cdk-kit", "--registry", s3.url, cwd=project)
    assert result.exit_code == 0, result.output
    assert (project / ".claude/skills/cdk-kit/SKILL.md").is_file()
    assert (project / ".claude/skills/aws-env/SKILL.md").is_file()
    lock = load_lock(project / "skills.lock")
    assert lock is not None
    for pkg in lock.packages:
        assert pkg.registry == s3.url
        assert pkg.integrity == s3.index(pkg.name)["versions"]["1.0.0"]["integrity"]
    assert s3.url in (project / "skills.yaml").read_text()
    listed = cli("registry", "list", "--json", cwd=project)
    assert {"name": "team", "url": s3.url, "kind": "s3"} in json.loads(listed.stdout)["registries"]


def test_a_dry_run_reads_but_uploads_nothing(cli: Cli, s3: Bucket, tmp_path: Path) -> None:
    source = make_package(tmp_path / "src", "aws-env")
    result = cli("publish", source, "--registry", s3.url, "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"Would publish aws-env 1.0.0 to {s3.url}/ (a new registry) (dry run, nothing " in (
        result.stdout
    )
    assert s3.objects() == {}
    assert {r.method for r in s3.requests()} <= {"GET", "PUT"}  # PUT: the fixture's bucket
    assert [r for r in s3.requests() if r.method == "PUT" and r.key] == []


def test_a_published_version_is_immutable(cli: Cli, s3: Bucket, tmp_path: Path) -> None:
    assert publish(cli, s3, tmp_path, "aws-env").exit_code == 0
    before = s3.objects()
    other = make_package(tmp_path / "other", "aws-env", files={"extra.md": "changed"})
    result = cli("publish", other, "--registry", s3.url)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: aws-env 1.0.0 is already published in registry {s3.url}/; versions are "
        "immutable, so bump the version in skillpm.yaml"
    )
    assert s3.objects() == before


def test_yank_and_unyank(cli: Cli, s3: Bucket, tmp_path: Path, project: Path) -> None:
    assert publish(cli, s3, tmp_path, "aws-env", "1.0.0").exit_code == 0
    assert publish(cli, s3, tmp_path, "aws-env", "1.1.0").exit_code == 0
    assert cli("install", "aws-env", "--registry", s3.url, cwd=project).exit_code == 0
    result = cli("yank", "aws-env", "1.1.0", "--reason", "wrong ids", "--registry", s3.url)
    assert result.exit_code == 0, result.output
    assert f"Yanked aws-env 1.1.0 in {s3.url}/" in result.stdout
    entry = s3.index("aws-env")["versions"]["1.1.0"]
    assert entry["yanked"] is True and entry["yank-reason"] == "wrong ids"
    full = json.loads(s3.read("index.json"))
    assert full["packages"]["aws-env"]["versions"]["1.1.0"]["yanked"] is True
    again = cli("yank", "aws-env", "1.1.0", "--registry", s3.url)
    assert "was already yanked" in again.stdout
    # A new project skips the yanked version; the one whose lock pins it keeps it.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    result = cli("install", "aws-env", "--registry", s3.url, "--refresh", cwd=fresh)
    assert result.exit_code == 0, result.output
    assert [(p.name, p.version) for p in load_lock(fresh / "skills.lock").packages] == [  # type: ignore[union-attr]
        ("aws-env", "1.0.0")
    ]
    shutil.rmtree(project / ".claude")
    result = cli("install", "--frozen", cwd=project)
    assert result.exit_code == 0, result.output
    assert (project / ".claude/skills/aws-env/SKILL.md").is_file()
    result = cli("unyank", "aws-env", "1.1.0", "--registry", s3.url)
    assert result.exit_code == 0, result.output
    assert s3.index("aws-env")["versions"]["1.1.0"]["yanked"] is False
    missing = cli("yank", "nope", "1.0.0", "--registry", s3.url)
    assert missing.exit_code == 1
    assert missing.stderr.strip() == f"error: registry {s3.url}/: no package named 'nope'"


def test_help_and_a_no_op_install_never_import_boto3(
    cli: Cli, s3: Bucket, tmp_path: Path, project: Path
) -> None:
    assert publish(cli, s3, tmp_path, "aws-env").exit_code == 0
    assert cli("install", "aws-env", "--registry", s3.url, cwd=project).exit_code == 0
    probe = (
        "import sys\n"
        "from skillpm.cli.entry import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "finally:\n"
        "    heavy = ('boto3', 'botocore', 'skillpm.registry.s3')\n"
        "    print('LOADED', [m for m in heavy if m in sys.modules])\n"
    )
    for args in (["--help"], ["install"]):
        proc = subprocess.run(
            [sys.executable, "-c", probe, *args],
            cwd=project,
            env={**os.environ, "PYTHONPATH": str(SRC)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert "LOADED []" in proc.stdout, proc.stdout + proc.stderr
