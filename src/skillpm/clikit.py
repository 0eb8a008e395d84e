"""Click machinery for skillpm's command line: global options anywhere, one-line usage errors.

``skillpm -q install`` and ``skillpm install -q`` mean the same, as in uv: every
command repeats the global options (its help lists them in their own section),
and a mistyped command or option gets a "did you mean".
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import click

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
PROJECT_KEY = "skillpm.project"  # ctx.meta key of -C/--project, wherever it was given


class GlobalOption(click.Option):
    """An option every command accepts, before or after its name (``skillpm install -q``)."""


def _apply_global(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """Apply a global option given after the command (its defaults mean "not given")."""
    from skillpm.output import console

    if not value:
        return
    if param.name == "quiet":
        console.configure(quiet=True)
    elif param.name == "verbose":
        console.configure(verbose=console.verbose + value)
    elif param.name == "color":
        console.configure(color=value)
    elif param.name == "project":
        ctx.meta[PROJECT_KEY] = value


def _global_options() -> list[click.Parameter]:
    """The global options, repeated on each command so their position does not matter."""
    common: dict[str, Any] = {"expose_value": False, "callback": _apply_global}
    return [
        GlobalOption(
            ["-q", "--quiet"],
            is_flag=True,
            help="Print only errors and requested output.",
            **common,
        ),
        GlobalOption(
            ["-v", "--verbose"], count=True, help="Print more detail (repeat for more).", **common
        ),
        GlobalOption(
            ["--color"],
            type=click.Choice(["auto", "always", "never"]),
            help="Colour output: auto (default; NO_COLOR is honoured), always or never.",
            **common,
        ),
        GlobalOption(
            ["-C", "--project"],
            type=click.Path(exists=True, file_okay=False, path_type=Path),
            help="Project folder (default: the current folder).",
            **common,
        ),
    ]


class Command(click.Command):
    """A command that also accepts the global options, listed in their own help section."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(_global_options())

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        own: list[tuple[str, str]] = []
        shared: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                (shared if isinstance(param, GlobalOption) else own).append(record)
        for title, rows in (("Options", own), ("Global options", shared)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


class Group(click.Group):
    """Lists commands in definition order and suggests one for a typo."""

    command_class = Command
    group_class = type  # subgroups (``skillpm registry ...``) behave the same way

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if (
            name
            and not name.startswith("-")
            and not ctx.resilient_parsing
            and self.get_command(ctx, name) is None
        ):
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise click.UsageError(f"no such command '{name}'{hint}", ctx)
        return super().resolve_command(ctx, args)


def usage_line(exc: click.UsageError) -> str:
    """Click's usage error as one line: what is wrong, and where to read more."""
    close = []
    if isinstance(exc, click.NoSuchOption) and exc.possibilities:
        close = difflib.get_close_matches(exc.option_name, exc.possibilities, n=1, cutoff=0)
    if isinstance(exc, click.NoSuchOption) and close:
        message = f"no such option {exc.option_name}; did you mean {close[0]}?"
    else:
        message = exc.format_message().strip().rstrip(".")
    if message[:1].isupper() and message[1:2].islower():
        message = message[0].lower() + message[1:]
    command = exc.ctx.command_path if exc.ctx is not None else "skillpm"
    return f"{message} (see '{command} --help')"
