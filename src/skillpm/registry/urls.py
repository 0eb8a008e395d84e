"""Registry URLs: which transport a URL names, and what skillpm may fetch."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from skillpm.errors import RegistryError
from skillpm.output import redact

_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:(?!//)")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# "s3:/bucket", "https:host": a scheme with its slashes mistyped. (One letter is a Windows
# drive, C:\..., and a folder really named so can be written ./s3:/...)
_MISTYPED = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):(?!//)")

GIT, HTTPS, LOCAL, S3 = "git", "https", "local", "s3"

ACCEPTED_FORMS = (
    "a folder (or file://), git+https://, git+ssh://, git+file://, git@host:org/repo.git, "
    "https:// (a static site) or s3://BUCKET/PREFIX"
)


def transport_of(url: str) -> str:
    """The transport a registry URL names: ``git`` (git+..., git@host:path), ``https`` (a
    static site, http:// too), ``s3`` (s3://bucket/prefix) or ``local`` (a folder, file://
    too). Any other ``scheme://`` is refused: read as a path, ``s3://b`` would have been a
    folder named ``s3:`` that a publish quietly wrote into."""
    if is_git_url(url):
        return GIT
    scheme = _SCHEME.match(url)
    if scheme is None:
        mistyped = _MISTYPED.match(url)
        if mistyped is not None:
            raise RegistryError(
                f"{redact(url)}: looks like a URL without its '//' ({mistyped[1]}://...); a "
                f"registry is {ACCEPTED_FORMS} (a folder named like this: ./{url})"
            )
        return LOCAL
    name = scheme[1].lower()
    if name in ("http", "https"):
        return HTTPS
    if name == "s3":
        return S3
    if name == "file":
        return LOCAL
    raise RegistryError(
        f"{redact(url)}: skillpm does not know the URL scheme {name}://; a registry is "
        f"{ACCEPTED_FORMS}"
    )


def is_git_url(url: str) -> bool:
    return url.startswith("git+") or bool(_SCP_LIKE.match(url))


def local_path(url: str, base: Path) -> Path:
    """The folder a local registry URL names, relative to ``base`` unless absolute."""
    return base / Path(url.removeprefix("file://")).expanduser()


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_http_url(url: str, *, allow_http: bool, label: str) -> SplitResult:
    """The parts of ``url`` if skillpm may fetch it, else a ``RegistryError``."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise RegistryError(f"{label}: {redact(url)} is not an http(s) URL with a host")
    if scheme == "http" and not allow_http and not is_loopback(parts.hostname):
        raise RegistryError(
            f"{label}: plain http:// to {parts.hostname} is refused, since anyone on the way "
            "could change what gets installed; use https://, or pass --allow-http "
            "(SKILLPM_ALLOW_HTTP=1) to accept the risk"
        )
    return parts
