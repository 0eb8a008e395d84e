"""``skillpm sbom``: a software bill of materials of the locked packages."""

from __future__ import annotations

from pathlib import Path

import click

from skillpm.cli.kit import Command, here, network_options, open_project


@click.command(cls=Command)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["cyclonedx", "spdx"]),
    default="cyclonedx",
    show_default=True,
    help="CycloneDX 1.6 JSON or SPDX 2.3 JSON.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write to FILE (default: stdout).",
)
@click.option("--reproducible", is_flag=True, help="Leave out the creation time.")
@network_options
@click.pass_context
def sbom(ctx: click.Context, fmt: str, output: Path | None, reproducible: bool) -> None:
    """Write an SBOM of the locked packages (CycloneDX 1.6 or SPDX 2.3 JSON).

    Versions, purls, SHA-256 hashes, registries, commits, signers, licenses and the
    dependency graph of the packages in skills.lock. Needs the sbom extra: pip install
    'skillpm[sbom]'. The same lock gives the same bytes, apart from the creation time
    (--reproducible leaves it out).
    """
    from skillpm.commands.sbom import sbom as run

    run(open_project(ctx), fmt=fmt, output=output and here(ctx, output), reproducible=reproducible)
