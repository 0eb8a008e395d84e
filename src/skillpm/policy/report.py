"""How ``policy show`` and ``audit`` print: text for people, JSON for scripts, SARIF 2.1.0
for code scanning. Pure functions from parsed values to lines and documents."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from skillpm.lint.formats import sarif_log
from skillpm.output import plural
from skillpm.policy.audit import ERROR, RULES, WARNING, Audit, AuditFinding, AuditRule
from skillpm.policy.evaluate import Effective
from skillpm.policy.rules import Item, PackagePattern, rule_fields

# -- policy show -------------------------------------------------------------------------


def _entries(effective: Effective) -> Iterator[tuple[str, str, str, str, int | None]]:
    """(key, kind, value, source, line) for every rule of every layer, in file order."""
    for f in rule_fields():
        for layer in effective.layers:
            value = getattr(layer.policy, f.name)
            if value is None:
                continue
            items = value if isinstance(value, tuple) else (value,)
            for item in items:
                plain = item.item if isinstance(item, PackagePattern) else item
                assert isinstance(plain, Item)
                yield f.metadata["key"], layer.kind, plain.text, layer.source, plain.line


def _combined(effective: Effective) -> dict[str, Any]:
    """What the layers come to where one value stands for them all."""
    mode = effective.executables[0]
    parts: set[str] | None = None
    for layer in effective.layers:
        listed = layer.policy.plugin_parts
        if listed is not None:
            names = {p.text for p in listed}
            parts = names if parts is None else parts & names
    return {
        "content.executables": mode,
        "content.plugin-parts": sorted(parts) if parts is not None else None,
    }


def show_json(effective: Effective) -> dict[str, Any]:
    rules: dict[str, list[dict[str, Any]]] = {}
    for key, kind, value, source, line in _entries(effective):
        rules.setdefault(key, []).append(
            {"value": value, "kind": kind, "source": source, "line": line}
        )
    return {
        "policies": [{"kind": layer.kind, "source": layer.source} for layer in effective.layers],
        "rules": rules,
        "effective": _combined(effective),
    }


def show_lines(effective: Effective) -> list[str]:
    if not effective.layers:
        return ["No policy applies here: no managed policy and no 'policy:' in skills.yaml"]
    lines = ["Policies in force (a package must pass every one; a project policy only adds"]
    lines.append("refusals, it never widens the managed one):")
    lines += [f"  {layer.kind:<8} {layer.source}" for layer in effective.layers]
    rows = list(_entries(effective))
    width = max((len(value) for _, _, value, _, _ in rows), default=0)
    current = None
    for key, _, value, source, line in rows:
        if key != current:
            current = key
            lines += ["", f"{key}:{_how(key, effective)}"]
        lines.append(f"  {value:<{width}}  {source}:{line}" if line else f"  {value}  {source}")
    return lines


def _how(key: str, effective: Effective) -> str:
    combined = _combined(effective)
    if key == "content.executables":
        return f" {combined[key]} (the strictest of these)"
    if key == "content.plugin-parts":
        return f" {', '.join(combined[key]) or 'none'} (what every list allows)"
    if key.endswith(".allow"):
        layers = sum(1 for layer in effective.layers if _sets(layer.policy, key))
        return " (must match one entry of each policy's list)" if layers > 1 else ""
    return ""


def _sets(policy: object, key: str) -> bool:
    return any(
        f.metadata["key"] == key and getattr(policy, f.name) is not None for f in rule_fields()
    )


# -- audit: text and JSON ----------------------------------------------------------------


def audit_lines(audit: Audit) -> Iterator[str]:
    for f in audit.findings:
        place = f"{f.file}:{f.line}" if f.line else f.file
        yield f"{place}: {f.rule} [{f.level}] {f.message}"
        if f.hint:
            yield f"    hint: {f.hint}"


def audit_summary(audit: Audit) -> str:
    layers = len(audit.policy.layers)
    checked = f"{plural(audit.packages, 'package')} checked against {layers} "
    checked += "policy" if layers == 1 else "policies"
    errors = sum(1 for f in audit.findings if f.level == ERROR)
    warnings = sum(1 for f in audit.findings if f.level == WARNING)
    if not errors and not warnings:
        return f"Audit passed: {checked}"
    found = ", ".join(p for p in (_count(errors, "error"), _count(warnings, "warning")) if p)
    return f"Audit found {found} ({checked})"


def _count(n: int, what: str) -> str:
    return plural(n, what) if n else ""


def audit_json(audit: Audit) -> dict[str, Any]:
    return {
        "findings": [f.to_json() for f in audit.findings],
        "summary": {
            "errors": sum(1 for f in audit.findings if f.level == ERROR),
            "warnings": sum(1 for f in audit.findings if f.level == WARNING),
            "packages": audit.packages,
        },
        "policies": [{"kind": la.kind, "source": la.source} for la in audit.policy.layers],
    }


# -- audit: SARIF 2.1.0 --------------------------------------------------------------------


def _descriptors() -> list[AuditRule]:
    """The audit's own rules and the lint drift rules it reports."""
    from skillpm.lint import engine  # noqa: F401 (declares every rule)
    from skillpm.lint.model import RULES as LINT_RULES

    drift = [
        AuditRule(r.id, r.name, r.summary, r.help)
        for r in LINT_RULES.values()
        if r.id.startswith("DRIFT")
    ]
    return sorted([*RULES.values(), *drift], key=lambda r: r.id)


def _descriptor(rule: AuditRule) -> dict[str, Any]:
    properties: dict[str, Any] = {"tags": ["security" if rule.id.startswith("POLICY") else "audit"]}
    if rule.id.startswith("POLICY"):
        properties["security-severity"] = "8.0"  # how GitHub code scanning ranks alerts
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.help},
        "help": {"text": rule.help},
        "defaultConfiguration": {"level": "error"},
        "properties": properties,
    }


def _location(finding: AuditFinding) -> dict[str, Any]:
    if finding.file.startswith("/"):
        artifact = {"uri": Path(finding.file).as_uri()}
    else:
        artifact = {"uri": quote(finding.file), "uriBaseId": "%SRCROOT%"}
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if finding.line:
        physical["region"] = {"startLine": finding.line}
    return {"physicalLocation": physical}


def _result(finding: AuditFinding, index: dict[str, int]) -> dict[str, Any]:
    # Without the line: an alert survives edits above it.
    key = "\0".join((finding.rule, finding.file, finding.message))
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": index[finding.rule],
        "level": finding.level,
        "message": {"text": f"{finding.message} (hint: {finding.hint})" if finding.hint
                    else finding.message},
        "locations": [_location(finding)],
        "partialFingerprints": {"skillpmAudit/v1": hashlib.sha256(key.encode()).hexdigest()[:32]},
    }  # fmt: skip
    if finding.package:
        result["properties"] = {"package": finding.package}
    return result


def audit_sarif(audit: Audit, base: Path) -> dict[str, Any]:
    rules = _descriptors()
    index = {r.id: i for i, r in enumerate(rules)}
    results = [_result(f, index) for f in audit.findings]
    return sarif_log([_descriptor(r) for r in rules], results, base, "skillpm-audit/")
