"""Publishers racing on one S3 registry: conditional writes let every different package land
and give one version exactly one winner, across threads and across processes."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from skillpm.errors import RegistryError
from skillpm.publish.prepare import Prepared, prepare
from skillpm.publish.s3 import S3RegistryWriter
from tests.helpers import finish, make_package, spawn_skillpm
from tests.s3helpers import Bucket


def race(url: str, packages: list[Prepared]) -> list[Exception | None]:
    """Publish each package on its own thread, all released at once; each one's error."""
    writers = [S3RegistryWriter(url) for _ in packages]
    for writer in writers:
        writer.store.objects  # noqa: B018 - the boto3 client, made before the start line
    start = threading.Barrier(len(packages))
    outcomes: list[Exception | None] = [None] * len(packages)

    def run(i: int) -> None:
        start.wait()
        try:
            writers[i].publish(packages[i], dry_run=False)
        except Exception as exc:  # collected for the assertions
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(packages))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_threads_publishing_different_packages_to_a_new_registry_all_land(
    s3: Bucket, tmp_path: Path
) -> None:
    names = [f"pkg-{i}" for i in range(4)]
    packages = [prepare(make_package(tmp_path / n, n)) for n in names]
    assert race(s3.url, packages) == [None] * 4
    full = json.loads(s3.read("index.json"))
    assert sorted(full["packages"]) == names
    for name in names:
        assert list(s3.index(name)["versions"]) == ["1.0.0"]
    # They raced for index.json: some writes were refused (412) and applied again on top.
    writes = [r for r in s3.requests() if r.method == "PUT" and r.key == "team/index.json"]
    assert any(r.status == 412 for r in writes)


def test_threads_publishing_one_version_get_one_winner(s3: Bucket, tmp_path: Path) -> None:
    # The same files three times, and other files for the same version once.
    same = [prepare(make_package(tmp_path / f"same-{i}", "shared")) for i in range(3)]
    other = [prepare(make_package(tmp_path / "other", "shared", files={"note.md": "other"}))]
    outcomes = race(s3.url, [*same, *other])
    assert outcomes.count(None) == 1
    for exc in outcomes:
        if exc is not None:
            assert isinstance(exc, RegistryError), exc
            message = str(exc)
            assert "shared 1.0.0 is already published" in message or "other bytes" in message
    winner = next(p for p, e in zip([*same, *other], outcomes, strict=True) if e is None)
    entry = s3.index("shared")["versions"]["1.0.0"]
    assert entry["integrity"] == winner.integrity
    assert json.loads(s3.read("index.json"))["packages"]["shared"]["versions"]["1.0.0"] == entry


def test_processes_racing_all_land_or_are_refused_cleanly(s3: Bucket, tmp_path: Path) -> None:
    sources = [make_package(tmp_path / f"p{i}", f"proc-{i}") for i in range(2)]
    sources += [
        make_package(tmp_path / f"v{i}", "proc-v", files={"n.md": str(i)}) for i in range(2)
    ]
    procs = [spawn_skillpm("publish", src, "--registry", s3.url, cwd=tmp_path) for src in sources]
    results = [finish(p) for p in procs]
    assert [r.exit_code for r in results[:2]] == [0, 0], [r.output for r in results]
    assert sorted(r.exit_code for r in results[2:]) == [0, 1], [r.output for r in results]
    refused = next(r for r in results[2:] if r.exit_code == 1)
    assert refused.stderr.count("\n") == 1 and refused.stderr.startswith("error: ")
    full = json.loads(s3.read("index.json"))
    assert sorted(full["packages"]) == ["proc-0", "proc-1", "proc-v"]
    for name in full["packages"]:
        assert full["packages"][name] == {"versions": s3.index(name)["versions"]}
