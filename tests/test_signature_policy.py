"""``signatures: {required: true, allowed-signers: path}`` in skillpm-policy.yaml: every
package, from any registry, signed by a key of the policy's file (docs/signatures.md),
on top of (never instead of) a registry's own allowed signers."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.helpers import Cli
from tests.signhelpers import (
    allowed_signers,
    publish,
    refused,
    trusting_project,
)


def managed_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> Path:
    folder = tmp_path / "etc-skillpm"
    folder.mkdir(exist_ok=True)
    path = folder / "policy.yaml"
    path.write_text(body)
    monkeypatch.setenv("SKILLPM_POLICY", str(path))
    return path


def plain_project(root: Path, registry: Path, deps: dict[str, str]) -> Path:
    root.mkdir()
    manifest = {"registries": {"team": str(registry)}, "dependencies": deps}
    (root / "skills.yaml").write_text(yaml.safe_dump(manifest))
    return root


def test_a_policy_requires_signatures_from_every_registry(
    cli: Cli, tmp_path: Path, keys: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = tmp_path / "registry"
    publish(cli, tmp_path, str(registry), "1.0.0", "--sign", keys["alice"])
    publish(cli, tmp_path, str(registry), "2.0.0")
    policy_path = managed_policy(
        tmp_path,
        monkeypatch,
        "# the security team's\nsignatures:\n  required: true\n  allowed-signers: signers\n",
    )
    allowed_signers(policy_path.parent / "signers", keys, "alice")  # beside the policy

    signed = plain_project(tmp_path / "signed", registry, {"base": "^1"})
    result = cli("install", cwd=signed)
    assert result.exit_code == 0, result.output
    lock = yaml.safe_load((signed / "skills.lock").read_text())
    assert lock["packages"][0]["signers"][0]["principal"] == "alice@example.com"

    unsigned = plain_project(tmp_path / "unsigned", registry, {"base": "^2"})
    line = refused(cli, unsigned, "install")
    assert "base 2.0.0" in line and "is not signed" in line
    assert f"the policy ({policy_path}:4)" in line
    # The built-in registry's packages are not signed: such a policy refuses them too.
    line = refused(cli, signed, "install", "cdk-patterns")
    assert "cdk-patterns" in line and "is not signed" in line


def test_policy_and_registry_signers_must_both_be_satisfied(
    cli: Cli, tmp_path: Path, keys: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = tmp_path / "registry"
    publish(cli, tmp_path, str(registry), "1.0.0", "--sign", keys["bob"])
    policy_path = managed_policy(
        tmp_path,
        monkeypatch,
        f"signatures:\n  required: true\n  allowed-signers: {tmp_path / 'policy-signers'}\n",
    )
    allowed_signers(tmp_path / "policy-signers", keys, "alice")
    team = allowed_signers(tmp_path / "team-signers", keys, "bob")
    project = trusting_project(tmp_path / "project", str(registry), team)
    line = refused(cli, project, "install")
    assert "not signed by a signer the policy" in line and str(policy_path) in line
    # Co-signed by alice, it satisfies both; the lock records both signers.
    cosign = cli("sign", "base", "1.0.0", "--registry", registry, "--key", keys["alice"])
    assert cosign.exit_code == 0, cosign.output
    result = cli("install", cwd=project)
    assert result.exit_code == 0, result.output
    lock = yaml.safe_load((project / "skills.lock").read_text())
    principals = [s["principal"] for s in lock["packages"][0]["signers"]]
    assert principals == ["alice@example.com", "bob@example.com"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("signatures:\n  required: yes-please\n", "signatures.required: expected true or false"),
        ("signatures:\n  required: true\n", "needs signatures.allowed-signers"),
        ("signatures:\n  allowed-signers: ''\n", "expected a file path"),
        ("signatures:\n  required: true\n  allowed-signers: nope\n", "does not exist"),
    ],
)
def test_a_bad_signatures_section_is_one_line(
    cli: Cli,
    tmp_path: Path,
    keys: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    body: str,
    message: str,
) -> None:
    registry = tmp_path / "registry"
    publish(cli, tmp_path, str(registry), "1.0.0", "--sign", keys["alice"])
    managed_policy(tmp_path, monkeypatch, body)
    project = plain_project(tmp_path / "project", registry, {"base": "^1"})
    line = refused(cli, project, "install")
    assert message in line


def test_audit_flags_a_locked_package_no_policy_signer_vouches_for(
    cli: Cli, tmp_path: Path, keys: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    registry = tmp_path / "registry"
    publish(cli, tmp_path, str(registry), "1.0.0", "--sign", keys["alice"])
    project = plain_project(tmp_path / "project", registry, {"base": "^1"})
    assert cli("install", cwd=project).exit_code == 0  # before the policy: no signer recorded
    policy_path = managed_policy(
        tmp_path,
        monkeypatch,
        "signatures:\n  required: true\n  allowed-signers: signers\n",
    )
    allowed_signers(policy_path.parent / "signers", keys, "alice")
    result = cli("audit", "--json", cwd=project)
    assert result.exit_code == 1, result.output
    [finding] = json.loads(result.stdout)["findings"]
    assert (finding["rule"], finding["package"], finding["file"]) == (
        "POLICY007",
        "base",
        "skills.lock",
    )
    assert f"the policy ({policy_path}:3)" in finding["message"]
    # An install verifies it and records alice: the audit passes.
    assert cli("install", "--frozen", cwd=project).exit_code == 0
    assert cli("audit", cwd=project).exit_code == 0
