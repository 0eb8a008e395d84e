"""``skillpm sbom``: CycloneDX 1.6 and SPDX 2.3 JSON of a real installed project (a folder
registry with a signed package and a git registry reached through a URL with a token),
validated against the official schemas: CycloneDX's as cyclonedx-python-lib ships it, SPDX's
from spdx/spdx-spec at tag v2.3 (schemas/spdx-schema.json, kept in tests/schemas/)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import Cli, make_git_registry, make_package, snapshot

SCHEMAS = Path(__file__).resolve().parent / "schemas"
TOKEN = "ghs_s3cr3tT0ken"
TEAM_URL = f"git+https://deploy:{TOKEN}@git.example.com/acme/tools.git"


@pytest.fixture
def installed(cli: Cli, tmp_path: Path, isolated_env: Path) -> Path:
    """A project with app -> lib (folder registry, signed by alice, trust configured)
    and tools from a git registry, installed."""
    key = tmp_path / "alice"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
    kind, blob = key.with_suffix(".pub").read_text().split()[:2]
    (tmp_path / "allowed").write_text(f"alice@example.com {kind} {blob}\n")
    registry = tmp_path / "registry"
    lib = make_package(tmp_path / "src-lib", "lib", "1.0.0")
    _set_license(lib, "Complete terms in LICENSE.txt")
    assert cli("publish", lib, "--registry", registry, "--sign", key).exit_code == 0
    app = make_package(tmp_path / "src-app", "app", "2.1.0", dependencies={"lib": "^1"})
    _set_license(app, "MIT OR Apache-2.0")
    assert cli("publish", app, "--registry", registry, "--sign", key).exit_code == 0
    remote = make_git_registry(tmp_path / "server", [{"name": "tools", "version": "0.3.0"}])
    with open(isolated_env / ".gitconfig", "a") as f:
        f.write(f'[url "{remote.bare.as_uri()}"]\n\tinsteadOf = {TEAM_URL[4:]}\n')
    project = tmp_path / "demo"
    project.mkdir()
    manifest = {
        "registries": {
            "local": {"url": str(registry), "allowed-signers": str(tmp_path / "allowed")},
            "team": TEAM_URL,
        },
        "dependencies": {"app": "^2", "tools": "*"},
    }
    (project / "skills.yaml").write_text(yaml.safe_dump(manifest))
    result = cli("install", cwd=project)
    assert result.exit_code == 0, result.output
    return project


def _set_license(package: Path, text: str) -> None:
    manifest = yaml.safe_load((package / "skillpm.yaml").read_text())
    manifest["license"] = text
    (package / "skillpm.yaml").write_text(yaml.safe_dump(manifest))


def _sbom(cli: Cli, project: Path, *args: str) -> tuple[str, Any]:
    result = cli("sbom", *args, cwd=project)
    assert result.exit_code == 0, result.output
    return result.stdout, json.loads(result.stdout)


def test_cyclonedx_is_valid_and_describes_every_locked_package(cli: Cli, installed: Path) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text, bom = _sbom(cli, installed, "--reproducible")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    assert bom["specVersion"] == "1.6" and "timestamp" not in bom["metadata"]
    locked = yaml.safe_load((installed / "skills.lock").read_text())["packages"]
    lock = {p["name"]: p for p in locked}
    parts = {c["name"]: c for c in bom["components"]}
    assert sorted(parts) == ["app", "lib", "tools"]
    for name, part in parts.items():
        assert part["version"] == lock[name]["version"]
        assert part["hashes"] == [{"alg": "SHA-256", "content": lock[name]["integrity"][7:]}]
        assert part["purl"].startswith(f"pkg:generic/{name}@")
        assert "repository_url=" in part["purl"]
    props = {p["name"]: p["value"] for p in parts["lib"]["properties"]}
    assert props["skillpm:signer"].startswith("alice@example.com SHA256:")
    assert parts["lib"]["licenses"] == [{"license": {"name": "Complete terms in LICENSE.txt"}}]
    assert parts["app"]["licenses"] == [{"expression": "MIT OR Apache-2.0"}]
    tools = {p["name"]: p["value"] for p in parts["tools"]["properties"]}
    assert tools["skillpm:commit"] == lock["tools"]["commit"]
    assert tools["skillpm:registry"] == "git+https://git.example.com/acme/tools.git"
    graph = {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}
    assert graph["app@2.1.0"] == ["lib@1.0.0"]
    assert graph["project:demo"] == ["app@2.1.0", "tools@0.3.0"]
    assert TOKEN not in text and "deploy" not in text


def test_spdx_validates_against_the_official_2_3_schema(cli: Cli, installed: Path) -> None:
    import jsonschema

    result = cli("sbom", "--format", "spdx", "-o", "sbom.spdx.json", cwd=installed)
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.stdout and "3 packages" in result.stdout
    raw = (installed / "sbom.spdx.json").read_text()
    doc = json.loads(raw)
    schema = json.loads((SCHEMAS / "spdx-2.3.schema.json").read_text())
    jsonschema.Draft7Validator(schema).validate(doc)
    assert doc["spdxVersion"] == "SPDX-2.3"
    packages = {p["name"]: p for p in doc["packages"]}
    lock = yaml.safe_load((installed / "skills.lock").read_text())["packages"]
    tools = next(p for p in lock if p["name"] == "tools")
    assert packages["tools"]["downloadLocation"] == (
        f"git+https://git.example.com/acme/tools.git@{tools['commit']}"
    )
    assert packages["lib"]["licenseDeclared"] == "LicenseRef-lib"
    assert doc["hasExtractedLicensingInfos"][0]["extractedText"] == "Complete terms in LICENSE.txt"
    assert "signed by alice@example.com" in packages["lib"]["comment"]
    assert packages["app"]["externalRefs"][0]["referenceCategory"] == "PACKAGE-MANAGER"
    edges = {
        (r["spdxElementId"], r["relatedSpdxElement"])
        for r in doc["relationships"]
        if r["relationshipType"] == "DEPENDS_ON"
    }
    assert ("SPDXRef-Package-app", "SPDXRef-Package-lib") in edges
    assert ("SPDXRef-Project", "SPDXRef-Package-tools") in edges
    assert TOKEN not in raw

    # spdx-tools, the reference implementation, reads it back without a complaint.
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    assert validate_full_spdx_document(parse_file(str(installed / "sbom.spdx.json"))) == []


@pytest.mark.parametrize("fmt", ["cyclonedx", "spdx"])
def test_same_lock_same_bytes_apart_from_the_time(cli: Cli, installed: Path, fmt: str) -> None:
    first, _ = _sbom(cli, installed, "--format", fmt, "--reproducible")
    second, _ = _sbom(cli, installed, "--format", fmt, "--reproducible")
    assert first == second
    _, timed = _sbom(cli, installed, "--format", fmt)
    _, untimed = _sbom(cli, installed, "--format", fmt, "--reproducible")
    if fmt == "cyclonedx":
        assert timed["metadata"].pop("timestamp")
    else:
        assert timed["creationInfo"].pop("created") != untimed["creationInfo"].pop("created")
    assert timed == untimed


def test_sbom_errors_are_one_line(
    cli: Cli, tmp_path: Path, installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("sbom", cwd=empty)
    assert result.exit_code == 1 and "no skills.lock" in result.stderr
    # Without the sbom extra: say how to get it, write nothing.
    for name in [m for m in sys.modules if m.split(".")[0] in ("cyclonedx", "spdx_tools")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "cyclonedx", None)
    before = snapshot(installed)
    result = cli("sbom", "-o", "out.json", cwd=installed)
    assert result.exit_code == 1, result.output
    assert "pip install 'skillpm[sbom]'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(installed) == before


def test_a_skill_repository_license_comes_from_skill_md(cli: Cli, tmp_path: Path) -> None:
    from tests.helpers import git, skill_md, write_tree

    pdf = skill_md("pdf", license="Apache-2.0")
    repo = write_tree(tmp_path / "repo", {"skills/pdf/SKILL.md": pdf})
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "skills", cwd=repo)
    project = tmp_path / "project"
    project.mkdir()
    assert cli("install", "pdf", "--registry", f"git+{repo.as_uri()}", cwd=project).exit_code == 0
    _, bom = _sbom(cli, project, "--reproducible")
    assert bom["components"][0]["licenses"] == [{"license": {"id": "Apache-2.0"}}]


def test_a_plugin_from_another_repository_names_that_repository(
    cli: Cli, tmp_path: Path, isolated_env: Path
) -> None:
    import jsonschema

    from tests.test_marketplace_remote import World, lock_rows, setup

    world = World(tmp_path, isolated_env)
    project = tmp_path / "project"
    project.mkdir()
    setup(cli, project, world, "aws-iac")
    pin = lock_rows(project)["aws-iac"]["source"]
    _, bom = _sbom(cli, project, "--reproducible")
    props = {p["name"]: p["value"] for p in bom["components"][0]["properties"]}
    expected = f"https://github.com/acme/aws-toolkit.git@{pin['commit']}#plugins/aws-iac"
    assert props["skillpm:source"] == expected
    _, doc = _sbom(cli, project, "--format", "spdx", "--reproducible")
    schema = json.loads((SCHEMAS / "spdx-2.3.schema.json").read_text())
    jsonschema.Draft7Validator(schema).validate(doc)
    package = next(p for p in doc["packages"] if p["name"] == "aws-iac")
    assert package["downloadLocation"] == f"git+{expected}"


def test_a_git_registry_with_a_ref_keeps_the_commit_out_of_the_purl_subpath() -> None:
    from skillpm.sbom.model import SbomPackage

    pkg = SbomPackage(
        name="tools",
        version="0.3.0",
        registry="git+https://git.example.com/acme/tools.git#main",
        sha256="0" * 64,
        commit="a" * 40,
        license=None,
        description="",
        dependencies=(),
        signers=(),
        download=None,
    )
    assert pkg.purl_qualifiers["vcs_url"] == (
        "git+https://git.example.com/acme/tools.git@" + "a" * 40
    )
