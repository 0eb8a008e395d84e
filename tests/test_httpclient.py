"""The HTTP client's rules, one at a time, against a real server where the wire matters."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from skillpm.errors import RegistryError
from skillpm.registry.httpclient import Client, HttpSettings, find_credential, token_variable
from skillpm.registry.https import parse_site_url
from skillpm.registry.urls import check_http_url, is_loopback
from tests.helpers import Cli, make_registry, modules_loaded, write_tree
from tests.sitehelpers import SiteServer


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("skills.localhost", True),
        ("10.0.0.1", False),
        ("example.com", False),
        ("localhost.example.com", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_plain_http_needs_loopback_or_an_opt_in() -> None:
    assert check_http_url("http://127.0.0.1:8000/", allow_http=False, label="r").hostname
    assert check_http_url("https://skills.example.com/", allow_http=False, label="r").hostname
    with pytest.raises(RegistryError, match="plain http:// to skills.example.com is refused"):
        check_http_url("http://skills.example.com/", allow_http=False, label="r")
    assert check_http_url("http://skills.example.com/", allow_http=True, label="r").hostname
    with pytest.raises(RegistryError, match="not an http"):
        check_http_url("ftp://skills.example.com/", allow_http=True, label="r")


def test_site_urls_are_normalised_and_lose_their_credentials() -> None:
    site = parse_site_url("HTTPS://robot:tok@Skills.Example.com/reg", allow_http=False, label="r")
    assert site.base == "https://skills.example.com/reg/"
    assert site.userinfo == ("robot", "tok")
    assert "tok" not in repr(site.base)
    with pytest.raises(RegistryError, match="without"):
        parse_site_url("https://skills.example.com/reg/?sig=abc", allow_http=False, label="r")


def test_token_variable_names() -> None:
    assert token_variable("skills.example.com") == "SKILLPM_TOKEN_SKILLS_EXAMPLE_COM"
    assert token_variable("127.0.0.1") == "SKILLPM_TOKEN_127_0_0_1"


def test_credentials_come_per_host_and_are_never_in_repr(
    monkeypatch: pytest.MonkeyPatch, isolated_env: Path
) -> None:
    assert find_credential("skills.example.com") is None
    monkeypatch.setenv("SKILLPM_TOKEN_OTHER_EXAMPLE_COM", "not-for-you")
    assert find_credential("skills.example.com") is None
    monkeypatch.setenv("SKILLPM_TOKEN_SKILLS_EXAMPLE_COM", "tok-123")
    credential = find_credential("skills.example.com")
    assert credential is not None and credential.header == "Bearer tok-123"
    assert "tok-123" not in repr(credential)
    netrc = isolated_env / ".netrc"
    netrc.write_text("machine third.example.com login robot password pw-456\n")
    netrc.chmod(0o600)
    credential = find_credential("third.example.com")
    assert credential is not None and credential.source == str(netrc)


def test_a_broken_netrc_is_one_clear_line(isolated_env: Path) -> None:
    netrc = isolated_env / ".netrc"
    netrc.write_text("machine\n")
    netrc.chmod(0o600)
    with pytest.raises(RegistryError, match=r"\.netrc: cannot be read"):
        find_credential("skills.example.com")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SKILLPM_HTTP_TIMEOUT", "soon"),
        ("SKILLPM_HTTP_TIMEOUT", "nan"),
        ("SKILLPM_HTTP_RETRIES", "-1"),
    ],
)
def test_bad_settings_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(RegistryError, match=name):
        HttpSettings.from_env(allow_http=False)


def test_retries_back_off_and_recover(tmp_path: Path) -> None:
    write_tree(tmp_path, {"file.bin": b"payload"})
    with SiteServer(tmp_path) as server:
        server.fail["file.bin"] = [503, 429, 502]
        client = Client(HttpSettings(backoff=0.0), "r", "127.0.0.1", None)
        sink = io.BytesIO()
        digest = client.download(server.url + "file.bin", sink, max_bytes=100)
        assert sink.getvalue() == b"payload" and digest is not None
        assert [h.status for h in server.hits] == [503, 429, 502, 200]
        # A body larger than allowed is refused, not truncated.
        with pytest.raises(RegistryError, match="larger than"):
            client.download(server.url + "file.bin", io.BytesIO(), max_bytes=3)
        assert client.download(server.url + "nothing.bin", io.BytesIO(), max_bytes=3) is None


def test_conditional_get(tmp_path: Path) -> None:
    write_tree(tmp_path, {"index/a.json": "{}"})
    with SiteServer(tmp_path) as server:
        client = Client(HttpSettings(), "r", "127.0.0.1", None)
        first = client.get(server.url + "index/a.json", max_bytes=100)
        assert first is not None and first.status == 200 and first.etag
        again = client.get(server.url + "index/a.json", max_bytes=100, etag=first.etag)
        assert again is not None and again.status == 304


def test_help_and_a_no_op_install_never_load_the_http_client(
    cli: Cli, project: Path, tmp_path: Path
) -> None:
    from skillpm.publish import static_site
    from skillpm.registry.local import LocalRegistry

    registry = make_registry(tmp_path / "registry", [{"name": "solo"}])
    static_site.build(LocalRegistry("r", "r", registry), tmp_path / "site")
    with SiteServer(tmp_path / "site") as server:
        assert cli("install", "--registry", server.url, "solo", cwd=project).exit_code == 0
    for args in (["--help"], ["install"]):
        loaded, proc = modules_loaded(
            args, project, ("skillpm.registry.httpclient", "http.client", "ssl")
        )
        assert loaded == [], proc.stdout + proc.stderr
    assert "Nothing to do" in proc.stdout
