"""Click machinery for skillpm's command line: global options anywhere, one-line usage errors,
and the plumbing every command shares (options, the project, the log of a crash).

``skillpm -q install`` and ``skillpm install -q`` mean the same, as in uv: every
command repeats the global options (its help lists them in their own section),
and a mistyped command or option gets a "did you mean".

Only click is imported here at start-up, as in ``cli``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from skillpm import __version__

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
PROJECT_KEY = "skillpm.project.folder"  # ctx.meta key of -C/--project, wherever it was given


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
            import difflib

            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise click.UsageError(f"no such command '{name}'{hint}", ctx)
        return super().resolve_command(ctx, args)


def usage_line(exc: click.UsageError) -> str:
    """Click's usage error as one line: what is wrong, and where to read more."""
    close = []
    if isinstance(exc, click.NoSuchOption) and exc.possibilities:
        import difflib

        close = difflib.get_close_matches(exc.option_name, exc.possibilities, n=1, cutoff=0)
    if isinstance(exc, click.NoSuchOption) and close:
        message = f"no such option {exc.option_name}; did you mean {close[0]}?"
    else:
        message = exc.format_message().strip().rstrip(".")
    if message[:1].isupper() and message[1:2].islower():
        message = message[0].lower() + message[1:]
    command = exc.ctx.command_path if exc.ctx is not None else "skillpm"
    return f"{message} (see '{command} --help')"


# -- what commands share ------------------------------------------------------------


def project_root(ctx: click.Context) -> Path:
    """The project folder: -C, else the current folder."""
    return Path(ctx.meta.get(PROJECT_KEY) or Path.cwd()).resolve()


def check_network_settings(ctx: click.Context) -> None:
    """The usage errors of the network options and settings (for the full path and the
    no-op one, which must not import the registries)."""
    from skillpm.envvars import FETCH_INTERVAL, env_number
    from skillpm.errors import RegistryError

    if ctx.meta.get("offline") and ctx.meta.get("refresh"):
        raise click.UsageError("--offline and --refresh contradict each other; pick one")
    try:
        env_number(FETCH_INTERVAL, 0.0)
    except RegistryError as exc:  # a bad setting is a usage error, like a bad option
        raise click.UsageError(str(exc)) from None


def open_project(ctx: click.Context, user: bool = False) -> Any:
    """The project (or with ``user`` the user scope) with the network options given."""
    from skillpm.project.folder import Project
    from skillpm.registry.base import RemoteOptions

    if user and ctx.meta.get(PROJECT_KEY):
        raise click.UsageError("-g (user scope) and -C (a project folder) exclude each other")
    check_network_settings(ctx)
    options = RemoteOptions.from_env(
        offline=bool(ctx.meta.get("offline")),
        refresh=bool(ctx.meta.get("refresh")),
        allow_http=bool(ctx.meta.get("allow_http")),
    )
    if user:
        return Project.user(options)
    return Project(project_root(ctx), options)


# lint and audit report the same ways (one SARIF envelope: lint.formats.sarif_log).
report_format = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif"]),
    default="text",
    show_default=True,
    help="Output format (sarif: SARIF 2.1.0 for code scanning).",
)


def user_scope(command: Any) -> Any:
    """``-g``: the user's own skills (~/.claude/skills), manifest and lock in the config dir."""
    return click.option(
        "-g",
        "--global",
        "user",
        is_flag=True,
        help="User scope: ~/.claude/skills, with skills.yaml and skills.lock in the config "
        "dir (SKILLPM_CONFIG_DIR); never writes in the current folder.",
    )(command)


def _remember(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta[param.name or ""] = True


def network_options(command: Any) -> Any:
    """``--offline``, ``--refresh``, ``--allow-http`` for every command that may read a
    remote registry."""
    command = click.option(
        "--allow-http",
        is_flag=True,
        expose_value=False,
        envvar="SKILLPM_ALLOW_HTTP",
        callback=_remember,
        help="Accept plain http:// registries on other hosts than this one (unsafe). "
        "[env: SKILLPM_ALLOW_HTTP]",
    )(command)
    command = click.option(
        "--refresh",
        is_flag=True,
        expose_value=False,
        callback=_remember,
        help="Fetch git registries and revalidate cached site indexes now, however recently "
        "they were fetched.",
    )(command)
    return click.option(
        "--offline",
        is_flag=True,
        expose_value=False,
        envvar="SKILLPM_OFFLINE",
        callback=_remember,
        help="Never touch the network: use the cache, or fail. [env: SKILLPM_OFFLINE]",
    )(command)


def complete(kind: str) -> Any:
    """A ``shell_complete`` callback naming packages; never touches the network."""

    def candidates(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from skillpm.cli.completion import complete_packages

        return complete_packages(ctx.meta.get(PROJECT_KEY), kind, incomplete)

    return candidates


def here(ctx: click.Context, path: Path | None = None) -> Path:
    """``path`` relative to -C (like ``git -C``), else to the current folder."""
    base = Path(ctx.meta.get(PROJECT_KEY) or Path.cwd())
    return base if path is None else base / path.expanduser()


def install_options(**kwargs: Any) -> Any:
    from skillpm.install.steps import InstallOptions

    return InstallOptions(**kwargs)


def log_unexpected(exc: BaseException, argv: list[str]) -> str:
    """Write the traceback to a new log file; return its path.

    The log goes to the cache's ``logs/`` folder, or the temp folder when the cache
    cannot be written (a full disk or a read-only home is a likely cause of the
    failure itself). Each failing process writes its own file.
    """
    import datetime as dt
    import os
    import tempfile
    import traceback

    from skillpm.output import redact
    from skillpm.store import cache_dir

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    name = f"skillpm-{stamp}-{os.getpid()}.log"
    body = "".join(traceback.format_exception(exc))
    # A registry URL may carry a token, in argv or in a message: the log never does.
    text = redact(f"skillpm {__version__}\nargv: {argv}\n\n{body}")
    for folder in (cache_dir() / "logs", Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_text(text, encoding="utf-8")
        except OSError:
            continue
        return str(path)
    raise OSError("no folder to write the log to")


def run_and_exit(cli: click.Group, argv: list[str] | None) -> NoReturn:
    """Run the command line and exit. Exit codes (DESIGN 7): 0 ok, 1 a user error or
    problems found, 2 a command-line usage error (as click, uv and argparse do), 3
    unexpected, 130 interrupted. Every error is one line on stderr."""
    from skillpm.errors import SkillpmError
    from skillpm.output import console

    try:
        # Outside standalone mode click returns a command's ``ctx.exit(code)`` code.
        code = cli.main(args=argv, prog_name="skillpm", standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        console.error("aborted")
        sys.exit(130)
    except click.UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError" and exc.ctx is not None:
            console.result(exc.ctx.get_help())  # bare 'skillpm' (or a group): the help
            sys.exit(0)
        console.error(usage_line(exc))
        sys.exit(2)
    except click.ClickException as exc:
        console.error(exc.format_message())
        sys.exit(1)
    except SkillpmError as exc:
        from skillpm.output import redact

        console.error(redact(str(exc)))  # messages redact URLs already; this is a backstop
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        console.error("interrupted")
        sys.exit(130)
    except Exception as exc:
        try:
            log = log_unexpected(exc, sys.argv[1:] if argv is None else argv)
            where = f"; the details are in {log}"
        except OSError:
            where = ""
        # One line, whatever the exception says; the log has all of it.
        what = (str(exc).strip().splitlines() or [""])[0][:300]
        console.error(f"unexpected failure ({type(exc).__name__}: {what}){where}")
        sys.exit(3)
    # With standalone_mode=False click returns ctx.exit()'s code instead of raising.
    sys.exit(code if isinstance(code, int) else 0)
