"""skills.yaml edits keep the user's comments, order and layout."""

from __future__ import annotations

from skillpm.manifest_edit import TEMPLATE, edit_manifest


def test_added_dependencies_stay_in_their_section() -> None:
    once = edit_manifest(None, set_dependencies={"cdk-patterns": "^1.1.0"})
    twice = edit_manifest(once, set_dependencies={"serverless-cost-ops": "^1.0.0"})
    section = twice.split("dependencies:\n", 1)[1].split("\n\n", 1)[0]
    assert section == "  cdk-patterns: ^1.1.0\n  serverless-cost-ops: ^1.0.0"
    assert "# Values for CLAUDE.md fragment templates" in twice
    assert twice.index("serverless-cost-ops") < twice.index("# Values for CLAUDE.md")


def test_end_of_line_comment_stays_with_its_key() -> None:
    text = "dependencies:\n  a: ^1  # pinned by ops\n\n# vars below\nvars: {}\n"
    out = edit_manifest(text, set_dependencies={"b": "^2"})
    assert out == "dependencies:\n  a: ^1  # pinned by ops\n  b: ^2\n\n# vars below\nvars: {}\n"


def test_add_then_remove_gives_back_the_template() -> None:
    added = edit_manifest(None, set_dependencies={"a": "^1", "b": "^2"})
    assert edit_manifest(added, remove_dependencies=["a", "b"]) == TEMPLATE
