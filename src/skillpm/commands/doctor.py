"""``skillpm doctor``: print the findings, or their JSON; True when an error was found."""

from __future__ import annotations

from skillpm.doctor import checks as core
from skillpm.output import console, plural
from skillpm.project.folder import Project


def doctor(project: Project, *, as_json: bool) -> bool:
    report = core.run(project)
    if as_json:
        console.json(
            {
                "findings": [f.to_json() for f in report.findings],
                "summary": {
                    "errors": report.errors,
                    "warnings": report.warnings,
                    "infos": len(report.findings) - report.errors - report.warnings,
                    "policy_files_read": report.policy_files,
                },
            }
        )
        return report.errors > 0
    for finding in report.findings:
        where = f"{finding.where}: " if finding.where else ""
        console.finding(finding.level, where + finding.message, finding.fix)
    if report.errors or report.warnings:
        console.info(
            f"Found {plural(report.errors, 'error')} and {plural(report.warnings, 'warning')}"
        )
    else:
        console.info(
            "No problems found (lock, installed skills, CLAUDE.md, Claude Code settings, "
            f"IAM policies in {plural(report.policy_files, 'file')})"
        )
    return report.errors > 0
