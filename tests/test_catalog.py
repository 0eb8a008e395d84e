"""The catalog ``build-static`` writes: its files, --no-html, determinism, incremental
rebuilds, refusals, and the markdown policy that keeps hostile SKILL.md inert.

What a reader sees in a browser is in test_catalog_browser.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from skillpm.formats.index import VersionEntry
from skillpm.publish.catalog_html import Doc, PackageDocs, render_catalog
from skillpm.publish.catalog_markdown import render_markdown
from tests.helpers import (
    Cli,
    fragment_md,
    make_git_registry,
    make_package,
    make_registry,
    publish_to,
    snapshot,
)
from tests.signhelpers import fingerprint, make_keys
from tests.test_static_site import mtimes

PACKAGES = [
    {
        "name": "aws-env",
        "skills": {},
        "fragments": {"aws-env": fragment_md("aws-env", "x\n", section="AWS environment")},
    },
    {"name": "cdk-kit", "dependencies": {"aws-env": "^1.0", "elsewhere": "^2"}},
    {
        "name": "cdk-kit",
        "version": "1.1.0",
        "dependencies": {"aws-env": "^1.0"},
        "skills": {"cdk-kit": "## Naming\n\nUse `{team}-{service}-{env}`.\n"},
    },
]
CATALOG = [
    "catalog/catalog.css",
    "catalog/catalog.js",
    "catalog/icon.svg",
    "catalog/packages/aws-env.html",
    "catalog/packages/cdk-kit.html",
    "index.html",
]


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return make_registry(tmp_path / "registry", PACKAGES)


def build(cli: Cli, registry: Path, out: Path, *args: str) -> list[str]:
    """The site paths the build wrote."""
    result = cli("-v", "registry", "build-static", registry, out, *args)
    assert result.exit_code == 0, result.output
    return [line.split("wrote ")[1] for line in result.output.splitlines() if "wrote " in line]


def files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_build_static_writes_a_page_per_package_and_the_list(
    cli: Cli, registry: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build(cli, registry, out)
    assert [f for f in files(out) if f.endswith((".html", ".css", ".js", ".svg"))] == CATALOG
    index = (out / "index.html").read_text()
    assert re.findall(r'href="catalog/packages/([a-z-]+)\.html"', index) == ["aws-env", "cdk-kit"]
    page = (out / "catalog/packages/cdk-kit.html").read_text()
    assert '<code id="install-command" data-name="cdk-kit">skillpm install cdk-kit</code>' in page
    # The SKILL.md's "#" and "##" under the skill's own h2.
    assert "<h3>cdk-kit</h3>" in page and "<h4>Naming</h4>" in page
    assert '<a href="aws-env.html">aws-env</a>' in page  # in this registry: linked
    assert "elsewhere" not in page  # 1.1.0, the latest, dropped that dependency
    assert '<a href="../../packages/cdk-kit/cdk-kit-1.0.0.tar.gz">' in page
    fragment = (out / "catalog/packages/aws-env.html").read_text()
    assert "<strong>aws-env</strong> (section “AWS environment”): The aws-env section" in fragment


def test_a_git_registry_gives_the_same_catalog_as_its_folder(cli: Cli, tmp_path: Path) -> None:
    remote = make_git_registry(tmp_path / "git", PACKAGES)
    build(cli, remote.url, tmp_path / "from-git")
    build(cli, remote.work, tmp_path / "from-folder")
    assert snapshot(tmp_path / "from-git") == snapshot(tmp_path / "from-folder")
    assert "<h4>Naming</h4>" in (tmp_path / "from-git/catalog/packages/cdk-kit.html").read_text()


def test_a_yanked_version_is_marked_with_its_reason(
    cli: Cli, registry: Path, tmp_path: Path
) -> None:
    reason = "wrong <b>account</b> ids"
    assert (
        cli("yank", "cdk-kit", "1.1.0", "--reason", reason, "--registry", registry).exit_code == 0
    )
    out = tmp_path / "site"
    build(cli, registry, out)
    page = (out / "catalog/packages/cdk-kit.html").read_text()
    assert '<h1>cdk-kit <span class="version">1.0.0</span></h1>' in page  # what install picks
    assert "<strong>Yanked</strong>: wrong &lt;b&gt;account&lt;/b&gt; ids" in page


def test_the_same_registry_gives_the_same_bytes_and_a_rebuild_writes_nothing(
    cli: Cli, registry: Path, tmp_path: Path
) -> None:
    build(cli, registry, tmp_path / "one")
    build(cli, registry, tmp_path / "two")
    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "two")
    stamps = mtimes(tmp_path / "one")
    assert build(cli, registry, tmp_path / "one") == []
    assert mtimes(tmp_path / "one") == stamps


def test_a_new_version_rewrites_only_its_own_pages(
    cli: Cli, registry: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build(cli, registry, out)
    publish_to(registry, make_package(tmp_path / "src", "aws-env", "1.1.0"))
    assert sorted(build(cli, registry, out)) == [
        "catalog/packages/aws-env.html",
        "index.html",  # the list shows each package's latest version
        "index.json",
        "index/aws-env.json",
        "packages/aws-env/aws-env-1.1.0.tar.gz",
    ]


def test_no_html_leaves_the_catalog_out_and_removes_an_earlier_one(
    cli: Cli, registry: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build(cli, registry, out, "--no-html")
    assert not [f for f in files(out) if f in CATALOG]
    build(cli, registry, out)
    (out / "catalog/notes.txt").write_text("mine\n")
    build(cli, registry, out, "--no-html")
    assert [f for f in files(out) if not f.startswith(("index/", "packages/"))] == [
        "catalog/notes.txt",
        "index.json",
    ]


def test_an_index_html_skillpm_did_not_write_is_refused(
    cli: Cli, registry: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("<h1>Our team's landing page</h1>\n")
    before = snapshot(out)
    result = cli("registry", "build-static", registry, out)
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"error: {out / 'index.html'}: not a page skillpm wrote; move it away, or pass "
        "--no-html to build the site without the catalog"
    )
    assert snapshot(out) == before
    build(cli, registry, out, "--no-html")  # kept, and left alone
    assert (out / "index.html").read_text() == "<h1>Our team's landing page</h1>\n"


def test_a_package_removed_from_the_registry_loses_its_page(
    cli: Cli, registry: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build(cli, registry, out)
    index = json.loads((registry / "index.json").read_text())
    del index["packages"]["aws-env"]
    (registry / "index.json").write_text(json.dumps(index))
    build(cli, registry, out)
    assert not (out / "catalog/packages/aws-env.html").exists()
    assert "aws-env.html" not in (out / "index.html").read_text()


HOSTILE = [
    ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ('<img src=x onerror="alert(1)">', "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"),
    ("[a](javascript:alert(1))", "[a](javascript:alert(1))"),
    ("[a](JaVaScRiPt:alert(1))", "[a](JaVaScRiPt:alert(1))"),
    ("[a](data:text/html,x)", "[a](data:text/html,x)"),
    ("<javascript:alert(1)>", "&lt;javascript:alert(1)&gt;"),
    ("[a](vbscript:x) [b](file:///etc/passwd)", "[a](vbscript:x) [b](file:///etc/passwd)"),
    ("[ref](references/table.md)", "<p>ref</p>"),  # not served by the site: text
    ("![x](data:image/png;base64,AAAA)", "<p>[image: x]</p>"),
    ("![x](assets/d.png)", "<p>[image: x]</p>"),
    (
        "![pixel](https://tracker.example/p.png)",
        '<a href="https://tracker.example/p.png" rel="nofollow noopener noreferrer">'
        "[image: pixel]</a>",
    ),
    (
        '[docs](https://example.com/a?b=1&c="2")',
        '<a href="https://example.com/a?b=1&amp;c=%222%22" rel="nofollow noopener noreferrer">',
    ),
    ("[top](#usage) [mail](mailto:team@example.com)", '<a href="#usage" rel='),
    ("| a | b |\n|--:|:-:|\n| 1 | 2 |\n", '<td class="align-right">1</td>'),
    ("# One\n## Two\n#### Four", "<h3>One</h3>\n<h4>Two</h4>\n<h6>Four</h6>"),
]


@pytest.mark.parametrize(("markdown", "html"), HOSTILE)
def test_markdown_renders_registry_content_inert(markdown: str, html: str) -> None:
    rendered = render_markdown(markdown)
    assert html in rendered
    assert not re.search(r"<(?!/?(?:p|a|h\d|code|pre|table|thead|tbody|tr|th|td)\b)", rendered)
    assert "style=" not in rendered and "<img" not in rendered
    for href in re.findall(r'href="([^"]*)"', rendered):
        assert href.startswith(("https://", "#", "mailto:")), href


def entry(name: str, version: str = "1.0.0", **fields: Any) -> VersionEntry:
    fields.setdefault("integrity", "sha256:" + "0" * 64)
    return VersionEntry(name=name, version=version, **fields)


def no_docs(name: str) -> PackageDocs:
    return PackageDocs()


def test_a_long_list_is_paged_and_searched_through_search_json() -> None:
    names = [f"pkg-{i}" for i in range(5)]
    packages = {n: {"1.0.0": entry(n, description=f"<b>{n}</b>", skills=(n,))} for n in names}
    built = render_catalog(packages, no_docs, per_page=2)
    assert sorted(p for p in built if "packages/" not in p) == [
        "catalog/catalog.css",
        "catalog/catalog.js",
        "catalog/icon.svg",
        "catalog/pages/2.html",
        "catalog/pages/3.html",
        "catalog/search.json",
        "index.html",
    ]
    first, last = built["index.html"].decode(), built["catalog/pages/3.html"].decode()
    assert re.findall(r'packages/(pkg-\d)\.html"', first) == ["pkg-0", "pkg-1"]
    assert re.findall(r'packages/(pkg-\d)\.html"', last) == ["pkg-4"]
    assert 'data-index="catalog/search.json"' in first
    assert '<a href="../../catalog/pages/2.html">2</a>' in last
    assert json.loads(built["catalog/search.json"])[4] == [
        "pkg-4",
        "1.0.0",
        "<b>pkg-4</b>",
        ["pkg-4"],
        [],
    ]
    assert "&lt;b&gt;pkg-4&lt;/b&gt;" in last
    one_page = render_catalog(packages, no_docs)  # every row in index.html: nothing to fetch
    assert "catalog/search.json" not in one_page and b"data-index" not in one_page["index.html"]


def test_frontmatter_and_names_are_text_and_a_bare_skill_says_its_description_once() -> None:
    skill = (
        "---\nname: bare\ndescription: Same as the package\n"
        "allowed-tools: [Read, '<svg onload=alert(1)>']\nlicense: <i>MIT</i>\n---\n# Body\n"
    )
    packages = {"bare": {"1.0.0": entry("bare", description="Same as the package")}}
    docs = {"bare": PackageDocs(skills=(Doc("bare", skill),))}
    page = render_catalog(packages, docs.__getitem__)["catalog/packages/bare.html"].decode()
    assert page.count("Same as the package") == 1
    assert "<dt>allowed-tools</dt><dd>Read, &lt;svg onload=alert(1)&gt;</dd>" in page
    assert "<dt>license</dt><dd>&lt;i&gt;MIT&lt;/i&gt;</dd>" in page
    assert "<h3>Body</h3>" in page


def test_the_markdown_library_is_imported_only_to_build_pages(
    registry: Path, tmp_path: Path
) -> None:
    probe = (
        "import sys\n"
        "from skillpm.cli.entry import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "finally:\n"
        "    print('LOADED', 'markdown_it' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent / "src")}
    for args, loaded in (
        (["--help"], False),
        (["registry", "build-static", "--no-html", str(registry), "plain"], False),
        (["registry", "build-static", str(registry), "browsable"], True),
    ):
        proc = subprocess.run(
            [sys.executable, "-c", probe, *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert f"LOADED {loaded}" in proc.stdout, proc.stdout + proc.stderr


def test_a_page_made_from_the_same_inputs_is_not_rendered_again() -> None:
    packages = {n: {"1.0.0": entry(n, skills=(n,))} for n in ("one", "two")}
    docs = {
        n: PackageDocs(skills=(Doc(n, f"---\nname: {n}\n---\n# {n} steps\n"),))
        for n in ("one", "two")
    }
    first = render_catalog(packages, docs.__getitem__)
    # Marked pages from the last build: kept as they are while their inputs are the same.
    kept = {rel: data.replace(b"steps</h3>", b"KEPT</h3>") for rel, data in first.items()}
    read: list[str] = []

    def reading(name: str) -> PackageDocs:
        read.append(name)
        return docs[name]

    # A new version of "two" (another integrity: other files) with another SKILL.md.
    packages["two"] = {"1.0.0": entry("two", skills=("two",), integrity="sha256:" + "1" * 64)}
    docs["two"] = PackageDocs(skills=(Doc("two", "---\nname: two\n---\n# two changed\n"),))
    second = render_catalog(packages, reading, previous=kept.get)
    assert read == ["two"]  # the kept page's files are not even read
    assert b"<h3>one KEPT</h3>" in second["catalog/packages/one.html"]
    assert b"<h3>two changed</h3>" in second["catalog/packages/two.html"]
    assert render_catalog(packages, docs.__getitem__) == {
        **second,
        "catalog/packages/one.html": first["catalog/packages/one.html"],
    }


def test_signed_versions_name_their_keys_and_a_copied_signature_does_not_verify(
    cli: Cli, tmp_path: Path
) -> None:
    keys = make_keys(tmp_path)
    registry = tmp_path / "registry"
    for version, sign in (("1.0.0", ["--sign", str(keys["alice"])]), ("1.1.0", [])):
        source = make_package(tmp_path / f"src-{version}", "signed-kit", version)
        assert cli("publish", source, "--registry", registry, *sign).exit_code == 0
    index = json.loads((registry / "index.json").read_text())
    versions = index["packages"]["signed-kit"]["versions"]
    versions["1.1.0"]["signatures"] = versions["1.0.0"]["signatures"]  # over 1.0.0's statement
    (registry / "index.json").write_text(json.dumps(index))
    build(cli, registry, tmp_path / "site")
    page = (tmp_path / "site/catalog/packages/signed-kit.html").read_text()
    key = f"ssh-ed25519 {fingerprint(keys['alice'])}"
    assert f'<dt>Signed by</dt><dd><ul class="plain"><li><code>{key} (does not verify)' in page
    assert '<th scope="col">Signed by</th>' in page
    assert f"<td><code>{key}</code></td>" in page  # 1.0.0: a good signature
