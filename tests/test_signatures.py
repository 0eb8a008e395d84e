"""Signed versions end to end: real ed25519 keys from ssh-keygen, real folder, git and
static-site registries, the real CLI. Each refusal names the package, the version and the
signer in one line and leaves the project untouched."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers import Cli, empty_git_repo, git, make_package, modules_loaded, snapshot
from tests.signhelpers import (
    allowed_signers,
    fingerprint,
    index_entry,
    publish,
    refused,
    trusting_project,
)
from tests.sitehelpers import SiteServer

# -- folder registries -------------------------------------------------------------------


def test_signed_publish_then_verified_install_records_the_signer(
    cli: Cli, tmp_path: Path, keys: dict[str, Path]
) -> None:
    registry = tmp_path / "registry"
    publish(cli, tmp_path, str(registry), "1.0.0", "--sign", keys["alice"])
    [signature] = index_entry(registry / "index.json", "1.0.0")["signatures"]  # type: ignore[misc]
    assert signature["kind"] == "ssh"
    signers = allowed_signers(tmp_path / "allowed_signers", keys, "alice")
    project = trusting_project(tmp_path / "project", str(registry), signers)

    result = cli("install", cwd=project)
    assert result.exit_code == 0, result.output
    assert (project / ".claude/skills/base/SKILL.md").is_file()
    lock = yaml.safe_load((project / "skills.lock").read_text())
    expected = {"principal": "alice@example.com", "key": fingerprint(keys["alice"])}
    assert lock["packages"][0]["signers"] == [expected]

    listed = json.loads(cli("list", "--json", cwd=project).stdout)
    assert listed["packages"][0]["signers"] == [expected]
    info = json.loads(cli("info", "base", "--json", cwd=project).stdout)
    assert info["versions"][0]["signers"] == [{**expected, "valid": True}]
    assert "signed by:    alice@example.com" in cli("info", "base", cwd=project).stdout

    # The stored signature is a plain SSHSIG: OpenSSH itself verifies it over the statement.
    from skillpm.signing.sshsig import parse

    armoured = "-----BEGIN SSH SIGNATURE-----\n{}\n-----END SSH SIGNATURE-----\n"
    sig = tmp_path / "sig"
    sig.write_text(armoured.format(parse(signature["signature"]).encoded))
    integrity = index_entry(registry / "index.json", "1.0.0")["integrity"]
    statement = f"skillpm-version-statement-v1\nname base\nversion 1.0.0\nintegrity {integrity}\n"
    check = subprocess.run(
        [
            "ssh-keygen",
            "-Y",
            "verify",
            "-f",
            signers,
            "-I",
            "alice@example.com",
            "-n",
            "skillpm",
            "-s",
            sig,
        ],
        input=statement,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr


def test_cosign_adds_a_signature_without_changing_the_package(
    cli: Cli, tmp_path: Path, keys: dict[str, Path]
) -> None:
    registry = tmp_path / "registry"
    publish(cli, tmp_path, str(registry), "1.0.0", "--sign", keys["alice"])
    files = snapshot(registry / "packages")
    result = cli("sign", "base", "1.0.0", "--registry", registry, "--key", keys["bob"])
    assert result.exit_code == 0, result.output
    assert fingerprint(keys["bob"]) in result.stdout
    assert snapshot(registry / "packages") == files
    assert len(index_entry(registry / "index.json", "1.0.0")["signatures"]) == 2  # type: ignore[arg-type]

    again = cli("sign", "base", "1.0.0", "--registry", registry, "--key", keys["bob"])
    assert again.exit_code == 1 and "already signed by" in again.stderr

    # Trusting bob alone (a key rotation) is enough, and the lock names bob.
    signers = allowed_signers(tmp_path / "allowed_signers", keys, "bob")
    project = trusting_project(tmp_path / "project", str(registry), signers)
    assert cli("install", cwd=project).exit_code == 0
    lock = yaml.safe_load((project / "skills.lock").read_text())
    assert [s["principal"] for s in lock["packages"][0]["signers"]] == ["bob@example.com"]


def test_a_key_outside_the_allowed_signers_is_refused(
    cli: Cli, tmp_path: Path, keys: dict[str, Path]
) -> None:
    registry = tmp_path / "registry"
    publish(cli, tmp_path, str(registry), "1.0.0", "--sign", keys["mallory"])
    signers = allowed_signers(tmp_path / "allowed_signers", keys, "alice", "bob")
    project = trusting_project(tmp_path / "project", str(registry), signers)
    line = refused(cli, project, "install")
    assert "base 1.0.0" in line and fingerprint(keys["mallory"]) in line
    assert "not in the allowed signers" in line


def test_an_unsigned_version_is_refused_where_trust_is_configured(
    cli: Cli, tmp_path: Path, keys: dict[str, Path]
) -> None:
    registry = tmp_path / "registry"
    publish(cli, tmp_path, str(registry), "1.0.0")
    signers = allowed_signers(tmp_path / "allowed_signers", keys, "alice")
    project = trusting_project(tmp_path / "project", str(registry), signers)
    line = refused(cli, project, "install")
    assert "base 1.0.0" in line and "is not signed" in line
    # Without trust configured the same registry installs as before, recording no signer.
    plain = tmp_path / "plain"
    plain.mkdir()
    assert cli("install", "base", "--registry", registry, cwd=plain).exit_code == 0
    assert "signers" not in (plain / "skills.lock").read_text()


def test_a_signature_copied_from_another_version_is_refused(
    cli: Cli, tmp_path: Path, keys: dict[str, Path]
) -> None:
    registry = tmp_path / "registry"
    publish(cli, tmp_path, str(registry), "1.0.0", "--sign", keys["alice"])
    publish(cli, tmp_path, str(registry), "1.1.0")
    index = json.loads((registry / "index.json").read_text())
    versions = index["packages"]["base"]["versions"]
    versions["1.1.0"]["signatures"] = versions["1.0.0"]["signatures"]
    (registry / "index.json").write_text(json.dumps(index))
    signers = allowed_signers(tmp_path / "allowed_signers", keys, "alice")
    project = trusting_project(tmp_path / "project", str(registry), signers)
    line = refused(cli, project, "install")
    assert "base 1.1.0" in line and "alice@example.com" in line
    assert "over another statement" in line


def test_a_signer_swapped_after_the_lock_is_refused(
    cli: Cli, tmp_path: Path, keys: dict[str, Path]
) -> None:
    registry = tmp_path / "registry"
    publish(cli, tmp_path, str(registry), "1.0.0", "--sign", keys["alice"])
    signers = allowed_signers(tmp_path / "allowed_signers", keys, "alice", "bob")
    project = trusting_project(tmp_path / "project", str(registry), signers)
    assert cli("install", cwd=project).exit_code == 0
    # Someone with write access replaces alice's signature by bob's (also allowed).
    index = json.loads((registry / "index.json").read_text())
    index["packages"]["base"]["versions"]["1.0.0"].pop("signatures")
    (registry / "index.json").write_text(json.dumps(index))
    assert cli("sign", "base", "1.0.0", "--registry", registry, "--key", keys["bob"]).exit_code == 0
    # A fresh clone of the project (lock committed, nothing installed) installs --frozen.
    clone = tmp_path / "clone"
    clone.mkdir()
    for name in ("skills.yaml", "skills.lock"):
        shutil.copy(project / name, clone / name)
    line = refused(cli, clone, "install", "--frozen")
    assert "base 1.0.0" in line and "swapped" in line
    assert "bob@example.com" in line and "alice@example.com" in line


# -- git and static-site registries ------------------------------------------------------


def test_git_registry_signed_publish_cosign_and_frozen_install(
    cli: Cli, tmp_path: Path, keys: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = empty_git_repo(tmp_path / "server")
    publish(cli, tmp_path, remote.url, "1.0.0", "--sign", keys["alice"])
    result = cli("sign", "base", "1.0.0", "--registry", remote.url, "--key", keys["bob"])
    assert result.exit_code == 0, result.output
    assert git("log", "-1", "--format=%s", cwd=remote.bare) == "sign base 1.0.0"
    assert len(remote.index()["packages"]["base"]["versions"]["1.0.0"]["signatures"]) == 2

    signers = allowed_signers(tmp_path / "allowed_signers", keys, "alice")
    project = trusting_project(tmp_path / "project", remote.url, signers)
    assert cli("install", cwd=project).exit_code == 0
    lock = yaml.safe_load((project / "skills.lock").read_text())
    assert lock["packages"][0]["signers"][0]["principal"] == "alice@example.com"

    # A clone on another machine (empty cache) verifies at the locked commit, then installs.
    monkeypatch.setenv("SKILLPM_CACHE_DIR", str(tmp_path / "other-cache"))
    clone = tmp_path / "clone"
    clone.mkdir()
    for name in ("skills.yaml", "skills.lock"):
        shutil.copy(project / name, clone / name)
    result = cli("install", "--frozen", cwd=clone)
    assert result.exit_code == 0, result.output
    assert (clone / "skills.lock").read_bytes() == (project / "skills.lock").read_bytes()

    # The branch moves on with an unsigned version: the lock's commit still verifies, while a
    # resolution that picks the new version is refused.
    publish(cli, tmp_path, remote.url, "1.1.0")
    shutil.rmtree(clone / ".claude")
    assert cli("install", "--frozen", cwd=clone).exit_code == 0
    line = refused(cli, clone, "update")
    assert "base 1.1.0" in line and "is not signed" in line


def test_static_site_carries_signatures_and_install_verifies_them(
    cli: Cli, tmp_path: Path, keys: dict[str, Path]
) -> None:
    registry = tmp_path / "registry"
    publish(cli, tmp_path, str(registry), "1.0.0", "--sign", keys["alice"])
    publish(cli, tmp_path, str(registry), "2.0.0")
    site = tmp_path / "site"
    assert cli("registry", "build-static", registry, site).exit_code == 0
    per_package = json.loads((site / "index/base.json").read_text())
    assert per_package["versions"]["1.0.0"]["signatures"]
    signers = allowed_signers(tmp_path / "allowed_signers", keys, "alice")
    with SiteServer(site) as server:
        project = trusting_project(tmp_path / "project", server.url, signers)
        result = cli("install", cwd=project)
        assert result.exit_code == 0, result.output
        lock = yaml.safe_load((project / "skills.lock").read_text())
        assert lock["packages"][0]["signers"][0]["principal"] == "alice@example.com"
        # Verifying costs no request of its own: the index file resolution read serves it.
        assert [h.path for h in server.hits].count("index/base.json") == 1
        other = trusting_project(tmp_path / "other", server.url, signers, {"base": "^2"})
        line = refused(cli, other, "install")
        assert "base 2.0.0" in line and "is not signed" in line
        # A site is read-only: signing goes to the registry it is built from.
        denied = cli("sign", "base", "2.0.0", "--registry", server.url, "--key", keys["alice"])
        assert denied.exit_code == 1 and "static site" in denied.stderr


# -- bad input ----------------------------------------------------------------------------


def test_signing_errors_are_one_line_and_change_nothing(
    cli: Cli, tmp_path: Path, keys: dict[str, Path]
) -> None:
    registry = tmp_path / "registry"
    publish(cli, tmp_path, str(registry), "1.0.0")
    before = snapshot(registry)
    cases = [
        (["sign", "base", "1.0.0", "--key", tmp_path / "nokey"], "does not exist"),
        (["sign", "base", "9.9.9", "--key", keys["alice"]], "has no version 9.9.9"),
        (["sign", "nope", "1.0.0", "--key", keys["alice"]], "no package named 'nope'"),
    ]
    for args, message in cases:
        result = cli(*args, "--registry", registry)
        assert result.exit_code == 1 and message in result.stderr, result.output
        assert len(result.stderr.strip().splitlines()) == 1
    (tmp_path / "not-a-key").write_text("hello\n")
    source = make_package(tmp_path / "src-2", "base", "2.0.0")
    result = cli("publish", source, "--registry", registry, "--sign", tmp_path / "not-a-key")
    assert result.exit_code == 1 and "ssh-keygen -Y sign" in result.stderr, result.output
    assert snapshot(registry) == before


def test_help_and_noop_install_do_not_import_crypto_or_sbom_libraries(
    cli: Cli, tmp_path: Path, keys: dict[str, Path]
) -> None:
    registry = tmp_path / "registry"
    publish(cli, tmp_path, str(registry), "1.0.0", "--sign", keys["alice"])
    signers = allowed_signers(tmp_path / "allowed_signers", keys, "alice")
    project = trusting_project(tmp_path / "project", str(registry), signers)
    assert cli("install", cwd=project).exit_code == 0
    for args in (["--help"], ["install"]):
        loaded, proc = modules_loaded(args, project, ("cryptography", "cyclonedx", "spdx_tools"))
        assert loaded == [], proc.stdout + proc.stderr
    assert "Nothing to do" in proc.stdout


def test_a_locked_version_the_registry_no_longer_lists_or_lists_otherwise_is_refused(
    cli: Cli, tmp_path: Path, keys: dict[str, Path]
) -> None:
    registry = tmp_path / "registry"
    publish(cli, tmp_path, str(registry), "1.0.0", "--sign", keys["alice"])
    signers = allowed_signers(tmp_path / "allowed_signers", keys, "alice")
    project = trusting_project(tmp_path / "project", str(registry), signers)
    assert cli("install", cwd=project).exit_code == 0
    shutil.rmtree(project / ".claude")
    original = (registry / "index.json").read_text()
    index = json.loads(original)
    index["packages"]["base"]["versions"]["1.0.0"]["integrity"] = "sha256:" + "2" * 64
    (registry / "index.json").write_text(json.dumps(index))
    line = refused(cli, project, "install", "--frozen")
    assert "base 1.0.0" in line and "the registry's entry has integrity" in line
    index["packages"]["base"]["versions"] = {}
    (registry / "index.json").write_text(json.dumps(index))
    line = refused(cli, project, "install", "--frozen")
    assert "does not list it" in line


def test_a_signed_dry_run_shows_the_key_and_writes_nothing(
    cli: Cli, tmp_path: Path, keys: dict[str, Path]
) -> None:
    registry = tmp_path / "registry"
    publish(cli, tmp_path, str(registry), "1.0.0")
    before = snapshot(registry)
    source = make_package(tmp_path / "src-2", "base", "2.0.0")
    result = cli("publish", source, "--registry", registry, "--sign", keys["alice"], "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"signed by     {fingerprint(keys['alice'])}" in result.output
    assert snapshot(registry) == before


def test_a_changed_allowed_signers_file_is_checked_again_by_a_plain_install(
    cli: Cli, tmp_path: Path, keys: dict[str, Path]
) -> None:
    registry = tmp_path / "registry"
    publish(cli, tmp_path, str(registry), "1.0.0", "--sign", keys["alice"])
    signers = allowed_signers(tmp_path / "allowed_signers", keys, "alice")
    project = trusting_project(tmp_path / "project", str(registry), signers)
    assert cli("install", cwd=project).exit_code == 0
    assert "Nothing to do" in cli("install", cwd=project).output
    allowed_signers(signers, keys, "bob")  # alice's key is withdrawn
    line = refused(cli, project, "install")
    assert "base 1.0.0" in line and "not in the allowed signers" in line


def test_a_key_with_a_passphrase_says_how_to_use_the_agent(cli: Cli, tmp_path: Path) -> None:
    """No terminal (CI): ssh-keygen cannot ask for the passphrase. The error says so and
    points at ssh-agent, instead of 'incorrect passphrase' for one never typed."""
    key = tmp_path / "locked"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "s3cret", "-f", key], check=True)
    registry = tmp_path / "registry"
    package = make_package(tmp_path / "src", "locked-pkg", "1.0.0")
    result = cli("publish", package, "--registry", registry, "--sign", key)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "passphrase" in result.stderr and "ssh-add" in result.stderr
    assert not (registry / "index.json").exists()
