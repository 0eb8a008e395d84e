"""The statement a version's signatures are made over (docs/signatures.md).

Only what identifies the published bytes and what the resolver reads from the
index is in it: registry URLs, paths, dates and yanks are not, so a signature
stays valid when ``build-static`` copies the version to a site or a mirror
serves it.
"""

from __future__ import annotations

from collections.abc import Mapping

NAMESPACE = "skillpm"  # ssh-keygen -Y sign -n skillpm: a commit signature never passes here
_HEADER = "skillpm-version-statement-v1"


def statement(name: str, version: str, integrity: str, dependencies: Mapping[str, str]) -> bytes:
    """The canonical bytes: fixed line order, LF endings, dependencies sorted by name."""
    lines = [_HEADER, f"name {name}", f"version {version}", f"integrity {integrity}"]
    lines += [f"dependency {dep} {rng}" for dep, rng in sorted(dependencies.items())]
    return ("\n".join(lines) + "\n").encode()
