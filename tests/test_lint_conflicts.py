"""Conflict rules: claims, must-not-touch, duplicate skills and sections, vars."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Cli, fragment_md, lint_json, make_package, make_registry


def rules(findings: list[dict[str, Any]]) -> list[str]:
    return [f["rule"] for f in findings]


def two_packages(tmp_path: Path, claims_a: dict[str, Any], claims_b: dict[str, Any]) -> None:
    make_package(
        tmp_path / "a",
        "pkg-a",
        skills={},
        fragments={"env-a": fragment_md("env-a", section="Environment A", claims=claims_a)},
    )
    make_package(
        tmp_path / "b",
        "pkg-b",
        skills={},
        fragments={"env-b": fragment_md("env-b", section="Environment B", claims=claims_b)},
    )


def test_conflict001_regions_disagree_naming_both_sides(cli: Cli, tmp_path: Path) -> None:
    two_packages(tmp_path, {"aws.region": "us-east-1"}, {"aws.region": "us-west-2"})
    code, found = lint_json(cli, "a", "b", cwd=tmp_path)
    assert (code, rules(found)) == (1, ["CONFLICT001"])
    f = found[0]
    assert (f["file"], f["line"], f["package"]) == ("b/fragments/env-b.md", 6, "pkg-b")
    assert "us-west-2" in f["message"] and "us-east-1" in f["message"]
    assert f["related"] == [
        {
            "file": "a/fragments/env-a.md",
            "line": 6,
            "package": "pkg-a",
            "message": "aws.region: us-east-1",
        }
    ]


def test_conflict001_nested_and_dotted_claims_compare(cli: Cli, tmp_path: Path) -> None:
    two_packages(tmp_path, {"aws.region": "us-east-1"}, {"aws": {"region": "eu-west-1"}})
    code, found = lint_json(cli, "a", "b", cwd=tmp_path)
    assert (code, rules(found)) == (1, ["CONFLICT001"])
    assert found[0]["line"] == 7  # the nested region: key


def test_conflict001_model_policies_disagree_on_a_task_class(cli: Cli, tmp_path: Path) -> None:
    two_packages(
        tmp_path,
        {"model.interactive": "sonnet", "model.docs": "haiku"},
        {"model.interactive": "opus", "model.docs": "Haiku"},
    )
    code, found = lint_json(cli, "a", "b", cwd=tmp_path)
    assert (code, rules(found)) == (1, ["CONFLICT001"])
    assert "model selection disagrees for 'interactive'" in found[0]["message"]
    assert "pkg-b says opus" in found[0]["message"]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({"aws.region": "us-east-1"}, {"aws.region": "us-east-1"}),
        ({"aws.region": "us-east-1"}, {"aws.dr-region": "us-west-2"}),
        # Unrendered templates are not compared when packages are linted on their own.
        ({"aws.region": "{{ vars.aws.region }}"}, {"aws.region": "us-west-2"}),
    ],
)
def test_conflict001_not_firing(
    cli: Cli, tmp_path: Path, a: dict[str, Any], b: dict[str, Any]
) -> None:
    two_packages(tmp_path, a, b)
    assert lint_json(cli, "a", "b", cwd=tmp_path) == (0, [])


def test_conflict001_each_package_alone_is_clean(cli: Cli, tmp_path: Path) -> None:
    two_packages(tmp_path, {"aws.region": "us-east-1"}, {"aws.region": "us-west-2"})
    assert lint_json(cli, "a", cwd=tmp_path) == (0, [])
    assert lint_json(cli, "b", cwd=tmp_path) == (0, [])


def protected_and_skill(tmp_path: Path, skill_body: str, glob: str = "infra/vpc-stack.ts") -> None:
    make_package(
        tmp_path / "guard",
        "guard",
        skills={},
        fragments={
            "must-not-touch": fragment_md(
                "must-not-touch",
                "Never edit these paths.",
                section="Must not touch",
                must_not_touch=[{"path": glob, "reason": "shared VPC; infra-team review"}],
            )
        },
    )
    make_package(tmp_path / "net", "net-tools", skills={"net-tools": skill_body})


@pytest.mark.parametrize(
    ("body", "glob"),
    [
        ("To add a subnet, edit infra/vpc-stack.ts and redeploy.", "infra/vpc-stack.ts"),
        ("Modify `vpc-stack.ts` to open the port.", "infra/vpc-stack.ts"),
        ("Update infra/network/routes.ts with the new CIDR.", "infra/**"),
        ("Change the CIDR in ./infra/vpc-stack.ts.", "infra/*.ts"),
        ("Rewrite terraform/prod.tfstate by hand.", "*.tfstate"),
    ],
)
def test_conflict002_skill_edits_a_protected_path(
    cli: Cli, tmp_path: Path, body: str, glob: str
) -> None:
    protected_and_skill(tmp_path, body, glob)
    code, found = lint_json(cli, "guard", "net", cwd=tmp_path)
    assert (code, rules(found)) == (1, ["CONFLICT002"])
    f = found[0]
    assert f["file"] == "net/skills/net-tools/SKILL.md"
    assert f["line"] == 7
    assert "a must-not-touch path (shared VPC; infra-team review) set by guard" in f["message"]
    assert f["related"][0]["file"] == "guard/fragments/must-not-touch.md"
    assert f["related"][0]["package"] == "guard"
    assert f["related"][0]["line"] == 6  # the "- path:" item


@pytest.mark.parametrize(
    "body",
    [
        "Do not edit infra/vpc-stack.ts; ask the infra team.",
        "Never modify infra/vpc-stack.ts yourself.",
        "Read infra/vpc-stack.ts to find the subnet ids.",
        "Edit services/api/handler.ts to add the route.",
        "Update the README with the stack name.",
    ],
)
def test_conflict002_not_firing(cli: Cli, tmp_path: Path, body: str) -> None:
    protected_and_skill(tmp_path, body)
    assert lint_json(cli, "guard", "net", cwd=tmp_path) == (0, [])


def test_conflict003_two_packages_provide_one_skill(cli: Cli, tmp_path: Path) -> None:
    make_package(tmp_path / "a", "pkg-a", skills={"deploy": ""})
    make_package(tmp_path / "b", "pkg-b", skills={"deploy": ""})
    code, found = lint_json(cli, "a", "b", cwd=tmp_path)
    assert (code, rules(found)) == (1, ["CONFLICT003"])
    assert "provided by both pkg-a and pkg-b" in found[0]["message"]
    assert found[0]["related"][0]["file"] == "a/skills/deploy/SKILL.md"


def test_conflict003_not_for_a_package_and_its_published_copy(cli: Cli, tmp_path: Path) -> None:
    make_package(tmp_path / "src/deploy", "deploy")
    make_registry(tmp_path / "registry", [{"name": "deploy"}])
    assert lint_json(cli, "src", "registry", cwd=tmp_path) == (0, [])


def test_conflict004_same_section_in_two_packages(cli: Cli, tmp_path: Path) -> None:
    make_package(
        tmp_path / "a",
        "pkg-a",
        skills={},
        fragments={"models-a": fragment_md("models-a", section="Model selection policy")},
    )
    make_package(
        tmp_path / "b",
        "pkg-b",
        skills={},
        fragments={"models-b": fragment_md("models-b", section="Model  Selection policy")},
    )
    code, found = lint_json(cli, "a", "b", cwd=tmp_path)
    assert (code, rules(found)) == (1, ["CONFLICT004"])
    assert "section 'Model  Selection policy' is provided by both pkg-a" in found[0]["message"]
    assert found[0]["related"][0]["line"] == 4


def test_conflict004_same_fragment_name_in_two_packages(cli: Cli, tmp_path: Path) -> None:
    make_package(
        tmp_path / "a",
        "pkg-a",
        skills={},
        fragments={"notes": fragment_md("notes", section="Notes A")},
    )
    make_package(
        tmp_path / "b",
        "pkg-b",
        skills={},
        fragments={"notes": fragment_md("notes", section="Notes B")},
    )
    code, found = lint_json(cli, "a", "b", cwd=tmp_path)
    assert (code, rules(found)) == (1, ["CONFLICT004"])
    assert "fragment 'notes' is provided by both pkg-a and pkg-b" in found[0]["message"]


def test_conflict004_not_firing_for_distinct_sections(cli: Cli, tmp_path: Path) -> None:
    make_package(
        tmp_path / "a", "pkg-a", skills={}, fragments={"one": fragment_md("one", section="One")}
    )
    make_package(
        tmp_path / "b", "pkg-b", skills={}, fragments={"two": fragment_md("two", section="Two")}
    )
    assert lint_json(cli, "a", "b", cwd=tmp_path) == (0, [])


# -- a project: claims rendered from vars, compared with vars -------------------------------


def installed_project(cli: Cli, tmp_path: Path, fragments: dict[str, str], vars_yaml: str) -> Path:
    registry = make_registry(
        tmp_path / "registry",
        [{"name": "env", "skills": {"env-guide": ""}, "fragments": fragments}],
    )
    project = tmp_path / "project"
    project.mkdir()
    (project / "skills.yaml").write_text(vars_yaml)  # install renders fragments with these
    result = cli("install", "env", "--registry", str(registry), cwd=project)
    assert result.exit_code == 0, result.output
    return project


def test_conflict005_vars_contradict_a_literal_claim(cli: Cli, tmp_path: Path) -> None:
    fragments = {
        "env": fragment_md("env", section="AWS environment", claims={"aws.region": "us-west-2"})
    }
    project = installed_project(cli, tmp_path, fragments, "vars:\n  aws:\n    region: us-east-1\n")
    code, found = lint_json(cli, cwd=project)
    assert (code, rules(found)) == (1, ["CONFLICT005"])
    f = found[0]
    assert "vars.aws.region: us-east-1" in f["message"]
    assert f["related"][0]["file"] == "skills.yaml"
    assert (
        f["related"][0]["line"]
        == (project / "skills.yaml").read_text().splitlines().index("    region: us-east-1") + 1
    )


def test_conflict005_not_firing_when_vars_agree_or_claim_is_templated(
    cli: Cli, tmp_path: Path
) -> None:
    fragments = {
        "env": fragment_md(
            "env",
            section="AWS environment",
            claims={"aws.region": "{{ vars.aws.region }}", "aws.dr-region": "us-west-2"},
        )
    }
    vars_yaml = "vars:\n  aws: {region: eu-west-1, dr-region: us-west-2}\n"
    project = installed_project(cli, tmp_path, fragments, vars_yaml)
    assert lint_json(cli, cwd=project) == (0, [])


def test_conflict001_rendered_claims_compare_in_a_project(cli: Cli, tmp_path: Path) -> None:
    """A templated claim is rendered from vars, then compared with a second package's claim."""
    registry = make_registry(
        tmp_path / "registry",
        [
            {
                "name": "env",
                "skills": {},
                "fragments": {
                    "env": fragment_md(
                        "env", section="Env", claims={"aws.region": "{{ vars.aws.region }}"}
                    )
                },
            },
            {
                "name": "fixed",
                "skills": {},
                "fragments": {
                    "fixed": fragment_md(
                        "fixed", section="Fixed", claims={"aws.region": "us-west-2"}
                    )
                },
            },
        ],
    )
    project = tmp_path / "project"
    project.mkdir()
    (project / "skills.yaml").write_text("vars:\n  aws:\n    region: us-east-1\n")
    assert cli("install", "env", "fixed", "--registry", str(registry), cwd=project).exit_code == 0
    code, found = lint_json(cli, cwd=project)
    assert code == 1
    assert sorted(rules(found)) == ["CONFLICT001", "CONFLICT005"]
    claim = next(f for f in found if f["rule"] == "CONFLICT001")
    assert "us-east-1" in claim["message"] and "us-west-2" in claim["message"]


def test_conflict006_fragments_unavailable_is_info(cli: Cli, tmp_path: Path) -> None:
    fragments = {"env": fragment_md("env", section="Env", claims={"aws.region": "us-east-1"})}
    project = installed_project(cli, tmp_path, fragments, "")
    import shutil

    shutil.rmtree(tmp_path / "registry")
    code, found = lint_json(cli, cwd=project)
    assert (code, rules(found)) == (0, ["CONFLICT006"])
    assert found[0]["severity"] == "info"
    assert "fragments of env 1.0.0 were not checked" in found[0]["message"]


def test_conflict007_template_names_an_unset_var(cli: Cli, tmp_path: Path) -> None:
    fragments = {
        "env": fragment_md("env", section="Env", claims={"aws.region": "{{ vars.aws.region }}"})
    }
    project = installed_project(cli, tmp_path, fragments, "vars:\n  aws: {region: us-east-1}\n")
    text = (project / "skills.yaml").read_text().replace("aws: {region: us-east-1}", "team: a")
    (project / "skills.yaml").write_text(text)  # edited after the install
    code, found = lint_json(cli, cwd=project)
    assert (code, rules(found)) == (0, ["CONFLICT007"])
    assert (
        "claim aws.region cannot be rendered: env: vars.aws.region is not set"
        in found[0]["message"]
    )
    assert found[0]["line"] == 6


def test_conflict002_with_must_not_touch_from_vars(cli: Cli, tmp_path: Path) -> None:
    registry = make_registry(
        tmp_path / "registry",
        [
            {
                "name": "guard",
                "skills": {},
                "fragments": {
                    "must-not-touch": fragment_md(
                        "must-not-touch",
                        section="Must not touch",
                        must_not_touch="{{ vars.must_not_touch }}",
                    )
                },
            },
            {"name": "net", "skills": {"net": "Edit infra/vpc-stack.ts to add the subnet."}},
        ],
    )
    project = tmp_path / "project"
    project.mkdir()
    (project / "skills.yaml").write_text(
        "vars:\n  must_not_touch:\n  - {path: infra/*.ts, team: infra, reason: shared VPC}\n"
    )
    assert cli("install", "guard", "net", "--registry", str(registry), cwd=project).exit_code == 0
    code, found = lint_json(cli, cwd=project)
    assert (code, rules(found)) == (1, ["CONFLICT002"])
    assert found[0]["file"] == ".claude/skills/net/SKILL.md"
    assert "infra/*.ts, a must-not-touch path (shared VPC) set by guard" in found[0]["message"]
    # Packages linted on their own: the list comes from vars, so nothing is compared.
    assert lint_json(cli, str(registry), cwd=tmp_path) == (0, [])


def test_conflict002_builtin_default_without_vars(cli: Cli, tmp_path: Path) -> None:
    """A template that renders without vars (a default list) counts in package folders too."""
    default = "{{ vars.paths if vars.paths is defined else [{'path': 'infra/vpc-stack.ts'}] }}"
    make_package(
        tmp_path / "guard",
        "guard",
        skills={},
        fragments={"guard": fragment_md("guard", section="Guard", must_not_touch=default)},
    )
    make_package(tmp_path / "net", "net-tools", skills={"net-tools": "Edit infra/vpc-stack.ts."})
    code, found = lint_json(cli, "guard", "net", cwd=tmp_path)
    assert (code, rules(found)) == (1, ["CONFLICT002"])
