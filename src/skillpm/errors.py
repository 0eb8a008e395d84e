"""One error hierarchy, mapped once to an exit code in ``cli.main``.

Every message is meant to be shown as is: one line saying what is wrong, where,
and what to do about it.
"""

from __future__ import annotations

import re


class SkillpmError(Exception):
    """A failure the user can act on. Exit code 1, never a traceback."""

    exit_code = 1


class ManifestError(SkillpmError):
    """A project or package file that cannot be read or is malformed."""


class RegistryError(SkillpmError):
    """A registry that cannot be read, or that lacks what was asked for."""


class PackageNotFound(RegistryError):
    def __init__(
        self,
        name: str,
        suggestions: list[str],
        where: str = "in any configured registry",
        otherwise: str = "",
    ) -> None:
        """``where`` says what was searched; ``otherwise`` what to do with no close match."""
        if suggestions:
            hint = f"; did you mean {', '.join(suggestions)}?"
        else:
            hint = f"; {otherwise}" if otherwise else ""
        super().__init__(f"no package named {name!r} {where}{hint}")
        self.name = name
        self.suggestions = suggestions


class IntegrityError(SkillpmError):
    """Content that does not match its recorded integrity: fail closed."""


class UnsafeContentError(SkillpmError):
    """A package or path that would escape its folder or smuggle in links."""


class ResolutionError(SkillpmError):
    """No set of versions satisfies every requirement."""


class ConflictError(SkillpmError):
    """skillpm would overwrite something it does not own (``--force`` overrides)."""


class LockError(SkillpmError):
    """The lock is missing, stale or inconsistent where it must not be."""


class FragmentError(SkillpmError):
    """A CLAUDE.md fragment that cannot be read, rendered or merged."""


class PolicyError(SkillpmError):
    """What the organisation's or the project's policy refuses, or a policy that cannot be
    read (which refuses too: a policy fails closed)."""


def split_error(exc: SkillpmError, where: str) -> tuple[int | None, str]:
    """The line and the bare message of a ``where:line: message`` error."""
    text = str(exc)
    if text.startswith(where):
        text = text[len(where) :]
        m = re.match(r"^:(\d+): (.*)$", text, re.S)
        if m:
            return int(m.group(1)), m.group(2)
        return None, text.lstrip(": ")
    return None, text


class SignatureError(SkillpmError):
    """A signature that is missing, malformed, or not by an allowed signer: fail closed."""
