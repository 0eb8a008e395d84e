"""``registry add / remove / list``: the ``registries:`` of skills.yaml, comments kept."""

from __future__ import annotations

import difflib
from typing import Any

from skillpm.errors import ManifestError, RegistryError, SkillpmError
from skillpm.formats.index import check_name
from skillpm.formats.manifest_edit import edit_manifest
from skillpm.formats.project_files import BUILTIN
from skillpm.fsutil import atomic_write
from skillpm.install.steps import recover
from skillpm.output import console, redact
from skillpm.project.folder import Project
from skillpm.registry.urls import GIT, HTTPS, S3, transport_of
from skillpm.store import project_lock


def kind_of(url: str) -> str:
    if url == BUILTIN:
        return "builtin"
    try:
        return transport_of(url)
    except RegistryError:  # listed as it is; using it says what is wrong
        return "unknown"


def _check_url(url: str) -> None:
    if not url.strip():
        raise ManifestError("the registry URL is empty")
    transport = transport_of(url)
    if transport == GIT:
        from skillpm.registry.urls import parse_git_url

        parse_git_url(url)
    elif transport == HTTPS:
        from skillpm.registry.https import parse_site_url

        # The shape only: plain http:// to another host is refused when used, not here.
        parse_site_url(url, allow_http=True, label="registry add")
    elif transport == S3:
        from skillpm.registry.s3 import parse_s3_url

        parse_s3_url(url, "registry add")


def add(project: Project, name: str, url: str) -> None:
    url = url.strip()
    try:
        check_name(name, "registry add", "registry name")
    except SkillpmError as exc:
        raise ManifestError(str(exc)) from None
    if name == BUILTIN:
        raise ManifestError(f"{BUILTIN!r} is the built-in registry's name; pick another")
    _check_url(url)
    with project_lock(project.root):
        recover(project)
        text = project.manifest_text()
        manifest = project.load_manifest(text)
        existing = manifest.registry_url(name)
        if existing is not None:
            raise ManifestError(
                f"skills.yaml already has a registry named {name} ({redact(existing)}); "
                f"remove it first with 'skillpm registry remove {name}'"
            )
        for other, other_url in manifest.registries:
            if other_url == url:
                raise ManifestError(f"skills.yaml already lists {redact(url)} as {other}")
        from skillpm.policy.gate import check_new_registry

        check_new_registry(project, manifest, name, url)
        new_text = edit_manifest(text, add_registries=[(name, url)])
        project.load_manifest(new_text)  # what we write must read back
        atomic_write(project.manifest_path, new_text.encode())
    console.info(f"Added registry {name} ({redact(url)}) to skills.yaml")
    if redact(url) != url:
        console.warn(
            "the URL carries credentials, now in skills.yaml (usually committed); prefer git's "
            "credential helper, or SKILLPM_TOKEN_<HOST> for an https site"
        )


def remove(project: Project, name: str) -> None:
    with project_lock(project.root):
        recover(project)
        text = project.manifest_text()
        manifest = project.load_manifest(text)
        url = manifest.registry_url(name)
        if url is None:
            names = [n for n, _ in manifest.registries]
            close = difflib.get_close_matches(name, names, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            if name == BUILTIN:
                hint = "; the built-in registry is always looked up last and cannot be removed"
            raise RegistryError(f"no registry named {name!r} in skills.yaml{hint}")
        users = sorted(d.name for d in manifest.dependencies.values() if d.registry == name)
        if users:
            raise ManifestError(
                f"{', '.join(users)} in skills.yaml dependencies name registry {name}; change "
                "or remove them first"
            )
        new_text = edit_manifest(text, remove_registries=[name])
        project.load_manifest(new_text)
        atomic_write(project.manifest_path, new_text.encode())
        lock = project.load_lock()
    console.info(f"Removed registry {name} ({redact(url)}) from skills.yaml")
    locked = [p.name for p in lock.packages if p.registry == redact(url)] if lock else []
    if locked:
        noun = "package comes" if len(locked) == 1 else "packages come"
        console.info(
            f"{len(locked)} installed {noun} from it ({', '.join(locked)}); run "
            "'skillpm install' to resolve them from the remaining registries"
        )


def list_registries(project: Project, *, as_json: bool) -> None:
    manifest = project.load_manifest()
    rows: list[dict[str, Any]] = [
        {"name": n, "url": redact(u), "kind": kind_of(u)} for n, u in manifest.registries
    ]
    rows.append({"name": BUILTIN, "url": BUILTIN, "kind": "builtin"})
    if as_json:
        console.json({"registries": rows})
        return
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        where = "(shipped with skillpm, looked up last)" if r["kind"] == "builtin" else r["url"]
        console.result(f"{r['name']:<{width}}  {r['kind']:<7}  {where}")
