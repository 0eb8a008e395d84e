"""Reading the policies in force: the managed file, and the one skills.yaml names.

The I/O edge of the policy package. A policy that cannot be read refuses (it fails
closed): a managed policy named by ``SKILLPM_POLICY`` but missing, present but
unreadable or malformed, or a project policy URL that cannot be fetched is an
error naming the file and line, never "no policy".
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from skillpm import yamlio
from skillpm.errors import ManifestError, PolicyError, RegistryError
from skillpm.formats.filenames import MANIFEST_FILE
from skillpm.formats.project_files import ProjectManifest
from skillpm.output import redact
from skillpm.policy.evaluate import MANAGED, PROJECT, Effective, Layer
from skillpm.policy.managed import POLICY_ENV, managed_path, policy_key
from skillpm.policy.rules import Policy, Where, parse_policy
from skillpm.registry.base import RemoteOptions
from skillpm.registry.urls import GIT, HTTPS, S3, local_path, transport_of

POLICY_FILE = "skillpm-policy.yaml"  # in a git repository or site named by skills.yaml
POLICY_KEY = "policy"  # the skills.yaml key naming the project's policy


def parse_text(text: str, source: str) -> Policy:
    """One policy file's text, parsed; every error names ``source`` and the line."""
    try:
        data = yamlio.loads(text, source)
    except ManifestError as exc:
        raise PolicyError(str(exc)) from None
    return parse_policy(data, Where(source, key_lines(text)))


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """The 1-based line of every mapping key and list item, by its path of keys."""
    import yaml

    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return {}  # yamlio.loads reported it already
    found: dict[tuple[str, ...], int] = {}
    stack: list[tuple[Any, tuple[str, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode) and len(path) < 4:
            for key, value in node.value:
                sub = (*path, str(key.value))
                found.setdefault(sub, key.start_mark.line + 1)
                stack.append((value, sub))
        elif isinstance(node, yaml.SequenceNode) and len(path) < 4:
            for i, item in enumerate(node.value):
                found[(*path, str(i))] = item.start_mark.line + 1
    return found


def managed_layer() -> Layer | None:
    """The organisation's policy: ``$SKILLPM_POLICY``, else the platform's managed path."""
    path = managed_path()
    named = bool(os.environ.get(POLICY_ENV, "").strip())
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        if not named:
            return None
        raise PolicyError(
            f"{path}: the managed policy {POLICY_ENV} names does not exist; installs are "
            f"refused until it can be read (fix {POLICY_ENV} or the file)"
        ) from None
    except OSError as exc:
        raise PolicyError(
            f"{path}: cannot read the managed policy ({exc.strerror}); installs are refused "
            "until it can be read"
        ) from None
    try:
        text = yamlio.decode(raw, path)
    except ManifestError as exc:
        raise PolicyError(str(exc)) from None
    return Layer(MANAGED, parse_text(text, path), policy_key(path, raw))


def policy_line(manifest_text: str | None) -> int | None:
    """The line of the ``policy:`` key in skills.yaml."""
    match = re.search(rf"(?m)^{POLICY_KEY}[ \t]*:", manifest_text or "")
    return manifest_text.count("\n", 0, match.start()) + 1 if match and manifest_text else None


def project_layer(
    manifest: ProjectManifest, manifest_text: str | None, base: Path, options: RemoteOptions
) -> Layer | None:
    """The policy skills.yaml names (``policy: PATH | URL``), read or fetched."""
    value = manifest.settings.get(POLICY_KEY)
    if value is None:
        return None
    line = policy_line(manifest_text)
    where = f"{MANIFEST_FILE}:{line}" if line else MANIFEST_FILE
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(
            f"{where}: {POLICY_KEY}: expected the path or the git or https URL of a {POLICY_FILE}"
        )
    url = value.strip()
    try:
        transport = transport_of(url)
        if transport == GIT:
            source, text = _from_git(url, options)
        elif transport == HTTPS:
            source, text = _from_site(url, options)
        elif transport == S3:
            raise PolicyError(
                f"{url}: a policy is read from a file, a git repository or an https:// URL, "
                "not from S3; serve it through CloudFront or keep it in git"
            )
        else:
            path = local_path(url, base)
            source, text = url, yamlio.decode(path.read_bytes(), url)
    except FileNotFoundError:
        raise PolicyError(f"{where}: {POLICY_KEY}: {url}: no such file") from None
    except OSError as exc:
        raise PolicyError(f"{where}: {POLICY_KEY}: {url}: cannot read ({exc.strerror})") from None
    except (RegistryError, ManifestError, PolicyError) as exc:
        raise PolicyError(f"{where}: {POLICY_KEY}: {exc}") from None
    return Layer(PROJECT, parse_text(text, source))


def _from_git(url: str, options: RemoteOptions) -> tuple[str, str]:
    """``skillpm-policy.yaml`` at the URL's ref, through the registry cache (same mirror,
    fetch interval and ``--offline`` as a git registry)."""
    from skillpm.registry.git import GitRegistry

    repo = GitRegistry(url, url, options)  # named by its URL: messages show it
    data = repo.read_file(repo.pinned_commit(), POLICY_FILE)
    source = f"{redact(url)}:{POLICY_FILE}"
    if data is None:
        raise PolicyError(f"{redact(url)} has no {POLICY_FILE} at its top level")
    return source, yamlio.decode(data, source)


def _from_site(url: str, options: RemoteOptions) -> tuple[str, str]:
    """A policy file on a static site: the URL of a ``.yaml`` file, or a registry site's
    folder holding ``skillpm-policy.yaml``; cached and revalidated like an index file."""
    from skillpm.registry.https import HttpRegistry

    folder, name = url, POLICY_FILE
    if url.endswith((".yaml", ".yml")):
        folder, _, name = url.rpartition("/")
    site = HttpRegistry(folder, folder, options)
    data = site.read_document(name)
    source = redact(folder.rstrip("/") + "/" + name)
    if data is None:
        raise PolicyError(f"{source} was not found on the site")
    return source, yamlio.decode(data, source)


def effective(
    manifest: ProjectManifest | None,
    manifest_text: str | None,
    base: Path,
    options: RemoteOptions,
) -> Effective:
    """Every policy in force for a project, the managed one first."""
    layers = [managed_layer()]
    if manifest is not None:
        layers.append(project_layer(manifest, manifest_text, base, options))
    return Effective(tuple(layer for layer in layers if layer is not None))
