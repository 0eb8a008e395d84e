"""The command line: parse options and call the core (``clikit.run`` maps errors to exit
codes, once).

Only click is imported at start-up; every command imports what it needs, so
``skillpm --help`` and a no-op ``skillpm install`` stay fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from skillpm import __version__
from skillpm.cli import sbom, signing
from skillpm.cli.kit import (
    CONTEXT,
    PROJECT_KEY,
    Group,
    check_network_settings,
    complete,
    here,
    install_options,
    network_options,
    open_project,
    project_root,
    run_and_exit,
    user_scope,
)
from skillpm.cli.registry import registry


@click.group(cls=Group, context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="skillpm")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors and requested output.")
@click.option("-v", "--verbose", count=True, help="Print more detail (repeat for more).")
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour output (NO_COLOR is honoured).",
)
@click.option(
    "-C",
    "--project",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Project folder (default: the current folder).",
)
@click.pass_context
def cli(ctx: click.Context, quiet: bool, verbose: int, color: str, project: Path | None) -> None:
    """Install, lock and share Claude Code skills and CLAUDE.md fragments.

    Global options work before or after the command: 'skillpm -q install' and
    'skillpm install -q' are the same.
    """
    from skillpm.output import console

    console.reset()
    console.configure(quiet=quiet, verbose=verbose, color=color)
    if project is not None:
        ctx.meta[PROJECT_KEY] = project


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Write a commented skills.yaml in the project folder."""
    from skillpm.commands.init import init as run

    run(open_project(ctx))


@cli.command()
@click.argument(
    "packages", nargs=-1, metavar="[PKG[@RANGE]]...", shell_complete=complete("available")
)
@click.option(
    "--registry", metavar="URL", help="Registry (folder, git URL or https:// site) to add and use."
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
        # A no-op proven from the stat cache: no YAML, resolver, registry or lock needed.
        from skillpm.project.state import quick_noop

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


@cli.command()
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


@cli.command()
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


@cli.command()
@user_scope
@network_options
@click.pass_context
def diff(ctx: click.Context, user: bool) -> None:
    """Show what sync would change, without writing."""
    from skillpm.commands.install import sync as run

    run(open_project(ctx, user), install_options(show_diff=True))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@user_scope
@network_options
@click.pass_context
def outdated(ctx: click.Context, as_json: bool, user: bool) -> None:
    """Show packages with newer versions: wanted (within ranges) and latest."""
    from skillpm.commands.update import outdated as run

    run(open_project(ctx, user), as_json=as_json)


@cli.command()
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


for group in (registry, signing.sign, sbom.sbom):
    cli.add_command(group)


@cli.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@user_scope
@click.pass_context
def list_(ctx: click.Context, as_json: bool, user: bool) -> None:
    """List installed packages (and warn of user-scope skills shadowing the project's)."""
    from skillpm.commands.query import list_installed

    list_installed(open_project(ctx, user), as_json=as_json)


@cli.command()
@click.argument("package", shell_complete=complete("available"))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@network_options
@click.pass_context
def info(ctx: click.Context, package: str, as_json: bool) -> None:
    """Show a package's versions, skills and dependencies."""
    from skillpm.commands.query import info as run

    run(open_project(ctx), package, as_json=as_json)


@cli.command()
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@network_options
@click.pass_context
def search(ctx: click.Context, text: str, as_json: bool) -> None:
    """Search package names and descriptions in every configured registry."""
    from skillpm.commands.query import search as run

    run(open_project(ctx), text, as_json=as_json)


@cli.command()
@click.argument("package", shell_complete=complete("installed"))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def why(ctx: click.Context, package: str, as_json: bool) -> None:
    """Show which skills.yaml dependencies brought in an installed package."""
    from skillpm.commands.graph import why as run

    run(open_project(ctx), package, as_json=as_json)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def tree(ctx: click.Context, as_json: bool) -> None:
    """Show the locked dependency tree, from skills.yaml down."""
    from skillpm.commands.graph import tree as run

    run(open_project(ctx), as_json=as_json)


@cli.command()
@click.argument("name")
@click.option("--skill", is_flag=True, help="Include skills/NAME/SKILL.md (the default).")
@click.option("--fragment", is_flag=True, help="Include a CLAUDE.md fragment, fragments/NAME.md.")
@click.pass_context
def new(ctx: click.Context, name: str, skill: bool, fragment: bool) -> None:
    """Start a package in a new folder NAME: skillpm.yaml, a skill, a fragment.

    \b
    skillpm new cdk-patterns                 a package with one skill
    skillpm new aws-environment --fragment   a package with one CLAUDE.md fragment
    skillpm new team-kit --skill --fragment  both
    """
    from skillpm.commands.publish import new as run

    run(here(ctx), name, skill=skill, fragment=fragment)


@cli.command()
@click.argument("path", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "-o",
    "--out-dir",
    default=".",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write NAME-VERSION.tar.gz to (default: the current folder).",
)
@click.option("--version", "version", metavar="VERSION", help="Version for a bare skill folder.")
@click.pass_context
def pack(ctx: click.Context, path: Path, out_dir: Path, version: str | None) -> None:
    """Write a reproducible NAME-VERSION.tar.gz of a package folder.

    The same files give the same bytes (and sha256) wherever and whenever they are packed.
    """
    from skillpm.commands.publish import pack as run

    run(here(ctx, path), here(ctx, out_dir), version=version)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="[PATH]...")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif"]),
    default="text",
    show_default=True,
    help="Output format (sarif: SARIF 2.1.0 for code scanning).",
)
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--strict-spec", is_flag=True, help="Unknown frontmatter keys are errors.")
@click.option("--all-versions", is_flag=True, help="In a registry, lint every version.")
@click.option("--ignore", multiple=True, metavar="RULE", help="Skip a rule or family (repeat).")
@click.option("--no-inline-ignore", is_flag=True, help="Disregard skillpm:ignore comments.")
@click.option("--list-rules", is_flag=True, help="List the rules and exit.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.pass_context
def lint(
    ctx: click.Context,
    paths: tuple[Path, ...],
    fmt: str,
    strict: bool,
    strict_spec: bool,
    all_versions: bool,
    ignore: tuple[str, ...],
    no_inline_ignore: bool,
    list_rules: bool,
    as_json: bool,
) -> None:
    """Check skills and CLAUDE.md fragments for spec, conflict, safety, drift and size problems.

    \b
    skillpm lint                         the project: .claude/skills, CLAUDE.md, skills.yaml/lock
    skillpm lint pkg-a pkg-b             package folders (skillpm.yaml) or skill folders
    skillpm lint registry/               the newest version of each package in a registry
    skillpm lint --format sarif > x.sarif   for GitHub code scanning

    Exit code 1 when any error is found (--strict: any warning too). Suppress one finding with
    a '<!-- skillpm:ignore RULE -->' or '# skillpm:ignore RULE' comment on its line or the line
    before, or a whole rule with 'lint: {ignore: [RULE]}' in skills.yaml.
    """
    from skillpm.commands import lint as command

    fmt = "json" if as_json else fmt  # --json, like every other command
    if list_rules:
        command.list_rules(fmt)
        return
    options = command.LintOptions(
        format=fmt,
        strict=strict,
        strict_spec=strict_spec,
        all_versions=all_versions,
        ignore=ignore,
        inline_ignores=not no_inline_ignore,
    )
    ctx.exit(command.lint(here(ctx).resolve(), [here(ctx, p) for p in paths], options))


@cli.command()
@click.argument("path", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--registry",
    required=True,
    metavar="PATH|URL",
    help="Registry to publish to: a folder, or a git URL (git+https://, git+ssh://, "
    "git+file://, git@host:org/repo.git, with an optional #branch).",
)
@click.option("--version", "version", metavar="VERSION", help="Version for a bare skill folder.")
@click.option("--dry-run", is_flag=True, help="Validate and show what would be published.")
@signing.sign_option
@click.pass_context
def publish(ctx: click.Context, /, path: Path, registry: str, **options: Any) -> None:
    """Publish a package folder (or a bare skill folder) to a registry.

    A missing or empty registry folder (or empty git repository) becomes a new registry.
    To a git registry, publish commits "publish NAME VERSION" with your git identity and
    pushes it, applying it again if another publish landed first. Published versions are
    immutable: publishing one again is refused.
    """
    from skillpm.commands.publish import publish as run

    run(here(ctx, path), registry, here(ctx), **options)


@cli.command()
@click.argument("name")
@click.argument("version")
@click.option("--registry", required=True, metavar="PATH|URL", help="Registry holding the package.")
@click.option("--reason", metavar="TEXT", help="Why, recorded in the index.")
@click.pass_context
def yank(ctx: click.Context, name: str, version: str, registry: str, reason: str | None) -> None:
    """Mark a published version as yanked: new resolutions skip it.

    Projects whose skills.lock already pins it still install it (like cargo).
    """
    from skillpm.commands.registry_admin import yank as run

    run(registry, here(ctx), name, version, reason=reason, undo=False)


@cli.command()
@click.argument("name")
@click.argument("version")
@click.option("--registry", required=True, metavar="PATH|URL", help="Registry holding the package.")
@click.pass_context
def unyank(ctx: click.Context, name: str, version: str, registry: str) -> None:
    """Undo a yank: resolutions may pick the version again."""
    from skillpm.commands.registry_admin import yank as run

    run(registry, here(ctx), name, version, reason=None, undo=True)


@cli.command(name="export-marketplace")
@click.argument("registry", default=".", metavar="[REGISTRY]")
@click.option("--name", metavar="NAME", help="Marketplace name (default: the folder's name).")
@click.option("--owner", metavar="NAME", help="Owner shown in Claude Code (default: the name).")
@click.option("--email", metavar="EMAIL", help="Owner's email.")
@click.option("--dry-run", is_flag=True, help="Show the plugins, write nothing.")
@click.pass_context
def export_marketplace(
    ctx: click.Context,
    registry: str,
    name: str | None,
    owner: str | None,
    email: str | None,
    dry_run: bool,
) -> None:
    """Write .claude-plugin/marketplace.json for a registry folder (default: here).

    Claude Code can then use the same repository: '/plugin marketplace add' it and
    '/plugin install PACKAGE@NAME'. Run it again after each publish.
    """
    from skillpm.commands.export import export_marketplace as run

    run(registry, here(ctx), name=name, owner=owner, email=email, dry_run=dry_run)


@cli.command()
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


@cli.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
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

    console.result(script(cli, shell))


def main(argv: list[str] | None = None) -> None:
    """The entry point: run ``cli`` and exit with the code its outcome maps to (DESIGN 7)."""
    run_and_exit(cli, argv)
