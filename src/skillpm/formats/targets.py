"""Which agents a project installs for: ``targets:`` in skills.yaml.

- ``claude`` (the default): skills in ``.claude/skills/``, fragments in ``CLAUDE.md``
  (placed as ``claude-md.placement`` says);
- ``agents``: skills in ``.agents/skills/`` and fragments inline in ``AGENTS.md``, for
  the other agents that read the Agent Skills standard and AGENTS.md.

Both may be listed (``targets: [claude, agents]``): the same skills land in both
folders and the same blocks in both files. When a target is dropped, copies
skillpm put there (recognised by the integrity the lock records) are removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skillpm.errors import ManifestError

CLAUDE = "claude"
AGENTS = "agents"
TARGETS = (CLAUDE, AGENTS)
DEFAULT = (CLAUDE,)
SKILLS_DIRS = {CLAUDE: ".claude/skills", AGENTS: ".agents/skills"}
MEMORY_FILES = {CLAUDE: "CLAUDE.md", AGENTS: "AGENTS.md"}


def targets_of(settings: Mapping[str, Any]) -> tuple[str, ...]:
    raw = settings.get("targets")
    if raw is None:
        return DEFAULT
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items or not all(isinstance(t, str) for t in items):
        raise ManifestError("skills.yaml: targets must be a list: [claude], [agents] or both")
    unknown = [t for t in items if t not in TARGETS]
    if unknown:
        raise ManifestError(
            f"skills.yaml: targets: unknown target {unknown[0]!r} (known: claude, agents)"
        )
    return tuple(t for t in TARGETS if t in items)
