"""``skillpm policy show`` and ``skillpm audit``: the organisation's policy (docs/policy.md)."""

from __future__ import annotations

import click

from skillpm.cli.kit import Command, Group, network_options, open_project, report_format


@click.group(cls=Group)
def policy() -> None:
    """Show the organisation's and the project's policy (docs/policy.md).

    The managed skillpm-policy.yaml (SKILLPM_POLICY, else /etc/skillpm/policy.yaml) and
    the one skills.yaml names with 'policy:' both apply; a project policy only tightens.
    """


@policy.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@network_options
@click.pass_context
def show(ctx: click.Context, as_json: bool) -> None:
    """Print the effective policy and the file and line each rule comes from."""
    from skillpm.commands.policy import show as run

    run(open_project(ctx), as_json=as_json)


@click.command(cls=Command)
@report_format
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@network_options
@click.pass_context
def audit(ctx: click.Context, fmt: str, as_json: bool) -> None:
    """Check the installed project against the policy, its lock and drift (the CI gate).

    \b
    skillpm audit                          findings, then a summary
    skillpm audit --format sarif > a.sarif for GitHub code scanning

    Exit code 1 on a policy violation, a missing, stale or edited skills.lock, or an
    installed skill or CLAUDE.md block changed since install. Never writes.
    """
    from skillpm.commands.audit import audit as run

    ctx.exit(run(open_project(ctx), fmt="json" if as_json else fmt))
