"""``skillpm sign``: add a signature to a version already published."""

from __future__ import annotations

from pathlib import Path

from skillpm.output import console
from skillpm.publish.open import open_writer
from skillpm.publish.signatures import key_signer


def sign(registry: str, base: Path, name: str, version: str, key: Path) -> None:
    done = open_writer(registry, base).add_signature(name, version, key_signer(key))
    console.info(f"Signed {name} {version} in {done.where} with {done.key}")
