"""HTTP(S) GETs for static registries: stdlib ``urllib``, bounded, authenticated, retried.

Why urllib rather than httpx or urllib3: an install makes a few small GETs (one
index file per package name the resolver asks about, one archive per package it
installs), a handful at a time on a small thread pool. Connection pooling would
save a TLS handshake per request and nothing else worth a new dependency; urllib
already honours ``HTTPS_PROXY``/``NO_PROXY`` and ``SSL_CERT_FILE`` like every
stdlib tool. This module is imported only when an http(s) registry is opened, so
``--help`` and no-op installs never pay for it.

Rules kept here:
- ``https://`` always; ``http://`` only to loopback hosts (local testing) unless the
  user opts in (``--allow-http``).
- Credentials (``SKILLPM_TOKEN_<HOST>`` as a bearer token, else ``~/.netrc``) go only
  to the registry's host, over https or loopback, never across a redirect, and are
  never printed: messages name where a credential came from, not what it is.
- A timeout on every socket operation; bounded retries with exponential backoff on
  5xx, 429 and connection errors; one clear line for everything else.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import random
import re
import ssl
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import SplitResult

from skillpm import __version__
from skillpm.envvars import HTTP_RETRIES, HTTP_TIMEOUT, env_number
from skillpm.errors import RegistryError
from skillpm.output import plural, redact
from skillpm.registry.urls import check_http_url, is_loopback

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
NOT_FOUND_STATUS = frozenset({404, 410})
MAX_RETRY_AFTER = 30.0  # seconds; a longer Retry-After is not worth waiting for
_CHUNK = 1 << 16

T = TypeVar("T")


@dataclass(frozen=True)
class HttpSettings:
    timeout: float = 30.0  # seconds for each connect and each read
    retries: int = 3  # further attempts after a 5xx, a 429 or a connection error
    backoff: float = 0.25  # seconds before the first retry; doubled for each next one
    concurrency: int = 8  # requests in flight at once, per registry
    allow_http: bool = False  # plain http:// to hosts other than loopback

    @classmethod
    def from_env(cls, *, allow_http: bool) -> HttpSettings:
        """Defaults, with ``SKILLPM_HTTP_TIMEOUT`` and ``SKILLPM_HTTP_RETRIES`` applied."""
        return cls(
            timeout=env_number(HTTP_TIMEOUT, cls.timeout) or cls.timeout,
            retries=int(env_number(HTTP_RETRIES, cls.retries, integer=True)),
            allow_http=allow_http,
        )


def token_variable(host: str) -> str:
    """``skills.example.com`` -> ``SKILLPM_TOKEN_SKILLS_EXAMPLE_COM``."""
    return "SKILLPM_TOKEN_" + re.sub(r"[^A-Z0-9]", "_", host.upper())


@dataclass(frozen=True)
class Credential:
    header: str = field(repr=False)  # the Authorization value: never printed or logged
    source: str  # where it came from, safe to show


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def find_credential(host: str, userinfo: tuple[str, str] | None = None) -> Credential | None:
    """The credential for ``host``: the URL's own ``user:password``, else a token from
    ``SKILLPM_TOKEN_<HOST>``, else ``~/.netrc`` (or ``$NETRC``).

    A token is looked up per host, never from one variable for every registry, so a
    private registry's token is not sent to a public one listed beside it.
    """
    if userinfo is not None:
        return Credential(_basic(*userinfo), "the user:password in the registry URL")
    variable = token_variable(host)
    token = os.environ.get(variable, "").strip()
    if token:
        return Credential(f"Bearer {token}", variable)
    import netrc

    path = Path(os.environ.get("NETRC") or Path.home() / ".netrc")
    if not path.is_file():
        return None
    try:
        found = netrc.netrc(str(path)).authenticators(host)
    except netrc.NetrcParseError as exc:
        raise RegistryError(f"{path}: cannot be read ({exc.msg}); fix or remove it") from None
    except OSError as exc:
        raise RegistryError(f"{path}: cannot be read ({exc.strerror})") from None
    if not found or not found[2]:
        return None
    return Credential(_basic(found[0] or "", found[2]), str(path))


class _RedirectGuard(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to a URL the registry itself could have had."""

    def __init__(self, allow_http: bool, label: str) -> None:
        self.allow_http = allow_http
        self.label = label

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        check_http_url(newurl, allow_http=self.allow_http, label=self.label)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


@dataclass(frozen=True)
class Fetched:
    status: int  # 200, or 304 when the cached copy is still good
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None


class _Retry(Exception):
    def __init__(self, why: str, status: int | None = None, wait: float = 0.0) -> None:
        super().__init__(why)
        self.why = why
        self.status = status
        self.wait = wait


_NOT_FOUND = object()


class Client:
    """GETs against one registry site. Thread-safe: the opener keeps no per-request state."""

    def __init__(
        self,
        settings: HttpSettings,
        label: str,
        host: str,
        credential: Credential | None,
    ) -> None:
        self.settings = settings
        self.label = label
        self.host = host
        self.credential = credential
        self._opener = urllib.request.build_opener(_RedirectGuard(settings.allow_http, label))

    def get(
        self,
        url: str,
        *,
        max_bytes: int,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Fetched | None:
        """A small document (an index file); ``None`` when the server has no such file."""
        headers = {"Accept-Encoding": "gzip"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified

        def consume(resp: http.client.HTTPResponse) -> Fetched:
            body = _read_bounded(resp, max_bytes, url, self.label)
            if (resp.headers.get("Content-Encoding") or "").strip().lower() == "gzip":
                body = _gunzip(body, max_bytes, url, self.label)
            return Fetched(200, body, resp.headers.get("ETag"), resp.headers.get("Last-Modified"))

        result = self._request(url, headers, consume)
        if result is _NOT_FOUND:
            return None
        assert isinstance(result, Fetched)
        return result

    def download(self, url: str, sink: IO[bytes], *, max_bytes: int) -> str | None:
        """Stream a file into ``sink``; its sha256 hex, or ``None`` when it does not exist."""

        def consume(resp: http.client.HTTPResponse) -> str:
            sink.seek(0)
            sink.truncate()
            digest = hashlib.sha256()
            total = 0
            while chunk := resp.read(_CHUNK):
                total += len(chunk)
                if total > max_bytes:
                    raise RegistryError(
                        f"{self.label}: {redact(url)} is larger than "
                        f"{max_bytes // 2**20} MiB; refusing it"
                    )
                digest.update(chunk)
                sink.write(chunk)
            return digest.hexdigest()

        result = self._request(url, {}, consume)
        if result is _NOT_FOUND:
            return None
        assert isinstance(result, str)
        return result

    def _request(
        self, url: str, headers: dict[str, str], consume: Callable[[Any], T]
    ) -> T | Fetched | object:
        parts = check_http_url(url, allow_http=self.settings.allow_http, label=self.label)
        delay = self.settings.backoff
        attempts = self.settings.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return self._attempt(url, parts, headers, consume)
            except _Retry as retry:
                if attempt == attempts:
                    raise RegistryError(self._gave_up(url, retry, attempts)) from None
                time.sleep(max(delay * random.uniform(0.5, 1.0), retry.wait))
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(
        self,
        url: str,
        parts: SplitResult,
        headers: dict[str, str],
        consume: Callable[[Any], T],
    ) -> T | Fetched | object:
        request = urllib.request.Request(
            url, headers={"User-Agent": f"skillpm/{__version__}", **headers}
        )
        host = parts.hostname or ""
        if self.credential is not None and (
            parts.scheme == "https" or is_loopback(host)
        ):  # never in clear text to a remote host; never along a redirect (unredirected)
            request.add_unredirected_header("Authorization", self.credential.header)
        try:
            with self._opener.open(request, timeout=self.settings.timeout) as resp:
                return consume(resp)
        except urllib.error.HTTPError as exc:
            exc.close()
            return self._status(url, exc)
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, ssl.SSLError):
                raise RegistryError(self._tls(host, reason)) from None
            why = reason.strerror if isinstance(reason, OSError) else None
            raise _Retry(why or str(reason) or type(reason).__name__) from None
        except ssl.SSLError as exc:
            raise RegistryError(self._tls(host, exc)) from None
        except (OSError, http.client.HTTPException) as exc:
            # Timeouts, resets and truncated bodies: worth another attempt.
            raise _Retry(str(exc) or type(exc).__name__) from None

    def _status(self, url: str, exc: urllib.error.HTTPError) -> Fetched | object:
        status = exc.code
        if status == 304:
            return Fetched(304)
        if status in NOT_FOUND_STATUS:
            return _NOT_FOUND
        if status in RETRY_STATUS:
            raise _Retry(f"HTTP {status}", status, _retry_after(exc.headers.get("Retry-After")))
        shown = redact(url)
        if status in (401, 403):
            raise RegistryError(self._denied(status, shown))
        raise RegistryError(f"{self.label}: HTTP {status} {exc.reason} for {shown}")

    def _denied(self, status: int, shown: str) -> str:
        what = "unauthorized" if status == 401 else "forbidden"
        if self.credential is not None:
            return (
                f"{self.label}: HTTP {status} ({what}) for {shown}: the server refused the "
                f"credential from {self.credential.source}; check that it is valid for this "
                "registry"
            )
        hint = (
            " (on S3, a missing file also answers 403 unless the reader may s3:ListBucket)"
            if status == 403
            else ""
        )
        return (
            f"{self.label}: HTTP {status} ({what}) for {shown}: the registry needs "
            f"credentials; set {token_variable(self.host)} to a token, or add machine "
            f"{self.host} to ~/.netrc{hint}"
        )

    def _tls(self, host: str, exc: ssl.SSLError) -> str:
        why = getattr(exc, "verify_message", None) or exc.reason or str(exc)
        return (
            f"{self.label}: TLS with {host} failed ({why}); if a proxy or a private CA "
            "signs its certificate, point SSL_CERT_FILE at that CA bundle"
        )

    def _gave_up(self, url: str, retry: _Retry, attempts: int) -> str:
        tries = plural(attempts, "attempt")
        if retry.status is not None:
            return (
                f"{self.label}: {retry.why} for {redact(url)} after {tries}; the "
                "server is failing, try again later (or use --offline to work from the cache)"
            )
        return (
            f"{self.label}: cannot reach {self.host} ({retry.why}) after {tries}; "
            "check the URL and the network, or use --offline to work from the cache"
        )


def _retry_after(value: str | None) -> float:
    if value and value.strip().isdigit():
        return min(float(value.strip()), MAX_RETRY_AFTER)
    return 0.0


def _read_bounded(resp: http.client.HTTPResponse, max_bytes: int, url: str, label: str) -> bytes:
    body = resp.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise RegistryError(
            f"{label}: {redact(url)} is larger than {max_bytes // 2**20} MiB; refusing it"
        )
    return body


def _gunzip(body: bytes, max_bytes: int, url: str, label: str) -> bytes:
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise _Retry(f"a corrupt gzip body ({exc})") from None
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise RegistryError(
            f"{label}: {redact(url)} unpacks to more than {max_bytes // 2**20} MiB; refusing it"
        )
    return out
