"""The workspace ``lint`` checks: files read once, skills, fragments, packages, projects.

Plain data, filled by ``sources.Loader`` (the I/O edge); every rule family is a
function of a ``Workspace``. Also the small parsing helpers that keep line
numbers: frontmatter split with the line of each key, and ``where:line:``
messages split back into a line and a message.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from skillpm import yamlio
from skillpm.errors import SkillpmError, split_error
from skillpm.lint.model import Location


@dataclass(eq=False)
class TextFile:
    path: Path
    rel: str  # display path
    size: int
    executable: bool
    text: str | None  # None: binary, not UTF-8, or too large to scan (see ``unread``)
    package: str | None = None
    unread: str = ""  # why ``text`` is None

    @cached_property
    def lines(self) -> list[str]:
        """Lines as editors number them: split on LF only (not on U+2028, form feeds...)."""
        if not self.text:
            return []
        lines = self.text.split("\n")
        if lines[-1] == "":
            lines.pop()
        return [line.removesuffix("\r") for line in lines]

    def at(self, line: int | None = None, note: str = "") -> Location:
        return Location(self.rel, line, self.package, note)


@dataclass(eq=False)
class Frontmatter:
    """A markdown file's ``---`` block, parsed, with the line of each key on demand."""

    meta: dict[str, Any] | None  # None when missing or invalid (see ``error``)
    error: tuple[int, str] | None
    source: str  # the YAML between the markers
    body: str
    body_line: int  # 1-based line where the body starts

    @cached_property
    def _lines(self) -> dict[tuple[str, ...], int]:
        return yaml_key_lines(self.source, first_line=2)

    def key_line(self, *path: str) -> int | None:
        return self._lines.get(path)


@dataclass(eq=False)
class Skill:
    folder: Path
    rel: str  # display path of the folder
    name: str  # the folder's name: the name it is installed and invoked by
    package: str | None
    group: str | None  # context it shares with others; None: linted alone (old versions)
    files: list[TextFile]
    skill_md: TextFile | None
    fm: Frontmatter | None

    def at(self, line: int | None = None, note: str = "") -> Location:
        if self.skill_md is not None:
            return self.skill_md.at(line, note)
        return Location(self.rel, line, self.package, note)

    @property
    def label(self) -> str:
        return f"{self.package}/{self.name}" if self.package else self.name


@dataclass(eq=False)
class Fragment:
    file: TextFile
    name: str  # the file's stem
    package: str | None
    group: str | None
    fm: Frontmatter | None  # for the line of each key
    parsed: Any = None  # fragments.Fragment, as install reads it; None when it cannot be
    error: SkillpmError | None = None  # why the fragments module refused it


@dataclass(eq=False)
class Package:
    root: Path
    rel: str
    name: str
    version: str
    group: str | None
    manifest_file: TextFile


@dataclass(eq=False)
class ProjectFiles:
    root: Path
    group: str
    manifest: Any  # projectfiles.ProjectManifest | None
    manifest_file: TextFile | None
    lock: Any  # projectfiles.Lockfile | None
    lock_rel: str
    # Each locked skill's copies: skill folder of a target (.claude/skills) -> integrity,
    # None when missing (installed.installed_copies).
    installed: Mapping[str, Mapping[str, str | None]]
    claude_mds: list[TextFile]  # the memory files (CLAUDE.md, AGENTS.md) and .claude/CLAUDE.md
    generated: list[TextFile]  # .claude/skillpm/*.md and .claude/rules/*.md

    @property
    def managed(self) -> list[TextFile]:
        """Every file that may hold skillpm's managed blocks."""
        return [*self.claude_mds, *self.generated]


@dataclass(frozen=True)
class Problem:
    """Something that could not be read. ``kind`` picks the rule that reports it."""

    kind: str  # manifest | frontmatter | unreadable | link | unavailable | missing
    where: Location
    message: str
    hint: str = ""


@dataclass(eq=False)
class Workspace:
    base: Path
    skills: list[Skill] = field(default_factory=list)
    fragments: list[Fragment] = field(default_factory=list)
    packages: list[Package] = field(default_factory=list)
    projects: list[ProjectFiles] = field(default_factory=list)
    files: dict[Path, TextFile] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    vars: dict[str, Mapping[str, Any]] = field(default_factory=dict)  # per group
    not_checked: int = 0  # plugins of a marketplace stored elsewhere or without skills

    def groups(self) -> list[str]:
        seen = {s.group for s in self.skills} | {f.group for f in self.fragments}
        return sorted(g for g in seen if g is not None)

    def text_of(self, rel: str) -> TextFile | None:
        return self._by_rel.get(rel)

    @cached_property
    def _by_rel(self) -> dict[str, TextFile]:
        return {f.rel: f for f in self.files.values()}


def yaml_key_lines(text: str, first_line: int = 1) -> dict[tuple[str, ...], int]:
    """The 1-based line of every mapping key, by its path of keys."""
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return {}
    found: dict[tuple[str, ...], int] = {}
    stack: list[tuple[yaml.Node | None, tuple[str, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode) and len(path) < 16:
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    sub = (*path, str(key.value))
                    found.setdefault(sub, key.start_mark.line + first_line)
                    stack.append((value, sub))
        elif isinstance(node, yaml.SequenceNode) and len(path) < 16:
            for i, item in enumerate(node.value):
                found.setdefault((*path, str(i)), item.start_mark.line + first_line)
                stack.append((item, (*path, str(i))))
    return found


def parse_frontmatter(text: str, where: str) -> Frontmatter:
    """Split and load frontmatter, keeping any error as a line and a message."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n") != "---":
        return Frontmatter(
            None, (1, "missing YAML frontmatter (a first line of '---')"), "", text, 1
        )
    close = next((i for i, ln in enumerate(lines[1:], 1) if ln.rstrip("\r\n") == "---"), None)
    if close is None:
        return Frontmatter(None, (1, "frontmatter is not closed by a '---' line"), "", text, 1)
    source = "".join(lines[1:close])
    body = "".join(lines[close + 1 :])
    try:
        data = yamlio.loads(source, where) if source.strip() else {}
    except SkillpmError as exc:
        line, message = split_error(exc, where)
        return Frontmatter(None, ((line or 1) + 1, message), source, body, close + 2)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return Frontmatter(
            None, (2, "frontmatter must be a mapping of keys"), source, body, close + 2
        )
    return Frontmatter(data, None, source, body, close + 2)


def iter_markdown(skill: Skill) -> Iterator[TextFile]:
    """The files of a skill Claude reads as instructions."""
    for f in skill.files:
        if f.text is not None and f.path.suffix.lower() in (".md", ".markdown", ".txt"):
            yield f
