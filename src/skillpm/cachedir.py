"""Where the user-level cache lives, as a plain string (``store.cache_dir`` wraps it).

A module of its own, importing nothing but ``os`` and ``sys``: the no-op install
reads its stat cache from here before anything else (pathlib, platformdirs) loads.
"""

from __future__ import annotations

import os
import sys


def cache_root() -> str:
    """``SKILLPM_CACHE_DIR``, else platformdirs' user cache dir for skillpm.

    On Linux with an absolute ``$XDG_CACHE_HOME`` (or none, and an absolute
    ``$HOME``) every platformdirs version gives the path computed here; anything
    less plain asks platformdirs itself.
    """
    override = os.environ.get("SKILLPM_CACHE_DIR")
    if override:
        return os.path.expanduser(override)
    if sys.platform == "linux" and "ANDROID_DATA" not in os.environ:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        home = os.environ.get("HOME", "")
        if xdg.startswith("/"):
            return os.path.join(xdg, "skillpm")
        if not xdg and home.startswith("/"):
            return os.path.join(home, ".cache", "skillpm")
    import platformdirs

    return str(platformdirs.user_cache_dir("skillpm", appauthor=False))
