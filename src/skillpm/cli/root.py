"""The ``skillpm`` click group: global options, and commands loaded when they are used.

Commands come from the table in ``cli.main`` (name -> ``module:attribute`` and one
line of help), the lazy group of click's documentation: ``skillpm install`` imports
the module of ``install`` only, and ``skillpm --help`` imports none, taking each
command's line from the table (``cli.help`` renders it, for the entry too).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path

import click

from skillpm import __version__
from skillpm.cli import help as root_help
from skillpm.cli.kit import CONTEXT, PROJECT_KEY, Group

# name -> (``module:attribute`` under skillpm.cli, the command's first help paragraph)
Table = Mapping[str, tuple[str, str]]


class LazyGroup(Group):
    """A group whose commands are imported from a table on first use."""

    def __init__(self, *args: object, table: Table, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.table = dict(table)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self.table, *(name for name in self.commands if name not in self.table)]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.table and name not in self.commands:
            where, _ = self.table[name]
            module, _, attribute = where.partition(":")
            command = getattr(importlib.import_module(f"skillpm.cli.{module}"), attribute)
            if not isinstance(command, click.Command):  # a table entry naming something else
                raise TypeError(f"skillpm.cli.{where} is not a click command")
            self.add_command(command, name)
        return super().get_command(ctx, name)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The top-level help from ``cli.help``: the entry prints the same without click."""
        rows = [(name, text) for name, (_, text) in self.table.items()]
        for name in self.commands:  # added by add_command, outside the table
            command = self.commands[name]
            if name not in self.table and not command.hidden:
                rows.append((name, command.short_help or command.help or ""))
        formatter.write(root_help.render(formatter.width, rows) + "\n")


def make_cli(table: Table) -> click.Group:
    """The root group over the commands of ``table``."""

    @click.group(cls=LazyGroup, table=table, context_settings=CONTEXT, help=root_help.ABOUT)
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
    def cli(
        ctx: click.Context, quiet: bool, verbose: int, color: str, project: Path | None
    ) -> None:
        from skillpm.output import console

        console.reset()
        console.configure(quiet=quiet, verbose=verbose, color=color)
        if project is not None:
            ctx.meta[PROJECT_KEY] = project

    return cli
