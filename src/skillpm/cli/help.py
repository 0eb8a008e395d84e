"""``skillpm --help``: the top-level help, written without importing click.

Importing click alone costs a bare ``python -c pass`` three times over, so the
entry prints the top-level help from here, and the click group prints the same
text (``root.SkillpmGroup.format_help``): one renderer, one output, whichever
path runs. What it needs is plain data: the group's description, its options'
help records (a test holds them equal to click's own) and the command table of
``cli.main`` (names and one-line help, no command imported).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

USAGE = "Usage: skillpm [OPTIONS] COMMAND [ARGS]..."
ABOUT = """Install, lock and share Claude Code skills and CLAUDE.md fragments.

Global options work before or after the command: 'skillpm -q install' and
'skillpm install -q' are the same."""
# (option, help) as click's Option.get_help_record gives them, in the group's order.
OPTIONS = (
    ("-V, --version", "Show the version and exit."),
    ("-q, --quiet", "Print only errors and requested output."),
    ("-v, --verbose", "Print more detail (repeat for more)."),
    ("--color [auto|always|never]", "Colour output (NO_COLOR is honoured).  [default: auto]"),
    ("-C, --project DIRECTORY", "Project folder (default: the current folder)."),
    ("-h, --help", "Show this message and exit."),
)
MAX_WIDTH = 100  # click's max_content_width for skillpm (kit.CONTEXT)
_FIRST_COLUMN_MAX = 30  # as click's definition lists


def terminal_width() -> int:
    """The width click's help formatter would pick: the terminal's (``COLUMNS`` first,
    as ``shutil.get_terminal_size``), at most ``MAX_WIDTH``, minus 2, at least 50."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
        columns = columns or 80
    return max(min(columns, MAX_WIDTH) - 2, 50)


def short_help(text: str, limit: int) -> str:
    """The first sentence of ``text``'s first paragraph, cut to ``limit`` at a word with '...'."""
    words = text.partition("\n\n")[0].split()
    for i, word in enumerate(words):
        if word.endswith(".") and (i == len(words) - 1 or not words[i + 1][0].islower()):
            words = words[: i + 1]
            break
    line = " ".join(words)
    if len(line) <= limit:
        return line
    kept: list[str] = []
    for word in words:
        if len(" ".join([*kept, word])) + 3 > limit:
            break
        kept.append(word)
    return " ".join(kept) + "..."


def wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap; a word longer than ``width`` gets a line of its own."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line] if line else lines


def _definitions(rows: Sequence[tuple[str, str]], width: int) -> list[str]:
    first = min(max(len(term) for term, _ in rows), _FIRST_COLUMN_MAX) + 2
    out = []
    for term, text in rows:
        lines = wrap(text, max(width - first - 2, 10))
        if len(term) <= first - 2:
            out.append(f"  {term}{' ' * (first - len(term))}{lines[0] if lines else ''}".rstrip())
        else:
            out.append(f"  {term}")
            out.append(f"{' ' * (first + 2)}{lines[0]}" if lines else "")
        out += [f"{' ' * (first + 2)}{line}" for line in lines[1:]]
    return out


def render(width: int, commands: Sequence[tuple[str, str]]) -> str:
    """The top-level help at ``width`` columns; ``commands`` are (name, help) in order."""
    out = [USAGE, ""]
    for paragraph in ABOUT.split("\n\n"):
        out += [f"  {line}" for line in wrap(paragraph, width - 2)]
        out.append("")
    out.append("Options:")
    out += _definitions(OPTIONS, width)
    if commands:
        limit = width - 6 - max(len(name) for name, _ in commands)
        out += ["", "Commands:"]
        out += _definitions([(name, short_help(text, limit)) for name, text in commands], width)
    return "\n".join(out)
