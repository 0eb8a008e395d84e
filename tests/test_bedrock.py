"""Claude Code's Bedrock settings, checked from the merged settings files."""

from __future__ import annotations

from typing import Any

import pytest

from skillpm.doctor.bedrock import (
    AwsCli,
    SettingsLayer,
    check_bedrock,
    check_model,
    parse_cli_version,
)

PROFILE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
RECENT_CLI = AwsCli(True, (2, 32, 4))
ARN = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc"
GOOD = {
    "env": {"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "us-east-1"},
    "awsAuthRefresh": "aws sso login --profile dev",
}


def _codes(
    *layers: dict[str, Any],
    environ: dict[str, str] | None = None,
    cli: AwsCli = RECENT_CLI,
) -> list[str]:
    labels = [".claude/settings.json", ".claude/settings.local.json"]
    stack = [SettingsLayer(labels[i], data, shared=i == 0) for i, data in enumerate(layers)]
    return [f.code for f in check_bedrock(stack, environ or {}, lambda: cli)]


def test_a_complete_setup_has_no_findings() -> None:
    assert _codes(GOOD) == []
    with_models = {**GOOD, "model": "opus"}
    with_models["env"] = {
        **GOOD["env"],
        "ANTHROPIC_DEFAULT_SONNET_MODEL": PROFILE,
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": "us.anthropic.claude-haiku-4-5-20251001-v1:0",
        "ANTHROPIC_MODEL": ARN,
    }
    assert _codes(with_models) == []


def test_nothing_to_say_without_bedrock() -> None:
    assert _codes({"env": {"FOO": "1"}}) == []
    assert _codes({}) == []


def test_region_is_required() -> None:
    assert _codes({**GOOD, "env": {"CLAUDE_CODE_USE_BEDROCK": "true"}}) == [
        "bedrock-region-missing"
    ]
    bad = {**GOOD, "env": {"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "virginia"}}
    assert _codes(bad) == ["bedrock-region-invalid"]


def test_region_only_in_the_shell() -> None:
    shared_flag = {**GOOD, "env": {"CLAUDE_CODE_USE_BEDROCK": "1"}}
    assert _codes(shared_flag, environ={"AWS_REGION": "us-east-1"}) == ["bedrock-region-shell-only"]
    # All from the shell: a personal setup, nothing shared depends on it.
    environ = {"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "us-east-1"}
    assert _codes({"awsAuthRefresh": "aws sso login"}, environ=environ) == []


def test_the_local_file_overrides_the_shared_one() -> None:
    local = {"env": {"AWS_REGION": "eu-west-1"}}
    shared = {**GOOD, "env": {**GOOD["env"], "ANTHROPIC_DEFAULT_SONNET_MODEL": PROFILE}}
    assert _codes(shared, local) == ["bedrock-model-region"]


@pytest.mark.parametrize(
    ("value", "code", "fix"),
    [
        (PROFILE, None, ""),
        ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", None, ""),
        ("us.anthropic.claude-opus-4-6-v1", None, ""),
        ("eu.anthropic.claude-sonnet-4-5-20250929-v1:0", "bedrock-model-region", "us. profile"),
        (
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "bedrock-model-foundation",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        ),
        ("claude-sonnet-4-5-20250929", "bedrock-model-invalid", PROFILE),
        ("claude-sonnet-4-5", "bedrock-model-invalid", PROFILE),
        ("sonnet", "bedrock-model-invalid", PROFILE),  # not an alias key
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0 ", "bedrock-model-invalid", ""),
    ],
)
def test_model_ids(value: str, code: str | None, fix: str) -> None:
    finding = check_model("ANTHROPIC_DEFAULT_SONNET_MODEL", value, "f", "us-east-1")
    assert (finding.code if finding else None) == code
    if finding:
        assert fix in finding.fix


def test_aliases_are_fine_where_claude_code_takes_them() -> None:
    assert check_model("model", "opusplan", "f", "us-east-1") is None
    assert check_model("ANTHROPIC_MODEL", "sonnet[1m]", "f", "us-east-1") is None


def test_auth_refresh() -> None:
    no_refresh = {"env": GOOD["env"]}
    assert _codes(no_refresh) == ["bedrock-auth-refresh-missing"]
    assert _codes({**no_refresh, "awsCredentialExport": "./creds.sh"}) == []
    assert _codes({**GOOD, "awsAuthRefresh": ["aws", "login"]}) == ["bedrock-auth-refresh-invalid"]


def test_aws_login_needs_a_recent_cli() -> None:
    login = {**GOOD, "awsAuthRefresh": "aws login"}
    assert _codes(login, cli=AwsCli(True, (2, 32, 0))) == []
    assert _codes(login, cli=AwsCli(True, (2, 31, 9))) == ["aws-cli-old"]
    assert _codes(login, cli=AwsCli(True, (1, 44, 0))) == ["aws-cli-old"]
    assert _codes(login, cli=AwsCli(False)) == ["aws-cli-missing"]
    assert _codes(login, cli=AwsCli(True, None, "?")) == ["aws-cli-unknown"]
    calls = []

    def probe() -> AwsCli:
        calls.append(1)
        return AwsCli(False)

    check_bedrock([SettingsLayer("s", GOOD)], {}, probe)
    assert calls == []  # aws --version runs only for 'aws login'


def test_cli_version_parsing() -> None:
    text = "aws-cli/2.32.1 Python/3.13.7 Linux/6.8.0 exe/x86_64.ubuntu.24"
    assert parse_cli_version(text) == (2, 32, 1)
    assert parse_cli_version("command not found") is None


def test_bearer_token() -> None:
    committed = {**GOOD, "env": {**GOOD["env"], "AWS_BEARER_TOKEN_BEDROCK": "ABSK..."}}
    assert _codes(committed) == ["bedrock-bearer-token-committed"]
    local = {"env": {"AWS_BEARER_TOKEN_BEDROCK": "ABSK..."}}
    assert _codes(GOOD, local) == ["bedrock-bearer-token"]
    assert _codes(GOOD, environ={"AWS_BEARER_TOKEN_BEDROCK": "x"}) == ["bedrock-bearer-token"]
    # The token never appears in a message.
    layers = [SettingsLayer(".claude/settings.json", committed, shared=True)]
    for finding in check_bedrock(layers, {}, lambda: AwsCli(False)):
        assert "ABSK" not in finding.message + finding.fix


def test_bedrock_model_ids_without_bedrock() -> None:
    assert _codes({"env": {"ANTHROPIC_DEFAULT_SONNET_MODEL": PROFILE}}) == ["bedrock-not-enabled"]
