"""index.json: shape and names checked on load, each package's entries when first used."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillpm.errors import SkillpmError
from skillpm.formats.index import index_from_bytes
from tests.helpers import Cli, make_registry, snapshot

HASH = "sha256:" + "ab" * 32


def index(packages: object) -> bytes:
    return json.dumps({"format": 1, "packages": packages}).encode()


def test_a_bad_entry_is_reported_when_its_package_is_read() -> None:
    parsed = index_from_bytes(
        index(
            {
                "good": {"versions": {"1.0.0": {"integrity": HASH}}},
                "bad": {"versions": {"1.0.0": {"integrity": "md5:x"}}},
            }
        ),
        "registry team",
    )
    assert parsed.packages["good"]["1.0.0"].integrity == HASH
    assert "bad" in parsed.packages and len(parsed.packages) == 2
    with pytest.raises(SkillpmError, match=r"^registry team: bad 1.0.0: integrity must be"):
        parsed.packages["bad"]
    with pytest.raises(SkillpmError, match="bad 1.0.0: integrity must be"):
        dict(parsed.packages)  # every entry, as search and verify read them


@pytest.mark.parametrize(
    ("packages", "message"),
    [
        ([], '"packages" must be an object'),
        ({"Bad_Name": {"versions": {}}}, "package name 'Bad_Name' must be"),
        ({"ok": {"versions": []}}, 'ok: "versions" must be an object'),
        ({"ok": "1.0.0"}, 'ok: "versions" must be an object'),
    ],
)
def test_the_shape_and_the_names_are_checked_on_load(packages: object, message: str) -> None:
    with pytest.raises(Exception, match=message):
        index_from_bytes(index(packages), "registry team")


def test_install_is_not_stopped_by_a_bad_entry_it_does_not_use(
    cli: Cli, project: Path, tmp_path: Path
) -> None:
    registry = make_registry(tmp_path / "registry", [{"name": "app"}, {"name": "junk"}])
    data = json.loads((registry / "index.json").read_text())
    data["packages"]["junk"]["versions"]["1.0.0"]["path"] = "../../etc"
    (registry / "index.json").write_text(json.dumps(data))
    result = cli("install", "app", "--registry", registry, cwd=project)
    assert result.exit_code == 0, result.output
    before = snapshot(project)
    result = cli("install", "junk", cwd=project)
    assert result.exit_code == 1
    assert "junk 1.0.0: path '../../etc' is not packages/junk/1.0.0" in result.stderr
    assert snapshot(project) == before
