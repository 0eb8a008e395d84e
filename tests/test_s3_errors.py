"""What goes wrong with an S3 registry gets one line, exit 1, and nothing written."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.helpers import Cli, make_package, run_skillpm
from tests.s3helpers import Bucket


def published(cli: Cli, s3: Bucket, tmp_path: Path, name: str = "aws-env") -> Path:
    source = make_package(tmp_path / f"src-{name}", name)
    result = cli("publish", source, "--registry", s3.url)
    assert result.exit_code == 0, result.output
    return source


def one_error(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    return lines[0]


def test_a_tampered_archive_installs_nothing(
    cli: Cli, s3: Bucket, tmp_path: Path, project: Path
) -> None:
    published(cli, s3, tmp_path)
    tampered = make_package(tmp_path / "evil", "aws-env", files={"extra.md": "exfiltrate"})
    packed = cli("pack", tampered, "--out-dir", tmp_path / "packed")
    assert packed.exit_code == 0, packed.output
    data = (tmp_path / "packed/aws-env-1.0.0.tar.gz").read_bytes()
    s3.write("packages/aws-env/aws-env-1.0.0.tar.gz", data)
    result = cli("install", "aws-env", "--registry", s3.url, cwd=project)
    assert result.exit_code == 1
    error = one_error(result.stderr)
    assert "integrity check failed for aws-env 1.0.0" in error
    assert f"the archive's sha256 is {hashlib.sha256(data).hexdigest()}" in error
    assert sorted(p.name for p in project.iterdir()) == []


def test_access_denied_to_publish_names_the_action_and_writes_nothing(
    cli: Cli, s3: Bucket, tmp_path: Path
) -> None:
    published(cli, s3, tmp_path)
    s3.policy("Deny", ["s3:PutObject"], "team/*")
    before = s3.objects()
    source = make_package(tmp_path / "next", "aws-env", "1.1.0")
    result = cli("publish", source, "--registry", s3.url)
    assert result.exit_code == 1
    assert one_error(result.stderr) == (
        f"error: registry {s3.url}/: access denied to "
        f"s3://{s3.name}/team/packages/aws-env/aws-env-1.1.0.tar.gz: your AWS identity needs "
        f"s3:PutObject on arn:aws:s3:::{s3.name}/team/packages/aws-env/aws-env-1.1.0.tar.gz"
    )
    assert s3.objects() == before


def test_access_denied_to_read_names_the_action_and_installs_nothing(
    cli: Cli, s3: Bucket, tmp_path: Path, project: Path
) -> None:
    published(cli, s3, tmp_path)
    s3.policy("Deny", ["s3:GetObject"], "team/packages/*")
    result = cli("install", "aws-env", "--registry", s3.url, cwd=project)
    assert result.exit_code == 1
    error = one_error(result.stderr)
    assert error.startswith(
        f"error: registry team ({s3.url}): access denied to "
        f"s3://{s3.name}/team/packages/aws-env/aws-env-1.0.0.tar.gz: your AWS identity needs "
        f"s3:GetObject on arn:aws:s3:::{s3.name}/team/packages/aws-env/aws-env-1.0.0.tar.gz; "
    )
    assert f"s3:ListBucket on arn:aws:s3:::{s3.name} is not granted" in error
    assert not (project / ".claude").exists() and not (project / "skills.lock").exists()


def test_a_missing_bucket(cli: Cli, s3: Bucket, tmp_path: Path, project: Path) -> None:
    url = f"s3://{s3.name}-gone/team"
    result = cli("install", "aws-env", "--registry", url, cwd=project)
    assert result.exit_code == 1
    assert one_error(result.stderr) == (
        f"error: registry team ({url}): the bucket {s3.name}-gone does not exist (check the "
        "URL, the account of your AWS credentials, and AWS_ENDPOINT_URL if you use one)"
    )
    source = make_package(tmp_path / "src", "aws-env")
    result = cli("publish", source, "--registry", url)
    assert result.exit_code == 1
    assert "the bucket" in one_error(result.stderr)


@pytest.mark.parametrize(
    "url",
    ["ftp://host/registry", "s4://skills/team", "gs://skills/team", "HTTPX://skills"],
)
def test_an_unknown_scheme_is_refused_never_read_as_a_folder(
    cli: Cli, tmp_path: Path, project: Path, url: str
) -> None:
    source = make_package(tmp_path / "src", "aws-env")
    scheme = url.split("://")[0].lower()
    for args in (
        ("publish", source, "--registry", url),
        ("install", "aws-env", "--registry", url),
        ("yank", "aws-env", "1.0.0", "--registry", url),
        ("registry", "add", "team", url),
    ):
        result = cli(*args, cwd=project)
        assert result.exit_code == 1, (args, result.output)
        assert one_error(result.stderr) == (
            f"error: {url}: skillpm does not know the URL scheme {scheme}://; a registry is a "
            "folder (or file://), git+https://, git+ssh://, git+file://, "
            "git@host:org/repo.git, https:// (a static site) or s3://BUCKET/PREFIX"
        )
    assert sorted(p.name for p in project.iterdir()) == []


@pytest.mark.parametrize("url", ["s3:/skills/team", "s3:skills", "https:example.com/site"])
def test_a_scheme_without_its_slashes_is_refused_too(
    cli: Cli, tmp_path: Path, project: Path, url: str
) -> None:
    source = make_package(tmp_path / "src", "aws-env")
    result = cli("publish", source, "--registry", url, cwd=project)
    assert result.exit_code == 1
    assert one_error(result.stderr).startswith(f"error: {url}: looks like a URL without its '//'")
    assert sorted(p.name for p in project.iterdir()) == []
    # The way to mean a folder of that name.
    result = cli("publish", source, "--registry", f"./{url}", cwd=project)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("s3://Skills_Team/x", "'Skills_Team' is not an S3 bucket name"),
        ("s3://ab", "'ab' is not an S3 bucket name"),
        ("s3://key:secret@skills/team", "without credentials or a port"),
        ("s3://skills:9000/team", "without credentials or a port"),
        ("s3://skills/team/../other", "the prefix has an empty, '.' or '..' segment"),
        ("s3://skills/team?x=1", "without ?query or #fragment"),
    ],
)
def test_a_malformed_s3_url_is_refused(cli: Cli, project: Path, url: str, why: str) -> None:
    result = cli("registry", "add", "team", url, cwd=project)
    assert result.exit_code == 1
    assert why in one_error(result.stderr)
    assert "secret" not in result.stderr
    assert not (project / "skills.yaml").exists()


def test_without_boto3_the_error_says_how_to_install_it(
    cli: Cli, s3: Bucket, tmp_path: Path, project: Path
) -> None:
    # A boto3 that cannot be imported, first on the path: as if the extra were not installed.
    shadow = tmp_path / "shadow" / "boto3"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'boto3'\")\n")
    env = {"PYTHONPATH": f"{shadow.parent}:{Path(__file__).parent.parent / 'src'}"}
    result = run_skillpm("install", "aws-env", "--registry", s3.url, cwd=project, env=env)
    assert result.exit_code == 1
    assert one_error(result.stderr) == (
        f"error: registry team ({s3.url}): s3:// registries need boto3, which is not installed; "
        "install it with: pip install 'skillpm[s3]'"
    )
    source = make_package(tmp_path / "src", "aws-env")
    result = run_skillpm("publish", source, "--registry", s3.url, cwd=project, env=env)
    assert result.exit_code == 1
    assert "pip install 'skillpm[s3]'" in one_error(result.stderr)
    # Adding the registry needs no boto3: it is used only when something is read.
    result = run_skillpm("registry", "add", "team", s3.url, cwd=project, env=env)
    assert result.exit_code == 0, result.output


def test_an_expired_sso_session_says_aws_sso_login(
    cli: Cli, s3: Bucket, tmp_path: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = "https://example.awsapps.com/start"
    config = tmp_path / "sso-config"
    config.write_text(
        f"[profile dev]\nsso_start_url = {start}\nsso_region = us-east-1\n"
        "sso_account_id = 123456789012\nsso_role_name = Reader\nregion = us-east-1\n"
    )
    cache = Path.home() / ".aws/sso/cache"
    cache.mkdir(parents=True)
    token = {"startUrl": start, "region": "us-east-1", "accessToken": "t",
             "expiresAt": "2020-01-01T00:00:00Z"}  # fmt: skip
    (cache / f"{hashlib.sha1(start.encode()).hexdigest()}.json").write_text(json.dumps(token))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "dev")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = cli("install", "aws-env", "--registry", s3.url, cwd=project)
    assert result.exit_code == 1
    assert one_error(result.stderr) == (
        f"error: registry team ({s3.url}): the AWS SSO session has expired or was never "
        "started; run 'aws sso login --profile dev' and try again"
    )


def test_no_credentials_at_all(
    cli: Cli, s3: Bucket, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = cli("install", "aws-env", "--registry", s3.url, cwd=project)
    assert result.exit_code == 1
    assert "no AWS credentials found" in one_error(result.stderr)


@pytest.mark.parametrize(
    ("code", "status", "headers", "expected"),
    [
        (
            "PermanentRedirect",
            301,
            {"x-amz-bucket-region": "eu-west-1"},
            "the bucket is in another region; set AWS_REGION=eu-west-1 and try again",
        ),
        ("ExpiredToken", 400, {}, "the AWS credentials have expired (ExpiredToken)"),
        ("InvalidAccessKeyId", 403, {}, "AWS refused the credentials (InvalidAccessKeyId)"),
        ("SlowDown", 503, {}, "S3 is failing (SlowDown) for s3://b-1/p/index/x.json"),
    ],
)
def test_answers_that_moto_cannot_give_are_explained(
    code: str, status: int, headers: dict[str, str], expected: str
) -> None:
    """Wrong regions, expired keys and throttling, as botocore reports S3's answers."""
    from botocore.exceptions import ClientError

    from skillpm.registry.s3 import explain, parse_s3_url

    answer = {
        "Error": {"Code": code, "Message": "..."},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": headers},
    }
    error = explain(
        ClientError(answer, "GetObject"),  # type: ignore[arg-type]
        label="registry r",
        location=parse_s3_url("s3://b-1/p", "r"),
        rel="index/x.json",
        action="s3:GetObject",
    )
    assert str(error).startswith(f"registry r: {expected}")


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("s3://skills/team/skillpm-policy.yaml", "a policy is read from a file, a git"),
        ("ftp://host/skillpm-policy.yaml", "skillpm does not know the URL scheme ftp://"),
    ],
)
def test_a_policy_url_is_never_read_as_a_path_either(
    cli: Cli, project: Path, url: str, why: str
) -> None:
    (project / "skills.yaml").write_text(f"policy: {url}\n")
    result = cli("install", "aws-env", cwd=project)
    assert result.exit_code == 1
    error = one_error(result.stderr)
    assert error.startswith(f"error: skills.yaml:1: policy: {url}: ") and why in error
    assert sorted(p.name for p in project.iterdir()) == ["skills.yaml"]
