"""The ``skillpm`` command's entry point: a no-op ``install`` and the top-level help
answered before click loads.

``skillpm install`` in a git hook or CI step usually has nothing to do, and
importing click costs as much as proving that (see installstate). So the one
command line shape ``[-q] [-v] [--color C] [-C DIR] install [--frozen] [--offline]``
is recognised here (the global options may also follow ``install``, as click allows);
when the stat cache proves the project up to date it prints
what ``cli.install`` would and exits. Everything else, and every doubt (an odd
option, an environment variable click would reject, a project that needs
work), goes to ``cli.main`` unchanged. ``skillpm --help`` (``-h``, or nothing at
all) prints ``cli.help``'s rendering of the command table, as the click group would.
"""

from __future__ import annotations

import os
import sys

_COLORS = ("auto", "always", "never")
# What click accepts for a boolean flag's environment variable (SKILLPM_OFFLINE).
_BOOLS = ("", "1", "0", "true", "false", "t", "f", "yes", "no", "y", "n", "on", "off")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    # Not while the shell asks for completions: click reads those from the environment.
    if args in ([], ["--help"], ["-h"]) and "_SKILLPM_COMPLETE" not in os.environ:
        _print_help()
        sys.exit(0)
    try:
        count = _quick_install(args)
    except KeyboardInterrupt:
        from skillpm.output import console

        console.error("interrupted")
        sys.exit(130)
    if count is not None:
        sys.exit(0)
    from skillpm.cli.main import main as cli_main

    cli_main(argv)


def _print_help() -> None:
    from skillpm.cli import help as root_help
    from skillpm.cli.main import COMMANDS
    from skillpm.output import console

    rows = [(name, text) for name, (_, text) in COMMANDS.items()]
    console.result(root_help.render(root_help.terminal_width(), rows))


def _quick_install(args: list[str]) -> int | None:
    """Packages up to date if ``args`` is a plain ``install`` with nothing to do, else None."""
    options = _parse(args)
    if options is None or not _environment_ok():
        return None
    quiet, verbose, color, project = options
    if project is not None and not os.path.isdir(project):
        return None  # click reports it
    from skillpm.policy.managed import quick_noop

    # No pathlib here (it would cost more than the check): realpath is Path.resolve.
    count = quick_noop(os.path.realpath(project if project is not None else os.getcwd()))
    if count is None:
        return None
    from skillpm.output import console, up_to_date

    console.configure(quiet=quiet, verbose=verbose, color=color)
    console.info(up_to_date(count))
    return count


def _parse(args: list[str]) -> tuple[bool, int, str, str | None] | None:
    """(quiet, verbose, color, project) of a plain ``install`` command line, else None."""
    quiet, verbose, color, project = False, 0, "auto", None
    seen_install = False
    i = 0
    while i < len(args):
        arg = args[i]
        value = args[i + 1] if i + 1 < len(args) else None
        if arg == "install" and not seen_install:
            seen_install = True
        elif arg in ("--frozen", "--offline") and seen_install:
            pass
        elif arg in ("-q", "--quiet"):
            quiet = True
        elif arg in ("-v", "--verbose"):
            verbose += 1
        elif arg in ("-C", "--project") and value is not None:
            project, i = value, i + 1
        elif arg.startswith("--project="):
            project = arg.partition("=")[2]
        elif arg == "--color" and value in _COLORS:
            color, i = str(value), i + 1
        elif arg.startswith("--color=") and arg.partition("=")[2] in _COLORS:
            color = arg.partition("=")[2]
        else:
            return None
        i += 1
    return (quiet, verbose, color, project) if seen_install else None


def _environment_ok() -> bool:
    """Whether click would accept the environment the full path reads."""
    for flag in ("SKILLPM_OFFLINE", "SKILLPM_ALLOW_HTTP"):  # envvars of click flags
        value = os.environ.get(flag)
        if value is not None and value.strip().lower() not in _BOOLS:
            return False
    from skillpm.envvars import FETCH_INTERVAL, number

    interval = os.environ.get(FETCH_INTERVAL, "").strip()
    return not interval or number(interval) is not None
