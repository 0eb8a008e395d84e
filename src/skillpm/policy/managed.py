"""Where the managed (organisation) policy lives. Only ``os`` here: the no-op fast path
(entry.py) asks whether one exists before it may answer without loading anything."""

from __future__ import annotations

import os
import sys

POLICY_ENV = "SKILLPM_POLICY"  # names a file that replaces the platform's managed path


def managed_path() -> str:
    """``$SKILLPM_POLICY``, else the platform's managed location (as Claude Code's managed
    settings: a folder only administrators write to)."""
    override = os.environ.get(POLICY_ENV, "").strip()
    if override:
        return os.path.expanduser(override)
    if sys.platform == "darwin":
        return "/Library/Application Support/skillpm/policy.yaml"
    if sys.platform == "win32":
        folder = os.environ.get("PROGRAMDATA", r"C:\ProgramData")
        return os.path.join(folder, "skillpm", "policy.yaml")
    return "/etc/skillpm/policy.yaml"


def managed_policy_set() -> bool:
    """Whether a managed policy applies (a named file that is missing applies too: it fails
    closed when read)."""
    return bool(os.environ.get(POLICY_ENV, "").strip()) or os.path.lexists(managed_path())


def policy_key(path: str, data: bytes) -> str:
    """What identifies a managed policy for the no-op record: its path and its bytes."""
    from skillpm.project.state import digest

    return digest(path.encode() + b"\0" + data)


def quick_noop(root: str | os.PathLike[str]) -> int | None:
    """``project.state.quick_noop``, keyed to the managed policy in force: a no-op is
    answered from the stat cache only when the last full run checked the lock against
    exactly this policy file (an unreadable one goes the full way, which reports it)."""
    key = ""
    if managed_policy_set():
        path = managed_path()
        try:
            with open(path, "rb") as f:
                key = policy_key(path, f.read())
        except OSError:
            return None
    from skillpm.project.state import quick_noop as proven

    return proven(root, key)
