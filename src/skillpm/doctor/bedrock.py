"""Checks of Claude Code's settings for Amazon Bedrock (pure: the caller reads the files).

Claude Code merges ``env`` and top-level keys from the user's
``~/.claude/settings.json``, the project's ``.claude/settings.json`` (shared,
committed) and ``.claude/settings.local.json`` (personal), later ones winning.
These checks look at that merged view, plus the shell environment Claude Code
would inherit, and say which file to change.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from skillpm.doctor.diagnostics import Finding

TRUTHY = frozenset({"1", "true", "yes", "on"})
MODEL_ENV_KEYS = (
    "ANTHROPIC_MODEL",
    "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL",
    "ANTHROPIC_SMALL_FAST_MODEL",
    "CLAUDE_CODE_SUBAGENT_MODEL",
)
# Names Claude Code resolves itself, valid wherever a model may be chosen by alias.
MODEL_ALIASES = frozenset(
    {"default", "sonnet", "opus", "haiku", "opusplan", "sonnet[1m]", "opus[1m]", "inherit"}
)
ALIAS_KEYS = frozenset({"model", "ANTHROPIC_MODEL", "CLAUDE_CODE_SUBAGENT_MODEL"})
EXAMPLE_PROFILE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
AWS_LOGIN_MIN = (2, 32, 0)

_PROFILE = re.compile(
    r"^(?P<geo>[a-z]{2,6}(?:-gov)?)\.anthropic\.claude-[a-z0-9]+(?:[-.][a-z0-9]+)*?"
    r"-v\d+(?::\d+)?(?:\[1m\])?$"
)
_FOUNDATION = re.compile(r"^anthropic\.claude-[a-z0-9]+(?:[-.][a-z0-9]+)*?-v\d+(?::\d+)?$")
_ARN = re.compile(
    r"^arn:aws(?:-[a-z]+)*:bedrock:[a-z0-9-]+:\d{12}:"
    r"(?:application-inference-profile|inference-profile)/[A-Za-z0-9.:_-]+$"
)
_FIRST_PARTY = re.compile(r"^claude-[a-z0-9-]+$")
_REGION = re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d+$")
_CLI_VERSION = re.compile(r"aws-cli/(\d+)\.(\d+)\.(\d+)")


def geo_matches(geo: str, region: str) -> bool | None:
    """Whether a cross-region profile prefix serves ``region``; None for unknown prefixes."""
    if geo == "global":
        return True
    if geo == "us":
        return region.startswith("us-") and not region.startswith("us-gov-")
    if geo == "us-gov":
        return region.startswith("us-gov-")
    if geo == "eu":
        return region.startswith("eu-")
    if geo == "apac":
        return region.startswith("ap-")
    if geo == "jp":
        return region in ("ap-northeast-1", "ap-northeast-3")
    if geo == "au":
        return region in ("ap-southeast-2", "ap-southeast-4")
    if geo == "ca":
        return region.startswith("ca-")
    return None


def geo_for(region: str | None) -> str:
    """The usual profile prefix for ``region`` (``us`` when unknown)."""
    if not region:
        return "us"
    for geo in ("us-gov", "eu", "apac", "ca", "us"):
        if geo_matches(geo, region):
            return geo
    return "us"


@dataclass(frozen=True)
class SettingsLayer:
    label: str  # how the user names the file: ".claude/settings.json", "~/.claude/settings.json"
    data: Mapping[str, Any]
    shared: bool = False  # committed to the repository (the project's settings.json)


@dataclass
class Merged:
    """The merged view, remembering which file set each value."""

    env: dict[str, tuple[str, Any]] = field(default_factory=dict)  # key -> (label, value)
    top: dict[str, tuple[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, layers: Sequence[SettingsLayer]) -> Merged:
        merged = cls()
        for layer in layers:
            env = layer.data.get("env")
            if isinstance(env, Mapping):
                for key, value in env.items():
                    merged.env[str(key)] = (layer.label, value)
            for key, value in layer.data.items():
                if key != "env":
                    merged.top[str(key)] = (layer.label, value)
        return merged


@dataclass(frozen=True)
class AwsCli:
    found: bool
    version: tuple[int, int, int] | None = None
    raw: str = ""


def parse_cli_version(text: str) -> tuple[int, int, int] | None:
    match = _CLI_VERSION.search(text)
    if match is None:
        return None
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


def check_model(key: str, value: Any, where: str, region: str | None) -> Finding | None:
    """One model setting under Bedrock: an inference profile id, an ARN, or an alias."""
    text = value if isinstance(value, str) else repr(value)
    name = f"env.{key}" if key != "model" else "model"
    if key in ALIAS_KEYS and text in MODEL_ALIASES:
        return None
    profile = _PROFILE.match(text)
    if profile:
        fits = geo_matches(profile["geo"], region) if region else True
        if fits is False:
            return Finding(
                "warning",
                "bedrock-model-region",
                f"{name} {text} is a {profile['geo']}. cross-region profile, which is not "
                f"offered in AWS_REGION {region}",
                f"use the {geo_for(region)}. profile, or a region the profile serves",
                where,
            )
        return None
    if _ARN.match(text):
        return None
    if _FOUNDATION.match(text):
        suggestion = f"{geo_for(region)}.{text}"
        return Finding(
            "warning",
            "bedrock-model-foundation",
            f"{name} {text} is a foundation-model id; current Claude models on Bedrock are "
            "invoked on demand only through an inference profile",
            f"use the inference profile id {suggestion}",
            where,
        )
    if _FIRST_PARTY.match(text):
        dated = re.search(r"-\d{8}$", text)
        suggestion = f"{geo_for(region)}.anthropic.{text}-v1:0" if dated else EXAMPLE_PROFILE
        return Finding(
            "error",
            "bedrock-model-invalid",
            f"{name} {text} is an Anthropic API model name; Bedrock rejects it",
            f"use a Bedrock inference profile id such as {suggestion}",
            where,
        )
    return Finding(
        "error",
        "bedrock-model-invalid",
        f"{name} {text!r} is not a well-formed Bedrock inference profile id",
        f"use an id such as {EXAMPLE_PROFILE} (see 'aws bedrock list-inference-profiles')",
        where,
    )


def check_bedrock(
    layers: Sequence[SettingsLayer],
    environ: Mapping[str, str],
    aws_cli: Callable[[], AwsCli],
) -> list[Finding]:
    """Findings about Claude Code's Bedrock set-up; ``aws_cli`` runs only if needed."""
    merged = Merged.of(layers)
    shared = {layer.label for layer in layers if layer.shared}
    findings: list[Finding] = []

    def setting(key: str) -> tuple[str | None, Any]:
        if key in merged.env:
            return merged.env[key]
        if key in environ:
            return "your shell environment", environ[key]
        return None, None

    where_flag, flag = setting("CLAUDE_CODE_USE_BEDROCK")
    on = str(flag).strip().lower() in TRUTHY if flag is not None else False
    where_region, region = setting("AWS_REGION")
    region = str(region) if region is not None else None

    if not on:
        for key in MODEL_ENV_KEYS:
            label, value = merged.env.get(key, (None, None))
            if isinstance(value, str) and (_PROFILE.match(value) or _ARN.match(value)):
                findings.append(
                    Finding(
                        "warning",
                        "bedrock-not-enabled",
                        f"env.{key} is a Bedrock model id but CLAUDE_CODE_USE_BEDROCK is not "
                        "set, so Claude Code sends it to the Anthropic API, which rejects it",
                        'set env.CLAUDE_CODE_USE_BEDROCK to "1" (skillpm install bedrock-setup)',
                        label,
                    )
                )
                break
        findings.extend(_bearer_findings(merged, environ, shared))
        return findings

    if region is None:
        findings.append(
            Finding(
                "error",
                "bedrock-region-missing",
                "CLAUDE_CODE_USE_BEDROCK is set but AWS_REGION is not; Claude Code needs it "
                "and does not read the region from ~/.aws/config",
                'add "AWS_REGION" to env in .claude/settings.json (skillpm install '
                "bedrock-setup writes it from vars.aws.region)",
                where_flag if where_flag != "your shell environment" else None,
            )
        )
    elif not _REGION.match(region):
        findings.append(
            Finding(
                "error",
                "bedrock-region-invalid",
                f"AWS_REGION {region!r} is not an AWS region name",
                "use a region such as us-east-1 where your Claude models are enabled",
                where_region if where_region != "your shell environment" else None,
            )
        )
    elif where_region == "your shell environment" and where_flag in shared:
        findings.append(
            Finding(
                "warning",
                "bedrock-region-shell-only",
                f"{where_flag} turns on Bedrock for everyone, but AWS_REGION comes only from "
                "your shell; a teammate without it gets a failing Claude Code",
                f'add "AWS_REGION": "{region}" to env in {where_flag}',
                where_flag,
            )
        )

    models: list[tuple[str, str, Any]] = []
    if "model" in merged.top:
        label, value = merged.top["model"]
        models.append(("model", label, value))
    for key in MODEL_ENV_KEYS:
        if key in merged.env:
            label, value = merged.env[key]
            models.append((key, label, value))
    known_region = region if region and _REGION.match(region) else None
    for key, label, value in models:
        finding = check_model(key, value, label, known_region)
        if finding is not None:
            findings.append(finding)

    findings.extend(_auth_findings(merged, environ, where_flag, aws_cli))
    findings.extend(_bearer_findings(merged, environ, shared))
    return findings


def _auth_findings(
    merged: Merged,
    environ: Mapping[str, str],
    where_flag: str | None,
    aws_cli: Callable[[], AwsCli],
) -> list[Finding]:
    findings: list[Finding] = []
    refresh = merged.top.get("awsAuthRefresh")
    export = merged.top.get("awsCredentialExport")
    bearer = "AWS_BEARER_TOKEN_BEDROCK" in merged.env or "AWS_BEARER_TOKEN_BEDROCK" in environ
    settings_file = where_flag if where_flag and where_flag.startswith((".", "~")) else None
    if refresh is None and export is None and not bearer:
        findings.append(
            Finding(
                "warning",
                "bedrock-auth-refresh-missing",
                "no awsAuthRefresh: when the AWS session expires mid-task, Claude Code's "
                "Bedrock calls fail until you log in again by hand and restart",
                'add "awsAuthRefresh": "aws sso login --profile NAME" (IAM Identity Center) '
                'or "aws login" (AWS CLI v2.32+) to .claude/settings.json',
                settings_file,
            )
        )
    if refresh is None:
        return findings
    label, command = refresh
    if not isinstance(command, str) or not command.strip():
        findings.append(
            Finding(
                "error",
                "bedrock-auth-refresh-invalid",
                "awsAuthRefresh must be a shell command string",
                'e.g. "aws sso login --profile NAME"',
                label,
            )
        )
        return findings
    if re.match(r"^\s*aws\s+login(\s|$)", command):
        cli = aws_cli()
        if not cli.found:
            findings.append(
                Finding(
                    "warning",
                    "aws-cli-missing",
                    "awsAuthRefresh runs 'aws login', but the aws command is not on PATH",
                    "install AWS CLI v2.32 or newer",
                    label,
                )
            )
        elif cli.version is None:
            findings.append(
                Finding(
                    "warning",
                    "aws-cli-unknown",
                    f"could not read the AWS CLI version ('aws --version' said {cli.raw!r})",
                    "'aws login' needs AWS CLI v2.32 or newer; check 'aws --version'",
                    label,
                )
            )
        elif cli.version < AWS_LOGIN_MIN:
            have = ".".join(map(str, cli.version))
            findings.append(
                Finding(
                    "error",
                    "aws-cli-old",
                    f"awsAuthRefresh runs 'aws login', which needs AWS CLI v2.32 or newer; "
                    f"this machine has {have}",
                    "upgrade the AWS CLI, or use 'aws sso login --profile NAME'",
                    label,
                )
            )
    return findings


def _bearer_findings(merged: Merged, environ: Mapping[str, str], shared: set[str]) -> list[Finding]:
    """A Bedrock API key works, but calls are not tied to a person in CloudTrail."""
    if "AWS_BEARER_TOKEN_BEDROCK" in merged.env:
        label = merged.env["AWS_BEARER_TOKEN_BEDROCK"][0]
        if label in shared:
            return [
                Finding(
                    "error",
                    "bedrock-bearer-token-committed",
                    f"{label} holds AWS_BEARER_TOKEN_BEDROCK: a credential in a file that is "
                    "committed and shared, and its calls have no per-user CloudTrail audit",
                    "remove it, revoke the key, and use IAM Identity Center with "
                    '"awsAuthRefresh": "aws sso login --profile NAME"',
                    label,
                )
            ]
        where: str | None = label
    elif "AWS_BEARER_TOKEN_BEDROCK" in environ:
        where = None
    else:
        return []
    source = where or "your shell environment"
    return [
        Finding(
            "warning",
            "bedrock-bearer-token",
            f"AWS_BEARER_TOKEN_BEDROCK is set in {source}: Bedrock API-key calls are not "
            "audited per user in CloudTrail; fine for a quick test, not for a team",
            'use IAM credentials (IAM Identity Center with "awsAuthRefresh": '
            '"aws sso login --profile NAME") and unset the token',
            where,
        )
    ]
