"""All user-facing output goes through the one ``console`` here.

Results go to stdout, diagnostics (warnings, errors, progress) to stderr, so
``--json`` output stays parseable and ``-q`` silences only the chatter.

Colour follows ``--color`` (``always`` beats ``NO_COLOR``, as no-color.org asks),
then ``NO_COLOR``, then whether the stream is a terminal. The progress line is
drawn only on a terminal stderr, never with ``-q``, and only once an operation
has taken longer than a moment, so scripts and CI logs never see it.
"""

from __future__ import annotations

import os
import sys

# No json, re, typing or contextlib at import time: the no-op install prints through
# this module, and any of them would cost more than its whole check.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType
    from typing import Any, TextIO

_SIGN_COLORS = {"+": "green", "-": "red", "~": "yellow"}
_LEVEL_STYLES: dict[str, dict[str, Any]] = {
    "error": {"fg": "red", "bold": True},
    "warning": {"fg": "yellow"},
    "info": {"fg": "cyan"},
}
STATUS_DELAY = 0.25  # seconds before a progress line appears
_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_ASCII_FRAMES = "|/-\\"


def redact(text: str) -> str:
    """Hide credentials in URLs: ``https://user:token@host/x`` -> ``https://***@host/x``."""
    if "@" not in text:
        return text
    import re

    # user[:password]@ after a scheme, up to the host: the last @ before the path.
    return re.sub(r"(?<=://)[^/\s]*@", "***@", text)  # re caches the compiled pattern


def elapsed(seconds: float) -> str:
    """``0.41s`` / ``12.3s`` / ``2m05s``: short and stable in width for quick runs."""
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def up_to_date(count: int, what: str = "package") -> str:
    """What a no-op install (or sync) says, from whichever of its paths proved it."""
    return f"Nothing to do: {plural(count, what)} up to date"


class _Status:
    """A one-line spinner on stderr, drawn by a daemon thread after a short delay."""

    def __init__(self, console: Console, text: str) -> None:
        import threading

        self.console = console
        self.text = text
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.shown = False
        self.thread = threading.Thread(target=self._run, name="skillpm-status", daemon=True)

    def _run(self) -> None:
        if self.stop.wait(STATUS_DELAY):
            return
        frame = 0
        frames = _FRAMES if can_encode(sys.stderr, _FRAMES) else _ASCII_FRAMES
        while not self.stop.is_set():
            with self.lock:
                self.shown = True
                mark = frames[frame % len(frames)]
                line = f"{mark} {self.text}"
                width = _terminal_width()
                sys.stderr.write("\r\x1b[2K" + line[: width - 1])
                sys.stderr.flush()
            frame += 1
            self.stop.wait(0.08)

    def clear(self) -> None:
        """Erase the line (the caller holds ``lock``) so other output starts clean."""
        if self.shown:
            sys.stderr.write("\r\x1b[2K")
            sys.stderr.flush()
            self.shown = False


def _terminal_width() -> int:
    import shutil

    return max(20, shutil.get_terminal_size((80, 24)).columns)


class Console:
    def __init__(self) -> None:
        self.quiet = False
        self.verbose = 0
        self.color_choice = "auto"
        self._status: _Status | None = None

    # -- configuration -------------------------------------------------------------

    def configure(
        self, *, quiet: bool | None = None, verbose: int | None = None, color: str | None = None
    ) -> None:
        """Apply global options; each may come before or after the command name."""
        if quiet is not None:
            self.quiet = quiet
        if verbose is not None:
            self.verbose = verbose
        if color is not None:
            self.color_choice = color

    def reset(self) -> None:
        self.configure(quiet=False, verbose=0, color="auto")

    @property
    def verbosity(self) -> int:
        """-1 quiet, 0 normal, 1+ verbose (``-q`` wins over ``-v``)."""
        return -1 if self.quiet else self.verbose

    def use_color(self, stream: TextIO) -> bool:
        if self.color_choice == "always":
            return True
        if self.color_choice == "never" or os.environ.get("NO_COLOR"):
            return False
        return _isatty(stream) and os.environ.get("TERM") != "dumb"

    def style(self, text: str, stream: TextIO, **style: Any) -> str:
        if not style or not self.use_color(stream):
            return text
        import click

        return click.style(text, **style)

    # -- writing -------------------------------------------------------------------

    def _write(self, text: str, stream: TextIO, style: dict[str, Any] | None = None) -> None:
        text = self.style(text, stream, **(style or {}))
        status = self._status
        if status is None:
            stream.write(text + "\n")
            stream.flush()
            return
        with status.lock:
            status.clear()
            stream.write(text + "\n")
            stream.flush()

    # Messages skillpm composes (info, detail, warn, error, status) are redacted here
    # as well as where they are built: a token in a registry URL never reaches a
    # terminal or a CI log. Results (listings, diffs, JSON) carry the user's own text.

    def info(self, text: str) -> None:
        """Progress and summaries a person reads; silenced by ``-q``."""
        if self.verbosity >= 0:
            self._write(redact(text), sys.stdout)

    def detail(self, text: str, level: int = 1) -> None:
        """Extra detail for ``-v`` (``level`` 2 for ``-vv``), on stderr."""
        if self.verbosity >= level:
            self._write(redact(text), sys.stderr, {"dim": True})

    def result(self, text: str, style: dict[str, Any] | None = None) -> None:
        """Output that was asked for (a listing, a diff): printed even with ``-q``."""
        self._write(text, sys.stdout, style)

    def change(self, sign: str, name: str, version: str, note: str = "") -> None:
        """One ``+ name version`` line of an install summary."""
        suffix = f" ({note})" if note else ""
        if self.verbosity >= 0:
            self._write(f" {sign} {name} {version}{suffix}", sys.stdout, {"fg": _SIGN_COLORS[sign]})

    def finding(self, level: str, text: str, fix: str = "") -> None:
        """A checked problem (``doctor``): the finding, then how to fix it, on stdout."""
        head = self.style(f"{level}:", sys.stdout, **_LEVEL_STYLES.get(level, {}))
        self._write(f"{head} {text}", sys.stdout)
        if fix:
            self._write(f"  fix: {fix}", sys.stdout)

    def warn(self, text: str) -> None:
        if self.verbosity >= 0:
            self._write(f"warning: {redact(text)}", sys.stderr, {"fg": "yellow"})

    def error(self, text: str) -> None:
        self._write(f"error: {redact(text)}", sys.stderr, {"fg": "red", "bold": True})

    def diff(self, lines: list[str], *, err: bool = False) -> None:
        """A unified diff, coloured like git's; to stderr when it explains an error."""
        stream = sys.stderr if err else sys.stdout
        if err and self.verbosity < 0:
            return
        colors = {"+": "green", "-": "red", "@": "cyan"}
        for line in lines:
            head = line[:3] in ("+++", "---")
            style = {"bold": True} if head else {"fg": colors.get(line[:1])}
            self._write(line, stream, style if line[:1] in "+-@" else None)

    def json(self, data: Any) -> None:
        """Machine-readable output: one JSON document on stdout, keys sorted."""
        import json

        self._write(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False), sys.stdout)

    # -- progress ------------------------------------------------------------------

    def status(self, text: str) -> _StatusScope:
        """Show ``text`` with a spinner while the ``with`` block runs, if it runs long enough.

        Nested calls replace the text and put it back on exit, so deep code (a git
        fetch) can say what it does without knowing who called it.
        """
        return _StatusScope(self, redact(text))

    def update_status(self, text: str) -> None:
        """Change the text of the running status line, if any."""
        if self._status is not None:
            self._status.text = redact(text)

    def use_spinner(self) -> bool:
        return _isatty(sys.stderr) and os.environ.get("TERM") != "dumb"


class _StatusScope:
    """What ``Console.status`` returns: starts, nests and stops the spinner."""

    def __init__(self, console: Console, text: str) -> None:
        self.console = console
        self.text = text
        self.outer: _Status | None = None  # the spinner already running, whose text we borrow
        self.previous = ""
        self.started: _Status | None = None

    def __enter__(self) -> None:
        console = self.console
        self.outer = console._status
        if self.outer is not None:
            self.previous, self.outer.text = self.outer.text, self.text
            return
        if console.verbosity < 0 or not console.use_spinner():
            return
        self.started = console._status = _Status(console, self.text)
        self.started.thread.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.outer is not None:
            self.outer.text = self.previous
        elif self.started is not None:
            self.started.stop.set()
            self.started.thread.join()
            with self.started.lock:
                self.started.clear()
            self.console._status = None


def can_encode(stream: TextIO, text: str) -> bool:
    """Whether ``stream`` can print ``text`` (box drawing, spinners) without mangling."""
    try:
        text.encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


console = Console()
