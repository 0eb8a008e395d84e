"""What an SBOM says about a project's locked packages, whatever the format.

Built from ``skills.lock`` and each package's manifest; the CycloneDX and SPDX
writers only translate it, so both formats describe the same packages.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

# user[:password]@ right after a scheme: dropped, not masked, since these are identifiers.
_USERINFO = re.compile(r"(?<=://)[^/@\s]*@")


def strip_credentials(url: str) -> str:
    return _USERINFO.sub("", url)


@dataclass(frozen=True)
class SbomSigner:
    principal: str
    key: str


@dataclass(frozen=True)
class SbomPackage:
    name: str
    version: str
    registry: str  # the lock's registry URL, credentials removed
    sha256: str  # hex digest of the package integrity (DESIGN 4)
    commit: str | None
    license: str | None
    description: str
    dependencies: tuple[str, ...]  # names of other locked packages
    signers: tuple[SbomSigner, ...]
    download: str | None  # where the exact bytes come from, when a URL says so
    source: str | None = None  # a marketplace plugin's own repository: URL@commit[#path]

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def purl_qualifiers(self) -> dict[str, str]:
        """``pkg:generic`` has no registry notion of its own; the qualifiers say where from."""
        qualifiers = {"repository_url": self.registry}
        if self.source:
            qualifiers["vcs_url"] = self.source
        elif self.commit:
            # purl: the commit follows '@'; a '#ref' would put it in the subpath.
            qualifiers["vcs_url"] = f"{self.registry.partition('#')[0]}@{self.commit}"
        return qualifiers


@dataclass(frozen=True)
class SbomDocument:
    project: str  # the project folder's name
    tool_version: str
    digest: str  # hex over the lock's bytes: seeds the serial number and namespace
    created: dt.datetime | None  # None: --reproducible
    direct: tuple[str, ...]  # the skills.yaml dependencies
    packages: tuple[SbomPackage, ...]  # sorted by name

    @property
    def project_ref(self) -> str:
        return f"project:{self.project}"
