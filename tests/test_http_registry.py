"""Installing from a static site served by a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from skillpm.formats.archive import members_of_tree, pack_to
from skillpm.formats.index import load_index
from skillpm.formats.project_files import load_lock
from skillpm.publish import static_site
from skillpm.registry.local import LocalRegistry
from skillpm.store import package_cache_path
from tests.helpers import Cli, make_package, make_registry, publish_to, skill_md, snapshot
from tests.sitehelpers import SiteServer, make_big_registry, self_signed_certificate

PACKAGES = [
    {"name": "aws-env"},
    {"name": "cdk-kit", "dependencies": {"aws-env": "^1.0"}},
]


@dataclass
class Site:
    registry: Path
    out: Path
    server: SiteServer

    @property
    def url(self) -> str:
        return self.server.url

    def rebuild(self, **kwargs: bool) -> None:
        static_site.build(LocalRegistry("src", "src", self.registry), self.out, **kwargs)


def serve(registry: Path, out: Path) -> Iterator[Site]:
    static_site.build(LocalRegistry("src", "src", registry), out)
    with SiteServer(out) as server:
        yield Site(registry, out, server)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    yield from serve(make_registry(tmp_path / "registry", PACKAGES), tmp_path / "site")


@pytest.fixture
def fast_tmp(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs folder where there is one: thousands of files cost milliseconds, not seconds."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="skillpm-test-", dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def fresh_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str = "cache2") -> Path:
    path = tmp_path / name
    monkeypatch.setenv("SKILLPM_CACHE_DIR", str(path))
    return path


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def copy_project(source: Path, target: Path) -> Path:
    target.mkdir()
    for name in ("skills.yaml", "skills.lock"):
        shutil.copy(source / name, target / name)
    return target


# -- the "done when" of the issue --------------------------------------------------------------


def test_one_install_from_a_site_of_thousands_reads_a_tiny_part_of_it(
    cli: Cli, fast_tmp: Path, tmp_path: Path
) -> None:
    registry = fast_tmp / "registry"
    make_big_registry(registry, 3000)
    make_registry(registry, PACKAGES)
    out = fast_tmp / "site"
    result = cli("registry", "build-static", "--no-html", registry, out)
    assert result.exit_code == 0, result.output
    site_bytes = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    project = tmp_path / "project"
    project.mkdir()
    with SiteServer(out) as server:
        result = cli("install", "--registry", server.url, "cdk-kit", cwd=project)
        assert result.exit_code == 0, result.output
        # Two index files (the package and its dependency) and two archives: nothing else.
        assert server.paths() == [
            "index/aws-env.json",
            "index/cdk-kit.json",
            "packages/aws-env/aws-env-1.0.0.tar.gz",
            "packages/cdk-kit/cdk-kit-1.0.0.tar.gz",
        ]
        assert server.bytes_sent() * 1000 < site_bytes
        url = server.url
    assert (project / ".claude/skills/cdk-kit/SKILL.md").is_file()
    assert (project / ".claude/skills/aws-env/SKILL.md").is_file()
    lock = load_lock(project / "skills.lock")
    assert lock is not None
    index = load_index(registry / "index.json", "registry")
    for pkg in lock.packages:
        assert pkg.registry == url
        assert pkg.integrity == index.packages[pkg.name]["1.0.0"].integrity
    # The server is gone: a fresh clone of the project installs from the warm cache.
    clone = copy_project(project, tmp_path / "clone")
    result = cli("install", "--frozen", "--offline", cwd=clone)
    assert result.exit_code == 0, result.output
    assert snapshot(clone / ".claude") == snapshot(project / ".claude")


def test_an_archive_changed_on_the_server_is_refused(
    cli: Cli, site: Site, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("install", "--registry", site.url, "cdk-kit", cwd=project).exit_code == 0
    clone = copy_project(project, tmp_path / "clone")
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    # Someone with write access to the bucket swaps in different (valid) bytes.
    changed = tmp_path / "changed"
    shutil.copytree(site.registry / "packages/cdk-kit/1.0.0", changed)
    (changed / "skills/cdk-kit/SKILL.md").write_text(skill_md("cdk-kit", body="rm -rf /"))
    pack_to(members_of_tree(changed), site.out / "packages/cdk-kit/cdk-kit-1.0.0.tar.gz")
    cache = fresh_cache(monkeypatch, tmp_path)
    for folder, args in ((clone, ["--frozen"]), (fresh, ["--registry", site.url, "cdk-kit"])):
        before = snapshot(folder)
        result = cli("install", *args, cwd=folder)
        assert result.exit_code == 1
        line = one_line(result.stderr)
        assert "integrity" in line and "cdk-kit 1.0.0" in line and "archive's sha256" in line
        assert snapshot(folder) == before
    entry = load_index(site.registry / "index.json", "r").packages["cdk-kit"]["1.0.0"]
    assert not package_cache_path(entry.integrity).exists()
    assert not any(cache.glob("packages/.tmp-*"))


def test_an_archive_whose_sha256_was_updated_too_still_fails_on_its_tree(
    cli: Cli, site: Site, project: Path, tmp_path: Path
) -> None:
    changed = tmp_path / "changed"
    shutil.copytree(site.registry / "packages/cdk-kit/1.0.0", changed)
    (changed / "skills/cdk-kit/SKILL.md").write_text(skill_md("cdk-kit", body="changed"))
    archive = site.out / "packages/cdk-kit/cdk-kit-1.0.0.tar.gz"
    digest = pack_to(members_of_tree(changed), archive)
    index_file = site.out / "index/cdk-kit.json"
    data = json.loads(index_file.read_text())
    data["versions"]["1.0.0"]["archive-sha256"] = digest
    index_file.write_text(json.dumps(data))
    result = cli("install", "--registry", site.url, "cdk-kit", cwd=project)
    assert result.exit_code == 1
    line = one_line(result.stderr)
    assert "integrity" in line and "unpacks to" in line
    assert snapshot(project) == {}


def test_a_locked_install_refuses_a_site_whose_index_was_rewritten(
    cli: Cli, site: Site, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock is the root of trust: a consistent rewrite of archive + index still fails."""
    assert cli("install", "--registry", site.url, "cdk-kit", cwd=project).exit_code == 0
    clone = copy_project(project, tmp_path / "clone")
    changed = tmp_path / "changed"
    shutil.copytree(site.registry / "packages/cdk-kit/1.0.0", changed)
    (changed / "skills/cdk-kit/SKILL.md").write_text(skill_md("cdk-kit", body="changed"))
    source = make_registry(tmp_path / "evil", [])
    shutil.copytree(changed, source / "packages/cdk-kit/1.0.0")
    shutil.copytree(
        site.registry / "packages/aws-env", source / "packages/aws-env", dirs_exist_ok=True
    )
    assert cli("registry", "reindex", source).exit_code == 0
    static_site.build(LocalRegistry("e", "e", source), site.out)
    fresh_cache(monkeypatch, tmp_path)
    before = snapshot(clone)
    result = cli("install", "--frozen", cwd=clone)
    assert result.exit_code == 1
    assert "integrity" in one_line(result.stderr)
    assert snapshot(clone) == before


def test_a_hostile_archive_is_refused_before_anything_lands(
    cli: Cli, site: Site, project: Path, tmp_path: Path
) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        link = tarfile.TarInfo("skills/cdk-kit/SKILL.md")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    (site.out / "packages/cdk-kit/cdk-kit-1.0.0.tar.gz").write_bytes(buffer.getvalue())
    index_file = site.out / "index/cdk-kit.json"
    data = json.loads(index_file.read_text())
    data["versions"]["1.0.0"]["archive-sha256"] = hashlib.sha256(buffer.getvalue()).hexdigest()
    index_file.write_text(json.dumps(data))
    result = cli("install", "--registry", site.url, "cdk-kit", cwd=project)
    assert result.exit_code == 1
    assert "links are not allowed" in one_line(result.stderr)
    assert snapshot(project) == {}


# -- caching, freshness, offline ----------------------------------------------------------------


def test_offline_with_a_cold_cache_fails_with_one_line(
    cli: Cli, site: Site, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("install", "--registry", site.url, "cdk-kit", cwd=project).exit_code == 0
    clone = copy_project(project, tmp_path / "clone")
    fresh_cache(monkeypatch, tmp_path)
    site.server.reset()
    for folder, args in ((clone, ["--frozen", "--offline"]), (project, ["--offline", "aws-env"])):
        before = snapshot(folder)
        result = cli("install", *args, cwd=folder)
        assert result.exit_code == 1
        line = one_line(result.stderr)
        assert "not in the cache" in line and "--offline" in line
        assert snapshot(folder) == before
    assert site.server.hits == []


def test_a_second_project_reuses_the_cache_without_any_request(
    cli: Cli, site: Site, tmp_path: Path
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    assert cli("install", "--registry", site.url, "cdk-kit", cwd=first).exit_code == 0
    site.server.reset()
    result = cli("install", "--registry", site.url, "cdk-kit", cwd=second)
    assert result.exit_code == 0, result.output
    assert site.server.hits == []  # index files are fresh, archives unpacked by integrity
    assert snapshot(second / ".claude") == snapshot(first / ".claude")


def test_a_damaged_cache_entry_is_downloaded_again(cli: Cli, site: Site, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    assert cli("install", "--registry", site.url, "cdk-kit", cwd=first).exit_code == 0
    entry = load_index(site.registry / "index.json", "r").packages["cdk-kit"]["1.0.0"]
    cached = package_cache_path(entry.integrity) / "skills/cdk-kit/SKILL.md"
    cached.write_text("damaged\n")
    site.server.reset()
    result = cli("install", "--registry", site.url, "cdk-kit", cwd=second)
    assert result.exit_code == 0, result.output
    assert site.server.paths() == ["packages/cdk-kit/cdk-kit-1.0.0.tar.gz"]
    assert snapshot(second / ".claude") == snapshot(first / ".claude")


def test_update_sees_a_version_published_within_the_freshness_interval(
    cli: Cli, site: Site, project: Path
) -> None:
    assert cli("install", "--registry", site.url, "cdk-kit", cwd=project).exit_code == 0
    publish_to(site.registry, make_package(project.parent / "src", "cdk-kit", "1.1.0"))
    site.rebuild()
    # The cached index file is fresh and knows no 1.1.0 ...
    assert "at their latest" in cli("outdated", "--offline", cwd=project).output
    result = cli("update", cwd=project)  # ... but update revalidates, like cargo update
    assert result.exit_code == 0, result.output
    lock = load_lock(project / "skills.lock")
    assert lock is not None and lock.by_name()["cdk-kit"].version == "1.1.0"


def test_stale_index_files_are_revalidated_with_etags(
    cli: Cli, site: Site, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("install", "--registry", site.url, "cdk-kit", cwd=project).exit_code == 0
    site.server.reset()
    assert cli("info", "cdk-kit", cwd=project).exit_code == 0
    assert site.server.hits == []  # within the freshness interval: no request at all
    assert cli("info", "cdk-kit", "--refresh", cwd=project).exit_code == 0
    assert [(h.path, h.status, h.size) for h in site.server.hits] == [
        ("index/cdk-kit.json", 304, 0)
    ]
    site.server.reset()
    monkeypatch.setenv("SKILLPM_FETCH_INTERVAL", "0")
    publish_to(site.registry, make_package(project.parent / "src", "cdk-kit", "1.1.0"))
    site.rebuild()
    result = cli("info", "cdk-kit", cwd=project)
    assert result.exit_code == 0
    assert "cdk-kit 1.1.0" in result.stdout
    assert [(h.path, h.status) for h in site.server.hits] == [("index/cdk-kit.json", 200)]


def test_a_package_the_site_lacks_is_asked_again_and_found_once_published(
    cli: Cli, site: Site, project: Path
) -> None:
    result = cli("install", "--registry", site.url, "newcomer", cwd=project)
    assert result.exit_code == 1
    assert "no package named 'newcomer'" in one_line(result.stderr)
    publish_to(site.registry, make_package(project.parent / "src", "newcomer"))
    site.rebuild()
    result = cli("install", "--registry", site.url, "newcomer", cwd=project)
    assert result.exit_code == 0, result.output


def test_index_files_are_fetched_several_at_once(cli: Cli, tmp_path: Path, project: Path) -> None:
    deps = [f"dep-{i}" for i in range(6)]
    packages = [{"name": d} for d in deps]
    packages.append({"name": "kit", "dependencies": dict.fromkeys(deps, "^1.0")})
    for site in serve(make_registry(tmp_path / "registry", packages), tmp_path / "site"):
        site.server.hold = {f"index/{d}.json" for d in deps}
        result = cli("install", "--registry", site.url, "kit", cwd=project)
        assert result.exit_code == 0, result.output
        assert 6 <= site.server.max_in_flight <= 8


def test_a_version_with_build_metadata_is_fetched_percent_encoded(
    cli: Cli, tmp_path: Path, project: Path
) -> None:
    registry = make_registry(tmp_path / "registry", [{"name": "meta", "version": "1.0.0+b.5"}])
    for site in serve(registry, tmp_path / "site"):
        result = cli("install", "--registry", site.url, "meta", cwd=project)
        assert result.exit_code == 0, result.output
        assert "/packages/meta/meta-1.0.0%2Bb.5.tar.gz" in {h.raw for h in site.server.hits}


def test_gzip_encoded_index_files(cli: Cli, site: Site, project: Path) -> None:
    site.server.gzip = True
    result = cli("install", "--registry", site.url, "cdk-kit", cwd=project)
    assert result.exit_code == 0, result.output
    encoded = {h.path for h in site.server.hits if h.encoding == "gzip"}
    assert {"index/cdk-kit.json", "index/aws-env.json"} <= encoded  # the client asked for gzip
    assert all(h.encoding is None for h in site.server.hits if h.path.endswith(".tar.gz"))
    assert "+ cdk-kit 1.0.0" in result.stdout
    assert (project / ".claude/skills/cdk-kit/SKILL.md").is_file()


# -- search and info ---------------------------------------------------------------------------


def test_search_reads_the_full_index_and_info_one_file(cli: Cli, site: Site, project: Path) -> None:
    (project / "skills.yaml").write_text(f"registries:\n  team: {site.url}\n")
    result = cli("search", "cdk", cwd=project)
    assert result.exit_code == 0, result.output
    assert "cdk-kit" in result.stdout
    site.rebuild(full_index=False)
    site.server.reset()
    result = cli("info", "aws-env", cwd=project)
    assert result.exit_code == 0, result.output
    assert site.server.paths() == ["index/aws-env.json"]
    result = cli("search", "cdk", "--refresh", cwd=project)
    # The site is skipped with its reason; the other registries are still searched.
    assert result.exit_code == 0
    assert "skipped in search" in result.stderr
    assert "publishes no full index.json" in result.stderr
    assert "cdk-patterns" in result.stdout and "cdk-kit" not in result.stdout
    # info SKILL looks through every registry's packages: one it cannot list is said, not
    # taken for "no package named".
    result = cli("info", "no-such-skill", cwd=project)
    assert result.exit_code == 1
    assert "publishes no full index.json" in result.stderr
    assert "no package named" not in result.stderr


def test_offline_search_without_a_cached_full_index_uses_the_cached_index_files(
    cli: Cli, site: Site, project: Path
) -> None:
    assert cli("install", "--registry", site.url, "aws-env", cwd=project).exit_code == 0
    site.server.reset()
    result = cli("search", "--offline", "e", "--json", cwd=project)
    assert result.exit_code == 0, result.output
    names = {hit["name"] for hit in json.loads(result.stdout)["results"]}
    assert "aws-env" in names and "cdk-kit" not in names  # only what the cache has seen
    assert site.server.hits == []


# -- the wire: auth, retries, errors ---------------------------------------------------------------


def test_a_token_from_the_environment_is_sent_and_never_shown(
    cli: Cli, site: Site, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.server.auth = "Bearer s3cret-token"
    result = cli("install", "--registry", site.url, "cdk-kit", cwd=project)
    assert result.exit_code == 1
    line = one_line(result.stderr)
    assert "HTTP 401" in line and "SKILLPM_TOKEN_127_0_0_1" in line and "~/.netrc" in line
    assert snapshot(project) == {}
    monkeypatch.setenv("SKILLPM_TOKEN_127_0_0_1", "wrong-token")
    result = cli("install", "--registry", site.url, "cdk-kit", cwd=project)
    assert "refused the credential from SKILLPM_TOKEN_127_0_0_1" in one_line(result.stderr)
    assert "wrong-token" not in result.output
    monkeypatch.setenv("SKILLPM_TOKEN_127_0_0_1", "s3cret-token")
    result = cli("-v", "install", "--registry", site.url, "cdk-kit", cwd=project)
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output
    assert all("s3cret" not in text.decode() for text in snapshot(project).values())


def test_netrc_credentials(cli: Cli, site: Site, project: Path, isolated_env: Path) -> None:
    site.server.auth = "Basic " + base64.b64encode(b"robot:pa55word").decode()
    netrc = isolated_env / ".netrc"
    netrc.write_text("machine 127.0.0.1 login robot password pa55word\n")
    netrc.chmod(0o600)
    result = cli("install", "--registry", site.url, "cdk-kit", cwd=project)
    assert result.exit_code == 0, result.output
    assert "pa55word" not in result.output


def test_credentials_in_the_url_stay_out_of_the_lock_and_the_output(
    cli: Cli, site: Site, project: Path
) -> None:
    site.server.auth = "Basic " + base64.b64encode(b"robot:pa55word").decode()
    url = site.url.replace("http://", "http://robot:pa55word@")
    result = cli("install", "--registry", url, "cdk-kit", cwd=project)
    assert result.exit_code == 0, result.output
    assert "pa55word" not in result.output
    assert "pa55word" not in (project / "skills.lock").read_text()
    assert "http://***@127.0.0.1" in (project / "skills.lock").read_text()
    assert (
        cli("install", "--frozen", cwd=copy_project(project, project.parent / "c")).exit_code == 0
    )


def test_credentials_do_not_follow_a_redirect(
    cli: Cli, site: Site, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SiteServer(site.out) as other:
        site.server.redirects["packages/cdk-kit/cdk-kit-1.0.0.tar.gz"] = (
            other.url + "packages/cdk-kit/cdk-kit-1.0.0.tar.gz"
        )
        monkeypatch.setenv("SKILLPM_TOKEN_127_0_0_1", "s3cret-token")
        result = cli("install", "--registry", site.url, "cdk-kit", cwd=project)
        assert result.exit_code == 0, result.output
        assert {h.authorization for h in site.server.hits} == {"Bearer s3cret-token"}
        assert [(h.path, h.authorization) for h in other.hits] == [
            ("packages/cdk-kit/cdk-kit-1.0.0.tar.gz", None)
        ]


def test_a_redirect_to_plain_http_elsewhere_is_refused(cli: Cli, site: Site, project: Path) -> None:
    site.server.redirects["index/cdk-kit.json"] = "http://example.com/index/cdk-kit.json"
    result = cli("install", "--registry", site.url, "cdk-kit", cwd=project)
    assert result.exit_code == 1
    assert "plain http:// to example.com is refused" in one_line(result.stderr)


def test_server_errors_are_retried(cli: Cli, site: Site, project: Path) -> None:
    # One failure each keeps the backoff short; test_httpclient covers longer runs.
    site.server.fail["index/cdk-kit.json"] = [503]
    site.server.fail["packages/cdk-kit/cdk-kit-1.0.0.tar.gz"] = [500]
    result = cli("install", "--registry", site.url, "cdk-kit", cwd=project)
    assert result.exit_code == 0, result.output
    statuses = {h.path: [] for h in site.server.hits}
    for h in site.server.hits:
        statuses[h.path].append(h.status)
    assert statuses["index/cdk-kit.json"] == [503, 200]
    assert statuses["packages/cdk-kit/cdk-kit-1.0.0.tar.gz"] == [500, 200]


def test_a_failing_server_gives_one_line_after_bounded_retries(
    cli: Cli, site: Site, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKILLPM_HTTP_RETRIES", "1")
    site.server.fail["index/cdk-kit.json"] = [503] * 5
    result = cli("install", "--registry", site.url, "cdk-kit", cwd=project)
    assert result.exit_code == 1
    assert "HTTP 503" in one_line(result.stderr) and "after 2 attempts" in result.stderr
    assert len([h for h in site.server.hits if h.path == "index/cdk-kit.json"]) == 2
    assert snapshot(project) == {}


def test_an_unreachable_server_gives_one_line(
    cli: Cli, site: Site, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKILLPM_HTTP_RETRIES", "0")
    url = site.url
    site.server.stop()
    result = cli("install", "--registry", url, "cdk-kit", cwd=project)
    assert result.exit_code == 1
    line = one_line(result.stderr)
    assert "cannot reach 127.0.0.1" in line and "--offline" in line
    assert snapshot(project) == {}


def test_a_server_that_does_not_answer_times_out(
    cli: Cli, site: Site, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKILLPM_HTTP_RETRIES", "0")
    monkeypatch.setenv("SKILLPM_HTTP_TIMEOUT", "0.2")
    # Held until two requests are in flight, which never happens: the server stalls.
    site.server.hold = {"index/cdk-kit.json", "never-requested"}
    site.server.hold_timeout = 1.0
    result = cli("install", "--registry", site.url, "cdk-kit", cwd=project)
    assert result.exit_code == 1
    assert "cannot reach 127.0.0.1 (timed out) after 1 attempt;" in one_line(result.stderr)
    assert snapshot(project) == {}


@pytest.mark.parametrize(("status", "words"), [(403, "HTTP 403"), (418, "HTTP 418")])
def test_other_statuses_give_one_line(
    cli: Cli, site: Site, project: Path, status: int, words: str
) -> None:
    site.server.fail["index/cdk-kit.json"] = [status]
    result = cli("install", "--registry", site.url, "cdk-kit", cwd=project)
    assert result.exit_code == 1
    assert words in one_line(result.stderr)
    assert snapshot(project) == {}


def test_a_missing_archive_gives_one_line(cli: Cli, site: Site, project: Path) -> None:
    (site.out / "packages/cdk-kit/cdk-kit-1.0.0.tar.gz").unlink()
    result = cli("install", "--registry", site.url, "cdk-kit", cwd=project)
    assert result.exit_code == 1
    assert "missing on the server (HTTP 404)" in one_line(result.stderr)
    assert snapshot(project) == {}


def test_a_broken_index_file_gives_one_line_and_is_not_cached(
    cli: Cli, site: Site, project: Path
) -> None:
    good = (site.out / "index/cdk-kit.json").read_bytes()
    (site.out / "index/cdk-kit.json").write_text("{not json")
    result = cli("install", "--registry", site.url, "cdk-kit", cwd=project)
    assert result.exit_code == 1
    assert "index/cdk-kit.json: not valid JSON" in one_line(result.stderr)
    (site.out / "index/cdk-kit.json").write_bytes(good)
    result = cli("install", "--registry", site.url, "cdk-kit", cwd=project)
    assert result.exit_code == 0, result.output


def test_plain_http_to_another_host_is_refused_without_a_request(cli: Cli, project: Path) -> None:
    result = cli("install", "--registry", "http://skills.example.com/", "cdk-kit", cwd=project)
    assert result.exit_code == 1
    line = one_line(result.stderr)
    assert "plain http:// to skills.example.com is refused" in line and "--allow-http" in line
    assert snapshot(project) == {}


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_https_with_a_certificate_from_ssl_cert_file(
    cli: Cli, tmp_path: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed_certificate(tmp_path)
    registry = make_registry(tmp_path / "registry", PACKAGES)
    static_site.build(LocalRegistry("src", "src", registry), tmp_path / "site")
    with SiteServer(tmp_path / "site", tls=(cert, key)) as server:
        assert server.url.startswith("https://127.0.0.1:")
        result = cli("install", "--registry", server.url, "cdk-kit", cwd=project)
        assert result.exit_code == 1
        line = one_line(result.stderr)
        assert "TLS with 127.0.0.1 failed" in line and "SSL_CERT_FILE" in line
        assert snapshot(project) == {}
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        result = cli("install", "--registry", server.url, "cdk-kit", cwd=project)
        assert result.exit_code == 0, result.output
        assert len(server.hits) == 4


def test_registry_add_says_what_a_site_holds(
    cli: Cli, site: Site, project: Path, tmp_path: Path
) -> None:
    result = cli("registry", "add", "public", site.url, cwd=project)
    assert result.exit_code == 0, result.output
    assert ": a skillpm registry (2 packages)" in result.stdout
    site.rebuild(full_index=False)  # a big site's choice: it is still a registry
    other = tmp_path / "other"
    other.mkdir()
    result = cli("registry", "add", "public", site.url, "--refresh", cwd=other)
    assert result.exit_code == 0, result.output
    assert ": a static site without a full index.json" in result.stdout
