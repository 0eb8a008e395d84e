"""Marker lines shown as examples inside fenced code are the user's text (issue 23, item 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillpm.content.claudemd import Block, merge, parse
from tests.helpers import Cli, fragment_md, make_registry, write_tree

HASH = "sha256:" + "0" * 64


def fenced(open_fence: str, close_fence: str) -> str:
    return (
        f"# Notes\n\nskillpm blocks look like this:\n\n{open_fence}\n"
        f"<!-- skillpm:begin pol 1.0.0 {HASH} -->\n## Example\n<!-- skillpm:end pol -->\n"
        f"{close_fence}\n"
    )


EXAMPLE = fenced("```markdown", "```")


@pytest.mark.parametrize(
    ("open_fence", "close_fence"),
    [("```", "```"), ("~~~~ md", "~~~~~"), ("   ```", "```"), ("````", "````")],
)
def test_markers_inside_a_closed_fence_are_text(open_fence: str, close_fence: str) -> None:
    text = fenced(open_fence, close_fence)
    doc = parse(text)
    assert doc.blocks() == {} and doc.damage == []
    assert doc.text() == text


def test_a_fence_is_closed_only_by_its_own_kind() -> None:
    # ``` does not close ~~~, and a shorter run does not close a longer one: all text.
    text = "~~~\n```\n<!-- skillpm:end x -->\n~~~\n````\n```\n<!-- skillpm:end y -->\n````\n"
    assert parse(text).damage == []


def test_an_unclosed_fence_does_not_hide_real_blocks() -> None:
    block = Block("pol", "1.0.0", "## Policy\n")
    text = "# Notes\n```\nunclosed\n\n" + block.text()
    assert list(parse(text).blocks()) == ["pol"]
    assert merge(text, [block], owned=["pol"]) == text


def test_merge_keeps_the_example_and_appends_the_real_block() -> None:
    block = Block("pol", "1.0.0", "## Policy\n")
    merged = merge(EXAMPLE, [block])
    assert merged == EXAMPLE + "\n" + block.text()
    assert merge(merged, [], owned=["pol"]) == EXAMPLE  # removing it gives the file back


@pytest.mark.parametrize("memory", ["CLAUDE.md", "AGENTS.md"])
def test_install_force_and_remove_leave_the_example_alone(
    cli: Cli, tmp_path: Path, memory: str
) -> None:
    make_registry(
        tmp_path / "registry",
        [
            {
                "name": "pol",
                "fragments": {"pol": fragment_md("pol", "Use haiku.\n", section="Policy")},
            }
        ],
    )
    project = write_tree(
        tmp_path / "project",
        {
            "skills.yaml": "registries:\n  team: ../registry\ntargets: [claude, agents]\n",
            memory: EXAMPLE,
        },
    )
    result = cli("install", "pol", cwd=project)
    assert result.exit_code == 0, result.output
    text = (project / memory).read_text()
    assert text.startswith(EXAMPLE) and "Use haiku." in text[len(EXAMPLE) :]
    assert cli("install", "--force", cwd=project).exit_code == 0
    assert (project / memory).read_text() == text
    result = cli("remove", "pol", cwd=project)
    assert result.exit_code == 0, result.output
    assert (project / memory).read_text() == EXAMPLE
    lint = cli("lint", cwd=project)
    assert "DRIFT" not in lint.output, lint.output
