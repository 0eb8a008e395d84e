"""What the next no-op install may trust: the files the fragment and settings checks read.

A no-op must know that CLAUDE.md's blocks, ``.claude/settings.json``'s keys and
``.claudeignore``'s lines are as the lock says. Proving that parses them with the
fragment and settings code, whose imports (YAML, the renderer's neighbourhood)
cost more than a whole no-op may. So a full run proves it here, once, and records
the digests of the very files the checks read, taken before and after them; the
next no-op compares digests (``project.state.quick_noop``). Equal bytes pass the
same checks.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from skillpm.formats.project_files import Lockfile, ProjectManifest
from skillpm.project.folder import Project
from skillpm.project.state import output_digests


def watched_outputs(
    project: Project, manifest: ProjectManifest, lock: Lockfile
) -> dict[str, str | None] | None:
    """``output_digests`` of every file the checks read, if they pass; ``None``: not proven."""
    rels: list[str] = []
    checks: list[Callable[[], bool]] = []
    fragments = {f: p.fragment_hashes.get(f, "") for p in lock.packages for f in p.fragments}
    if fragments:
        from skillpm.content import fragment_plan as fp

        placement = fp.placement_of(manifest.settings)
        memory = project.memory_files
        rels += [fp.CLAUDE_MD, fp.AGENTS_MD]
        rels += [rel for n in sorted(fragments) for rel in (fp.import_path(n), fp.rules_path(n))]
        checks.append(lambda: fp.outputs_intact(project.root, placement, fragments, memory))
    pieces = any(p.settings or p.settings_replaced or p.claudeignore for p in lock.packages)
    if pieces or lock.created_files:
        from skillpm.install.settings import IGNORE, SETTINGS, pieces_intact

        rels += [SETTINGS, IGNORE]
        checks.append(lambda: pieces_intact(project, lock))
    # A changed allowed-signers file sends the next install the full way, which checks the
    # locked versions' signatures against it again (install/signatures.py).
    rels += [os.path.expanduser(p) for p in sorted(set(manifest.allowed_signers.values()))]
    before = output_digests(project.root, rels)
    if not all(check() for check in checks):
        return None
    after = output_digests(project.root, rels)
    return after if after == before else None
