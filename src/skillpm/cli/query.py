"""Options of the commands that read a project or its registries (list, info, search,
why, tree, doctor), and completion."""

from __future__ import annotations

import click

from skillpm.cli.kit import (
    Command,
    complete,
    network_options,
    open_project,
    user_scope,
)


@click.command(name="list", cls=Command)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@user_scope
@click.pass_context
def list_(ctx: click.Context, as_json: bool, user: bool) -> None:
    """List installed packages (and warn of user-scope skills shadowing the project's)."""
    from skillpm.commands.query import list_installed

    list_installed(open_project(ctx, user), as_json=as_json)


@click.command(cls=Command)
@click.argument("package", shell_complete=complete("available"))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@network_options
@click.pass_context
def info(ctx: click.Context, package: str, as_json: bool) -> None:
    """Show a package's versions, skills and dependencies."""
    from skillpm.commands.query import info as run

    run(open_project(ctx), package, as_json=as_json)


@click.command(cls=Command)
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@network_options
@click.pass_context
def search(ctx: click.Context, text: str, as_json: bool) -> None:
    """Search package names and descriptions in every configured registry."""
    from skillpm.commands.query import search as run

    run(open_project(ctx), text, as_json=as_json)


@click.command(cls=Command)
@click.argument("package", shell_complete=complete("installed"))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def why(ctx: click.Context, package: str, as_json: bool) -> None:
    """Show which skills.yaml dependencies brought in an installed package."""
    from skillpm.commands.graph import why as run

    run(open_project(ctx), package, as_json=as_json)


@click.command(cls=Command)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def tree(ctx: click.Context, as_json: bool) -> None:
    """Show the locked dependency tree, from skills.yaml down."""
    from skillpm.commands.graph import tree as run

    run(open_project(ctx), as_json=as_json)


@click.command(cls=Command)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> None:
    """Check the project: lock, installed skills, CLAUDE.md, Bedrock settings, IAM policies.

    Exits 1 when an error-level problem is found. Never uses the network. Checks a
    project folder only (no -g: its settings and IAM checks are a project's); for the
    user scope, 'skillpm list -g' shows skills that are modified or missing.
    """
    from skillpm.commands.doctor import doctor as run

    if run(open_project(ctx), as_json=as_json):
        ctx.exit(1)


@click.command(cls=Command)
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script for SHELL.

    \b
    bash:  eval "$(skillpm completion bash)"     in ~/.bashrc
    zsh:   eval "$(skillpm completion zsh)"      in ~/.zshrc
    fish:  skillpm completion fish > ~/.config/fish/completions/skillpm.fish

    Package names complete from skills.yaml, skills.lock and the registries' cached
    indexes; completion never uses the network.
    """
    from skillpm.cli.completion import script
    from skillpm.output import console

    console.result(script(ctx.find_root().command, shell))
