"""Findings, rules and the registry of rules every family adds to.

A rule is declared once, at import of its family module, with everything the
formatters need (SARIF's ``tool.driver.rules`` is built from this registry), and
creates its findings so a finding's rule id and default severity never drift
apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Location:
    """A place in a file. ``file`` is a display path (posix, relative to the base)."""

    file: str
    line: int | None = None  # 1-based; None: the file as a whole
    package: str | None = None
    note: str = ""  # what is at this place, for the other side of a conflict


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    location: Location
    message: str
    hint: str = ""
    related: tuple[Location, ...] = ()

    @property
    def file(self) -> str:
        return self.location.file

    @property
    def line(self) -> int | None:
        return self.location.line

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.file, self.line or 0, self.rule, self.message)

    def to_json(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "file": self.file,
            "line": self.line,
            "package": self.location.package,
            "message": self.message,
            "hint": self.hint,
            "related": [
                {"file": r.file, "line": r.line, "package": r.package, "message": r.note}
                for r in self.related
            ],
        }


@dataclass(frozen=True)
class Rule:
    id: str  # e.g. SAFETY001
    name: str  # kebab-case, e.g. hidden-unicode
    severity: Severity
    summary: str  # one line: what the rule finds
    help: str  # why it matters and how to fix it
    tags: tuple[str, ...] = field(default_factory=tuple)
    not_reported: str = ""  # what the rule deliberately leaves alone, and why

    @property
    def family(self) -> str:
        return self.id.rstrip("0123456789").lower()

    def __call__(
        self,
        where: Location,
        message: str,
        hint: str = "",
        *,
        severity: Severity | None = None,
        related: Iterable[Location] = (),
    ) -> Finding:
        return Finding(
            rule=self.id,
            severity=severity or self.severity,
            location=where,
            message=message,
            hint=hint,
            related=tuple(related),
        )


RULES: dict[str, Rule] = {}


def rule(
    id: str,
    name: str,
    severity: Severity,
    summary: str,
    help: str,
    *tags: str,
    not_reported: str = "",
) -> Rule:
    """Declare a rule; ids are unique across every family."""
    if id in RULES:
        raise ValueError(f"lint rule {id} is declared twice")
    declared = Rule(id, name, severity, summary, help, tags, not_reported)
    RULES[id] = declared
    return declared
