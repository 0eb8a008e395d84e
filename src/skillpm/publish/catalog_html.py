"""The catalog of a static site: HTML pages a person can browse and search.

A pure function of the registry's index entries and the markdown files of each
package's latest version, returning ``{site path: bytes}``; ``static_site``
writes them like every other site file (only when the bytes change). Every
string from the registry (names aside, which the index parser restricts to
``[a-z0-9-]``) is untrusted: Jinja2 escapes it, and SKILL.md bodies go through
``catalog_markdown``. Nothing here depends on the time or the machine, so the
same registry gives the same bytes.

Layout (docs/catalog.md)::

    index.html                     the list (the first PER_PAGE packages) and the search box
    catalog/pages/<n>.html         the rest of the list, PER_PAGE a page (large registries)
    catalog/search.json            every package's row, fetched by a search on a paged list
    catalog/packages/<name>.html   one package: install command, skills, fragments, versions
    catalog/catalog.css, catalog.js, icon.svg
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from skillpm.errors import ManifestError, SignatureError
from skillpm.formats.index import VersionEntry, latest_entry, sorted_versions
from skillpm.formats.signatures import SSH
from skillpm.yamlio import split_frontmatter

ASSETS = Path(__file__).parent / "catalog_assets"
STATIC_FILES = ("catalog.css", "catalog.js", "icon.svg")
# Measured (docs/catalog.md): 500 rows are ~100 KiB of HTML (7 KiB gzipped); 5,000 would be 1 MiB.
PER_PAGE = 500
# No inline script or style anywhere, nothing from another origin. frame-ancestors is not
# honoured in a meta tag: docs/catalog.md shows the header to add at the CDN.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'"
)
GENERATOR = '<meta name="generator" content="skillpm">'  # marks a page as ours
_FACTS = ("license", "compatibility", "allowed-tools")


@dataclass(frozen=True)
class Doc:
    """A markdown file of a package's latest version: a SKILL.md or a fragment."""

    name: str  # the skill's or fragment's name
    text: str


@dataclass(frozen=True)
class PackageDocs:
    skills: tuple[Doc, ...] = ()
    fragments: tuple[Doc, ...] = ()


def page_path(number: int) -> str:
    return "index.html" if number == 1 else f"catalog/pages/{number}.html"


def _no_previous(rel: str) -> bytes | None:
    return None


def render_catalog(
    packages: Mapping[str, Mapping[str, VersionEntry]],
    docs: Callable[[str], PackageDocs],
    *,
    per_page: int = PER_PAGE,
    previous: Callable[[str], bytes | None] = _no_previous,
) -> dict[str, bytes]:
    """The catalog's files: ``packages`` as the site's index has them (``archive`` set);
    ``docs(name)`` gives the SKILL.md and fragment texts of that package's latest version.

    ``previous`` reads a file of the last build. A package page made from the same
    inputs by the same code (the digest in its head says so) is returned as it is,
    without reading its docs or rendering it again: markdown costs milliseconds a
    page, so a rebuild of thousands of packages renders only the pages that changed.
    The result is the same either way.
    """
    env = _environment()
    files: dict[str, bytes] = {}
    rows: list[VersionEntry] = []
    package_page = env.get_template("package.html")
    for name, versions in sorted(packages.items()):
        latest = latest_entry(versions)
        rows.append(latest)
        rel = f"catalog/packages/{name}.html"
        digest = _page_digest(versions, sorted(set(latest.dependencies) & packages.keys()))
        old = previous(rel)
        if old is not None and f'content="{digest}"'.encode() in old[:1024]:
            files[rel] = old
            continue
        own = docs(name)
        html = package_page.render(
            csp=CSP,
            root="../../",
            digest=digest,
            latest=latest,
            known=packages.keys(),
            skills=[_skill(doc, latest.description) for doc in own.skills],
            fragments=[_fragment(doc) for doc in own.fragments],
            versions=[(entry, _signers(entry)) for _, entry in reversed(sorted_versions(versions))],
            signed=any(entry.signatures for entry in versions.values()),
        )
        files[rel] = html.encode()
    pages = _page_count(len(rows), per_page)
    list_page = env.get_template("index.html")
    for number in range(1, pages + 1):
        html = list_page.render(
            csp=CSP,
            root="" if number == 1 else "../../",
            rows=rows[(number - 1) * per_page : number * per_page],
            page=number,
            pages=pages,
            per_page=per_page,
            total=len(rows),
            page_path=page_path,
        )
        files[page_path(number)] = html.encode()
    if pages > 1:
        files["catalog/search.json"] = _search_index(rows)
    for name in STATIC_FILES:
        files[f"catalog/{name}"] = (ASSETS / name).read_bytes()
    return files


def _page_digest(versions: Mapping[str, VersionEntry], linked: list[str]) -> str:
    """Everything a package page is made from: its index entries (whose integrity
    covers the SKILL.md and fragment files), which dependencies are linked, and the
    code and templates that render them."""
    inputs = [_renderer(), [entry.to_json() for _, entry in sorted_versions(versions)], linked]
    data = json.dumps(inputs, ensure_ascii=False, sort_keys=True).encode()
    return "sha256:" + hashlib.sha256(data).hexdigest()


@cache
def _renderer() -> str:
    """A fingerprint of the code that renders pages: a new skillpm or markdown-it-py
    renders every page again."""
    from markdown_it import __version__

    digest = hashlib.sha256(__version__.encode())
    for source in (
        Path(__file__),
        Path(__file__).with_name("catalog_markdown.py"),
        ASSETS / "base.html",
        ASSETS / "package.html",
    ):
        digest.update(source.read_bytes())
    return digest.hexdigest()


def _page_count(packages: int, per_page: int) -> int:
    return max(1, -(-packages // per_page))


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(ASSETS),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _frontmatter(doc: Doc, where: str) -> tuple[dict[str, Any], str]:
    """The file's frontmatter and body; a file without frontmatter is all body."""
    try:
        data, body, _ = split_frontmatter(doc.text, where)
    except ManifestError:
        return {}, doc.text
    return data, body


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _skill(doc: Doc, package_description: str) -> dict[str, Any]:
    from skillpm.publish.catalog_markdown import render_markdown

    data, body = _frontmatter(doc, f"{doc.name}/SKILL.md")
    description = _text(data.get("description")).strip()
    return {
        "name": doc.name,
        # A bare skill published as a package repeats its description: say it once.
        "description": "" if description == package_description else description,
        "facts": [(key, _text(data[key])) for key in _FACTS if data.get(key) is not None],
        "html": Markup(render_markdown(body)),
    }


def _signers(entry: VersionEntry) -> list[str]:
    """Each signature's key, as ``ssh-keygen -l`` names it, marked when it is not a good
    signature over this version. A catalog has no allowed-signers file: it names keys,
    and whom a project trusts stays in that project's skills.yaml (docs/signatures.md)."""
    if not entry.signatures:
        return []
    from skillpm.signing.sshsig import parse, verify
    from skillpm.signing.statement import NAMESPACE
    from skillpm.signing.trust import entry_statement

    statement = entry_statement(entry)
    out = []
    for item in entry.signatures:
        if item.kind != SSH:
            out.append(f"a {item.kind} signature")
            continue
        try:
            sig = parse(item.value)
        except SignatureError:
            out.append("an unreadable signature")
            continue
        try:
            good = verify(sig, statement, NAMESPACE)
        except SignatureError:  # a key type skillpm cannot check
            good = False
        out.append(f"{sig.key_type} {sig.fingerprint}" + ("" if good else " (does not verify)"))
    return out


def _fragment(doc: Doc) -> dict[str, str]:
    data, _ = _frontmatter(doc, f"fragments/{doc.name}.md")
    return {
        "name": doc.name,
        "section": _text(data.get("section")),
        "description": _text(data.get("description")),
    }


def _search_index(rows: list[VersionEntry]) -> bytes:
    """What a search on a paged list filters: [name, version, description, skills, fragments]."""
    items = [[e.name, e.version, e.description, list(e.skills), list(e.fragments)] for e in rows]
    return json.dumps(items, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
