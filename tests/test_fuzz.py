"""Fuzzing: whatever the bytes of a file skillpm reads, the answer is a result or
skillpm's own one-line error, never a traceback (exit 3).

Values are drawn near the real schemas (known keys, wrong types, odd strings) so
the parsers' deep paths are reached, not only the YAML scanner. Some properties
drive the real CLI in-process; example counts stay modest to keep the suite fast.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from skillpm import yamlio
from skillpm.errors import SkillpmError
from skillpm.formats.index import index_from_bytes, load_package_manifest
from skillpm.formats.project_files import parse_lock, parse_manifest
from tests.helpers import Cli, fragment_md, make_package, make_registry, skill_md, write_tree
from tests.test_claudemd import user_text

FAST = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

KEYS = [
    *("name", "version", "description", "license", "dependencies", "skills", "fragments"),
    *("registries", "vars", "claude-md", "placement", "lint", "ignore", "settings"),
    *("lock-version", "manifest-hash", "packages", "registry", "integrity", "commit"),
    *("skill-integrity", "fragment-hashes", "format", "versions", "path", "yanked"),
    *("section", "order", "claims", "must-not-touch", "reason", "paths", "metadata"),
    *("claudeignore", "archive", "archive-sha256", "published", "yank-reason"),
]
ODD = [
    *("demo", "1.0.0", "^1", ">=1,<2", "*", "1.x", "~=1.2", "", " ", "..", "../x", "/etc"),
    *("C:\\x", "a/b", "sha256:" + "0" * 64, "packages/demo/1.0.0", "x" * 70, "\x00", "\u202e"),
    *("git+https://u:p@h/r.git", "{{ vars.x }}", "inline", "import", "rules", "-", "null"),
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.sampled_from(ODD),
    st.text(max_size=12),
)
keys = st.one_of(st.sampled_from(KEYS), st.sampled_from(ODD), st.text(max_size=8), st.integers())
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=20,
)
documents = st.dictionaries(st.sampled_from(KEYS), values, max_size=8)


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


yaml_texts = st.one_of(documents.map(_dump), st.text(max_size=200))


def _only_skillpm_errors(parse: Any, *args: Any) -> None:
    try:
        parse(*args)
    except SkillpmError as exc:
        assert str(exc) and "\n" not in str(exc).strip()


@FAST
@given(text=yaml_texts)
@example(text="a: &a [*a]\n")
@example(text="? [1, 2]\n: x\n")
@example(text="name: demo\nversion: 1.0.0\ndescription: d\nskills: {a: 1}\n")
@example(text="dependencies: {demo: {version: [1]}}\n")
@example(text="\x1f")  # a reader error: its message had a second line
def test_yaml_parsers_raise_only_skillpm_errors(text: str) -> None:
    def load(parse: Any) -> Any:
        return lambda: parse(yamlio.loads(text, "f"), "f")

    _only_skillpm_errors(load(parse_manifest))
    _only_skillpm_errors(load(parse_lock))
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "skillpm.yaml").write_text(text)
        _only_skillpm_errors(load_package_manifest, Path(folder))


json_documents = st.one_of(
    st.fixed_dictionaries(
        {
            "format": st.sampled_from([1, 1, "1", None]),
            "packages": st.dictionaries(
                st.sampled_from(["demo", "x", "../x", ""]),
                st.one_of(
                    values, st.fixed_dictionaries({"versions": st.dictionaries(keys, values)})
                ),
            ),
        }
    ),
    values,
)


@FAST
@given(data=json_documents)
@example(data={"format": 1, "packages": {"demo": {"versions": {"1.0.0": {"integrity": None}}}}})
def test_index_parser_raises_only_skillpm_errors(data: Any) -> None:
    raw = json.dumps(data, default=str).encode()
    _only_skillpm_errors(index_from_bytes, raw, "index.json")
    _only_skillpm_errors(index_from_bytes, raw[: len(raw) // 2], "index.json")


@FAST
@given(front=yaml_texts, body=st.text(max_size=60))
def test_frontmatter_raises_only_skillpm_errors(front: str, body: str) -> None:
    from skillpm.content.fragments import parse_fragment

    text = f"---\n{front}---\n{body}"
    _only_skillpm_errors(yamlio.split_frontmatter, text, "SKILL.md")
    _only_skillpm_errors(
        lambda: parse_fragment(text, package="p", version="1.0.0", where="fragments/f.md")
    )


# -- the real CLI on fuzzed files ----------------------------------------------------------


def _no_traceback(cli: Cli, *args: str | Path, cwd: Path) -> None:
    result = cli(*args, cwd=cwd)
    assert result.exit_code in (0, 1, 2), (args, result.output)
    assert "Traceback" not in result.output and "unexpected failure" not in result.output


@pytest.fixture(scope="module")
def fuzz_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    return make_registry(
        root / "registry",
        [{"name": "demo", "fragments": {"demo-rules": fragment_md("demo-rules", "Rules\n")}}],
    )


@FAST
@given(manifest=yaml_texts, lock=yaml_texts)
@example(manifest="vars:\n  name: null\n  0: null\n", lock="{}\n")  # keys of mixed types
@example(manifest="claude-md:\n  name: null\n  0: null\n", lock="{}\n")
def test_cli_on_fuzzed_project_files(
    cli: Cli, tmp_path: Path, fuzz_registry: Path, manifest: str, lock: str
) -> None:
    project = write_tree(tmp_path / "p", {"skills.yaml": manifest, "skills.lock": lock})
    for args in (("list",), ("install", "--dry-run"), ("doctor",), ("lint",)):
        _no_traceback(cli, *args, cwd=project)
    (project / "skills.lock").unlink()
    _no_traceback(cli, "install", "demo", "--registry", fuzz_registry, "--dry-run", cwd=project)


@FAST
@given(package=yaml_texts, front=yaml_texts)
def test_cli_on_fuzzed_package_files(cli: Cli, tmp_path: Path, package: str, front: str) -> None:
    source = make_package(
        tmp_path / "src",
        "demo",
        files={"skillpm.yaml": package, "skills/demo/SKILL.md": f"---\n{front}---\nBody\n"},
    )
    for args in (
        ("publish", source, "--registry", tmp_path / "registry", "--dry-run"),
        ("lint", source),
        ("lint", source / "skills/demo"),
    ):
        _no_traceback(cli, *args, cwd=tmp_path)


@FAST
@given(data=json_documents)
def test_cli_on_a_fuzzed_index(cli: Cli, tmp_path: Path, data: Any) -> None:
    registry = tmp_path / "registry"
    registry.mkdir(exist_ok=True)
    (registry / "index.json").write_text(json.dumps(data, default=str))
    project = tmp_path / "p"
    project.mkdir(exist_ok=True)
    for args in (
        ("install", "demo", "--registry", registry, "--dry-run"),
        ("registry", "verify", registry),
        ("lint", registry),
    ):
        _no_traceback(cli, *args, cwd=project)


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=user_text())
@example(text="<!-- skillpm:begin demo-rules 1.0.0 sha256:" + "0" * 64 + " -->\n")
@example(text="# Title\r\nno newline at the end")
def test_install_then_remove_gives_back_claude_md_byte_for_byte(
    cli: Cli, tmp_path: Path, fuzz_registry: Path, text: str
) -> None:
    """Through the real CLI: the user's CLAUDE.md survives an install and a remove of
    a package with a fragment exactly, or the install is refused and changes nothing."""
    project = tmp_path / "p"
    project.mkdir(exist_ok=True)
    for stale in ("skills.yaml", "skills.lock"):
        (project / stale).unlink(missing_ok=True)
    raw = text.encode("utf-8", "surrogateescape")
    (project / "CLAUDE.md").write_bytes(raw)
    result = cli("install", "demo", "--registry", fuzz_registry, cwd=project)
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 1:
        assert (project / "CLAUDE.md").read_bytes() == raw
        assert "CLAUDE.md" in result.stderr
        return
    assert b"skillpm:begin demo-rules" in (project / "CLAUDE.md").read_bytes()
    assert cli("remove", "demo", cwd=project).exit_code == 0
    after = project / "CLAUDE.md"
    assert (after.read_bytes() if after.exists() else b"") == raw


def test_skill_md_strategy_is_reachable() -> None:
    """The fuzzed SKILL.md keeps the real shape the builder writes (a sanity anchor)."""
    meta, body, _ = yamlio.split_frontmatter(skill_md("demo"), "SKILL.md")
    assert meta["name"] == "demo" and body.startswith("# demo")
