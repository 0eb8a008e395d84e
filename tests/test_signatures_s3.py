"""Signed versions on an s3:// registry (moto's S3 server on 127.0.0.1): publish --sign writes
the signature into the bucket's index files, ``skillpm sign`` adds one with a conditional
write, and an install from the bucket verifies them."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.helpers import Cli
from tests.s3helpers import Bucket
from tests.signhelpers import (
    allowed_signers,
    fingerprint,
    publish,
    refused,
    trusting_project,
)


def test_s3_signed_publish_cosign_and_verified_install(
    cli: Cli, s3: Bucket, tmp_path: Path, keys: dict[str, Path]
) -> None:
    publish(cli, tmp_path, s3.url, "1.0.0", "--sign", keys["alice"])
    publish(cli, tmp_path, s3.url, "2.0.0")
    archive = s3.read("packages/base/base-1.0.0.tar.gz")
    result = cli("sign", "base", "1.0.0", "--registry", s3.url, "--key", keys["bob"])
    assert result.exit_code == 0, result.output
    assert fingerprint(keys["bob"]) in result.stdout
    assert len(s3.index("base")["versions"]["1.0.0"]["signatures"]) == 2
    full = json.loads(s3.read("index.json"))
    assert full["packages"]["base"]["versions"]["1.0.0"] == s3.index("base")["versions"]["1.0.0"]
    assert s3.read("packages/base/base-1.0.0.tar.gz") == archive  # bytes untouched

    signers = allowed_signers(tmp_path / "allowed_signers", keys, "bob")
    project = trusting_project(tmp_path / "project", s3.url, signers)
    result = cli("install", cwd=project)
    assert result.exit_code == 0, result.output
    lock = yaml.safe_load((project / "skills.lock").read_text())
    assert [s["principal"] for s in lock["packages"][0]["signers"]] == ["bob@example.com"]
    unsigned = trusting_project(tmp_path / "unsigned", s3.url, signers, {"base": "^2"})
    line = refused(cli, unsigned, "install")
    assert "base 2.0.0" in line and "is not signed" in line
