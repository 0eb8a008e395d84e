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
    import tempfile

    # The statement goes in a file, as git does it: ssh-keygen reads a passphrase from
    # stdin, so a statement piped there would be taken for one ("incorrect passphrase").
    with tempfile.TemporaryDirectory(prefix="skillpm-sign-") as tmp:
        message = Path(tmp) / "statement"
        message.write_bytes(statement)
        try:
            done = subprocess.run(
                [program, "-q", "-Y", "sign", "-n", NAMESPACE, "-f", str(key), str(message)],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                check=False,
                timeout=300,  # a hardware key waits for a touch
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SignatureError(f"ssh-keygen -Y sign with {key} failed ({exc})") from None
        if done.returncode != 0:
            lines = done.stderr.decode(errors="replace").strip().splitlines()
            reason = lines[-1] if lines else "no reason given"
            if "passphrase" in reason.lower():
                reason += "; the key has a passphrase: load it with 'ssh-add KEY' and pass KEY.pub"
            raise SignatureError(f"ssh-keygen -Y sign with {key} failed: {reason}")
        armoured = message.with_name("statement.sig").read_text(errors="replace")
    sig = sshsig.parse_blob(sshsig.armoured_to_blob(armoured))
    # What goes into a registry must verify: a key type skillpm cannot check is refused here.
    if not sshsig.verify(sig, statement, NAMESPACE):
        raise SignatureError(f"ssh-keygen made a signature with {key} that does not verify")
    return sig
