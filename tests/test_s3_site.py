"""``registry build-static SRC s3://...``: the site a folder gets, uploaded where it differs."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import Cli, make_package, make_registry, publish_to
from tests.s3helpers import Bucket

PACKAGES = [{"name": "aws-env"}, {"name": "cdk-kit", "dependencies": {"aws-env": "^1.0"}}]


def puts(s3: Bucket, since: int) -> list[str]:
    return sorted(r.key.removeprefix("team/") for r in s3.requests()[since:] if r.method == "PUT")


def test_build_static_to_s3_uploads_what_changed(
    cli: Cli, s3: Bucket, tmp_path: Path, project: Path
) -> None:
    registry = make_registry(tmp_path / "registry", PACKAGES)
    result = cli("registry", "build-static", registry, s3.url)
    assert result.exit_code == 0, result.output
    assert f"Built static registry {s3.url} from {registry} (2 packages, 2 versions: " in (
        result.stdout
    )
    # The registry's 5 files and the catalog's 6 (index.html, 2 package pages, 3 assets).
    assert "11 objects uploaded, 0 unchanged" in result.stdout
    # Byte for byte the site build-static writes into a folder.
    assert cli("registry", "build-static", registry, tmp_path / "site").exit_code == 0
    site = {p.relative_to(tmp_path / "site").as_posix(): p.read_bytes()
            for p in (tmp_path / "site").rglob("*") if p.is_file()}  # fmt: skip
    assert sorted(s3.objects()) == sorted(s3.key(rel) for rel in site)
    for rel, data in site.items():
        assert s3.read(rel) == data, rel
    assert s3.head("packages/aws-env/aws-env-1.0.0.tar.gz")["CacheControl"] == (
        "public, max-age=31536000, immutable"
    )
    assert s3.head("index/aws-env.json")["ContentType"] == "application/json"
    assert s3.head("index.html")["ContentType"] == "text/html; charset=utf-8"
    assert s3.head("catalog/catalog.css")["ContentType"] == "text/css; charset=utf-8"

    seen = len(s3.requests())
    result = cli("registry", "build-static", registry, s3.url)
    assert result.exit_code == 0, result.output
    assert "0 objects uploaded, 11 unchanged" in result.stdout
    assert puts(s3, seen) == []

    publish_to(registry, make_package(tmp_path / "src", "aws-env", "1.1.0"))
    seen = len(s3.requests())
    result = cli("registry", "build-static", registry, s3.url)
    assert result.exit_code == 0, result.output
    assert puts(s3, seen) == [
        "catalog/packages/aws-env.html",
        "index.html",  # the list shows aws-env's latest version
        "index.json",
        "index/aws-env.json",
        "packages/aws-env/aws-env-1.1.0.tar.gz",
    ]
    result = cli("install", "cdk-kit", "--registry", s3.url, cwd=project)
    assert result.exit_code == 0, result.output
    assert "aws-env 1.1.0" in result.stdout


def test_build_static_to_s3_with_no_html_uploads_no_catalog(
    cli: Cli, s3: Bucket, tmp_path: Path
) -> None:
    registry = make_registry(tmp_path / "registry", PACKAGES[:1])
    result = cli("registry", "build-static", "--no-html", registry, s3.url)
    assert result.exit_code == 0, result.output
    assert sorted(s3.objects()) == sorted(
        s3.key(rel)
        for rel in ("index.json", "index/aws-env.json", "packages/aws-env/aws-env-1.0.0.tar.gz")
    )


def test_build_static_leaves_objects_it_did_not_make_and_honours_no_full_index(
    cli: Cli, s3: Bucket, tmp_path: Path
) -> None:
    registry = make_registry(tmp_path / "registry", PACKAGES[:1])
    assert cli("registry", "build-static", registry, s3.url).exit_code == 0
    direct = make_package(tmp_path / "direct", "direct-pkg")
    assert cli("publish", direct, "--registry", s3.url).exit_code == 0
    result = cli("registry", "build-static", registry, s3.url, "--no-full-index")
    assert result.exit_code == 0, result.output
    assert "2 objects in" in result.stderr and "left in place" in result.stderr
    assert s3.key("index/direct-pkg.json") in s3.objects()
    assert s3.key("index.json") not in s3.objects()
    # A publish keeps it that way: the registry has packages and no full index.
    later = make_package(tmp_path / "later", "later-pkg")
    assert cli("publish", later, "--registry", s3.url).exit_code == 0
    assert s3.key("index/later-pkg.json") in s3.objects()
    assert s3.key("index.json") not in s3.objects()


def test_build_static_refuses_other_targets_and_sources(
    cli: Cli, s3: Bucket, tmp_path: Path
) -> None:
    registry = make_registry(tmp_path / "registry", PACKAGES[:1])
    result = cli("registry", "build-static", registry, "https://example.com/site/")
    assert result.exit_code == 1
    assert "build-static writes a folder or an S3 location" in result.stderr
    result = cli("registry", "build-static", s3.url, tmp_path / "out")
    assert result.exit_code == 1
    assert "is already a static site" in result.stderr
    assert not (tmp_path / "out").exists()


def test_registry_verify_checks_every_archive_and_the_full_index(
    cli: Cli, s3: Bucket, tmp_path: Path
) -> None:
    for version in ("1.0.0", "1.1.0"):
        source = make_package(tmp_path / version, "aws-env", version)
        assert cli("publish", source, "--registry", s3.url).exit_code == 0
    result = cli("registry", "verify", s3.url)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"Verified 2 versions in {s3.url}: every integrity matches"
    s3.write("packages/aws-env/aws-env-1.0.0.tar.gz", b"not the archive")
    index = s3.index("aws-env")
    index["versions"]["1.1.0"]["description"] = "edited by hand"
    s3.write("index/aws-env.json", json.dumps(index).encode())
    result = cli("registry", "verify", s3.url)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(
        "error: aws-env 1.0.0: packages/aws-env/aws-env-1.0.0.tar.gz has sha256 "
    )
    assert lines[1] == "error: index.json: its entry for aws-env differs from index/aws-env.json"
    assert lines[2].startswith(f"error: registry {s3.url}: 2 problems in 2 versions; ")
