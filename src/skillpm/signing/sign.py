"""Signing through ``ssh-keygen -Y sign``, the way git signs commits.

So every key git can sign with works: a key file, a public key whose private half
is in ssh-agent, a FIDO hardware key. skillpm never reads private key material.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from skillpm.errors import SignatureError
from skillpm.signing import sshsig
from skillpm.signing.statement import NAMESPACE


def sign(statement: bytes, key: Path) -> sshsig.SshSignature:
    """Sign ``statement`` with ``key`` (a private key file, or a public one held by the agent)."""
    program = shutil.which("ssh-keygen")
    if program is None:
        raise SignatureError("signing needs ssh-keygen (OpenSSH 8.2 or newer) on PATH")
    if not key.is_file():
        raise SignatureError(f"signing key {key} does not exist")
    try:
        done = subprocess.run(
            [program, "-q", "-Y", "sign", "-n", NAMESPACE, "-f", str(key)],
            input=statement,
            capture_output=True,
            check=False,
            timeout=300,  # a hardware key waits for a touch
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SignatureError(f"ssh-keygen -Y sign with {key} failed ({exc})") from None
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise SignatureError(
            f"ssh-keygen -Y sign with {key} failed: {reason[-1] if reason else 'no reason given'}"
        )
    sig = sshsig.parse_blob(sshsig.armoured_to_blob(done.stdout.decode(errors="replace")))
    # What goes into a registry must verify: a key type skillpm cannot check is refused here.
    if not sshsig.verify(sig, statement, NAMESPACE):
        raise SignatureError(f"ssh-keygen made a signature with {key} that does not verify")
    return sig
