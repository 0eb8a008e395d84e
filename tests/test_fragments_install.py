"""Fragments through the real CLI: install, sync, diff and remove on CLAUDE.md."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.helpers import Cli, fragment_md, make_registry, snapshot

AWS = fragment_md(
    "aws-environment",
    section="AWS environment",
    order=10,
    claims={"aws.region": "{{ vars.aws.region }}"},
    body=(
        "- Primary region: `{{ vars.aws.region }}`\n"
        "{% if vars.aws.dr_region is defined %}\n"
        "- DR region: `{{ vars.aws.dr_region }}`\n"
        "{% endif %}\n"
    ),
)
MODELS = fragment_md(
    "model-selection-policy",
    section="Model selection policy",
    order=50,
    claims={"model.routine-edits": "haiku", "model.interactive": "sonnet"},
    body="- Routine edits: Haiku\n- Interactive coding: Sonnet\n",
)
USER_TEXT = b"# Our service\r\n\r\nHand-written notes.  \r\nLast line without a break"
MANIFEST = """\
# Our team's skills (this comment must survive)
dependencies:
vars:
  aws:
    region: us-east-1  # primary
"""


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return make_registry(
        tmp_path / "registry",
        [
            {"name": "aws-environment", "skills": {}, "fragments": {"aws-environment": AWS}},
            {
                "name": "model-selection-policy",
                "skills": {},
                "fragments": {"model-selection-policy": MODELS},
            },
            {"name": "plain-skill"},
        ],
    )


def _claude(project: Path) -> str:
    return (project / "CLAUDE.md").read_bytes().decode()


def test_missing_variable_is_refused_and_nothing_changes(
    cli: Cli, project: Path, registry: Path
) -> None:
    (project / "CLAUDE.md").write_bytes(USER_TEXT)
    before = snapshot(project)
    result = cli("install", "aws-environment", "--registry", registry, cwd=project)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: aws-environment: vars.aws.region is not set; add it under vars: in skills.yaml"
    )
    assert snapshot(project) == before


def test_done_when(cli: Cli, project: Path, registry: Path) -> None:
    """The issue's acceptance scenario, step by step."""
    (project / "CLAUDE.md").write_bytes(USER_TEXT)
    (project / "skills.yaml").write_text(MANIFEST)

    result = cli(
        "install", "aws-environment", "model-selection-policy", "--registry", registry, cwd=project
    )
    assert result.exit_code == 0, result.output
    assert "Updated CLAUDE.md" in result.stdout
    text = _claude(project)
    assert text.startswith(USER_TEXT.decode() + "\r\n<!-- skillpm:begin aws-environment 1.0.0 ")
    assert "- Primary region: `us-east-1`\r\n" in text
    assert "DR region" not in text
    assert text.index("aws-environment") < text.index("model-selection-policy")
    assert "\n" not in text.replace("\r\n", "")  # CRLF throughout
    manifest = (project / "skills.yaml").read_text()
    assert "# Our team's skills (this comment must survive)" in manifest
    assert "region: us-east-1  # primary" in manifest
    lock = yaml.safe_load((project / "skills.lock").read_text())
    hashes = {p["name"]: p.get("fragment-hashes") for p in lock["packages"]}
    assert set(hashes["aws-environment"]) == {"aws-environment"}
    assert hashes["aws-environment"]["aws-environment"] in text

    # A second install changes nothing.
    installed = snapshot(project)
    result = cli("install", cwd=project)
    assert result.exit_code == 0, result.output
    assert "Nothing to do" in result.stdout
    assert snapshot(project) == installed

    # A hand edit inside a block survives sync...
    edited = _claude(project).replace(
        "- Routine edits: Haiku", "- Routine edits: Haiku (ask first)"
    )
    (project / "CLAUDE.md").write_bytes(edited.encode())
    result = cli("sync", cwd=project)
    assert result.exit_code == 0, result.output
    assert "your edit of the model-selection-policy block is kept" in result.stderr
    assert _claude(project) == edited
    diff = cli("diff", cwd=project)
    assert "+- Routine edits: Haiku\n" in diff.stdout
    assert "-- Routine edits: Haiku (ask first)" in diff.stdout

    # ...and is refused, with a diff, when sync has to change that block.
    manifest_with_region = manifest.replace("us-east-1", "eu-west-1")
    (project / "skills.yaml").write_text(manifest_with_region)
    models = MODELS.replace("Haiku", "Haiku 4.5")
    make_registry(
        registry,
        [
            {
                "name": "model-selection-policy",
                "version": "1.1.0",
                "skills": {},
                "fragments": {"model-selection-policy": models},
            }
        ],
    )
    before = snapshot(project)
    result = cli("install", "model-selection-policy@1.1.0", cwd=project)
    assert result.exit_code == 1
    assert "model-selection-policy block was edited by hand" in result.stderr
    assert "--force" in result.stderr
    assert "+- Routine edits: Haiku 4.5" in result.stderr
    assert snapshot(project) == before

    # sync --force replaces the edit and picks up the changed region.
    result = cli("sync", "--force", cwd=project)
    assert result.exit_code == 0, result.output
    assert "Replaced your edit of the model-selection-policy block" in result.stdout
    text = _claude(project)
    assert "(ask first)" not in text
    assert "- Primary region: `eu-west-1`\r\n" in text
    assert cli("diff", cwd=project).stdout.startswith("No changes")

    # Removing both packages restores CLAUDE.md byte for byte.
    result = cli("remove", "aws-environment", "model-selection-policy", cwd=project)
    assert result.exit_code == 0, result.output
    assert (project / "CLAUDE.md").read_bytes() == USER_TEXT


def test_created_claude_md_is_deleted_with_the_last_block(
    cli: Cli, project: Path, registry: Path
) -> None:
    cli("install", "model-selection-policy", "--registry", registry, cwd=project)
    assert _claude(project).startswith("<!-- skillpm:begin model-selection-policy 1.0.0 sha256:")
    cli("install", "plain-skill", cwd=project)
    result = cli("remove", "model-selection-policy", cwd=project)
    assert result.exit_code == 0, result.output
    assert "Removed CLAUDE.md" in result.stdout
    assert not (project / "CLAUDE.md").exists()
