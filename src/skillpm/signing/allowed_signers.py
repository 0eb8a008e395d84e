"""Allowed-signers files in git's and ssh-keygen's format (``ssh-keygen(1)``, ALLOWED SIGNERS).

``principals [options] keytype base64-key [comment]``, one per line; ``#`` starts a
comment line. Options understood: ``namespaces="a,b"`` (the line applies only when
it lists ``skillpm``), ``valid-after=`` and ``valid-before=`` (checked against now,
as ``ssh-keygen -Y verify`` does). ``cert-authority`` lines are refused: skillpm
verifies plain keys only.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

from skillpm.errors import SignatureError
from skillpm.signing.sshsig import fingerprint
from skillpm.signing.statement import NAMESPACE

_KEY_TYPES = re.compile(r"^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\d+|sk-[\w.@-]+)$")
_TIME = re.compile(r"^(\d{8})(\d{4}(\d{2})?)?(Z?)$")


@dataclass(frozen=True)
class AllowedSigner:
    principals: str  # as written: comma-separated names or patterns
    public_key: bytes  # SSH wire encoding
    namespaces: tuple[str, ...] | None = None  # None: any namespace
    valid_after: dt.datetime | None = None
    valid_before: dt.datetime | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def allows(self, namespace: str, now: dt.datetime) -> bool:
        if self.namespaces is not None and not any(
            fnmatch.fnmatchcase(namespace, pattern) for pattern in self.namespaces
        ):
            return False
        if self.valid_after is not None and now < self.valid_after:
            return False
        return self.valid_before is None or now < self.valid_before


@dataclass(frozen=True)
class AllowedSigners:
    signers: tuple[AllowedSigner, ...]

    def principal_of(self, public_key: bytes, now: dt.datetime | None = None) -> str | None:
        """The principals a key may sign ``skillpm`` statements for right now, else None."""
        when = now or dt.datetime.now(dt.UTC)
        for signer in self.signers:
            if signer.public_key == public_key and signer.allows(NAMESPACE, when):
                return signer.principals
        return None


def load(path: Path, label: str) -> AllowedSigners:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SignatureError(f"{label}: allowed-signers file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SignatureError(f"{label}: cannot read allowed-signers file {path} ({exc})") from None
    return parse(text, str(path))


def parse(text: str, where: str) -> AllowedSigners:
    signers = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if line and not line.startswith("#"):
            signers.append(_parse_line(line, f"{where}:{number}"))
    return AllowedSigners(tuple(signers))


def _tokens(line: str) -> list[str]:
    """Split on blanks outside double quotes (an option value may hold spaces)."""
    tokens, current, quoted = [], "", False
    for char in line:
        if char == '"':
            quoted = not quoted
            current += char
        elif char in " \t" and not quoted:
            if current:
                tokens.append(current)
            current = ""
        else:
            current += char
    if quoted:
        raise ValueError("unbalanced quote")
    if current:
        tokens.append(current)
    return tokens


def _parse_line(line: str, where: str) -> AllowedSigner:
    try:
        tokens = _tokens(line)
    except ValueError as exc:
        raise SignatureError(f"{where}: {exc}") from None
    if len(tokens) < 3:
        raise SignatureError(f"{where}: expected 'principals [options] keytype key'")
    principals, rest = tokens[0].strip('"'), tokens[1:]
    options: dict[str, str] = {}
    if not _KEY_TYPES.match(rest[0]):
        options = _options(rest[0], where)
        rest = rest[1:]
    if len(rest) < 2 or not _KEY_TYPES.match(rest[0]):
        raise SignatureError(f"{where}: expected a key type such as ssh-ed25519, then the key")
    try:
        public_key = base64.b64decode(rest[1], validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"{where}: the key is not base64") from None
    if "cert-authority" in options:
        raise SignatureError(f"{where}: cert-authority lines are not supported; list the keys")
    unknown = sorted(set(options) - {"namespaces", "valid-after", "valid-before"})
    if unknown:
        raise SignatureError(f"{where}: unknown option {unknown[0]!r}")
    spaces = options.get("namespaces")
    return AllowedSigner(
        principals=principals,
        public_key=public_key,
        namespaces=tuple(spaces.split(",")) if spaces is not None else None,
        valid_after=_time(options.get("valid-after"), where),
        valid_before=_time(options.get("valid-before"), where),
    )


def _options(text: str, where: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for part in re.findall(r'(?:[^,"]|"[^"]*")+', text):
        key, _, value = part.partition("=")
        options[key.lower()] = value.strip('"')
    if not options:
        raise SignatureError(f"{where}: empty options")
    return options


def _time(value: str | None, where: str) -> dt.datetime | None:
    """``YYYYMMDD[HHMM[SS]][Z]``: local time unless it ends in Z, as in ssh-keygen."""
    if value is None:
        return None
    m = _TIME.match(value)
    if not m:
        raise SignatureError(f"{where}: bad time {value!r} (expected YYYYMMDD[HHMM[SS]][Z])")
    digits = m.group(1) + (m.group(2) or "0000")
    digits += "" if m.group(3) else "00"
    try:
        when = dt.datetime.strptime(digits, "%Y%m%d%H%M%S")
    except ValueError:
        raise SignatureError(f"{where}: bad time {value!r}") from None
    return when.replace(tzinfo=dt.UTC) if m.group(4) else when.astimezone(dt.UTC)
