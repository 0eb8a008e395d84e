"""A real S3 API on 127.0.0.1 for the s3:// tests: moto's server, with every request counted.

moto's ``ThreadedMotoServer`` wires moto's WSGI app into werkzeug and nothing
else; this does the same with one middleware in between, which records each
request (so a test can say how many a publish or an install made) and runs one
request at a time. The latter is S3's own guarantee that a conditional write is
atomic: moto checks ``If-None-Match``/``If-Match`` and then stores, with no lock
in between, so two simultaneous requests could both pass the check. Clients still
race for real: each publish reads, decides and writes in separate requests.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"


@dataclass
class Request:
    method: str
    bucket: str
    key: str  # "" for a bucket-level request
    query: str
    status: int = 0  # the HTTP status answered


@dataclass
class _Counting:
    app: Callable[..., Iterable[bytes]]
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        bucket, _, key = environ.get("PATH_INFO", "").lstrip("/").partition("/")
        request = Request(environ["REQUEST_METHOD"], bucket, key, environ.get("QUERY_STRING", ""))

        def record(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            request.status = int(status.split()[0])
            return start_response(status, headers, *rest)

        with self.lock:
            self.requests.append(request)
            result = self.app(environ, record)
            try:
                return list(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()


class MotoS3:
    """moto's S3 on 127.0.0.1 (a free port), for the whole test session."""

    def __enter__(self) -> MotoS3:
        from moto.server import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log on stderr
        self.app = _Counting(DomainDispatcherApplication(create_backend_app))
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        # boto3 keeps connections open: their handler threads must not hold up the exit.
        self.server.daemon_threads = True
        self.server.block_on_close = False
        host, port = self.server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def requests_to(self, bucket: str) -> list[Request]:
        return [r for r in self.app.requests if r.bucket == bucket]


@dataclass
class Bucket:
    """One test's bucket, and the environment that points boto3 at moto."""

    server: MotoS3
    name: str
    prefix: str = "team"

    @property
    def url(self) -> str:
        return f"s3://{self.name}/{self.prefix}"

    @property
    def https_url(self) -> str:
        """The same objects over plain HTTP, path-style, as a static site (loopback)."""
        return f"{self.server.url}/{self.name}/{self.prefix}/"

    @functools.cached_property
    def client(self) -> Any:
        """The test's own client, made once (a boto3 client costs a good part of a second)."""
        import boto3

        return boto3.session.Session().client("s3")

    def key(self, rel: str) -> str:
        return f"{self.prefix}/{rel}"

    def objects(self) -> dict[str, str]:
        """Every key in the bucket and its ETag: compare two to see what a command wrote."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return {o["Key"]: o["ETag"] for page in pages for o in page.get("Contents", ())}

    def read(self, rel: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.name, Key=self.key(rel))["Body"].read())

    def head(self, rel: str) -> dict[str, Any]:
        return dict(self.client.head_object(Bucket=self.name, Key=self.key(rel)))

    def write(self, rel: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.name, Key=self.key(rel), Body=data)

    def index(self, name: str) -> dict[str, Any]:
        return dict(json.loads(self.read(f"index/{name}.json")))

    def policy(self, effect: str, actions: list[str], resource: str = "*") -> None:
        statement = {
            "Effect": effect,
            "Principal": "*",
            "Action": actions,
            "Resource": f"arn:aws:s3:::{self.name}/{resource}",
        }
        document = {"Version": "2012-10-17", "Statement": [statement]}
        self.client.put_bucket_policy(Bucket=self.name, Policy=json.dumps(document))

    def requests(self) -> list[Request]:
        return self.server.requests_to(self.name)

    def seed(self, files: dict[str, bytes]) -> None:
        """Store many objects at once through moto's backend (thousands of PUTs over HTTP
        would cost seconds); readers then see them as any other object."""
        from moto.s3.models import s3_backends

        backend = s3_backends[ACCOUNT]["aws"]
        for rel, data in files.items():
            backend.put_object(self.name, self.key(rel), data)


def use_bucket(server: MotoS3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Bucket:
    """A new bucket, and AWS settings that reach only moto: fake keys, no profile, no
    instance metadata lookups, config files of the test's own."""
    aws = tmp_path / "aws"
    aws.mkdir()
    (aws / "config").write_text("")
    (aws / "credentials").write_text("")
    for var in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_ENDPOINT_URL_S3",
        "AWS_REGION",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("SKILLPM_HTTP_RETRIES", "0")  # a failure is one request, not four
    bucket = Bucket(server, f"skills-{uuid.uuid4().hex[:12]}")
    bucket.client.create_bucket(Bucket=bucket.name)
    return bucket


def big_site(count: int, prefix: str = "pkg") -> dict[str, bytes]:
    """The static site of ``count`` one-skill packages, made in memory: what build-static
    writes for them (real archives, index files and index.json), without the seconds that
    thousands of files on disk cost."""
    import hashlib
    import io

    from skillpm.formats.archive import Member, write_archive
    from skillpm.formats.index import (
        RegistryIndex,
        VersionEntry,
        archive_relpath,
        dump_package_index,
        dump_site_index,
    )
    from skillpm.integrity import integrity_of_lines

    files: dict[str, bytes] = {}
    packages: dict[str, dict[str, VersionEntry]] = {}
    for i in range(count):
        name = f"{prefix}-{i:05d}"
        manifest = (
            f"name: {name}\nversion: 1.0.0\ndescription: The {name} package\n"
            f"skills:\n- skills/{name}\nfragments: []\n"
        ).encode()
        skill = f"---\nname: {name}\ndescription: Does {name} things.\n---\n# {name}\n".encode()
        members = {"skillpm.yaml": manifest, f"skills/{name}/SKILL.md": skill}
        out = io.BytesIO()
        write_archive([Member(rel, False, data=data) for rel, data in members.items()], out)
        archive = archive_relpath(name, "1.0.0")
        files[archive] = out.getvalue()
        lines = [(rel, "644", hashlib.sha256(data).hexdigest()) for rel, data in members.items()]
        entry = VersionEntry(
            name=name,
            version="1.0.0",
            integrity=integrity_of_lines(lines),
            description=f"The {name} package",
            skills=(name,),
            published="2026-01-01T00:00:00Z",
            archive=archive,
            archive_sha256=hashlib.sha256(files[archive]).hexdigest(),
        )
        packages[name] = {"1.0.0": entry}
        files[f"index/{name}.json"] = dump_package_index(name, packages[name])
    files["index.json"] = dump_site_index(RegistryIndex(packages))
    return files
