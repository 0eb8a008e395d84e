"""Commands load when used: the top-level help and a no-op install import no command module."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from skillpm.cli import help as root_help
from skillpm.cli.main import COMMANDS
from skillpm.cli.root import make_cli
from tests.helpers import SRC, Cli, make_git_registry, publish_to, run_skillpm

# Prints the modules skillpm's entry loaded (beyond those loaded at start-up) on stderr.
PROBE = (
    "import sys\n"
    "before = set(sys.modules)\n"
    "from skillpm.cli.entry import main\n"
    "try:\n    main(sys.argv[1:])\n"
    "finally:\n    print(' '.join(sorted(set(sys.modules) - before)), file=sys.stderr)\n"
)
HEAVY = ("click", "yaml", "ruamel.yaml", "jinja2", "json", "skillpm.content.fragment_plan")


def probe(*args: str, cwd: Path, columns: int = 80) -> tuple[str, set[str]]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": str(columns)}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, set(proc.stderr.split())


@pytest.mark.parametrize("columns", [60, 80, 200])
def test_the_entry_prints_the_help_click_would_without_loading_click(
    tmp_path: Path, columns: int
) -> None:
    # Not the entry's shape, so click renders it (at the width click picks from COLUMNS).
    through_click = run_skillpm(
        "--color", "never", "--help", cwd=tmp_path, env={"COLUMNS": str(columns)}
    )
    assert through_click.exit_code == 0
    for args in (["--help"], ["-h"], []):
        out, loaded = probe(*args, cwd=tmp_path, columns=columns)
        assert out == through_click.stdout
        assert not loaded & {*HEAVY, "skillpm.cli.root", "skillpm.cli.kit"}, loaded
        assert not {m for m in loaded if m.startswith("skillpm.commands")}
    assert "\n  export-marketplace  Write" in through_click.stdout  # a line from the table


def test_the_table_names_each_command_with_its_own_help() -> None:
    group = make_cli(COMMANDS)
    ctx = click.Context(group, info_name="skillpm")
    assert group.list_commands(ctx) == list(COMMANDS)
    for name, (_, text) in COMMANDS.items():
        command = group.get_command(ctx, name)
        assert isinstance(command, click.Command) and command.name == name
        first = " ".join((command.help or "").partition("\n\n")[0].split())
        assert first == text, f"cli.main.COMMANDS[{name!r}]: the help should read {first!r}"


def test_the_help_lists_the_options_click_parses() -> None:
    group = make_cli(COMMANDS)
    ctx = group.make_context("skillpm", [], resilient_parsing=True)  # with -h, as run
    records = [r for p in group.get_params(ctx) if (r := p.get_help_record(ctx)) is not None]
    assert records == list(root_help.OPTIONS)
    assert group.help == root_help.ABOUT


def test_a_command_loads_its_own_module_only(tmp_path: Path) -> None:
    out, loaded = probe("list", "--help", cwd=tmp_path)
    assert out.startswith("Usage: skillpm list")
    assert "skillpm.cli.query" in loaded
    assert not loaded & {"skillpm.cli.project", "skillpm.cli.authoring", "skillpm.cli.registry"}


def test_a_mistyped_command_still_gets_a_suggestion(cli: Cli) -> None:
    result = cli("instal")
    assert result.exit_code == 2
    assert "no such command 'instal'; did you mean 'install'?" in result.stderr


def test_a_table_entry_naming_no_command_is_a_clear_bug() -> None:
    group = make_cli({"init": ("project:install_options", "Nothing.")})
    with pytest.raises(TypeError, match="skillpm.cli.project:install_options is not a click"):
        group.get_command(click.Context(group), "init")


def test_a_noop_with_fragments_and_pieces_loads_no_parser(
    cli: Cli, project: Path, tmp_path: Path
) -> None:
    builtin = Path(__file__).resolve().parent.parent / "skills"
    for name in ("claudeignore-defaults", "bedrock-setup", "cdk-patterns"):
        publish_to(tmp_path / "builtin-copy", builtin / name)
    (project / "skills.yaml").write_text("vars:\n  aws: {region: us-east-1}\n")
    registry = tmp_path / "builtin-copy"
    result = cli("install", "bedrock-setup", "cdk-patterns", "--registry", registry, cwd=project)
    assert result.exit_code == 0, result.output
    assert (project / "CLAUDE.md").is_file() and (project / ".claudeignore").is_file()
    out, loaded = probe("install", cwd=project)
    assert out == "Nothing to do: 3 packages up to date\n"
    assert not loaded & {*HEAVY, "skillpm.install.settings", "skillpm.formats.project_files"}


def test_a_cold_install_from_an_index_json_git_registry_loads_no_marketplace_code(
    project: Path, tmp_path: Path
) -> None:
    remote = make_git_registry(tmp_path / "server", [{"name": "base", "version": "1.0.0"}])
    out, loaded = probe("install", "base", "--registry", remote.url, cwd=project)
    assert "+ base 1.0.0" in out
    assert "skillpm.registry.git" in loaded  # the probe sees the git registry load...
    marketplace = {"marketplace", "repo_layouts", "plugin_layout"}
    # ...and none of what only a marketplace or a folder of skills needs.
    leaked = loaded & {f"skillpm.registry.{m}" for m in marketplace}
    assert not leaked, leaked
