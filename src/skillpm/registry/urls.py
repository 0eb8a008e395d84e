"""Registry URLs: which transport a URL names, and what skillpm may fetch."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from skillpm.errors import RegistryError
from skillpm.output import redact

_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:(?!//)")

GIT, HTTPS, LOCAL = "git", "https", "local"


def transport_of(url: str) -> str:
    """The transport a registry URL names: ``git`` (git+..., git@host:path), ``https`` (a
    static site, http:// too) or ``local`` (a folder, file:// too)."""
    if is_git_url(url):
        return GIT
    if url.startswith(("http://", "https://")):
        return HTTPS
    return LOCAL


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
