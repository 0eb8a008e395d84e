"""What a failed git fetch means, in words a user can act on.

git says why in its own terms on stderr; this maps them to the one line skillpm
prints: a ref or commit the remote lacks, a remote whose objects are damaged, or
(anything else) a remote that cannot be reached or read with the access at hand.
"""

from __future__ import annotations

from skillpm.errors import RegistryError
from skillpm.output import redact
from skillpm.registry.git_commands import GitFailed

_HEX = frozenset("0123456789abcdef")


def hidden(text: str, remote: str) -> str:
    """``text`` with any credentials in the remote's URL (and other URLs) hidden."""
    return redact(text.replace(remote, redact(remote)))


def fetch_error(display: str, remote: str, exc: GitFailed, source: str) -> RegistryError:
    """The error for a failed fetch of ``source`` (a ref or commit) from ``remote``."""
    if exc.not_found:
        if len(source) == 40 and set(source) <= _HEX:
            return RegistryError(
                f"registry {display}: commit {source[:12]} is not on the remote (was "
                "its history rewritten?); run 'skillpm update' to resolve again"
            )
        return RegistryError(
            f"registry {display}: no branch, tag or commit {source!r} on the remote; "
            "check the '#ref' of its URL in skills.yaml"
        )
    if exc.damage is not None:  # a mirror is built from what the remote sends: it is damaged
        return RegistryError(
            f"registry {display}: the remote repository is damaged "
            f"({hidden(exc.damage, remote)}); tell its maintainers ('git fsck' there shows "
            "the damage), or use --offline with a warm cache"
        )
    return RegistryError(
        f"registry {display}: cannot fetch from the remote ({hidden(exc.reason, remote)}); "
        "check the URL and your access (git credential helper, ssh agent), or use "
        "--offline with a warm cache"
    )
