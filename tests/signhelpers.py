"""Real SSH keys made with ssh-keygen, allowed-signers files and trusting projects."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml

from tests.helpers import Cli, make_package, snapshot


def make_keys(folder: Path) -> dict[str, Path]:
    """alice, bob and mallory: ed25519 keys without a passphrase."""
    made = {}
    for who in ("alice", "bob", "mallory"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", who, "-f", folder / who],
            check=True,
        )
        made[who] = folder / who
    return made


def fingerprint(key: Path) -> str:
    out = subprocess.run(
        ["ssh-keygen", "-l", "-f", f"{key}.pub"], check=True, capture_output=True, text=True
    )
    return out.stdout.split()[1]


def allowed_signers(path: Path, keys: dict[str, Path], *who: str) -> Path:
    lines = []
    for name in who:
        kind, blob = (keys[name].parent / f"{name}.pub").read_text().split()[:2]
        lines.append(f'{name}@example.com namespaces="skillpm" {kind} {blob}\n')
    path.write_text("# who may publish to the team registry\n" + "".join(lines))
    return path


def trusting_project(
    root: Path, url: str, signers: Path, deps: dict[str, str] | None = None
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    manifest = {
        "registries": {"team": {"url": url, "allowed-signers": os.path.relpath(signers, root)}},
        "dependencies": deps or {"base": "^1"},
    }
    (root / "skills.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return root


def publish(cli: Cli, tmp_path: Path, registry: str, version: str, *sign: str | Path) -> None:
    source = make_package(tmp_path / f"src-{version}", "base", version)
    result = cli("publish", source, "--registry", registry, *sign)
    assert result.exit_code == 0, result.output


def index_entry(index: Path, version: str, name: str = "base") -> dict[str, object]:
    data = json.loads(index.read_text())
    entry: dict[str, object] = data["packages"][name]["versions"][version]
    return entry


def refused(cli: Cli, project: Path, *args: str) -> str:
    """Run a command that must be refused: exit 1, one error line, no project file written."""
    before = snapshot(project)
    result = cli(*args, cwd=project)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert snapshot(project) == before  # nothing landed, no lock written
    return lines[0]


def fido_signature(kind: str, message: bytes, flags: int = 1) -> tuple[str, str]:
    """A FIDO (``sk-``) key and its SSHSIG over ``message`` in the ``skillpm`` namespace, made
    in software the way an authenticator does (PROTOCOL.u2f; no hardware here): the public
    key line and the armoured signature, which ``ssh-keygen -Y verify`` accepts."""
    import base64
    import hashlib
    import struct

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    def string(data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + data

    def mpint(value: int) -> bytes:
        return string(value.to_bytes((value.bit_length() + 8) // 8, "big"))

    application, tail = b"ssh:", bytes([flags]) + struct.pack(">I", 42)
    signed = b"SSHSIG" + b"".join(
        string(p) for p in (b"skillpm", b"", b"sha512", hashlib.sha512(message).digest())
    )
    data = hashlib.sha256(application).digest() + tail + hashlib.sha256(signed).digest()
    if kind == "ed25519":
        name = b"sk-ssh-ed25519@openssh.com"
        edkey = ed25519.Ed25519PrivateKey.generate()
        public = string(name) + string(edkey.public_key().public_bytes_raw()) + string(application)
        raw = string(edkey.sign(data))
    else:
        name = b"sk-ecdsa-sha2-nistp256@openssh.com"
        eckey = ec.generate_private_key(ec.SECP256R1())
        point = eckey.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        public = string(name) + string(b"nistp256") + string(point) + string(application)
        r, s = decode_dss_signature(eckey.sign(data, ec.ECDSA(hashes.SHA256())))
        raw = string(mpint(r) + mpint(s))
    blob = b"SSHSIG" + struct.pack(">I", 1) + b"".join(
        string(p) for p in (public, b"skillpm", b"", b"sha512", string(name) + raw + tail)
    )
    text = base64.b64encode(blob).decode()
    lines = [text[i : i + 70] for i in range(0, len(text), 70)]
    armoured = "\n".join(["-----BEGIN SSH SIGNATURE-----", *lines, "-----END SSH SIGNATURE-----"])
    return f"{name.decode()} {base64.b64encode(public).decode()}", armoured + "\n"
