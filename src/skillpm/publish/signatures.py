"""Signing published versions: at publish time (``publish --sign``) and afterwards
(``skillpm sign``), through every writer. Neither changes a package's bytes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from skillpm.errors import SignatureError
from skillpm.formats.index import RegistryIndex, find_version, with_entry
from skillpm.formats.signatures import SSH, IndexSignature
from skillpm.publish.prepare import Prepared, version_entry
from skillpm.signing import sshsig

# Makes (or reuses) the signature of a statement: a git write may run its edit again
# after a raced push, and a hardware key should be touched once.
StatementSigner = Callable[[bytes], sshsig.SshSignature]


def key_signer(key: Path) -> StatementSigner:
    from skillpm.signing.sign import sign

    made: dict[bytes, sshsig.SshSignature] = {}

    def signer(statement: bytes) -> sshsig.SshSignature:
        if statement not in made:
            made[statement] = sign(statement, key)
        return made[statement]

    return signer


def sign_prepared(prepared: Prepared, key: Path) -> Prepared:
    """``prepared`` carrying its signature by ``key`` (before any writer runs)."""
    from skillpm.signing.trust import entry_statement

    sig = key_signer(key)(entry_statement(version_entry(prepared, "")))
    return replace(prepared, signatures=(IndexSignature(SSH, sig.encoded),))


def add_signature(
    index: RegistryIndex, name: str, version: str, signer: StatementSigner, where: str
) -> tuple[RegistryIndex, str]:
    """The index with one more signature on ``name version``, and the key's fingerprint;
    refused if that key already signed it."""
    from skillpm.signing.trust import entry_statement, ssh_signatures

    entry = find_version(index, name, version, where)
    sig = signer(entry_statement(entry))
    if any(s.public_key == sig.public_key for s in ssh_signatures(entry)):
        raise SignatureError(
            f"{name} {version} in {where} is already signed by {sig.fingerprint}; nothing changed"
        )
    signed = replace(entry, signatures=(*entry.signatures, IndexSignature(SSH, sig.encoded)))
    return with_entry(index, signed), sig.fingerprint
