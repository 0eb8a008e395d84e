"""A static web host on 127.0.0.1 that counts what it serves, and a large registry, cheaply."""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import http.server
import json
import mimetypes
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from skillpm.integrity import integrity_of_lines


@dataclass(frozen=True)
class Hit:
    path: str  # relative to the site root, as requested
    status: int
    size: int  # body bytes sent
    authorization: str | None
    raw: str = ""  # the request path exactly as sent
    encoding: str | None = None  # the Content-Encoding answered (gzip), if any


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hung up (a timeout test) or refused our certificate: expected


@dataclass
class SiteServer:
    """Serves ``root`` like S3/CloudFront would: ETag, Last-Modified, conditional GETs.

    ``fail`` queues statuses to answer for a path before serving it for real (a flaky
    CDN); ``auth`` makes every request need that ``Authorization`` header; ``redirects``
    answers a path with a 302 to another URL; requests for ``hold`` paths wait (up to
    ``hold_timeout``) until ``len(hold)`` of them are in flight, to observe concurrency; ``gzip``
    compresses JSON for clients that accept it, as CloudFront does.
    """

    root: Path
    hits: list[Hit] = field(default_factory=list)
    fail: dict[str, list[int]] = field(default_factory=dict)
    auth: str | None = None
    redirects: dict[str, str] = field(default_factory=dict)
    hold: set[str] = field(default_factory=set)
    hold_timeout: float = 5.0
    gzip: bool = False
    tls: tuple[Path, Path] | None = None  # (certificate, key): serve https
    in_flight: int = 0
    max_in_flight: int = 0
    _released: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _cond: threading.Condition = field(init=False)
    _server: http.server.ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        self._cond = threading.Condition(self._lock)

    def __enter__(self) -> SiteServer:
        server = _QuietServer(("127.0.0.1", 0), _handler(self))
        server.daemon_threads = True
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        # A short poll interval: shutdown() waits for one, and every test stops a server.
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}/"

    def paths(self) -> list[str]:
        with self._lock:
            return sorted(h.path for h in self.hits)

    def bytes_sent(self) -> int:
        with self._lock:
            return sum(h.size for h in self.hits)

    def reset(self) -> None:
        with self._lock:
            self.hits.clear()
            self.max_in_flight = 0


def _handler(site: SiteServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            rel = unquote(urlsplit(self.path).path).lstrip("/")
            with site._cond:
                site.in_flight += 1
                site.max_in_flight = max(site.max_in_flight, site.in_flight)
                if rel in site.hold and site.in_flight >= len(site.hold):
                    site._released = True  # a latch: the first to finish must not re-close it
                site._cond.notify_all()
                if rel in site.hold:
                    site._cond.wait_for(lambda: site._released, timeout=site.hold_timeout)
            try:
                status, body, headers = self._answer(rel)
                # Logged before the answer leaves: a client that saw it finds it logged.
                with site._lock:
                    auth = self.headers.get("Authorization")
                    encoding = headers.get("Content-Encoding")
                    site.hits.append(Hit(rel, status, len(body), auth, self.path, encoding))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            finally:
                with site._cond:
                    site.in_flight -= 1

        def _answer(self, rel: str) -> tuple[int, bytes, dict[str, str]]:
            with site._lock:
                queued = site.fail.get(rel)
                status = queued.pop(0) if queued else None
            if status is not None:
                return status, b"failing on purpose\n", {}
            if rel in site.redirects:
                return 302, b"", {"Location": site.redirects[rel]}
            if site.auth is not None and self.headers.get("Authorization") != site.auth:
                return 401, b"no\n", {}
            path = site.root / rel
            if ".." in rel.split("/") or not path.is_file():
                return 404, b"not found\n", {}
            data = path.read_bytes()
            etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
            modified = email.utils.formatdate(path.stat().st_mtime, usegmt=True)
            # As S3 and CloudFront do: a browser needs it to apply a stylesheet.
            kind = mimetypes.guess_type(rel)[0] or "application/octet-stream"
            headers = {"ETag": etag, "Last-Modified": modified, "Content-Type": kind}
            if self.headers.get("If-None-Match") == etag:
                return 304, b"", headers
            if (
                site.gzip
                and rel.endswith(".json")
                and "gzip" in (self.headers.get("Accept-Encoding") or "")
            ):
                data = gzip.compress(data)
                headers["Content-Encoding"] = "gzip"
            return 200, data, headers

    return Handler


def make_big_registry(root: Path, count: int, *, prefix: str = "pkg", body: str = "") -> list[str]:
    """A registry of ``count`` one-skill packages (one version each), written directly;
    ``body`` follows each SKILL.md's heading.

    Publishing thousands of packages one by one would take minutes; this writes the
    same files and the same index entries ``publish`` would, in a second or two.
    """
    names = [f"{prefix}-{i:05d}" for i in range(count)]
    packages: dict[str, object] = {}
    for name in names:
        # Formatted by hand: PyYAML would spend seconds on thousands of tiny documents.
        manifest = (
            f"name: {name}\nversion: 1.0.0\ndescription: The {name} package\n"
            f"skills:\n- skills/{name}\nfragments: []\n"
        ).encode()
        skill = f"---\nname: {name}\ndescription: Does {name} things.\n---\n# {name}\n{body}"
        skill_bytes = skill.encode()
        folder = root / "packages" / name / "1.0.0"
        (folder / "skills" / name).mkdir(parents=True)
        (folder / "skillpm.yaml").write_bytes(manifest)
        (folder / "skills" / name / "SKILL.md").write_bytes(skill_bytes)
        integrity = integrity_of_lines(
            [
                ("skillpm.yaml", "644", hashlib.sha256(manifest).hexdigest()),
                (f"skills/{name}/SKILL.md", "644", hashlib.sha256(skill_bytes).hexdigest()),
            ]
        )
        packages[name] = {
            "versions": {
                "1.0.0": {
                    "path": f"packages/{name}/1.0.0",
                    "integrity": integrity,
                    "description": f"The {name} package",
                    "dependencies": {},
                    "skills": [name],
                    "fragments": [],
                    "published": "2026-01-01T00:00:00Z",
                    "yanked": False,
                }
            }
        }
    (root / "index.json").write_text(json.dumps({"format": 1, "packages": packages}))
    return names


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that nothing trusts until SSL_CERT_FILE names it."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key
