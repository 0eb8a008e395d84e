"""The command line: the table of commands, and the entry point over it.

Add a command: its options in a module under ``cli/`` (a ``click.command(cls=Command)``
calling ``commands/``), and one line in ``COMMANDS`` below: its name, where the click
command is (``module:attribute`` under ``skillpm.cli``) and the first paragraph of its
help (``skillpm --help`` shows it without importing the module; a test holds it equal
to the docstring). Nothing here imports click: the entry prints the top-level help
from this table (``cli.help``), and ``main`` builds the click group only when a
command runs (``cli.root``). Help lists commands in this order.
"""

from __future__ import annotations

# fmt: off
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("project:init", "Write a commented skills.yaml in the project folder."),
    "install": ("project:install", "Add packages, or install what skills.yaml and skills.lock say."),
    "remove": ("project:remove", "Remove packages, their skills, and dependencies nothing else needs."),
    "sync": ("project:sync", "Re-render CLAUDE.md fragments (after a change of vars)."),
    "diff": ("project:diff", "Show what sync would change, without writing."),
    "outdated": ("project:outdated", "Show packages with newer versions: wanted (within ranges) and latest."),
    "update": ("project:update", "Move packages (all by default) to the newest versions their ranges allow."),
    "registry": ("registry:registry", "Registries: add, remove and list those in skills.yaml; reindex, verify or build one."),
    "list": ("query:list_", "List installed packages (and warn of user-scope skills shadowing the project's)."),
    "info": ("query:info", "Show a package's versions, skills and dependencies."),
    "search": ("query:search", "Search package names and descriptions in every configured registry."),
    "why": ("query:why", "Show which skills.yaml dependencies brought in an installed package."),
    "tree": ("query:tree", "Show the locked dependency tree, from skills.yaml down."),
    "new": ("authoring:new", "Start a package in a new folder NAME: skillpm.yaml, a skill, a fragment."),
    "pack": ("authoring:pack", "Write a reproducible NAME-VERSION.tar.gz of a package folder."),
    "lint": ("authoring:lint", "Check skills and CLAUDE.md fragments for spec, conflict, safety, drift and size problems."),
    "publish": ("authoring:publish", "Publish a package folder (or a bare skill folder) to a registry."),
    "yank": ("authoring:yank", "Mark a published version as yanked: new resolutions skip it."),
    "unyank": ("authoring:unyank", "Undo a yank: resolutions may pick the version again."),
    "sign": ("signing:sign", "Add an SSH signature to a published version (co-signing, key rotation)."),
    "export-marketplace": ("authoring:export_marketplace", "Write .claude-plugin/marketplace.json for a registry folder (default: here)."),
    "sbom": ("sbom:sbom", "Write an SBOM of the locked packages (CycloneDX 1.6 or SPDX 2.3 JSON)."),
    "doctor": ("query:doctor", "Check the project: lock, installed skills, CLAUDE.md, Bedrock settings, IAM policies."),
    "audit": ("policy:audit", "Check the installed project against the policy, its lock and drift (the CI gate)."),
    "policy": ("policy:policy", "Show the organisation's and the project's policy (docs/policy.md)."),
    "completion": ("query:completion", "Print the shell completion script for SHELL."),
}
# fmt: on


def main(argv: list[str] | None = None) -> None:
    """Run the command line and exit with the code its outcome maps to (DESIGN 7)."""
    from skillpm.cli.kit import run_and_exit
    from skillpm.cli.root import make_cli

    run_and_exit(make_cli(COMMANDS), argv)
