"""Options of the commands that change a project: init, install, remove, sync, diff,
outdated and update (each calls ``commands/``; see ``cli.main`` for the table)."""

from __future__ import annotations

import click

from skillpm.cli.kit import (
    Command,
    check_network_settings,
    complete,
    install_options,
    network_options,
    open_project,
    project_root,
    user_scope,
)


@click.command(cls=Command)
@click.pass_context
def init(ctx: click.Context) -> None:
    """Write a commented skills.yaml in the project folder."""
    from skillpm.commands.init import init as run

    run(open_project(ctx))


@click.command(cls=Command)
@click.argument(
    "packages", nargs=-1, metavar="[PKG[@RANGE]]...", shell_complete=complete("available")
)
@click.option(
    "--registry",
    metavar="URL",
    help="Registry (folder, git URL, https:// site or s3://BUCKET/PREFIX) to add and use.",
)
@click.option("--frozen", is_flag=True, help="Install exactly skills.lock; fail if stale.")
@click.option("--dry-run", is_flag=True, help="Show what would change, change nothing.")
@click.option(
    "--force", is_flag=True, help="Overwrite unmanaged or edited skills and CLAUDE.md blocks."
)
@click.option("--pre", "prerelease", is_flag=True, help="Allow prerelease versions.")
@click.option(
    "--agent",
    is_flag=True,
    help="Also install for other agents: skills into .agents/skills, fragments into AGENTS.md "
    "(saved as targets: [claude, agents] in skills.yaml).",
)
@user_scope
@network_options
@click.pass_context
def install(
    ctx: click.Context,
    packages: tuple[str, ...],
    registry: str | None,
    frozen: bool,
    dry_run: bool,
    force: bool,
    prerelease: bool,
    agent: bool,
    user: bool,
) -> None:
    """Add packages, or install what skills.yaml and skills.lock say.

    \b
    skillpm install cdk-patterns            add the latest, saved as ^X.Y.Z
    skillpm install 'cdk-patterns@~1.0'     add with a range (npm or PEP 440)
    skillpm install aws-tools/cdk           one skill of a package (a plugin, say)
    skillpm install -g cdk-patterns         into ~/.claude/skills, for every project
    skillpm install                         install from skills.lock
    skillpm install --frozen                CI: fail if skills.lock is stale
    skillpm install --frozen --offline      from the cache only, never the network
    """
    plain = not (packages or registry or dry_run or force or prerelease or agent or user)
    if plain and not ctx.meta.get("refresh"):
        # A no-op proven from the stat cache: no YAML, resolver, registry or lock needed
        # (keyed to the managed policy the last full run checked the lock against).
        from skillpm.policy.managed import quick_noop

        check_network_settings(ctx)  # the same usage errors as the full path
        count = quick_noop(project_root(ctx))
        if count is not None:
            from skillpm.output import console, up_to_date

            console.info(up_to_date(count))
            return
    from skillpm.commands.install import install as run

    if agent and user:
        raise click.UsageError("--agent is for projects; the user scope is ~/.claude only")
    options = install_options(
        frozen=frozen, dry_run=dry_run, force=force, prerelease=prerelease, agent=agent
    )
    run(open_project(ctx, user), packages, registry_url=registry, options=options)


@click.command(cls=Command)
@click.argument(
    "packages", nargs=-1, required=True, metavar="PKG...", shell_complete=complete("direct")
)
@click.option("--dry-run", is_flag=True, help="Show what would change, change nothing.")
@click.option("--force", is_flag=True, help="Remove skills and CLAUDE.md blocks even if edited.")
@user_scope
@network_options
@click.pass_context
def remove(
    ctx: click.Context, packages: tuple[str, ...], dry_run: bool, force: bool, user: bool
) -> None:
    """Remove packages, their skills, and dependencies nothing else needs."""
    from skillpm.commands.install import remove as run

    run(open_project(ctx, user), packages, install_options(dry_run=dry_run, force=force))


@click.command(cls=Command)
@click.option("--force", is_flag=True, help="Replace CLAUDE.md blocks that were edited by hand.")
@user_scope
@network_options
@click.pass_context
def sync(ctx: click.Context, force: bool, user: bool) -> None:
    """Re-render CLAUDE.md fragments (after a change of vars).

    Every fragment of the installed packages is rendered again with the vars in
    skills.yaml and put in place. A block edited by hand is kept when its
    rendering has not changed, refused otherwise; --force replaces it.
    """
    from skillpm.commands.install import sync as run

    run(open_project(ctx, user), install_options(force_fragments=force))


@click.command(cls=Command)
@user_scope
@network_options
@click.pass_context
def diff(ctx: click.Context, user: bool) -> None:
    """Show what sync would change, without writing."""
    from skillpm.commands.install import sync as run

    run(open_project(ctx, user), install_options(show_diff=True))


@click.command(cls=Command)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--exit-code", is_flag=True, help="Exit 1 when a package is outdated (a CI gate).")
@user_scope
@network_options
@click.pass_context
def outdated(ctx: click.Context, as_json: bool, exit_code: bool, user: bool) -> None:
    """Show packages with newer versions: wanted (within ranges) and latest."""
    from skillpm.commands.update import outdated as run

    if run(open_project(ctx, user), as_json=as_json) and exit_code:
        ctx.exit(1)


@click.command(cls=Command)
@click.argument("packages", nargs=-1, metavar="[PKG]...")
@click.option("--latest", is_flag=True, help="Also widen ranges in skills.yaml to the latest.")
@click.option("--dry-run", is_flag=True, help="Show what would change, change nothing.")
@click.option("--force", is_flag=True, help="Overwrite locally edited skills.")
@user_scope
@network_options
@click.pass_context
def update(
    ctx: click.Context,
    packages: tuple[str, ...],
    latest: bool,
    dry_run: bool,
    force: bool,
    user: bool,
) -> None:
    """Move packages (all by default) to the newest versions their ranges allow.

    Fetches git registries first (unless --offline) and rewrites skills.lock.
    """
    from skillpm.commands.update import update as run

    options = install_options(dry_run=dry_run, force=force)
    run(open_project(ctx, user), packages, latest=latest, options=options)
