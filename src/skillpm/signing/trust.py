"""Checking a version's signatures against a registry's allowed signers.

Pure apart from the crypto: the installer calls ``verify_version`` before a
version lands and records the signers it returns in ``skills.lock``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from skillpm.errors import SignatureError
from skillpm.formats.index import VersionEntry
from skillpm.formats.signatures import SSH, Signer
from skillpm.signing import sshsig
from skillpm.signing.allowed_signers import AllowedSigners
from skillpm.signing.statement import NAMESPACE, statement


def entry_statement(entry: VersionEntry) -> bytes:
    return statement(entry.name, entry.version, entry.integrity, entry.dependencies)


def ssh_signatures(entry: VersionEntry) -> list[sshsig.SshSignature]:
    """The entry's SSH signatures, parsed (a malformed one is an error naming the version)."""
    out = []
    for item in entry.signatures:
        if item.kind == SSH:
            try:
                out.append(sshsig.parse(item.value))
            except SignatureError as exc:
                raise SignatureError(f"{entry.name} {entry.version}: {exc}") from None
    return out


def signers_of(entry: VersionEntry, trust: AllowedSigners) -> tuple[tuple[Signer, ...], list[str]]:
    """(allowed signers whose signature verifies, a reason for each signature refused)."""
    message = entry_statement(entry)
    good: set[Signer] = set()
    refused: list[str] = []
    for sig in ssh_signatures(entry):
        principal = trust.principal_of(sig.public_key)
        if principal is None:
            refused.append(f"key {sig.fingerprint} is not in the allowed signers")
        elif not _verifies(entry, sig, message):
            refused.append(f"{principal}'s signature ({sig.fingerprint}) is over another statement")
        else:
            good.add(Signer(principal, sig.fingerprint))
    return tuple(sorted(good)), refused


def _verifies(entry: VersionEntry, sig: sshsig.SshSignature, message: bytes) -> bool:
    try:
        return sshsig.verify(sig, message, NAMESPACE)
    except SignatureError as exc:  # a key type skillpm cannot check: say which version
        raise SignatureError(f"{entry.name} {entry.version}: {exc}") from None


def verify_version(
    entry: VersionEntry,
    checks: Sequence[tuple[str, AllowedSigners]],
    locked: Sequence[Signer],
    origin: str,
) -> tuple[Signer, ...]:
    """The allowed signers of ``entry``, or a SignatureError naming package, version and signer.

    ``checks`` are the allowed-signers files that apply, each with where it is required:
    each must allow one good signature. ``locked`` are the signers skills.lock recorded
    for this version: one of their keys must still sign it, or the signature was swapped.
    """
    what = f"{entry.name} {entry.version} from {origin}"
    good: set[Signer] = set()
    for label, trust in checks:
        found, refused = signers_of(entry, trust)
        if not found:
            if not refused:
                kinds = sorted({s.kind for s in entry.signatures})
                state = f"carries only {', '.join(kinds)} signatures" if kinds else "is not signed"
                raise SignatureError(
                    f"{what} {state}, and {label} requires an ssh signature; nothing was installed"
                )
            raise SignatureError(
                f"{what} is not signed by a signer {label} allows ({'; '.join(refused)}); "
                "nothing was installed"
            )
        good.update(found)
    if locked and not _keys(good) & _keys(locked):
        raise SignatureError(
            f"{what} is now signed only by {_names(good)}, but skills.lock recorded "
            f"{_names(locked)}: a swapped signature is refused; nothing was installed"
        )
    return tuple(sorted(good))


def _keys(signers: Collection[Signer]) -> set[str]:
    return {s.key for s in signers}


def _names(signers: Collection[Signer]) -> str:
    return ", ".join(f"{s.principal} ({s.key})" for s in signers)
