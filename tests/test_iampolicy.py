"""IAM policies that allow InvokeModel but not its streaming twin (Claude Code hangs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillpm.doctor.iampolicy import action_matches, judge_document, scan
from tests.helpers import write_tree


def _doc(*statements: dict[str, object]) -> dict[str, object]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(*actions: str) -> dict[str, object]:
    return {"Effect": "Allow", "Action": list(actions), "Resource": "*"}


@pytest.mark.parametrize(
    ("pattern", "granted"),
    [
        ("bedrock:InvokeModel", {"invoke"}),
        ("BEDROCK:invokemodel", {"invoke"}),
        ("bedrock:*", {"invoke", "stream"}),
        ("bedrock:Invoke*", {"invoke", "stream"}),
        ("bedrock:InvokeModel*", {"invoke", "stream"}),
        ("*", {"invoke", "stream"}),
        ("bedrock:InvokeModel?", set()),
        ("bedrock:InvokeModelWithResponseStream", {"stream"}),
        ("s3:GetObject", set()),
    ],
)
def test_action_wildcards(pattern: str, granted: set[str]) -> None:
    got = set()
    if action_matches(pattern, "bedrock:InvokeModel"):
        got.add("invoke")
    if action_matches(pattern, "bedrock:InvokeModelWithResponseStream"):
        got.add("stream")
    assert got == granted


def test_judging_documents() -> None:
    assert judge_document(_doc(_allow("bedrock:InvokeModel"))) == (
        "stream-missing",
        "bedrock:InvokeModel",
    )
    assert judge_document(_doc(_allow("bedrock:InvokeModel", "bedrock:*Stream"))) is None
    # Two statements of one document add up, as IAM evaluates them.
    both = _doc(_allow("bedrock:InvokeModel"), _allow("bedrock:InvokeModelWithResponseStream"))
    assert judge_document(both) is None
    assert judge_document(_doc(_allow("bedrock:Invoke*"))) is None
    assert judge_document(_doc(_allow("s3:*"))) is None
    single = {"Statement": {"Effect": "Allow", "Action": "bedrock:InvokeModel"}}
    assert judge_document(single) == ("stream-missing", "bedrock:InvokeModel")
    deny = _doc(
        _allow("bedrock:*"),
        {"Effect": "Deny", "Action": "bedrock:InvokeModelWithResponseStream", "Resource": "*"},
    )
    assert judge_document(deny) == ("stream-denied", "bedrock:*")
    not_action = _doc({"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"})
    assert judge_document(not_action) is None
    not_stream = _doc({"Effect": "Allow", "NotAction": ["bedrock:*Stream"], "Resource": "*"})
    assert judge_document(not_stream) == ("stream-missing", "NotAction")


def test_scan_finds_json_yaml_cdk_and_terraform(tmp_path: Path) -> None:
    bad_json = json.dumps(_doc(_allow("bedrock:InvokeModel")), indent=2)
    write_tree(
        tmp_path,
        {
            "iam/bad.json": bad_json,
            "iam/good.json": json.dumps(_doc(_allow("bedrock:InvokeModel*"))),
            "cfn/template.yaml": (
                "Resources:\n"
                "  Role:\n"
                "    Type: AWS::IAM::Role\n"
                "    Properties:\n"
                "      Policies:\n"
                "        - PolicyName: bedrock\n"
                "          PolicyDocument:\n"
                "            Statement:\n"
                "              - Effect: Allow\n"
                "                Action: bedrock:InvokeModel\n"
                "                Resource: !Sub arn:aws:bedrock:${AWS::Region}::model/*\n"
            ),
            "lib/stack.ts": (
                "import * as iam from 'aws-cdk-lib/aws-iam';\n"
                "role.addToPolicy(new iam.PolicyStatement({\n"
                "  actions: ['bedrock:InvokeModel'],\n"
                "  resources: ['*'],\n"
                "}));\n"
            ),
            "app/stack.py": (
                "role.add_to_policy(iam.PolicyStatement(\n"
                '    actions=["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],\n'
                '    resources=["*"],\n'
                "))\n"
            ),
            "tf/main.tf": (
                'data "aws_iam_policy_document" "claude" {\n'
                "  statement {\n"
                '    actions   = ["bedrock:InvokeModel"]\n'
                '    resources = ["*"]\n'
                "  }\n"
                "}\n"
            ),
            "tf/inline.tf": (
                "policy = jsonencode({\n"
                "  Statement = [{\n"
                '    Action   = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]\n'
                '    Effect   = "Allow"\n'
                "  }]\n"
                "})\n"
            ),
            "node_modules/pkg/policy.json": bad_json,  # vendored: not the project's
            "cdk.out/Stack.template.json": bad_json,  # generated from lib/stack.ts
            "notes/broken.json": '{"Statement": [bedrock:InvokeModel',  # unreadable: skipped
        },
    )
    result = scan(tmp_path)
    found = {(p.path, p.line, p.kind) for p in result.problems}
    assert found == {
        ("iam/bad.json", 7, "stream-missing"),
        ("cfn/template.yaml", 10, "stream-missing"),
        ("lib/stack.ts", 3, "stream-missing"),
        ("tf/main.tf", 3, "stream-missing"),
    }
    assert not result.truncated


def test_files_without_bedrock_are_not_parsed(tmp_path: Path) -> None:
    write_tree(tmp_path, {"big.json": "[" * 100_000, "ok.yaml": "a: 1\n"})
    assert scan(tmp_path).problems == ()
