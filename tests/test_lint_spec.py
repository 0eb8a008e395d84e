"""Spec rules: parity with the skills-ref validator, plus description quality and length."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import Cli, fragment_md, lint_json, make_package, write_tree

GOOD_DESCRIPTION = "Writes CDK stacks to the team standard. Use when adding AWS infrastructure."


def frontmatter(meta: dict[str, Any], body: str = "# Skill\n\nSteps.\n") -> str:
    return f"---\n{yaml.safe_dump(meta, sort_keys=False)}---\n{body}"


def lint_skill(
    cli: Cli, tmp_path: Path, text: str, folder: str = "my-skill", *args: str
) -> tuple[int, list[dict[str, Any]]]:
    write_tree(tmp_path, {f"{folder}/SKILL.md": text})
    return lint_json(cli, folder, *args, cwd=tmp_path)


def rules(findings: list[dict[str, Any]]) -> list[str]:
    return [f["rule"] for f in findings]


def test_a_valid_skill_is_clean(cli: Cli, tmp_path: Path) -> None:
    meta = {
        "name": "my-skill",
        "description": GOOD_DESCRIPTION,
        "license": "MIT",
        "compatibility": "Needs the AWS CLI v2",
        "metadata": {"version": "1.0", "author": "platform"},
        "allowed-tools": ["Read", "Bash(cdk:*)"],
    }
    assert lint_skill(cli, tmp_path, frontmatter(meta)) == (0, [])


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("# No frontmatter\n", 1, "missing YAML frontmatter"),
        ("---\nname: my-skill\n", 1, "not closed"),
        ("---\nname: my-skill\ndescription: [unclosed\n---\nbody\n", 4, "invalid YAML"),
        ("---\n- a list\n---\nbody\n", 2, "must be a mapping"),
    ],
)
def test_spec001_frontmatter_missing_or_invalid(
    cli: Cli, tmp_path: Path, text: str, line: int, words: str
) -> None:
    code, found = lint_skill(cli, tmp_path, text)
    assert code == 1
    assert rules(found) == ["SPEC001"]
    assert found[0]["line"] == line
    assert words in found[0]["message"]
    assert found[0]["file"] == "my-skill/SKILL.md"


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("My-Skill", "lowercase"),
        ("my_skill", "a-z, 0-9 and hyphens"),
        ("-my-skill", "start or end with a hyphen"),
        ("my-skill-", "start or end with a hyphen"),
        ("my--skill", "double hyphen"),
        ("a" * 65, "65 characters"),
        ("", "non-empty string"),
        (7, "non-empty string"),
    ],
)
def test_spec002_bad_names(cli: Cli, tmp_path: Path, name: Any, words: str) -> None:
    code, found = lint_skill(
        cli, tmp_path, frontmatter({"name": name, "description": GOOD_DESCRIPTION})
    )
    assert code == 1
    spec002 = [f for f in found if f["rule"] == "SPEC002"]
    assert spec002 and words in spec002[0]["message"]
    assert spec002[0]["line"] == 2


def test_spec002_missing_name(cli: Cli, tmp_path: Path) -> None:
    code, found = lint_skill(cli, tmp_path, frontmatter({"description": GOOD_DESCRIPTION}))
    assert (code, rules(found)) == (1, ["SPEC002"])
    assert "missing" in found[0]["message"]
    assert "name: my-skill" in found[0]["hint"]


@pytest.mark.parametrize("name", ["a", "a" * 64, "cdk-patterns", "s3-v2-tools"])
def test_spec002_good_names(cli: Cli, tmp_path: Path, name: str) -> None:
    text = frontmatter({"name": name, "description": GOOD_DESCRIPTION})
    assert lint_skill(cli, tmp_path, text, name) == (0, [])


def test_spec003_name_differs_from_folder(cli: Cli, tmp_path: Path) -> None:
    text = frontmatter({"name": "other-name", "description": GOOD_DESCRIPTION})
    code, found = lint_skill(cli, tmp_path, text)
    assert (code, rules(found)) == (1, ["SPEC003"])
    assert "'other-name' differs from its folder name 'my-skill'" in found[0]["message"]


@pytest.mark.parametrize(
    ("description", "words"),
    [
        (None, "missing"),
        ("   ", "non-empty string"),
        (["a", "list"], "non-empty string"),
        ("Use when x. " + "y" * 1020, "characters (at most 1024)"),
    ],
)
def test_spec004_bad_descriptions(cli: Cli, tmp_path: Path, description: Any, words: str) -> None:
    meta: dict[str, Any] = {"name": "my-skill"}
    if description is not None:
        meta["description"] = description
    code, found = lint_skill(cli, tmp_path, frontmatter(meta))
    assert (code, rules(found)) == (1, ["SPEC004"])
    assert words in found[0]["message"]


def test_spec004_1024_characters_is_fine(cli: Cli, tmp_path: Path) -> None:
    description = ("Use when deploying. " + "x" * 1024)[:1024]
    assert (
        lint_skill(cli, tmp_path, frontmatter({"name": "my-skill", "description": description}))[1]
        == []
    )


@pytest.mark.parametrize(("value", "fires"), [("x" * 500, False), ("x" * 501, True), (12, True)])
def test_spec005_compatibility(cli: Cli, tmp_path: Path, value: Any, fires: bool) -> None:
    meta = {"name": "my-skill", "description": GOOD_DESCRIPTION, "compatibility": value}
    code, found = lint_skill(cli, tmp_path, frontmatter(meta))
    assert rules(found) == (["SPEC005"] if fires else [])
    assert code == (1 if fires else 0)


@pytest.mark.parametrize(
    ("metadata", "severity"),
    [
        (["a", "list"], "warning"),
        ({"nested": {"a": 1}}, "warning"),
        ({"version": 1.0}, "warning"),
        ({"version": "1.0", "team": "platform"}, None),
    ],
)
def test_spec006_metadata_is_a_string_map(
    cli: Cli, tmp_path: Path, metadata: Any, severity: str | None
) -> None:
    meta = {"name": "my-skill", "description": GOOD_DESCRIPTION, "metadata": metadata}
    code, found = lint_skill(cli, tmp_path, frontmatter(meta))
    if severity is None:
        assert (code, found) == (0, [])
    else:
        assert rules(found) == ["SPEC006"]
        assert found[0]["severity"] == severity
        assert code == (1 if severity == "error" else 0)


def test_spec007_unknown_key_warns_and_strict_spec_fails(cli: Cli, tmp_path: Path) -> None:
    meta = {"name": "my-skill", "description": GOOD_DESCRIPTION, "version": "1.0"}
    code, found = lint_skill(cli, tmp_path, frontmatter(meta))
    assert (code, rules(found)) == (0, ["SPEC007"])
    assert found[0]["severity"] == "warning"
    assert found[0]["line"] == 4
    code, found = lint_json(cli, "my-skill", "--strict-spec", cwd=tmp_path)
    assert (code, rules(found), found[0]["severity"]) == (1, ["SPEC007"], "error")


def test_spec007_claude_code_keys_are_known(cli: Cli, tmp_path: Path) -> None:
    meta = {
        "name": "my-skill",
        "description": GOOD_DESCRIPTION,
        "model": "haiku",
        "context": "fork",
        "agent": "Explore",
        "effort": "high",
        "hooks": {"PreToolUse": []},
        "paths": ["infra/**"],
        "argument-hint": "[stack]",
        "arguments": "stack env",
        "disable-model-invocation": False,
        "user-invocable": True,
        "when_to_use": "When writing CDK.",
        "shell": "bash",
    }
    assert lint_skill(cli, tmp_path, frontmatter(meta), "my-skill", "--strict-spec") == (0, [])


@pytest.mark.parametrize(
    ("description", "words"),
    [
        ("Handles CDK.", "too short"),
        ("Writes CDK stacks in TypeScript following the team's naming standard.", "not when"),
    ],
)
def test_spec008_description_quality(
    cli: Cli, tmp_path: Path, description: str, words: str
) -> None:
    code, found = lint_skill(
        cli, tmp_path, frontmatter({"name": "my-skill", "description": description})
    )
    assert (code, rules(found)) == (0, ["SPEC008"])
    assert words in found[0]["message"]


@pytest.mark.parametrize(
    "extra",
    [
        {"description": "Writes CDK stacks. Use when adding infrastructure."},
        {"description": "Sizes Lambda memory before you deploy a new function."},
        {"description": "Writes CDK stacks in TypeScript.", "when_to_use": "Adding AWS resources."},
    ],
)
def test_spec008_what_and_when_is_fine(cli: Cli, tmp_path: Path, extra: dict[str, str]) -> None:
    assert lint_skill(cli, tmp_path, frontmatter({"name": "my-skill", **extra}))[1] == []


@pytest.mark.parametrize(("body_lines", "fires"), [(495, False), (520, True)])
def test_spec009_long_skill_md(cli: Cli, tmp_path: Path, body_lines: int, fires: bool) -> None:
    body = "".join(f"Line {i}\n" for i in range(body_lines))
    code, found = lint_skill(
        cli, tmp_path, frontmatter({"name": "my-skill", "description": GOOD_DESCRIPTION}, body)
    )
    assert rules(found) == (["SPEC009"] if fires else [])
    assert code == 0
    if fires:
        assert "references/" in found[0]["hint"]


@pytest.mark.parametrize(
    ("key", "value", "severity"),
    [
        ("allowed-tools", 5, "error"),
        ("allowed-tools", ["Read", 3], "error"),
        ("user-invocable", "yes", "warning"),
        ("disable-model-invocation", 1, "warning"),
        ("model", ["haiku"], "warning"),
        ("hooks", "PreToolUse", "warning"),
        ("argument-hint", ["apk-file"], "warning"),
    ],
)
def test_spec010_field_types(cli: Cli, tmp_path: Path, key: str, value: Any, severity: str) -> None:
    meta = {"name": "my-skill", "description": GOOD_DESCRIPTION, key: value}
    code, found = lint_skill(cli, tmp_path, frontmatter(meta))
    assert (code, rules(found)) == (1 if severity == "error" else 0, ["SPEC010"])
    assert key in found[0]["message"]
    assert found[0]["severity"] == severity


def test_spec010_a_list_read_from_a_hint_says_to_quote_it(cli: Cli, tmp_path: Path) -> None:
    meta = {"name": "my-skill", "description": GOOD_DESCRIPTION, "argument-hint": ["apk-file"]}
    _, found = lint_skill(cli, tmp_path, frontmatter(meta))
    assert found[0]["hint"] == 'quote it: argument-hint: "[apk-file]"'


def test_spec011_broken_package_manifest(cli: Cli, tmp_path: Path) -> None:
    make_package(tmp_path / "pkg", "pkg")
    (tmp_path / "pkg/skillpm.yaml").write_text("name: pkg\nversion: [1\n")
    code, found = lint_json(cli, "pkg", cwd=tmp_path)
    assert (code, rules(found)) == (1, ["SPEC011"])
    assert found[0]["file"] == "pkg/skillpm.yaml"
    assert "invalid YAML" in found[0]["message"]


def test_spec011_listed_skill_missing(cli: Cli, tmp_path: Path) -> None:
    make_package(tmp_path / "pkg", "pkg")
    manifest = yaml.safe_load((tmp_path / "pkg/skillpm.yaml").read_text())
    manifest["skills"] = ["skills/pkg", "skills/gone"]
    (tmp_path / "pkg/skillpm.yaml").write_text(yaml.safe_dump(manifest))
    code, found = lint_json(cli, "pkg", cwd=tmp_path)
    assert (code, rules(found)) == (1, ["SPEC011"])
    assert "skills/gone is listed but missing" in found[0]["message"]


def test_spec011_not_firing_on_a_good_package(cli: Cli, tmp_path: Path) -> None:
    make_package(tmp_path / "pkg", "pkg", fragments={"pkg-notes": fragment_md("pkg-notes")})
    assert lint_json(cli, "pkg", cwd=tmp_path) == (0, [])


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("No frontmatter at all\n", "missing YAML frontmatter"),
        (fragment_md("other-name"), "must equal the file name 'notes'"),
        ("---\nname: notes\n---\nbody\n", "description must be a non-empty string"),
        (fragment_md("notes", section="Two\n\nlines"), "section must be one line"),
        (fragment_md("notes", claims={"bad key!": "x"}), "not a valid claim key"),
        (fragment_md("notes", must_not_touch="infra/vpc-stack.ts"), "must-not-touch must be"),
        (fragment_md("notes", order="first"), "order must be a whole number"),
        (fragment_md("notes", claims=["aws.region"]), "claims must map keys"),
        (fragment_md("notes", must_not_touch=[{"reason": "x"}]), "needs a path"),
    ],
)
def test_spec012_fragment_format(cli: Cli, tmp_path: Path, text: str, words: str) -> None:
    make_package(tmp_path / "pkg", "pkg", fragments={"notes": text})
    code, found = lint_json(cli, "pkg", cwd=tmp_path)
    assert rules(found) == ["SPEC012"]
    assert words in found[0]["message"]
    assert found[0]["file"] == "pkg/fragments/notes.md"
    assert code == 1


def test_spec012_optional_section_and_templated_must_not_touch(cli: Cli, tmp_path: Path) -> None:
    text = fragment_md("notes", must_not_touch="{{ vars.must_not_touch }}").replace(
        "section: Notes\n", ""
    )
    make_package(tmp_path / "pkg", "pkg", fragments={"notes": text})
    assert lint_json(cli, "pkg", cwd=tmp_path) == (0, [])


@pytest.mark.parametrize(
    ("data", "words"),
    [(b"---\nname: x\n\xff\n---\n", "not UTF-8 text (byte 13)"), (b"\0\1", "binary")],
)
def test_spec011_unreadable_skill_and_fragment(
    cli: Cli, tmp_path: Path, data: bytes, words: str
) -> None:
    make_package(
        tmp_path / "pkg", "pkg", files={"skills/pkg/SKILL.md": data, "fragments/f.md": data}
    )
    code, found = lint_json(cli, "pkg", cwd=tmp_path)
    assert (code, rules(found)) == (1, ["SPEC011", "SPEC011"])
    assert found[0]["file"] == "pkg/fragments/f.md"
    assert found[0]["message"].startswith("the fragment is ") and words in found[0]["message"]
    assert found[1]["message"].startswith("SKILL.md is ") and words in found[1]["message"]
