"""``skillpm init``: a commented skills.yaml to start from."""

from __future__ import annotations

from skillpm.errors import ManifestError
from skillpm.formats.manifest_edit import TEMPLATE
from skillpm.fsutil import atomic_write
from skillpm.output import console
from skillpm.project.folder import Project


def init(project: Project) -> None:
    from skillpm.install.steps import recover
    from skillpm.store import project_lock

    with project_lock(project.root):
        recover(project)  # an interrupted install may have been writing skills.yaml
        if project.manifest_path.exists():
            raise ManifestError(
                f"{project.manifest_path.name} already exists here; edit it instead"
            )
        atomic_write(project.manifest_path, TEMPLATE.encode())
    console.info(f"Wrote {project.manifest_path.name}; add packages with 'skillpm install NAME'")
