"""Numbers skillpm reads from the environment, parsed one way with one message.

Imported by the no-op fast paths too (``entry``, ``cli.install``), so only ``os`` here.
"""

from __future__ import annotations

import os

FETCH_INTERVAL = "SKILLPM_FETCH_INTERVAL"  # seconds a fetched git or site view counts as fresh
HTTP_TIMEOUT = "SKILLPM_HTTP_TIMEOUT"
HTTP_RETRIES = "SKILLPM_HTTP_RETRIES"


def number(raw: str, *, integer: bool = False) -> float | None:
    """``raw`` as a setting of 0 or more, else None (NaN too)."""
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        return None
    return value if value >= 0 else None


def env_number(name: str, default: float, *, integer: bool = False) -> float:
    """A setting of 0 or more from the environment variable ``name`` (unset: ``default``)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    value = number(raw, integer=integer)
    if value is None:
        from skillpm.errors import RegistryError

        kind = "a whole number" if integer else "a number of seconds"
        raise RegistryError(f"{name}={raw!r}: expected {kind} (0 or more)")
    return value
