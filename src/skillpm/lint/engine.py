"""Run every rule family over a workspace, then apply suppressions.

Suppression, per finding: a ``skillpm:ignore RULE [RULE...]`` comment
(``<!-- ... -->`` in markdown, ``# ...`` in YAML and scripts) on the finding's
line or the line before. Per project: ``lint: {ignore: [RULE, ...]}`` in
skills.yaml, where a family name (``BUDGET``) stands for all of its rules.
Suppressed findings are counted, and kept in SARIF as suppressed results, so a
package cannot quietly silence the scanner for itself.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from skillpm.errors import ManifestError
from skillpm.lint import budget, conflicts, drift, safety, spec
from skillpm.lint.model import RULES, Finding, Severity
from skillpm.lint.workspace import Workspace

_INLINE = re.compile(r"skillpm:ignore\b[ \t]*([A-Za-z0-9, \t]*)")
_FAMILIES = frozenset(r.id.rstrip("0123456789") for r in RULES.values())


@dataclass(frozen=True)
class Options:
    strict_spec: bool = False
    inline_ignores: bool = True
    ignore: frozenset[str] = frozenset()  # rule ids or family names, upper case


@dataclass
class Report:
    findings: list[Finding]
    suppressed_inline: list[Finding] = field(default_factory=list)
    suppressed_config: list[Finding] = field(default_factory=list)
    skills: int = 0
    fragments: int = 0
    files: int = 0
    not_checked: int = 0  # marketplace plugins stored elsewhere or without skills

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    def failed(self, *, strict: bool) -> bool:
        counted = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
        return any(f.severity in counted for f in self.findings)


def check_rule_ids(ids: Iterable[Any], where: str) -> frozenset[str]:
    """Upper-cased rule ids or family names; an unknown one is a clear error."""
    known: set[str] = set()
    for raw in ids:
        if not isinstance(raw, str) or not raw.strip():
            raise ManifestError(f"{where}: expected rule ids such as SAFETY004, got {raw!r}")
        value = raw.strip().upper()
        if value not in RULES and value not in _FAMILIES:
            raise ManifestError(
                f"{where}: unknown lint rule {raw!r}; 'skillpm lint --list-rules' lists them"
            )
        known.add(value)
    return frozenset(known)


def config_ignores(settings: Mapping[str, Any], where: str) -> frozenset[str]:
    """``lint: {ignore: [...]}`` from skills.yaml."""
    section = settings.get("lint")
    if section is None:
        return frozenset()
    if not isinstance(section, Mapping):
        raise ManifestError(
            f"{where}: lint must be a mapping, e.g. 'lint: {{ignore: [BUDGET001]}}'"
        )
    unknown = sorted(str(k) for k in section if k != "ignore")
    if unknown:
        raise ManifestError(f"{where}: lint: unknown setting {unknown[0]!r} (only 'ignore')")
    ignore = section.get("ignore") or []
    if isinstance(ignore, str):
        ignore = [ignore]
    if not isinstance(ignore, list):
        raise ManifestError(f"{where}: lint.ignore must be a list of rule ids")
    return check_rule_ids(ignore, f"{where}: lint.ignore")


def _matches(rule_id: str, ignored: Collection[str]) -> bool:
    return rule_id in ignored or rule_id.rstrip("0123456789") in ignored


def _inline_ids(ws: Workspace, finding: Finding) -> set[str]:
    """Rules silenced by comments on the finding's line or the line before.

    A finding about a whole file (an unreferenced script, say) is silenced by a comment
    in the file's first three lines, after a shebang or frontmatter opener.
    """
    file = ws.text_of(finding.file)
    if file is None:
        return set()
    numbers = (finding.line, finding.line - 1) if finding.line else (1, 2, 3)
    ids: set[str] = set()
    for number in numbers:
        if 1 <= number <= len(file.lines):
            line = file.lines[number - 1]
            if "skillpm:ignore" in line:
                for m in _INLINE.finditer(line):
                    ids.update(t.upper() for t in re.split(r"[\s,]+", m.group(1)) if t)
    return ids


def run(ws: Workspace, options: Options) -> Report:
    found: list[Finding] = []
    found += spec.check(ws, strict_spec=options.strict_spec)
    found += conflicts.check(ws)
    found += safety.check(ws)
    found += drift.check(ws)
    found += budget.check(ws)
    unique = list(dict.fromkeys(found))
    report = Report(
        findings=[],
        skills=len(ws.skills),
        not_checked=ws.not_checked,
        fragments=len(ws.fragments),
        files=len(ws.files),
    )
    for finding in sorted(unique, key=Finding.sort_key):
        if _matches(finding.rule, options.ignore):
            report.suppressed_config.append(finding)
        elif options.inline_ignores and _matches(finding.rule, _inline_ids(ws, finding)):
            report.suppressed_inline.append(finding)
        else:
            report.findings.append(finding)
    return report
