"""A registry in an S3 bucket, ``s3://BUCKET[/PREFIX]``: the static site's objects, read with boto3.

The objects are exactly a static site's files (DESIGN 3: ``index/<name>.json``,
``packages/<name>/<name>-<version>.tar.gz``, the optional ``index.json``), so
``S3Registry`` is the HTTPS reader with another way to fetch a file: same cache,
same parsing, same archive checks and package cache. It reads only the index
files the resolver asks about and the archives it installs; it never lists the
bucket, so an install costs the same however many packages the bucket holds.

Credentials, region and endpoint come from the standard AWS chain through
boto3 (environment, profiles, SSO, instance and task roles; ``AWS_ENDPOINT_URL``
or ``AWS_ENDPOINT_URL_S3`` for MinIO or LocalStack). boto3 is an extra
(``skillpm[s3]``), imported only when an ``s3://`` URL is used.

Every AWS failure becomes one line naming the bucket, the key and, for a
refusal, the IAM action and resource the identity needs (``explain``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

from skillpm.errors import RegistryError
from skillpm.registry.https import HttpRegistry, SiteFiles

if TYPE_CHECKING:
    from skillpm.registry.httpclient import Fetched, HttpSettings

INSTALL_HINT = "pip install 'skillpm[s3]'"
# S3's bucket naming rules (lower case, digits, dots and hyphens; 3-63 characters).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_CHUNK = 1 << 16

# Error codes, grouped by what the user does about them.
_DENIED = frozenset({"AccessDenied", "403", "Forbidden", "AllAccessDisabled"})
_BAD_CREDENTIALS = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "InvalidClientTokenId"}
)
_EXPIRED = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})
_WRONG_REGION = frozenset(
    {"PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"}
)
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


@dataclass(frozen=True)
class S3Location:
    """A bucket and a key prefix ("" or ending in "/"): where a registry's objects live."""

    bucket: str
    prefix: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def key(self, rel: str) -> str:
        return self.prefix + rel

    def uri(self, rel: str) -> str:
        return f"s3://{self.bucket}/{self.key(rel)}"

    def arn(self, rel: str | None = None, partition: str = "aws") -> str:
        """The bucket's ARN (``rel`` None) or one object's: what an IAM policy names."""
        tail = "" if rel is None else f"/{self.key(rel)}"
        return f"arn:{partition}:s3:::{self.bucket}{tail}"


def parse_s3_url(url: str, label: str) -> S3Location:
    """``s3://BUCKET[/PREFIX][/]`` checked: no credentials, port, query or odd path segments."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() != "s3":
        raise RegistryError(f"{label}: {url} is not an s3:// URL")
    shape = "an S3 registry URL is s3://BUCKET or s3://BUCKET/PREFIX"
    if "@" in parts.netloc or ":" in parts.netloc:
        raise RegistryError(
            f"{label}: {shape}, without credentials or a port: credentials come from the AWS "
            "chain (AWS_PROFILE, SSO, roles) and endpoints from AWS_ENDPOINT_URL"
        )
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise RegistryError(f"{label}: {url}: {shape}, without ?query or #fragment")
    bucket = parts.netloc
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise RegistryError(
            f"{label}: {url}: {bucket!r} is not an S3 bucket name (3-63 characters: lower-case "
            "letters, digits, dots and hyphens)"
        )
    segments = parts.path.strip("/").split("/") if parts.path.strip("/") else []
    if any(s in ("", ".", "..") for s in segments):
        raise RegistryError(
            f"{label}: {url}: the prefix has an empty, '.' or '..' segment; {shape}"
        )
    return S3Location(bucket, "".join(f"{s}/" for s in segments))


def s3_client(settings: HttpSettings, label: str) -> Any:
    """A boto3 S3 client from the standard AWS chain, with skillpm's timeouts and retries.

    A fresh session each time: boto3's default session would keep the first
    profile it saw. Clients are thread-safe; the caller makes one before its
    worker threads start.
    """
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError
    except ImportError:
        raise RegistryError(
            f"{label}: s3:// registries need boto3, which is not installed; install it with: "
            f"{INSTALL_HINT}"
        ) from None
    from skillpm import __version__

    config = Config(
        retries={"mode": "standard", "max_attempts": settings.retries + 1},
        connect_timeout=settings.timeout,
        read_timeout=settings.timeout,
        max_pool_connections=max(10, settings.concurrency),
        user_agent_extra=f"skillpm/{__version__}",
    )
    try:
        return boto3.session.Session().client("s3", config=config)
    except BotoCoreError as exc:
        raise explain(exc, label=label, location=None, rel=None, action="") from None


def explain(
    exc: Exception, *, label: str, location: S3Location | None, rel: str | None, action: str
) -> RegistryError:
    """One line for a boto3 failure: what went wrong on which object, and what to do."""
    from botocore import exceptions as bx

    where = location.uri(rel) if location and rel is not None else location.url if location else ""
    if isinstance(exc, bx.ClientError):
        return _explain_answer(exc, label, location, rel, action, where)
    if isinstance(exc, bx.NoCredentialsError):
        return RegistryError(
            f"{label}: no AWS credentials found; set AWS_PROFILE (or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY), run 'aws configure' or 'aws sso login', or run where an "
            "instance or task role provides them"
        )
    if isinstance(exc, bx.SSOError | bx.TokenRetrievalError):
        import os

        profile = os.environ.get("AWS_PROFILE")
        login = f"aws sso login --profile {profile}" if profile else "aws sso login"
        return RegistryError(
            f"{label}: the AWS SSO session has expired or was never started; run '{login}' "
            "and try again"
        )
    if isinstance(exc, bx.ProfileNotFound):
        return RegistryError(
            f"{label}: {exc}; check AWS_PROFILE against AWS_CONFIG_FILE (~/.aws/config)"
        )
    unreachable = (
        bx.EndpointConnectionError,
        bx.ConnectTimeoutError,
        bx.ReadTimeoutError,
        bx.ConnectionClosedError,
        bx.ConnectionError,
    )
    if isinstance(exc, unreachable):
        return RegistryError(
            f"{label}: cannot reach S3 ({exc}); check the network and AWS_ENDPOINT_URL, or use "
            "--offline to work from the cache"
        )
    return RegistryError(f"{label}: {where or 'S3'}: {exc}")


def _explain_answer(
    exc: Any, label: str, location: S3Location | None, rel: str | None, action: str, where: str
) -> RegistryError:
    error = exc.response.get("Error", {})
    meta = exc.response.get("ResponseMetadata", {})
    code = str(error.get("Code") or "")
    status = meta.get("HTTPStatusCode")
    if code in _EXPIRED:
        return RegistryError(
            f"{label}: the AWS credentials have expired ({code}); refresh them ('aws sso "
            "login', or new session credentials) and try again"
        )
    if code in _BAD_CREDENTIALS:
        return RegistryError(
            f"{label}: AWS refused the credentials ({code}); check AWS_PROFILE, or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if code == "NoSuchBucket" and location is not None:
        return RegistryError(
            f"{label}: the bucket {location.bucket} does not exist (check the URL, the account "
            "of your AWS credentials, and AWS_ENDPOINT_URL if you use one)"
        )
    if code in _WRONG_REGION or status == 301:
        headers = meta.get("HTTPHeaders", {})
        region = error.get("Region") or headers.get("x-amz-bucket-region")
        hint = f"set AWS_REGION={region}" if region else "set AWS_REGION to the bucket's region"
        return RegistryError(f"{label}: the bucket is in another region; {hint} and try again")
    if (code in _DENIED or status == 403) and location is not None and action:
        resource = location.arn(None if action == "s3:ListBucket" else rel, _partition(exc))
        missing = (
            "; S3 also answers this for an object that does not exist when s3:ListBucket on "
            f"{location.arn(None, _partition(exc))} is not granted"
            if action == "s3:GetObject"
            else ""
        )
        return RegistryError(
            f"{label}: access denied to {where}: your AWS identity needs {action} on "
            f"{resource}{missing}"
        )
    if status is not None and (status >= 500 or code == "SlowDown"):
        return RegistryError(
            f"{label}: S3 is failing ({code or status}) for {where}; try again later (or use "
            "--offline to work from the cache)"
        )
    message = error.get("Message") or ""
    return RegistryError(f"{label}: S3 answered {code or status} for {where}: {message}".rstrip())


def _partition(exc: Any) -> str:
    """The ARN partition (aws, aws-cn, aws-us-gov) of the region that answered."""
    region = (
        exc.response.get("ResponseMetadata", {})
        .get("HTTPHeaders", {})
        .get("x-amz-bucket-region", "")
    )
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def status_of(exc: Exception) -> tuple[str, int | None]:
    """A ClientError's code and HTTP status (("", None) for anything else)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return "", None
    code = str(response.get("Error", {}).get("Code") or "")
    return code, response.get("ResponseMetadata", {}).get("HTTPStatusCode")


class S3Objects(SiteFiles):
    """One registry's objects, read through one boto3 client (shared by worker threads)."""

    def __init__(self, location: S3Location, settings: HttpSettings, label: str) -> None:
        self.location = location
        self.label = label
        self.client = s3_client(settings, label)

    def fail(self, exc: Exception, rel: str | None, action: str) -> RegistryError:
        return explain(exc, label=self.label, location=self.location, rel=rel, action=action)

    def get(
        self, rel: str, *, max_bytes: int, etag: str | None = None, last_modified: str | None = None
    ) -> Fetched | None:
        """An object's bytes and ETag (a 304 when ``etag`` still matches); None if absent."""
        from botocore.exceptions import BotoCoreError, ClientError

        from skillpm.registry.httpclient import Fetched

        request = {"Bucket": self.location.bucket, "Key": self.location.key(rel)}
        if etag:
            request["IfNoneMatch"] = etag
        try:
            response = self.client.get_object(**request)
            body = response["Body"]  # (its context manager yields the raw urllib3 stream)
            try:
                data = body.read(max_bytes + 1)
            finally:
                body.close()
        except ClientError as exc:
            code, status = status_of(exc)
            if status == 304:
                return Fetched(304)
            if code in _MISSING:
                return None
            raise self.fail(exc, rel, "s3:GetObject") from None
        except BotoCoreError as exc:
            raise self.fail(exc, rel, "s3:GetObject") from None
        if len(data) > max_bytes:
            raise RegistryError(
                f"{self.label}: {self.location.uri(rel)} is larger than "
                f"{max_bytes // 2**20} MiB; refusing it"
            )
        return Fetched(200, data, response.get("ETag"), None)

    def download(self, rel: str, sink: IO[bytes], *, max_bytes: int) -> str | None:
        """Stream an object into ``sink``; its sha256 hex, or None when it does not exist."""
        from botocore.exceptions import BotoCoreError, ClientError

        sink.seek(0)
        sink.truncate()
        digest = hashlib.sha256()
        total = 0
        try:
            response = self.client.get_object(
                Bucket=self.location.bucket, Key=self.location.key(rel)
            )
            body = response["Body"]
            try:
                for chunk in body.iter_chunks(_CHUNK):
                    total += len(chunk)
                    if total > max_bytes:
                        raise RegistryError(
                            f"{self.label}: {self.location.uri(rel)} is larger than "
                            f"{max_bytes // 2**20} MiB; refusing it"
                        )
                    digest.update(chunk)
                    sink.write(chunk)
            finally:
                body.close()
        except ClientError as exc:
            if status_of(exc)[0] in _MISSING:
                return None
            raise self.fail(exc, rel, "s3:GetObject") from None
        except BotoCoreError as exc:
            raise self.fail(exc, rel, "s3:GetObject") from None
        return digest.hexdigest()


class S3Registry(HttpRegistry):
    """A static site's layout in a bucket, read object by object."""

    location: S3Location

    def _base(self) -> str:
        self.location = parse_s3_url(self.url, self.label)
        return self.location.url

    def _open_files(self) -> SiteFiles:
        return S3Objects(self.location, self.settings, self.label)
