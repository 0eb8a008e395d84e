"""Options of the commands for package authors and registry keepers: new, pack, lint,
publish, yank, unyank and export-marketplace."""

from __future__ import annotations

from pathlib import Path

import click

from skillpm.cli.kit import (
    Command,
    here,
    report_format,
)
from skillpm.cli.signing import sign_option


@click.command(cls=Command)
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


@click.command(cls=Command)
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


@click.command(cls=Command)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="[PATH]...")
@report_format
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


@click.command(cls=Command)
@click.argument("path", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--registry",
    required=True,
    metavar="PATH|URL",
    help="Registry to publish to: a folder, a git URL (git+https://, git+ssh://, "
    "git+file://, git@host:org/repo.git, with an optional #branch) or s3://BUCKET/PREFIX.",
)
@click.option("--version", "version", metavar="VERSION", help="Version for a bare skill folder.")
@click.option("--dry-run", is_flag=True, help="Validate and show what would be published.")
@sign_option
@click.pass_context
def publish(
    ctx: click.Context,
    path: Path,
    registry: str,
    version: str | None,
    dry_run: bool,
    sign: Path | None,
) -> None:
    """Publish a package folder (or a bare skill folder) to a registry.

    A missing or empty registry folder (or empty git repository or S3 prefix) becomes a new
    registry. To a git registry, publish commits "publish NAME VERSION" with your git identity
    and pushes it, applying it again if another publish landed first; to S3 it uploads the
    archive and updates the index files with conditional writes. Published versions are
    immutable: publishing one again is refused.
    """
    from skillpm.commands.publish import publish as run

    key = here(ctx, sign) if sign else None
    run(here(ctx, path), registry, here(ctx), version=version, dry_run=dry_run, sign=key)


@click.command(cls=Command)
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


@click.command(cls=Command)
@click.argument("name")
@click.argument("version")
@click.option("--registry", required=True, metavar="PATH|URL", help="Registry holding the package.")
@click.pass_context
def unyank(ctx: click.Context, name: str, version: str, registry: str) -> None:
    """Undo a yank: resolutions may pick the version again."""
    from skillpm.commands.registry_admin import yank as run

    run(registry, here(ctx), name, version, reason=None, undo=True)


@click.command(name="export-marketplace", cls=Command)
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
