"""``skillpm sbom``: the locked packages as CycloneDX 1.6 or SPDX 2.3 JSON (docs/sbom.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from skillpm import __version__
from skillpm.errors import LockError, SkillpmError
from skillpm.formats.index import MANIFEST_NAME, PackageManifest, load_package_manifest
from skillpm.formats.project_files import LockedPackage
from skillpm.fsutil import atomic_write
from skillpm.install.package_copies import package_source
from skillpm.output import console, plural
from skillpm.project.folder import Project
from skillpm.registry.urls import GIT, HTTPS, transport_of
from skillpm.resolve.catalog import Sources
from skillpm.sbom.model import SbomDocument, SbomPackage, SbomSigner, strip_credentials


def sbom(project: Project, *, fmt: str, output: Path | None, reproducible: bool) -> None:
    manifest = project.load_manifest()
    lock = project.load_lock()
    if lock is None:
        raise LockError(
            f"no skills.lock in {project.root}; run 'skillpm install' first: the SBOM lists "
            "the locked packages"
        )
    if lock.manifest_hash != manifest.hash():
        console.warn("skills.lock is out of date with skills.yaml; run 'skillpm install'")
    sources = project.sources(manifest)
    doc = SbomDocument(
        project=project.root.resolve().name or "project",
        tool_version=__version__,
        digest=hashlib.sha256(project.lock_path.read_bytes()).hexdigest(),
        created=None if reproducible else dt.datetime.now(dt.UTC).replace(microsecond=0),
        direct=tuple(sorted(manifest.dependencies)),
        packages=tuple(_package(sources, p) for p in sorted(lock.packages, key=lambda p: p.name)),
    )
    text = _render(doc, fmt)
    if output is None:
        console.result(text.rstrip("\n"))
    else:
        atomic_write(output, text.encode())
        console.info(f"Wrote {output} ({fmt}, {plural(len(doc.packages), 'package')})")


def _render(doc: SbomDocument, fmt: str) -> str:
    try:
        if fmt == "spdx":
            from skillpm.sbom import spdx_json

            return spdx_json.render(doc)
        from skillpm.sbom import cyclonedx_json

        return cyclonedx_json.render(doc)
    except ModuleNotFoundError as exc:
        raise SkillpmError(
            f"skillpm sbom needs the sbom extra ({exc.name} is missing): "
            "pip install 'skillpm[sbom]'"
        ) from None


def _package(sources: Sources, pkg: LockedPackage) -> SbomPackage:
    """One locked package, with its manifest's license and description (verified copy)."""
    folder = package_source(sources, pkg)
    meta = None
    if (folder / MANIFEST_NAME).is_file():
        meta = load_package_manifest(folder, f"{pkg.name} {pkg.version}: {MANIFEST_NAME}")
    registry = strip_credentials(pkg.registry)
    source = None
    if pkg.source is not None:
        where = f"#{pkg.source.path}" if pkg.source.path else ""
        source = f"{strip_credentials(pkg.source.url)}@{pkg.source.commit}{where}"
    return SbomPackage(
        name=pkg.name,
        version=pkg.version,
        registry=registry,
        sha256=pkg.integrity.removeprefix("sha256:"),
        commit=pkg.commit,
        license=(meta.license if meta else None) or _skill_license(folder, meta, pkg),
        description=meta.description if meta else "",
        dependencies=tuple(sorted(pkg.dependencies)),
        signers=tuple(SbomSigner(s.principal, s.key) for s in pkg.signers),
        download=_vcs(source) if source else _download(registry, pkg),
        source=source,
    )


def _skill_license(folder: Path, meta: PackageManifest | None, pkg: LockedPackage) -> str | None:
    """The ``license`` of the installed skills' SKILL.md frontmatter (agentskills.io), for
    packages whose manifest has none: plugins and plain skill repositories."""
    from skillpm import yamlio

    found = set()
    for rel, name in zip(meta.skills, meta.skill_names, strict=True) if meta else ():
        path = folder / rel / "SKILL.md"
        if name in pkg.skills and path.is_file():
            where = f"{pkg.name} {pkg.version}: {rel}/SKILL.md"
            front, _, _ = yamlio.split_frontmatter(yamlio.decode(path.read_bytes(), where), where)
            if isinstance(front.get("license"), str) and front["license"].strip():
                found.add(front["license"].strip())
    return " AND ".join(sorted(found)) or None


def _vcs(source: str) -> str | None:
    """SPDX's VCS form of a plugin's repository at its commit (``git+https://...@sha#path``)."""
    if source.startswith("git+"):
        return source
    return f"git+{source}" if source.startswith(("https://", "ssh://")) else None


def _download(registry: str, pkg: LockedPackage) -> str | None:
    """Where exactly these bytes come from, when a URL can say it."""
    transport = transport_of(registry)
    if transport == GIT and pkg.commit:
        base = registry.partition("#")[0]
        return f"{base}@{pkg.commit}" if base.startswith("git+") else None
    if transport == HTTPS:
        return f"{registry.rstrip('/')}/packages/{pkg.name}/{pkg.name}-{pkg.version}.tar.gz"
    return None
