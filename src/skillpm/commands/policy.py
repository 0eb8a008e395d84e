"""``skillpm policy show``: the policies in force and where each rule comes from."""

from __future__ import annotations

from skillpm.output import console
from skillpm.policy import report
from skillpm.policy.load import effective
from skillpm.project.folder import Project


def show(project: Project, *, as_json: bool) -> None:
    text = project.manifest_text()
    manifest = project.load_manifest(text) if text is not None else None
    policy = effective(manifest, text, project.files_dir, project.options)
    if as_json:
        console.json(report.show_json(policy))
        return
    for line in report.show_lines(policy):
        console.result(line)
