"""A finding of a check (``doctor``): what is wrong, where, and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LEVELS = ("error", "warning", "info")  # an error makes ``doctor`` exit 1


@dataclass(frozen=True)
class Finding:
    level: str  # one of LEVELS
    code: str  # a stable id, e.g. "iam-stream-missing"
    message: str
    fix: str = ""
    file: str | None = None  # posix path relative to the project, or "~/..." for the user's
    line: int | None = None

    @property
    def where(self) -> str:
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}" if self.line else self.file

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "code": self.code,
            "message": self.message,
            "fix": self.fix,
            "file": self.file,
            "line": self.line,
        }
