"""The managed block skillpm keeps in ``.claudeignore``.

Packages contribute ignore lines (``cdk.out/``, ``*.parquet``); skillpm writes
them in one marked block at the top of the file and never touches a line
outside it. At the top, because in gitignore syntax a later line wins: the
user's own lines (a ``!dist/keep.txt`` say) override the packages'. Adding the
block puts it before the first byte; removing it deletes exactly those lines,
so the file comes back byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

FILE = ".claudeignore"
BEGIN = "# skillpm:begin (lines from packages: change skills.yaml, not this block)"
END = "# skillpm:end"
MAX_LINE = 1000


class BlockError(ValueError):
    """A damaged block: a begin marker without its end, or two blocks."""


@dataclass(frozen=True)
class Parsed:
    before: str  # the user's text before the block
    block: tuple[str, ...] | None  # the lines inside the markers; None when there is none
    after: str  # the user's text after the block

    def user_lines(self) -> set[str]:
        return {line.strip() for line in (self.before + self.after).splitlines()}


def check_line(line: str) -> str | None:
    """What is wrong with a contributed line, or None."""
    if not line.strip():
        return "is empty"
    if "\n" in line or "\r" in line or "\0" in line:
        return "holds a line break"
    if len(line) > MAX_LINE:
        return f"is longer than {MAX_LINE} characters"
    if line.strip().startswith("# skillpm:"):
        return "looks like a skillpm marker"
    return None


def parse(text: str) -> Parsed:
    lines = text.splitlines(keepends=True)
    begins = [i for i, line in enumerate(lines) if line.rstrip("\r\n") == BEGIN]
    ends = [i for i, line in enumerate(lines) if line.rstrip("\r\n") == END]
    if not begins and not ends:
        return Parsed(text, None, "")
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise BlockError(
            f"{FILE}: the skillpm block markers are damaged ({len(begins)} begin, "
            f"{len(ends)} end); restore or delete the '# skillpm:' lines"
        )
    first, last = begins[0], ends[0]
    inside = tuple(line.rstrip("\r\n") for line in lines[first + 1 : last])
    return Parsed("".join(lines[:first]), inside, "".join(lines[last + 1 :]))


def wanted(contributions: Iterable[Sequence[str]], user: set[str]) -> tuple[str, ...]:
    """The block's lines: every contributed line once, in order, except the user's own."""
    seen: set[str] = set()
    out: list[str] = []
    for lines in contributions:
        for line in lines:
            key = line.strip()
            if key in seen or key in user:
                continue
            seen.add(key)
            out.append(line.rstrip())
    return tuple(out)


def render(parsed: Parsed, lines: Sequence[str]) -> str:
    """The file text with the block holding ``lines`` (no block when empty)."""
    if not lines:
        return parsed.before + parsed.after
    block = "".join(f"{line}\n" for line in (BEGIN, *lines, END))
    if parsed.block is None:
        return block + parsed.before  # a new block goes first (see the module docstring)
    before = parsed.before
    if before and not before.endswith("\n"):
        before += "\n"
    return before + block + parsed.after
