"""All user-facing output goes through the one ``console`` here.

Results go to stdout, diagnostics (warnings, errors, progress) to stderr, so
``--json`` output stays parseable and ``-q`` silences only the chatter.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO


class Console:
    def __init__(self) -> None:
        self.verbosity = 0  # -1 quiet, 0 normal, 1+ verbose
        self.color: bool | None = None  # None: decide per stream

    def configure(self, *, quiet: bool = False, verbose: int = 0, color: str = "auto") -> None:
        self.verbosity = -1 if quiet else verbose
        if color == "always":
            self.color = True
        elif color == "never" or os.environ.get("NO_COLOR"):
            self.color = False
        else:
            self.color = None

    def _use_color(self, stream: TextIO) -> bool:
        if self.color is not None:
            return self.color
        return stream.isatty() and os.environ.get("TERM") != "dumb"

    def _write(self, text: str, stream: TextIO, style: dict[str, Any] | None = None) -> None:
        if style and self._use_color(stream):
            import click

            text = click.style(text, **style)
        stream.write(text + "\n")
        stream.flush()

    def info(self, text: str) -> None:
        if self.verbosity >= 0:
            self._write(text, sys.stdout)

    def detail(self, text: str) -> None:
        if self.verbosity >= 1:
            self._write(text, sys.stderr, {"dim": True})

    def result(self, text: str, style: dict[str, Any] | None = None) -> None:
        """Output that was asked for (a listing, a diff): printed even with ``-q``."""
        self._write(text, sys.stdout, style)

    def change(self, sign: str, name: str, version: str, note: str = "") -> None:
        colors = {"+": "green", "-": "red", "~": "yellow"}
        suffix = f" ({note})" if note else ""
        if self.verbosity >= 0:
            self._write(f" {sign} {name} {version}{suffix}", sys.stdout, {"fg": colors.get(sign)})

    def warn(self, text: str) -> None:
        if self.verbosity >= 0:
            self._write(f"warning: {text}", sys.stderr, {"fg": "yellow"})

    def error(self, text: str) -> None:
        self._write(f"error: {text}", sys.stderr, {"fg": "red", "bold": True})

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
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
        sys.stdout.flush()


console = Console()
