"""An S3 registry's cost and its layout: a few requests per publish and install whatever the
bucket holds, the HTTPS side of the same objects, and the cache for --offline/--frozen."""

from __future__ import annotations

import shutil
import urllib.request
from pathlib import Path

from skillpm.formats.project_files import load_lock
from tests.helpers import Cli, make_package, make_registry
from tests.s3helpers import Bucket, big_site


def calls(s3: Bucket, since: int) -> list[str]:
    """The requests made to the bucket after the first ``since``, as "METHOD key"."""
    prefix = "team/"
    return [
        f"{r.method} {r.key.removeprefix(prefix)}{'?' + r.query if r.query else ''}"
        for r in s3.requests()[since:]
    ]


def test_publish_and_install_in_a_bucket_of_2000_packages_make_a_few_requests(
    cli: Cli, s3: Bucket, tmp_path: Path, project: Path
) -> None:
    s3.seed(big_site(2000))

    source = make_package(tmp_path / "src", "newcomer", dependencies={"pkg-01234": "^1.0"})
    seen = len(s3.requests())
    result = cli("publish", source, "--registry", s3.url)
    assert result.exit_code == 0, result.output
    assert "is not in" not in result.output  # the dependency was found in index.json
    assert calls(s3, seen) == [
        "GET index/newcomer.json",  # not there: a new package
        "GET index.json",
        "PUT packages/newcomer/newcomer-1.0.0.tar.gz",
        "PUT index/newcomer.json",
        "PUT index.json",
    ]

    seen = len(s3.requests())
    result = cli("install", "newcomer", "--registry", s3.url, cwd=project)
    assert result.exit_code == 0, result.output
    assert sorted(calls(s3, seen)) == [
        "GET index/newcomer.json",
        "GET index/pkg-01234.json",
        "GET packages/newcomer/newcomer-1.0.0.tar.gz",
        "GET packages/pkg-01234/pkg-01234-1.0.0.tar.gz",
    ]
    assert (project / ".claude/skills/pkg-01234/SKILL.md").is_file()
    # The search index now lists 2,001 packages.
    result = cli("search", "newcomer", cwd=project)
    assert result.exit_code == 0 and "newcomer" in result.stdout, result.output


def test_the_same_objects_install_over_https(
    cli: Cli, s3: Bucket, tmp_path: Path, project: Path
) -> None:
    for name, deps in (("aws-env", {}), ("cdk-kit", {"aws-env": "^1.0"})):
        source = make_package(tmp_path / name, name, dependencies=deps)
        assert cli("publish", source, "--registry", s3.url).exit_code == 0
    assert cli("install", "cdk-kit", "--registry", s3.url, cwd=project).exit_code == 0
    # What CloudFront's origin access would be allowed: reading the objects.
    s3.policy("Allow", ["s3:GetObject"], "*")
    with urllib.request.urlopen(s3.https_url + "index/cdk-kit.json") as response:
        assert response.headers["Content-Type"] == "application/json"
        assert response.headers["Cache-Control"] == "public, max-age=300"
    with urllib.request.urlopen(s3.https_url + "packages/aws-env/aws-env-1.0.0.tar.gz") as response:
        assert response.headers["Content-Type"] == "application/gzip"
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    other = tmp_path / "over-https"
    other.mkdir()
    shutil.rmtree(Path.home() / "cache")  # nothing from the s3:// install: all fetched again
    result = cli("install", "cdk-kit", "--registry", s3.https_url, cwd=other)
    assert result.exit_code == 0, result.output
    by_s3 = load_lock(project / "skills.lock")
    by_https = load_lock(other / "skills.lock")
    assert by_s3 is not None and by_https is not None
    assert [(p.name, p.version, p.integrity) for p in by_s3.packages] == [
        (p.name, p.version, p.integrity) for p in by_https.packages
    ]
    assert {p.registry for p in by_https.packages} == {s3.https_url}
    for skill in ("aws-env", "cdk-kit"):
        mine = (project / f".claude/skills/{skill}/SKILL.md").read_bytes()
        assert (other / f".claude/skills/{skill}/SKILL.md").read_bytes() == mine


def test_offline_and_frozen_work_from_the_cache(
    cli: Cli, s3: Bucket, tmp_path: Path, project: Path
) -> None:
    make_registry(tmp_path / "local", [{"name": "aws-env"}])
    result = cli("registry", "build-static", tmp_path / "local", tmp_path / "site")
    assert result.exit_code == 0, result.output
    site = tmp_path / "site"
    s3.seed({p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*.*")})
    assert cli("install", "aws-env", "--registry", s3.url, cwd=project).exit_code == 0
    clone = tmp_path / "clone"
    clone.mkdir()
    for name in ("skills.yaml", "skills.lock"):
        shutil.copy(project / name, clone / name)
    seen = len(s3.requests())
    result = cli("install", "--frozen", "--offline", cwd=clone)
    assert result.exit_code == 0, result.output
    assert (clone / ".claude/skills/aws-env/SKILL.md").is_file()
    assert calls(s3, seen) == []
    # A cold cache offline: one line, and nothing asked of S3.
    shutil.rmtree(Path.home() / "cache")
    cold = tmp_path / "cold"
    cold.mkdir()
    for name in ("skills.yaml", "skills.lock"):
        shutil.copy(project / name, cold / name)
    result = cli("install", "--frozen", "--offline", cwd=cold)
    assert result.exit_code == 1
    assert "--offline forbids" in result.stderr and result.stderr.count("\n") == 1
    assert calls(s3, seen) == []
