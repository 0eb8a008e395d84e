"""The signature formats at their boundaries: allowed-signers files, SSHSIG over every key
type, the lock's signers, skills.yaml registry entries and index signatures; bad input is
one line and writes nothing."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers import Cli
from tests.signhelpers import (
    allowed_signers,
    fingerprint,
    publish,
    refused,
    trusting_project,
)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("alice@example.com ssh-ed25519\n", "expected 'principals [options] keytype key'"),
        ("alice@example.com cert-authority ssh-ed25519 AAAA\n", "cert-authority"),
        ('alice@example.com valid-before="2001" ssh-ed25519 AAAA\n', "bad time"),
        ("alice@example.com ssh-ed25519 not*base64\n", "not base64"),
        ("alice@example.com no-touch-required ssh-ed25519 AAAA\n", "unknown option"),
        ('"alice@example.com ssh-ed25519 AAAA\n', "unbalanced quote"),
    ],
)
def test_a_bad_allowed_signers_file_is_one_line(
    cli: Cli, tmp_path: Path, keys: dict[str, Path], content: str | None, message: str
) -> None:
    registry = tmp_path / "registry"
    publish(cli, tmp_path, str(registry), "1.0.0", "--sign", keys["alice"])
    signers = tmp_path / "allowed_signers"
    if content is not None:
        signers.write_text(content)
    project = trusting_project(tmp_path / "project", str(registry), signers)
    line = refused(cli, project, "install")
    assert message in line


def test_allowed_signers_options_namespaces_and_validity(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    import datetime as dt

    from skillpm.signing.allowed_signers import parse

    kind, blob = (keys["alice"].parent / "alice.pub").read_text().split()[:2]
    trust = parse(
        f'"a@x,b@x" namespaces="git,skill*" {kind} {blob} comment\n'
        f'git-only namespaces="git" {kind} {blob}\n'
        f'expired valid-before="20200101Z" {kind} {blob}\n',
        "allowed",
    )
    import base64

    key = base64.b64decode(blob)
    assert trust.principal_of(key) == "a@x,b@x"
    late = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert parse(f'x valid-before="20200101Z" {kind} {blob}\n', "f").principal_of(key, late) is None
    assert parse(f'x namespaces="git" {kind} {blob}\n', "f").principal_of(key) is None


@pytest.mark.parametrize("kind", ["ecdsa", "rsa"])
def test_ecdsa_and_rsa_signatures_verify_in_process(tmp_path: Path, kind: str) -> None:
    from skillpm.signing.sign import sign
    from skillpm.signing.sshsig import verify

    key = tmp_path / kind
    bits = ["-b", "2048"] if kind == "rsa" else []
    subprocess.run(["ssh-keygen", "-q", "-t", kind, *bits, "-N", "", "-f", key], check=True)
    sig = sign(b"statement\n", key)
    assert sig.fingerprint == fingerprint(key)
    assert verify(sig, b"statement\n", "skillpm")
    assert not verify(sig, b"statement!\n", "skillpm")
    assert not verify(sig, b"statement\n", "git")


def test_lock_signers_round_trip_through_the_fast_reader_and_yaml(tmp_path: Path) -> None:
    from skillpm.formats.project_files import (
        LockedPackage,
        Lockfile,
        dump_lock,
        parse_lock,
        read_generated_lock,
    )
    from skillpm.formats.signatures import Signer

    signers = (Signer('Zoë "ops" <z@x>', "SHA256:b"), Signer("alice@example.com", "SHA256:a+/"))
    lock = Lockfile(
        "sha256:" + "0" * 64,
        (LockedPackage("base", "1.0.0", "../r", "sha256:" + "1" * 64, signers=signers),),
    )
    text = dump_lock(lock).decode()
    fast = read_generated_lock(text)
    assert fast is not None
    assert parse_lock(fast, "skills.lock") == parse_lock(yaml.safe_load(text), "skills.lock")
    assert parse_lock(fast, "skills.lock").packages[0].signers == tuple(sorted(signers))


def test_an_edited_lock_with_bad_signers_is_one_line(cli: Cli, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "skills.yaml").write_text("dependencies: {}\n")
    (project / "skills.lock").write_text(
        "lock-version: 1\nmanifest-hash: x\npackages:\n- name: base\n  version: 1.0.0\n"
        f"  registry: r\n  integrity: sha256:{'1' * 64}\n  signers: [alice]\n"
    )
    result = cli("install", "--frozen", cwd=project)
    assert result.exit_code == 1
    assert "signers must be a list of {principal, key}" in result.stderr


@pytest.mark.parametrize(
    ("team", "message"),
    [
        ({"url": "../r", "allowed-signer": "f"}, "unknown key 'allowed-signer'"),
        ({"url": "../r", "allowed-signers": 3}, "allowed-signers must be a file path"),
        ({"allowed-signers": "f"}, "expected a path or URL"),
    ],
)
def test_a_bad_registry_entry_in_skills_yaml_is_one_line(
    cli: Cli, tmp_path: Path, team: dict[str, object], message: str
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "skills.yaml").write_text(yaml.safe_dump({"registries": {"team": team}}))
    line = refused(cli, project, "install")
    assert "registries: team" in line and message in line


@pytest.mark.parametrize(
    ("signatures", "message"),
    [
        ("not a list", "signatures must be a list"),
        ([{"signature": "x"}], 'each signature needs a "kind"'),
        ([{"kind": "ssh", "signature": 7}], "must be a base64 string"),
        ([{"kind": "ssh", "signature": "!!!"}], "signature is not base64"),
        ([{"kind": "ssh", "signature": "AAAA"}], "malformed SSH signature"),
        ([{"kind": "sigstore", "bundle": {}}], "carries only sigstore signatures"),  # to come
    ],
)
def test_malformed_or_unknown_signatures_in_an_index_are_refused(
    cli: Cli, tmp_path: Path, keys: dict[str, Path], signatures: object, message: str
) -> None:
    registry = tmp_path / "registry"
    publish(cli, tmp_path, str(registry), "1.0.0")
    index = json.loads((registry / "index.json").read_text())
    index["packages"]["base"]["versions"]["1.0.0"]["signatures"] = signatures
    (registry / "index.json").write_text(json.dumps(index))
    signers = allowed_signers(tmp_path / "allowed_signers", keys, "alice")
    project = trusting_project(tmp_path / "project", str(registry), signers)
    line = refused(cli, project, "install")
    assert "base 1.0.0" in line and message in line


@pytest.mark.parametrize("kind", ["ed25519", "ecdsa"])
def test_fido_key_signatures_verify_like_ssh_keygen_and_install(
    cli: Cli, tmp_path: Path, kind: str
) -> None:
    """Hardware keys sign in a format of their own; without hardware, an authenticator is
    played in software, and ssh-keygen -Y verify is the referee."""
    from skillpm.signing.sshsig import armoured_to_blob, parse_blob, verify
    from tests.signhelpers import fido_signature

    registry = tmp_path / "registry"
    publish(cli, tmp_path, str(registry), "1.0.0")
    index = json.loads((registry / "index.json").read_text())
    entry = index["packages"]["base"]["versions"]["1.0.0"]
    statement = (
        f"skillpm-version-statement-v1\nname base\nversion 1.0.0\nintegrity {entry['integrity']}\n"
    ).encode()
    key_line, armoured = fido_signature(kind, statement)
    (tmp_path / "sig").write_text(armoured)
    signers = tmp_path / "allowed_signers"
    signers.write_text(f"yubi@example.com {key_line}\n")
    check = subprocess.run(
        [
            "ssh-keygen",
            "-Y",
            "verify",
            "-f",
            signers,
            "-I",
            "yubi@example.com",
            "-n",
            "skillpm",
            "-s",
            tmp_path / "sig",
        ],
        input=statement,
        capture_output=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    sig = parse_blob(armoured_to_blob(armoured))
    assert verify(sig, statement, "skillpm") and not verify(sig, statement + b"x", "skillpm")

    entry["signatures"] = [{"kind": "ssh", "signature": sig.encoded}]
    (registry / "index.json").write_text(json.dumps(index))
    project = trusting_project(tmp_path / "project", str(registry), signers)
    result = cli("install", cwd=project)
    assert result.exit_code == 0, result.output
    (tmp_path / "yubi.pub").write_text(key_line + "\n")
    lock = yaml.safe_load((project / "skills.lock").read_text())
    assert lock["packages"][0]["signers"] == [
        {"principal": "yubi@example.com", "key": fingerprint(tmp_path / "yubi")}
    ]
