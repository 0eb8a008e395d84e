"""Registry URLs: which transport a URL names, and what skillpm may fetch."""

from __future__ import annotations

import re
from dataclasses import dataclass
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


# -- git registry URLs (DESIGN 3) ------------------------------------------------

_SCHEMES = ("https", "ssh", "file")
_SCP_PARTS = re.compile(r"^(?P<user>[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>(?!//).+)$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_REF = re.compile(r"^(?!-)(?!/)(?!.*\.\.)(?!.*//)(?!.*/$)(?!.*\.lock$)[A-Za-z0-9._/+-]+$")


@dataclass(frozen=True)
class GitUrl:
    remote: str  # what git fetches from: no ``git+`` prefix, no ``#ref``
    ref: str | None  # a branch, tag or 40-digit commit; None for the remote's HEAD
    key: str  # the remote, normalised and without credentials: the mirror's identity

    @property
    def commit(self) -> str | None:
        return self.ref if self.ref and _COMMIT.match(self.ref) else None


def is_ref_name(text: str) -> bool:
    """Whether git would take ``text`` as a branch or tag name (or a commit id)."""
    return bool(_REF.match(text))


def parse_git_url(url: str) -> GitUrl:
    """Split a registry URL (DESIGN 3) into what git needs; ``RegistryError`` if malformed."""
    base, hash_, ref = url.partition("#")
    if hash_ and not _REF.match(ref):
        raise RegistryError(
            f"{redact(url)}: {ref!r} after '#' is not a branch, tag or 40-digit commit"
        )
    if base.startswith("git+"):
        remote = base.removeprefix("git+")
        parts = urlsplit(remote)
        scheme = parts.scheme.lower()
        if scheme not in _SCHEMES:
            raise RegistryError(
                f"{redact(url)}: unsupported git URL; use git+https://, git+ssh://, git+file:// "
                "or git@host:org/repo.git"
            )
        if scheme == "file":
            if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
                raise RegistryError(
                    f"{redact(url)}: git+file:// needs an absolute path "
                    "(git+file:///path/to/registry.git)"
                )
            key = "file://" + _strip_git(str(Path(parts.path).resolve()))
        else:
            if not parts.hostname:
                raise RegistryError(f"{redact(url)}: the URL has no host")
            host = parts.hostname.lower() + (f":{parts.port}" if parts.port else "")
            key = f"{scheme}://{host}{_strip_git(parts.path)}"
    else:
        match = _SCP_PARTS.match(base)
        if not match:
            raise RegistryError(f"{redact(url)}: not a git URL")
        remote = base
        key = f"ssh://{match['host'].lower()}/{_strip_git(match['path']).lstrip('/')}"
    return GitUrl(remote=remote, ref=ref or None, key=key)


def _strip_git(path: str) -> str:
    return re.sub(r"(\.git)?/*$", "", path)
