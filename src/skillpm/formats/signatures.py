"""The JSON and YAML shapes of signatures (docs/signatures.md): a version entry's
``signatures`` list in a registry index, and a locked package's ``signers``.

Only the shapes live here; what a signature proves is ``skillpm.signing``'s business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from skillpm.errors import LockError, RegistryError

# The kinds a verifier knows. An entry may carry others (a later Sigstore bundle, say):
# they are kept when the index is rewritten and never count as a valid signature.
SSH = "ssh"


@dataclass(frozen=True)
class IndexSignature:
    """One signature of a version: its kind and its payload (for ``ssh``, base64 SSHSIG)."""

    kind: str
    value: Any  # str for ssh; a JSON object for kinds to come

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "signature": self.value}


def parse_index_signatures(data: Any, where: str) -> tuple[IndexSignature, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        raise RegistryError(f"{where}: signatures must be a list")
    out = []
    for item in data:
        if not isinstance(item, Mapping) or not isinstance(item.get("kind"), str):
            raise RegistryError(f'{where}: each signature needs a "kind" and a "signature"')
        value = item.get("signature")
        if item["kind"] == SSH and not isinstance(value, str):
            raise RegistryError(f"{where}: an ssh signature must be a base64 string")
        out.append(IndexSignature(item["kind"], value))
    return tuple(out)


@dataclass(frozen=True, order=True)
class Signer:
    """Who signed a locked version: the allowed-signers principal and the key's
    fingerprint (``SHA256:...``, as ``ssh-keygen -l`` prints it). A Sigstore signer
    will fit the same two fields: the certificate identity, and ``sigstore:<issuer>``."""

    principal: str
    key: str

    def to_json(self) -> dict[str, str]:
        return {"key": self.key, "principal": self.principal}


def parse_lock_signers(data: Any, where: str) -> tuple[Signer, ...]:
    if data is None:
        return ()
    if not isinstance(data, list) or not all(
        isinstance(s, Mapping)
        and isinstance(s.get("principal"), str)
        and isinstance(s.get("key"), str)
        and s["key"]
        for s in data
    ):
        raise LockError(f"{where}: signers must be a list of {{principal, key}}")
    return tuple(sorted({Signer(s["principal"], s["key"]) for s in data}))
