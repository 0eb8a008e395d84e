"""CycloneDX 1.6 JSON through cyclonedx-python-lib (the ``sbom`` extra, imported by
``skillpm sbom`` only)."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from skillpm.sbom.model import SbomDocument, SbomPackage


def render(doc: SbomDocument) -> str:
    from cyclonedx.contrib.license.factories import LicenseFactory
    from cyclonedx.model import HashAlgorithm, HashType, Property
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.tool import ToolRepository
    from cyclonedx.output.json import JsonV1Dot6
    from packageurl import PackageURL

    licenses = LicenseFactory()

    def component(pkg: SbomPackage) -> Component:
        properties = [Property(name="skillpm:registry", value=pkg.registry)]
        if pkg.commit:
            properties.append(Property(name="skillpm:commit", value=pkg.commit))
        if pkg.source:
            properties.append(Property(name="skillpm:source", value=pkg.source))
        properties += [
            Property(name="skillpm:signer", value=f"{s.principal} {s.key}") for s in pkg.signers
        ]
        purl = PackageURL(
            type="generic", name=pkg.name, version=pkg.version, qualifiers=pkg.purl_qualifiers
        )
        return Component(
            name=pkg.name,
            version=pkg.version,
            type=ComponentType.LIBRARY,
            bom_ref=pkg.ref,
            description=pkg.description or None,
            purl=purl,
            hashes=[HashType(alg=HashAlgorithm.SHA_256, content=pkg.sha256)],
            licenses=[licenses.make_from_string(pkg.license)] if pkg.license else [],
            properties=properties,
        )

    root = Component(name=doc.project, type=ComponentType.APPLICATION, bom_ref=doc.project_ref)
    tool = Component(name="skillpm", version=doc.tool_version, type=ComponentType.APPLICATION)
    bom = Bom(
        serial_number=uuid.uuid5(uuid.NAMESPACE_URL, f"skillpm-sbom:{doc.digest}"),
        # The library always writes a timestamp; --reproducible drops it below.
        metadata=BomMetaData(
            component=root,
            tools=ToolRepository(components=[tool]),
            timestamp=doc.created or dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
        ),
    )
    by_name = {pkg.name: component(pkg) for pkg in doc.packages}
    for item in by_name.values():
        bom.components.add(item)
    bom.register_dependency(root, [by_name[n] for n in doc.direct if n in by_name])
    for pkg in doc.packages:
        needs = [by_name[n] for n in pkg.dependencies if n in by_name]
        bom.register_dependency(by_name[pkg.name], needs)
    data = json.loads(JsonV1Dot6(bom).output_as_string())
    if doc.created is None:
        del data["metadata"]["timestamp"]
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
