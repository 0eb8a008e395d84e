"""SPDX 2.3 JSON through spdx-tools (the ``sbom`` extra, imported by ``skillpm sbom`` only)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from skillpm.sbom.model import SbomDocument, SbomPackage

_ROOT = "SPDXRef-Project"


def render(doc: SbomDocument) -> str:
    from license_expression import ExpressionError, get_spdx_licensing
    from packageurl import PackageURL
    from spdx_tools.spdx.jsonschema.document_converter import DocumentConverter
    from spdx_tools.spdx.model import (
        Actor,
        ActorType,
        Checksum,
        ChecksumAlgorithm,
        CreationInfo,
        Document,
        ExternalPackageRef,
        ExternalPackageRefCategory,
        ExtractedLicensingInfo,
        Package,
        Relationship,
        RelationshipType,
        SpdxNoAssertion,
    )
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
    from spdx_tools.spdx.validation.uri_validators import validate_download_location

    licensing = get_spdx_licensing()
    extracted: list[ExtractedLicensingInfo] = []

    def declared(pkg: SbomPackage) -> Any:
        if not pkg.license:
            return SpdxNoAssertion()
        try:
            return licensing.parse(pkg.license, validate=True, strict=True)
        except ExpressionError:
            # Free text ("see LICENSE.txt"): kept word for word as an extracted license.
            ref = f"LicenseRef-{pkg.name}"
            extracted.append(
                ExtractedLicensingInfo(
                    license_id=ref, extracted_text=pkg.license, license_name=f"{pkg.name} license"
                )
            )
            return licensing.parse(ref)

    def package(pkg: SbomPackage) -> Package:
        purl = PackageURL(
            type="generic", name=pkg.name, version=pkg.version, qualifiers=pkg.purl_qualifiers
        ).to_string()
        notes = [f"registry: {pkg.registry}"]
        if pkg.commit:
            notes.append(f"commit: {pkg.commit}")
        if pkg.source:
            notes.append(f"source: {pkg.source}")
        notes += [f"signed by {s.principal} ({s.key})" for s in pkg.signers]
        # A local folder, or a git URL SPDX's grammar does not take: say nothing rather than wrong.
        download = (
            pkg.download if pkg.download and not validate_download_location(pkg.download) else None
        )
        return Package(
            spdx_id=_spdx_id(pkg.name),
            name=pkg.name,
            version=pkg.version,
            download_location=download or SpdxNoAssertion(),
            files_analyzed=False,
            checksums=[Checksum(ChecksumAlgorithm.SHA256, pkg.sha256)],
            license_declared=declared(pkg),
            license_concluded=SpdxNoAssertion(),
            copyright_text=SpdxNoAssertion(),
            description=pkg.description or None,
            comment="; ".join(notes),
            external_references=[
                ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", purl)
            ],
        )

    root = Package(
        spdx_id=_ROOT, name=doc.project, download_location=SpdxNoAssertion(), files_analyzed=False
    )
    names = {p.name for p in doc.packages}
    relationships = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, _ROOT)]
    relationships += [
        Relationship(_ROOT, RelationshipType.DEPENDS_ON, _spdx_id(n))
        for n in doc.direct
        if n in names
    ]
    relationships += [
        Relationship(_spdx_id(p.name), RelationshipType.DEPENDS_ON, _spdx_id(d))
        for p in doc.packages
        for d in p.dependencies
        if d in names
    ]
    serial = uuid.uuid5(uuid.NAMESPACE_URL, f"skillpm-sbom:{doc.digest}")
    info = CreationInfo(
        spdx_version="SPDX-2.3",
        spdx_id="SPDXRef-DOCUMENT",
        name=f"{doc.project} skills",
        document_namespace=f"https://spdx.org/spdxdocs/skillpm-{doc.project}-{serial}",
        creators=[Actor(ActorType.TOOL, f"skillpm-{doc.tool_version}")],
        # SPDX requires a creation time: --reproducible writes the epoch.
        created=(doc.created or dt.datetime(1970, 1, 1)).replace(tzinfo=None, microsecond=0),
    )
    packages = [root, *(package(p) for p in doc.packages)]
    document = Document(
        info, packages=packages, relationships=relationships, extracted_licensing_info=extracted
    )
    problems = validate_full_spdx_document(document)
    if problems:
        raise ValueError(f"invalid SPDX document: {problems[0].validation_message}")
    data = DocumentConverter().convert(document)
    for item in data["packages"]:
        for ref in item.get("externalRefs", []):
            # The SPDX 2.3 spec and its JSON schema spell it PACKAGE-MANAGER (spdx-spec#798);
            # spdx-tools writes the 2.2 spelling, which the 2.3 schema rejects.
            ref["referenceCategory"] = ref["referenceCategory"].replace("_", "-")
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _spdx_id(name: str) -> str:
    return f"SPDXRef-Package-{name}"
