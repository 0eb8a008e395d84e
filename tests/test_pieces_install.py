"""Settings and .claudeignore pieces through the real install and remove."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from skillpm.formats import claudeignore
from tests.helpers import Cli, make_registry, publish_to, snapshot, write_tree

ROOT = Path(__file__).resolve().parent.parent
USER_SETTINGS = """{
  "env": {
    "MY_TEAM_TOOL": "/opt/tool"
  },
  "permissions": {
    "allow": ["Bash(npm run test)"],
    "deny": ["Read(./.env)"]
  }
}
"""
USER_IGNORE = "secrets/\nnode_modules/\n"


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    """The built-in bedrock-setup and claudeignore-defaults, from their sources in skills/."""
    root = tmp_path / "registry"
    for name in ("claudeignore-defaults", "bedrock-setup"):
        publish_to(root, ROOT / "skills" / name)
    return root


@pytest.fixture
def team(tmp_path: Path) -> Path:
    """A project with the user's own settings, ignore lines and vars.aws.region."""
    project = tmp_path / "team"
    write_tree(
        project,
        {
            ".claude/settings.json": USER_SETTINGS,
            ".claudeignore": USER_IGNORE,
            "skills.yaml": "vars:\n  aws:\n    region: eu-west-1\n",
        },
    )
    return project


def _settings(project: Path) -> dict[str, object]:
    data = json.loads((project / ".claude/settings.json").read_text())
    assert isinstance(data, dict)
    return data


def test_install_merges_and_remove_restores_exactly(cli: Cli, team: Path, registry: Path) -> None:
    result = cli("install", "bedrock-setup", "--registry", registry, cwd=team)
    assert result.exit_code == 0, result.output
    settings = _settings(team)
    assert settings["env"] == {
        "MY_TEAM_TOOL": "/opt/tool",
        "CLAUDE_CODE_USE_BEDROCK": "1",
        "AWS_REGION": "eu-west-1",
    }
    assert settings["permissions"] == {
        "allow": ["Bash(npm run test)"],
        "deny": ["Read(./.env)"],
    }
    assert settings["awsAuthRefresh"] == "aws login"
    ignore = (team / ".claudeignore").read_text()
    assert ignore.endswith(USER_IGNORE)  # the user's lines, untouched
    block = claudeignore.parse(ignore).block
    assert block == ("dist/", "cdk.out/", "*.log", "*.parquet", "__pycache__/", ".venv/")
    assert " ~ .claude/settings.json (+ awsAuthRefresh, env.AWS_REGION" in result.stdout
    assert (
        "warning: bedrock-setup set awsAuthRefresh in .claude/settings.json, a command Claude "
        "Code runs: 'aws login'"
    ) in result.stderr
    # A second install changes nothing.
    before = snapshot(team)
    assert "Nothing to do" in cli("install", cwd=team).stdout
    assert snapshot(team) == before

    result = cli("remove", "bedrock-setup", cwd=team)
    assert result.exit_code == 0, result.output
    assert (team / ".claude/settings.json").read_text() == USER_SETTINGS
    assert (team / ".claudeignore").read_text() == USER_IGNORE
    assert yaml.safe_load((team / "skills.lock").read_text())["packages"] == []


def test_files_skillpm_creates_are_deleted_again(cli: Cli, project: Path, registry: Path) -> None:
    (project / "skills.yaml").write_text(
        "vars:\n  aws: {region: us-east-1, profile: dev}\n"
        "  bedrock: {sonnet_model: us.anthropic.claude-sonnet-4-5-20250929-v1:0}\n"
    )
    before = snapshot(project)
    assert cli("install", "bedrock-setup", "--registry", registry, cwd=project).exit_code == 0
    settings = _settings(project)
    assert settings["awsAuthRefresh"] == "aws sso login --profile dev"
    assert settings["env"] == {
        "CLAUDE_CODE_USE_BEDROCK": "1",
        "AWS_REGION": "us-east-1",
        "AWS_PROFILE": "dev",
        "ANTHROPIC_DEFAULT_SONNET_MODEL": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    }
    lock = yaml.safe_load((project / "skills.lock").read_text())
    assert lock["created-files"] == [".claude/settings.json", ".claudeignore"]
    assert cli("doctor", cwd=project).exit_code == 0
    assert cli("remove", "bedrock-setup", cwd=project).exit_code == 0
    after = snapshot(project)
    assert not (project / ".claude").exists() and not (project / ".claudeignore").exists()
    assert {k: v for k, v in after.items() if k != "skills.yaml"} == {
        "skills.lock": after["skills.lock"]
    }
    assert after["skills.yaml"].startswith(before["skills.yaml"].rstrip(b"\n"))


def test_a_conflicting_user_value_is_refused_unless_forced(
    cli: Cli, team: Path, registry: Path
) -> None:
    mine = USER_SETTINGS.replace('"MY_TEAM_TOOL"', '"AWS_REGION": "us-west-2",\n    "MY_TEAM_TOOL"')
    (team / ".claude/settings.json").write_text(mine)
    before = snapshot(team)
    result = cli("install", "bedrock-setup", "--registry", registry, cwd=team)
    assert result.exit_code == 1
    assert result.stderr == (
        'error: .claude/settings.json: env.AWS_REGION is "us-west-2" (yours), and bedrock-setup '
        'sets "eu-west-1"; change or remove your value, or pass --force to let the package set '
        "it (removing the package puts yours back)\n"
    )
    assert snapshot(team) == before
    forced = cli("install", "bedrock-setup", "--registry", registry, "--force", cwd=team)
    assert forced.exit_code == 0, forced.output
    assert _settings(team)["env"]["AWS_REGION"] == "eu-west-1"  # type: ignore[index]
    assert cli("remove", "bedrock-setup", cwd=team).exit_code == 0
    assert (team / ".claude/settings.json").read_text() == mine


def test_missing_var_names_it_and_changes_nothing(cli: Cli, project: Path, registry: Path) -> None:
    result = cli("install", "bedrock-setup", "--registry", registry, cwd=project)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: bedrock-setup: settings env.AWS_REGION: vars.aws.region is not set; add it "
        "under vars: in skills.yaml\n"
    )
    assert list(project.iterdir()) == []


def test_changing_vars_updates_values_in_place(cli: Cli, team: Path, registry: Path) -> None:
    cli("install", "bedrock-setup", "--registry", registry, cwd=team)
    manifest = team / "skills.yaml"
    manifest.write_text(manifest.read_text().replace("eu-west-1", "eu-central-1"))
    first = (team / ".claude/settings.json").read_text()
    result = cli("install", cwd=team)
    assert result.exit_code == 0, result.output
    assert (team / ".claude/settings.json").read_text() == first.replace(
        "eu-west-1", "eu-central-1"
    )
    cli("remove", "bedrock-setup", cwd=team)
    assert (team / ".claude/settings.json").read_text() == USER_SETTINGS


def test_hand_edits_become_the_users(cli: Cli, team: Path, registry: Path) -> None:
    cli("install", "bedrock-setup", "--registry", registry, cwd=team)
    path = team / ".claude/settings.json"
    path.write_text(path.read_text().replace('"aws login"', '"aws sso login --profile me"'))
    result = cli("remove", "bedrock-setup", cwd=team)
    assert result.exit_code == 0
    assert "awsAuthRefresh was changed by hand; your value is kept" in result.stderr
    assert _settings(team)["awsAuthRefresh"] == "aws sso login --profile me"
    assert "AWS_REGION" not in _settings(team)["env"]  # type: ignore[operator]


def test_an_edited_ignore_block_is_refused(cli: Cli, team: Path, registry: Path) -> None:
    cli("install", "bedrock-setup", "--registry", registry, cwd=team)
    path = team / ".claudeignore"
    path.write_text(path.read_text().replace("dist/\n", "dist/\nmy-own/\n"))
    before = snapshot(team)
    result = cli("remove", "bedrock-setup", cwd=team)
    assert result.exit_code == 1
    assert "the skillpm block was edited by hand" in result.stderr
    assert snapshot(team) == before
    assert cli("remove", "bedrock-setup", "--force", cwd=team).exit_code == 0
    assert path.read_text() == USER_IGNORE


def test_invalid_settings_json_is_reported_with_its_line(
    cli: Cli, team: Path, registry: Path
) -> None:
    (team / ".claude/settings.json").write_text('{\n  "env": {,\n}\n')
    before = snapshot(team)
    result = cli("install", "bedrock-setup", "--registry", registry, cwd=team)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: .claude/settings.json:2: not valid JSON")
    assert snapshot(team) == before


def test_dry_run_shows_the_pieces(cli: Cli, team: Path, registry: Path) -> None:
    before = snapshot(team)
    result = cli("install", "bedrock-setup", "--registry", registry, "--dry-run", cwd=team)
    assert result.exit_code == 0, result.output
    assert " ~ .claude/settings.json (+ awsAuthRefresh" in result.stdout
    assert " ~ .claudeignore (+ dist/" in result.stdout
    assert snapshot(team) == before


def test_a_clone_installs_from_the_lock_without_changes(
    cli: Cli, team: Path, registry: Path, tmp_path: Path
) -> None:
    cli("install", "bedrock-setup", "--registry", registry, cwd=team)
    clone = tmp_path / "clone"
    committed = {k: v for k, v in snapshot(team).items() if not k.startswith(".claude/skills/")}
    write_tree(clone, committed)
    result = cli("install", "--frozen", cwd=clone)
    assert result.exit_code == 0, result.output
    assert snapshot(clone) == snapshot(team)
    assert cli("remove", "bedrock-setup", cwd=clone).exit_code == 0
    assert (clone / ".claude/settings.json").read_text() == USER_SETTINGS


def test_two_packages_sharing_the_ignore_block(cli: Cli, team: Path, tmp_path: Path) -> None:
    registry = make_registry(tmp_path / "r2", [])
    for name, lines in (("one", ["a/", "b/"]), ("two", ["b/", "c/"])):
        write_tree(
            tmp_path / name,
            {
                "skillpm.yaml": f"name: {name}\nversion: 1.0.0\ndescription: d\n"
                f"claudeignore: {json.dumps(lines)}\n"
            },
        )
        publish_to(registry, tmp_path / name)
    cli("install", "one", "two", "--registry", registry, cwd=team)
    assert claudeignore.parse((team / ".claudeignore").read_text()).block == ("a/", "b/", "c/")
    cli("remove", "one", cwd=team)
    assert claudeignore.parse((team / ".claudeignore").read_text()).block == ("b/", "c/")
    cli("remove", "two", cwd=team)
    assert (team / ".claudeignore").read_text() == USER_IGNORE


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"settings.json": "{oops"}, "not valid JSON"),
        ({"settings.json": "[1]"}, "must hold a JSON object"),
        ({"settings.json": '{"env": {"A": "{{ vars.x "}}'}, "template syntax error"),
        ({"skillpm.yaml": "claudeignore: ['# skillpm:end']\n"}, "looks like a skillpm marker"),
    ],
)
def test_publish_checks_the_pieces(
    cli: Cli, tmp_path: Path, files: dict[str, str], message: str
) -> None:
    manifest = "name: bad\nversion: 1.0.0\ndescription: d\n"
    source = write_tree(tmp_path / "bad", {"skillpm.yaml": manifest})
    for rel, text in files.items():
        path = source / rel
        path.write_text(path.read_text() + text if path.exists() else text)
    result = cli("publish", source, "--registry", tmp_path / "reg")
    assert result.exit_code == 1
    assert message in result.stderr


def test_doctor_sees_settings_drift(cli: Cli, team: Path, registry: Path) -> None:
    cli("install", "bedrock-setup", "--registry", registry, cwd=team)
    path = team / ".claude/settings.json"
    text = path.read_text()
    path.write_text(
        text.replace('"eu-west-1"', '"eu-north-1"').replace(
            ',\n  "awsAuthRefresh": "aws login"', ""
        )
    )
    data = json.loads(cli("doctor", "--json", cwd=team).stdout)
    codes = {(f["code"], f["message"].split(" ")[0]) for f in data["findings"]}
    assert ("settings-changed", "env.AWS_REGION") in codes
    assert ("settings-missing", "awsAuthRefresh") in codes
    listed = json.loads(cli("list", "--json", cwd=team).stdout)["packages"]
    assert listed[0]["settings"] == [
        "awsAuthRefresh",
        "env.AWS_REGION",
        "env.CLAUDE_CODE_USE_BEDROCK",
    ]
    assert listed[1]["claudeignore"][0] == "node_modules/"
    assert cli("install", "--force", cwd=team).exit_code == 0
    assert json.loads(path.read_text())["env"]["AWS_REGION"] == "eu-west-1"
    assert json.loads(path.read_text())["awsAuthRefresh"] == "aws login"
