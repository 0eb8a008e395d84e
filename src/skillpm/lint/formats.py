"""Render a lint report: text for people, JSON for scripts, SARIF 2.1.0 for code scanning."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from skillpm import __version__
from skillpm.lint.engine import Report
from skillpm.lint.model import RULES, Finding, Location, Rule, Severity
from skillpm.output import plural

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_STYLE: dict[Severity, dict[str, Any]] = {
    Severity.ERROR: {"fg": "red", "bold": True},
    Severity.WARNING: {"fg": "yellow"},
    Severity.INFO: {"fg": "cyan"},
}


def _place(loc: Location) -> str:
    return f"{loc.file}:{loc.line}" if loc.line else loc.file


def text_lines(report: Report) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """``file:line: ID message`` grouped by file, each with its hint and other side."""
    current = None
    for f in report.findings:
        if f.file != current:
            if current is not None:
                yield "", None
            current = f.file
        yield f"{_place(f.location)}: {f.rule} [{f.severity.value}] {f.message}", _STYLE[f.severity]
        for other in f.related:
            owner = f" ({other.package})" if other.package else ""
            note = f": {other.note}" if other.note else ""
            yield f"    see {_place(other)}{owner}{note}", {"dim": True}
        if f.hint:
            yield f"    hint: {f.hint}", {"dim": True}


def summary(report: Report) -> str:
    checked = f"{plural(report.skills, 'skill')}, {plural(report.fragments, 'fragment')}"
    parts = []
    for severity in Severity:
        n = report.count(severity)
        if n:
            parts.append(plural(n, severity.value))
    suppressed = len(report.suppressed_inline) + len(report.suppressed_config)
    tail = f"; {suppressed} suppressed" if suppressed else ""
    if report.not_checked:
        tail += (
            f"; {plural(report.not_checked, 'plugin')} stored elsewhere or without skills "
            "not checked"
        )
    if not parts:
        return f"No problems found in {checked}{tail}"
    files = len({f.file for f in report.findings})
    return f"Found {', '.join(parts)} in {plural(files, 'file')} ({checked} checked{tail})"


def json_data(report: Report) -> list[dict[str, object]]:
    return [f.to_json() for f in report.findings]


def rules_data() -> list[dict[str, str]]:
    return [
        {
            "id": r.id,
            "name": r.name,
            "severity": r.severity.value,
            "summary": r.summary,
            "help": r.help,
            "not_reported": r.not_reported,
        }
        for r in sorted(RULES.values(), key=lambda r: r.id)
    ]


# -- SARIF --------------------------------------------------------------------------------


def _uri(file: str) -> dict[str, str]:
    if file.startswith("/"):
        return {"uri": Path(file).as_uri()}
    return {"uri": quote(file), "uriBaseId": "%SRCROOT%"}


def _location(loc: Location, index: int | None = None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _uri(loc.file)}
    if loc.line:
        physical["region"] = {"startLine": loc.line}
    data: dict[str, Any] = {"physicalLocation": physical}
    if index is not None:
        data["id"] = index
    if index is not None and (loc.note or loc.package):
        text = loc.note or ""
        if loc.package:
            text = f"{text} ({loc.package})" if text else loc.package
        data["message"] = {"text": text}
    return data


def _rule(r: Rule) -> dict[str, Any]:
    # SARIF tags are a set (uniqueItems): a rule may tag itself with its family's name.
    properties: dict[str, Any] = {"tags": list(dict.fromkeys([r.family, *r.tags]))}
    if r.family == "safety":
        # GitHub code scanning ranks security alerts by this (0.0-10.0).
        properties["security-severity"] = "8.0" if r.severity is Severity.ERROR else "5.0"
    return {
        "id": r.id,
        "name": r.name,
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": r.help},
        # Code scanning shows this beside an alert: say what the rule leaves alone too.
        "help": {"text": f"{r.help} Not reported: {r.not_reported}"},
        "defaultConfiguration": {"level": _LEVEL[r.severity]},
        "properties": properties,
    }


def _fingerprint(f: Finding) -> str:
    # Without the line: an alert survives edits above it.
    key = "\0".join((f.rule, f.file, f.message))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _result(f: Finding, index: dict[str, int], suppression: str | None) -> dict[str, Any]:
    message = f"{f.message} (hint: {f.hint})" if f.hint else f.message
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": index[f.rule],
        "level": _LEVEL[f.severity],
        "message": {"text": message},
        "locations": [_location(Location(f.file, f.line, f.location.package))],
        "partialFingerprints": {"skillpmFinding/v1": _fingerprint(f)},
    }
    if f.related:
        result["relatedLocations"] = [_location(r, i) for i, r in enumerate(f.related, 1)]
    if f.location.package:
        result["properties"] = {"package": f.location.package}
    if suppression:
        result["suppressions"] = [{"kind": suppression}]
    return result


def sarif(report: Report, base: Path) -> dict[str, Any]:
    rules = sorted(RULES.values(), key=lambda r: r.id)
    index = {r.id: i for i, r in enumerate(rules)}
    results = [_result(f, index, None) for f in report.findings]
    results += [_result(f, index, "inSource") for f in report.suppressed_inline]
    results += [_result(f, index, "external") for f in report.suppressed_config]
    return sarif_log([_rule(r) for r in rules], results, base)


def sarif_log(
    rules: list[dict[str, Any]],
    results: list[dict[str, Any]],
    base: Path,
    automation_id: str | None = None,
) -> dict[str, Any]:
    """One SARIF 2.1.0 run by skillpm (lint's and audit's share it): paths in ``results``
    are relative to ``base``."""
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "skillpm",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": rules,
            }
        },
    }
    if automation_id is not None:
        run["automationDetails"] = {"id": automation_id}
    run["originalUriBaseIds"] = {"%SRCROOT%": {"uri": base.resolve().as_uri() + "/"}}
    run["columnKind"] = "unicodeCodePoints"
    run["results"] = results
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
