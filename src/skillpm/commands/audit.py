"""``skillpm audit``: the CI gate. Prints the findings (text, JSON or SARIF) and returns the
exit code; never writes to the project."""

from __future__ import annotations

from skillpm.output import console
from skillpm.policy import audit as core
from skillpm.policy import report
from skillpm.project.folder import Project


def audit(project: Project, *, fmt: str) -> int:
    """1 when a finding is an error (a policy violation, a stale or edited lock, drift)."""
    found = core.run(project)
    if fmt == "json":
        console.json(report.audit_json(found))
    elif fmt == "sarif":
        console.json(report.audit_sarif(found, project.root))
    else:
        for line in report.audit_lines(found):
            console.result(line)
        if found.findings:
            console.info("")
        console.info(report.audit_summary(found))
    return 1 if found.failed else 0
