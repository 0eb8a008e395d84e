"""CLAUDE.md fragments: parsed once at the boundary, rendered with ``vars``.

A fragment is a markdown file with frontmatter (DESIGN 5) whose body is a
Jinja2 template. Rendering uses the bounded sandbox in ``template_sandbox``,
imported only here and only when something is rendered, so ``--help`` and a
no-op install never load Jinja2.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from skillpm import yamlio
from skillpm.content.claudemd import LOOSE_BEGIN, LOOSE_END, Block, content_hash
from skillpm.errors import FragmentError, ManifestError
from skillpm.formats.index import PackageManifest, check_name

IMPORTS_BLOCK = "skillpm-imports"  # the block of @-imports in "import" placement
RESERVED_NAMES = frozenset({IMPORTS_BLOCK})
DEFAULT_ORDER = 100
MAX_TEMPLATE = 256 * 1024  # characters of a fragment's body: a CLAUDE.md section, not a book
_CLAIM_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_SCALAR = str | int | float | bool


@dataclass(frozen=True)
class MustNotTouch:
    path: str
    reason: str = ""


@dataclass(frozen=True)
class Fragment:
    """One fragment file as published: metadata checked, body still a template."""

    name: str
    package: str
    version: str
    description: str
    section: str | None
    order: int
    body: str  # Jinja2 source, LF line endings
    body_line: int  # line of the file where the body starts
    where: str  # for messages: the file inside its package
    claims: Mapping[str, Any] = field(default_factory=dict)  # values may be templates
    must_not_touch: Any = ()  # a list of {path, reason}, or one "{{ expression }}"
    paths: tuple[str, ...] = ()  # for "rules" placement


@dataclass(frozen=True)
class Rendered:
    """A fragment rendered with the project's ``vars``."""

    fragment: Fragment
    content: str  # the block's text: LF, ends with a newline
    claims: Mapping[str, Any]
    must_not_touch: tuple[MustNotTouch, ...]

    @property
    def name(self) -> str:
        return self.fragment.name

    @property
    def hash(self) -> str:
        return content_hash(self.content)

    def block(self) -> Block:
        f = self.fragment
        return Block(f.name, f.version, self.content, f.order)


def _text(value: Any, where: str, key: str, *, limit: int, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ManifestError(f"{where}: {key} must be a non-empty string")
    if len(value) > limit:
        raise ManifestError(f"{where}: {key} is longer than {limit} characters")
    return value.strip()


def parse_fragment(text: str, *, package: str, version: str, where: str) -> Fragment:
    """Check a fragment file's frontmatter; the body is kept as template source."""
    meta, body, body_line = yamlio.split_frontmatter(text, where)
    stem = PurePosixPath(where).stem
    name = check_name(meta.get("name"), where, "fragment name")
    if name != stem:
        raise ManifestError(f"{where}: name {name!r} must equal the file name {stem!r}")
    if name in RESERVED_NAMES:
        raise ManifestError(f"{where}: the fragment name {name!r} is reserved by skillpm")
    description = _text(meta.get("description"), where, "description", limit=1024, required=True)
    section = _text(meta.get("section"), where, "section", limit=200)
    if section is not None and "\n" in section:
        raise ManifestError(f"{where}: section must be one line (it becomes a '## ' heading)")
    order = meta.get("order", DEFAULT_ORDER)
    if isinstance(order, bool) or not isinstance(order, int):
        raise ManifestError(f"{where}: order must be a whole number (lower comes first)")
    claims = meta.get("claims") or {}
    if not isinstance(claims, Mapping):
        raise ManifestError(f"{where}: claims must map keys such as model.routine-edits to values")
    for key in claims:
        if not isinstance(key, str) or not _CLAIM_KEY.match(key):
            raise ManifestError(f"{where}: claims: {key!r} is not a valid claim key")
    must_not_touch = meta.get("must-not-touch") or []
    if not isinstance(must_not_touch, list | str):
        raise ManifestError(
            f"{where}: must-not-touch must be a list of {{path, reason}} entries or one "
            "'{{ expression }}'"
        )
    if len(body) > MAX_TEMPLATE:
        raise ManifestError(
            f"{where}: the body is over {MAX_TEMPLATE // 1024} KiB; a fragment is one section of "
            "CLAUDE.md, so split it or move the detail into a skill's references/"
        )
    paths = meta.get("paths") or []
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list) or not all(isinstance(p, str) and p.strip() for p in paths):
        raise ManifestError(f"{where}: paths must be a list of glob patterns")
    return Fragment(
        name=name,
        package=package,
        version=version,
        description=description or "",
        section=section,
        order=order,
        body=body.replace("\r\n", "\n"),
        body_line=body_line,
        where=where,
        claims=dict(claims),
        must_not_touch=must_not_touch,
        paths=tuple(p.strip() for p in paths),
    )


def load_fragments(root: Path, manifest: PackageManifest) -> list[Fragment]:
    """Every fragment of the package unpacked at ``root``."""
    found = []
    for rel in manifest.fragments:
        where = f"{manifest.name} {manifest.version}: {rel}"
        path = root / rel
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise ManifestError(f"{where}: file not found") from None
        text = yamlio.decode(raw, where)
        found.append(
            parse_fragment(text, package=manifest.name, version=manifest.version, where=where)
        )
    return found


def _is_data(value: Any) -> bool:
    if isinstance(value, _SCALAR | None):
        return True
    if isinstance(value, list):
        return all(_is_data(v) for v in value)
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _is_data(v) for k, v in value.items())
    return False


class Renderer:
    """Renders fragments with one project's ``vars`` in the bounded sandbox."""

    def __init__(self, variables: Mapping[str, Any]) -> None:
        from skillpm.content.template_values import ValueRenderer

        self._values = ValueRenderer(variables, _failure)

    def _value(self, fragment: Fragment, value: Any) -> Any:
        """Frontmatter values: one ``{{ expression }}`` gives its value, other text renders."""
        return self._values.value(value, fragment, fragment.body_line)

    def render(self, fragment: Fragment) -> Rendered:
        body = self._values.text(fragment.body, fragment, fragment.body_line)
        body = body.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
        heading = f"## {fragment.section}\n" if fragment.section else ""
        content = heading + ("\n" if heading and body else "") + (body + "\n" if body else "")
        for line in content.split("\n"):
            if LOOSE_BEGIN.match(line) or LOOSE_END.match(line):
                raise FragmentError(
                    f"{fragment.name}: the rendered text holds a skillpm marker line "
                    f"({line.strip()[:60]}); markers are skillpm's own, remove it"
                )
        claims = self._value(fragment, fragment.claims)
        for key, value in claims.items():
            if not _is_data(value):
                raise FragmentError(
                    f"{fragment.name}: claim {key} must be text, a number, true/false, or lists "
                    "and mappings of those"
                )
        return Rendered(fragment, content, claims, self._must_not_touch(fragment))

    def _must_not_touch(self, fragment: Fragment) -> tuple[MustNotTouch, ...]:
        value = self._value(fragment, fragment.must_not_touch)
        if not value:
            return ()
        problem = f"{fragment.name}: must-not-touch must be a list of {{path, reason}} entries"
        if isinstance(value, Mapping):
            value = [value]
        if not isinstance(value, list):
            raise FragmentError(problem)
        entries = []
        for item in value:
            if isinstance(item, str):
                item = {"path": item}
            if not isinstance(item, Mapping) or not isinstance(item.get("path"), str):
                raise FragmentError(problem)
            reason = item.get("reason") or ""
            if not item["path"].strip() or not isinstance(reason, str):
                raise FragmentError(problem)
            entries.append(MustNotTouch(item["path"].strip(), reason.strip()))
        return tuple(entries)


def _failure(exc: Exception, fragment: Fragment, line: int) -> FragmentError:
    """A template failure, worded for the fragment's author."""
    from skillpm.content import template_sandbox as sandbox

    if isinstance(exc, sandbox.MissingVariable):
        if exc.path.startswith("vars"):
            return FragmentError(
                f"{fragment.name}: {exc.path} is not set; add it under vars: in skills.yaml"
            )
        return FragmentError(
            f"{fragment.name}: the template uses {exc.path!r}, which is not defined; "
            "fragment templates can only read vars (from skills.yaml)"
        )
    if isinstance(exc, sandbox.TemplateSyntaxError):
        at = f":{line + (exc.lineno or 1) - 1}" if exc.lineno else ""
        return FragmentError(f"{fragment.where}{at}: template syntax error: {exc.message}")
    if isinstance(exc, sandbox.TemplateLimit):
        return FragmentError(
            f"{fragment.name}: the template was stopped: {exc}; simplify the fragment"
        )
    if isinstance(exc, sandbox.SecurityError):
        return FragmentError(
            f"{fragment.name}: the template tried something fragments may not do ({exc})"
        )
    if isinstance(exc, RecursionError | MemoryError):
        return FragmentError(
            f"{fragment.name}: the template recursed too deeply; simplify the fragment"
        )
    # A template error of any other kind is the author's too.
    return FragmentError(f"{fragment.name}: the template failed ({type(exc).__name__}: {exc})")


def render_all(fragments: Sequence[Fragment], variables: Mapping[str, Any]) -> list[Rendered]:
    """Render in (order, name) order; the first failure is raised, nothing is written."""
    if not fragments:
        return []
    renderer = Renderer(variables)
    ordered = sorted(fragments, key=lambda f: (f.order, f.name))
    return [renderer.render(f) for f in ordered]
