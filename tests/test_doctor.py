"""``skillpm doctor`` on real project folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import Cli, make_registry, snapshot, write_tree

ONLY_INVOKE = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "bedrock:InvokeModel",
            "Resource": "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-*",
        }
    ],
}


def _doctor(cli: Cli, project: Path) -> tuple[int, dict[str, object], str]:
    before = snapshot(project)
    text = cli("doctor", cwd=project)
    data = cli("doctor", "--json", cwd=project)
    assert text.exit_code == data.exit_code
    assert snapshot(project) == before  # doctor never writes
    return data.exit_code, json.loads(data.stdout), text.stdout


def _codes(data: dict[str, object]) -> list[str]:
    findings = data["findings"]
    assert isinstance(findings, list)
    return [f["code"] for f in findings]


@pytest.fixture
def installed(cli: Cli, project: Path, tmp_path: Path) -> Path:
    registry = make_registry(tmp_path / "registry", [{"name": "base"}])
    assert cli("install", "base", "--registry", registry, cwd=project).exit_code == 0
    return project


def test_a_healthy_project(cli: Cli, installed: Path) -> None:
    code, data, text = _doctor(cli, installed)
    assert code == 0
    assert data["findings"] == []
    assert data["summary"] == {
        "errors": 0,
        "warnings": 0,
        "infos": 0,
        "policy_files_read": 1,  # skills.yaml
    }
    assert text.startswith("No problems found")


def test_an_empty_folder_is_fine(cli: Cli, project: Path) -> None:
    code, data, _ = _doctor(cli, project)
    assert code == 0 and data["findings"] == []


def test_policy_granting_only_invoke_model(cli: Cli, project: Path) -> None:
    write_tree(project, {"infra/claude-policy.json": json.dumps(ONLY_INVOKE, indent=2)})
    code, data, text = _doctor(cli, project)
    assert code == 1
    assert "InvokeModelWithResponseStream" in text
    assert "infra/claude-policy.json:6:" in text
    (finding,) = data["findings"]  # type: ignore[misc]
    assert finding == {
        "level": "error",
        "code": "iam-stream-missing",
        "file": "infra/claude-policy.json",
        "line": 6,
        "message": finding["message"],
        "fix": 'add "bedrock:InvokeModelWithResponseStream" beside "bedrock:InvokeModel" '
        '(or grant "bedrock:InvokeModel*")',
    }
    assert "hangs with no error" in finding["message"]


def test_lock_problems(cli: Cli, installed: Path) -> None:
    skill = installed / ".claude/skills/base/SKILL.md"
    skill.write_text(skill.read_text() + "\nmy note\n")
    code, data, text = _doctor(cli, installed)
    assert (code, _codes(data)) == (0, ["skill-modified"])
    assert "fix: keep the edit" in text
    shutil.rmtree(installed / ".claude/skills/base")
    code, data, _ = _doctor(cli, installed)
    assert (code, _codes(data)) == (1, ["skill-missing"])
    manifest = installed / "skills.yaml"
    text = manifest.read_text()
    assert "\nvars:\n" in text  # of comments only: filled in (a second "vars:" is refused)
    manifest.write_text(text.replace("\nvars:\n", "\nvars:\n  aws: {region: us-east-1}\n", 1))
    assert _codes(_doctor(cli, installed)[1]) == ["lock-stale", "skill-missing"]
    (installed / "skills.lock").unlink()
    assert _codes(_doctor(cli, installed)[1]) == ["lock-missing"]
    (installed / "skills.lock").write_text("lock-version: 99\n")
    assert _codes(_doctor(cli, installed)[1]) == ["lock-invalid"]
    manifest.write_text("dependencies: [oops\n")
    code, data, _ = _doctor(cli, installed)
    assert (code, _codes(data)) == (1, ["manifest-invalid"])


def test_a_link_in_an_installed_skill_counts_as_an_edit(cli: Cli, installed: Path) -> None:
    """Not an error from every command that looks at the skill: doctor, list and install
    see an edited copy, and install puts the locked one back."""
    original = snapshot(installed / ".claude/skills/base")
    (installed / ".claude/skills/base/link.md").symlink_to("SKILL.md")
    code, data, _ = _doctor(cli, installed)
    assert (code, _codes(data)) == (0, ["skill-modified"])
    listed = cli("list", "--json", cwd=installed)
    assert listed.exit_code == 0, listed.output
    assert [p["intact"] for p in json.loads(listed.stdout)["packages"]] == [False]
    restored = cli("install", cwd=installed)
    assert restored.exit_code == 0, restored.output
    assert "+ base 1.0.0 (restored)" in restored.stdout
    assert snapshot(installed / ".claude/skills/base") == original


def test_large_claude_md(cli: Cli, project: Path) -> None:
    (project / "CLAUDE.md").write_text("x" * 60 + "\n" + "word " * 9000)
    code, data, text = _doctor(cli, project)
    assert (code, _codes(data)) == (0, ["claude-md-large"])
    assert "CLAUDE.md is 45,061 characters" in text
    (project / "CLAUDE.md").write_text("- a rule\n" * 250)
    assert _codes(_doctor(cli, project)[1]) == ["claude-md-long"]


def test_settings_checks_end_to_end(cli: Cli, project: Path) -> None:
    settings = {
        "env": {
            "CLAUDE_CODE_USE_BEDROCK": "1",
            "ANTHROPIC_DEFAULT_SONNET_MODEL": "claude-sonnet-4-5-20250929",
        },
        "permissions": {"allow": ["Bash(npm test)"]},
    }
    write_tree(project, {".claude/settings.json": json.dumps(settings)})
    code, data, text = _doctor(cli, project)
    assert code == 1
    assert _codes(data) == [
        "bedrock-region-missing",
        "bedrock-model-invalid",
        "bedrock-auth-refresh-missing",
    ]
    assert "us.anthropic.claude-sonnet-4-5-20250929-v1:0" in text
    write_tree(project, {".claude/settings.local.json": "{ not json"})
    code, data, _ = _doctor(cli, project)
    assert data["findings"][0]["code"] == "settings-invalid"  # type: ignore[index]
    assert data["findings"][0]["line"] == 1  # type: ignore[index]


def test_user_settings_count(cli: Cli, project: Path, isolated_env: Path) -> None:
    write_tree(isolated_env, {".claude/settings.json": json.dumps({"env": {"AWS_REGION": "x"}})})
    write_tree(
        project,
        {".claude/settings.json": json.dumps({"env": {"CLAUDE_CODE_USE_BEDROCK": "1"}})},
    )
    data = _doctor(cli, project)[1]
    assert data["findings"][0]["code"] == "bedrock-region-invalid"  # type: ignore[index]
    assert data["findings"][0]["file"] == "~/.claude/settings.json"  # type: ignore[index]


@pytest.mark.parametrize(("version", "code"), [("2.31.9", 1), ("2.32.0", 0)])
def test_aws_login_checks_the_installed_cli(
    cli: Cli,
    project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    version: str,
    code: int,
) -> None:
    bin_dir = tmp_path / "bin"
    aws = write_tree(bin_dir, {"aws": f"#!/bin/sh\necho 'aws-cli/{version} Python/3.12.6'\n"})
    (aws / "aws").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    settings = {
        "env": {"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "us-west-2"},
        "awsAuthRefresh": "aws login",
    }
    write_tree(project, {".claude/settings.json": json.dumps(settings)})
    exit_code, data, text = _doctor(cli, project)
    assert exit_code == code
    if code:
        assert _codes(data) == ["aws-cli-old"]
        assert f"this machine has {version}" in text
    monkeypatch.setenv("PATH", "/nonexistent")
    assert _codes(_doctor(cli, project)[1]) == ["aws-cli-missing"]


def test_quiet_keeps_findings_but_drops_the_summary(cli: Cli, project: Path) -> None:
    policy = "Statement:\n  - Effect: Allow\n    Action: bedrock:InvokeModel\n"
    write_tree(project, {"policy.yaml": policy})
    result = cli("doctor", "-q", cwd=project)
    assert result.exit_code == 1
    assert "InvokeModelWithResponseStream" in result.stdout
    assert "Found" not in result.stdout


@pytest.mark.parametrize("placement", ["inline", "rules"])
def test_fragments_in_place(cli: Cli, project: Path, placement: str) -> None:
    (project / "skills.yaml").write_text(
        f"claude-md: {{placement: {placement}}}\nvars:\n  aws: {{region: us-east-1}}\n"
    )
    assert cli("install", "aws-environment", cwd=project).exit_code == 0
    code, data, _ = _doctor(cli, project)
    assert (code, _codes(data)) == (0, [])
    written = [p for p in project.rglob("*.md") if ".claude/skills" not in p.as_posix()]
    for path in written:
        path.write_text(path.read_text().replace("us-east-1", "eu-west-1"))
    assert cli("install", cwd=project).exit_code == 0  # hand edits are kept, not errors
    (project / "CLAUDE.md").unlink(missing_ok=True)
    for path in written:
        path.unlink(missing_ok=True)
    code, data, text = _doctor(cli, project)
    assert (code, _codes(data)) == (1, ["fragments-missing"])
    assert "skillpm sync" in text


def test_invalid_manifest_is_reported_once_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "skills.yaml").write_text("dependencies:\n  a: ^1\n  b: [oops\n")
    result = Cli()("doctor", "--json", cwd=tmp_path)
    findings = json.loads(result.stdout)["findings"]
    invalid = next(f for f in findings if f["code"] == "manifest-invalid")
    assert invalid["file"] == "skills.yaml" and invalid["line"] is not None
    assert not invalid["message"].startswith("skills.yaml")
