"""Shared fixtures: an isolated home and cache, the real CLI, and tree builders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.helpers import Cli

if TYPE_CHECKING:  # moto is imported only by the tests that start it
    from tests.s3helpers import Bucket, MotoS3


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never touch the real home, cache or git config."""
    home = tmp_path_factory.mktemp("home")
    # A command run without -C must never write into the checkout.
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SKILLPM_CACHE_DIR", str(home / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Test\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n"
        '[protocol "file"]\n\tallow = always\n'
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in (
        "NO_COLOR",
        "SKILLPM_REGISTRY",
        "SKILLPM_POLICY",  # a managed policy only where a test sets one
        "GIT_DIR",
        "GIT_WORK_TREE",
        # doctor reads Claude Code's Bedrock settings from the environment too
        "CLAUDE_CODE_USE_BEDROCK",
        "AWS_REGION",
        "AWS_BEARER_TOKEN_BEDROCK",
        "ANTHROPIC_MODEL",
    ):
        monkeypatch.delenv(var, raising=False)
    os.umask(0o022)
    return home


@pytest.fixture
def cli() -> Cli:
    return Cli()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    """moto's S3 server, started once for the session by the first test that needs it."""
    from tests.s3helpers import MotoS3

    with MotoS3() as server:
        yield server


@pytest.fixture
def s3(moto_s3: MotoS3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Bucket:
    """An empty bucket of its own, with boto3 pointed at moto through the environment."""
    from tests.s3helpers import use_bucket

    return use_bucket(moto_s3, monkeypatch, tmp_path)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """alice, bob and mallory: real ed25519 keys, made once per test module."""
    from tests.signhelpers import make_keys

    return make_keys(tmp_path_factory.mktemp("keys"))
