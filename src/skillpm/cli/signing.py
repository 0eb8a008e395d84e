"""``skillpm sign`` and ``publish --sign``: SSH signatures on published versions."""

from __future__ import annotations

from pathlib import Path

import click

from skillpm.cli.kit import Command, here

_KEY = click.Path(dir_okay=False, path_type=Path)

sign_option = click.option(
    "--sign",
    type=_KEY,
    metavar="KEY",
    help="Sign the version with this SSH key (ssh-keygen -Y sign -n skillpm; a public key "
    "file uses its private half in ssh-agent).",
)


@click.command(cls=Command)
@click.argument("name")
@click.argument("version")
@click.option("--registry", required=True, metavar="PATH|URL", help="Registry holding the package.")
@click.option(
    "--key",
    required=True,
    type=_KEY,
    metavar="KEY",
    help="The SSH key to sign with (a private key file, or a public key file whose "
    "private half is in ssh-agent).",
)
@click.pass_context
def sign(ctx: click.Context, name: str, version: str, registry: str, key: Path) -> None:
    """Add an SSH signature to a published version (co-signing, key rotation).

    The package's files are not touched: the signature goes into the version's
    index entry (a commit "sign NAME VERSION" on a git registry). Projects whose
    skills.yaml names an allowed-signers file for the registry check it on install.
    """
    from skillpm.commands.signing import sign as run

    run(registry, here(ctx), name, version, here(ctx, key))
