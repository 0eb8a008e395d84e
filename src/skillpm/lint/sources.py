"""Everything ``lint`` reads, gathered into one ``Workspace``.

This is the I/O edge of the linter: it finds the skills, fragments, packages and
project files behind the paths it is given and reads each file once. The rule
families are pure functions of the workspace. Whatever cannot be read becomes a
``Problem`` for a family to report, never an exception, so one broken package
does not hide the findings of the others.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from skillpm import yamlio
from skillpm.errors import SkillpmError
from skillpm.lint.model import Location
from skillpm.publish import NOT_PUBLISHED  # what never ships is not linted either

MAX_SCAN_BYTES = 2 * 1024 * 1024  # larger files are reported, not read
ARGS_GROUP = "arguments"  # the context shared by every package, skill and registry argument


@dataclass(eq=False)
class TextFile:
    path: Path
    rel: str  # display path
    size: int
    executable: bool
    text: str | None  # None: binary, not UTF-8, or too large to scan
    package: str | None = None

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
    skills_rel: str
    claude_mds: list[TextFile]  # CLAUDE.md and .claude/CLAUDE.md
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


_WHERE_LINE = re.compile(r"^(?P<where>.*?):(?P<line>\d+): (?P<rest>.*)$", re.S)


def split_error(exc: SkillpmError, where: str) -> tuple[int | None, str]:
    """The line and the bare message of a ``where:line: message`` error."""
    text = str(exc)
    if text.startswith(where):
        text = text[len(where) :]
        m = re.match(r"^:(\d+): (.*)$", text, re.S)
        if m:
            return int(m.group(1)), m.group(2)
        return None, text.lstrip(": ")
    return None, text


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


def read_fragment(file: TextFile, package: str, version: str) -> tuple[Any, SkillpmError | None]:
    """A fragment parsed by the fragments module, exactly as install will read it."""
    from skillpm.fragments import parse_fragment

    if file.text is None:
        return None, None
    try:
        return parse_fragment(file.text, package=package, version=version, where=file.rel), None
    except SkillpmError as exc:
        return None, exc


class Loader:
    """Reads targets into a workspace; paths shown relative to ``base`` when inside it."""

    def __init__(self, base: Path, *, all_versions: bool = False) -> None:
        self.ws = Workspace(base.resolve())
        self.all_versions = all_versions

    # -- files -----------------------------------------------------------------------------

    def display(self, path: Path) -> str:
        # Resolve the folder but not the name: a link is shown where it is, not its target.
        plain = path.name not in ("", ".", "..")
        full = path.parent.resolve() / path.name if plain else path.resolve()
        try:
            return full.relative_to(self.ws.base).as_posix() or "."
        except ValueError:
            return full.as_posix()

    def read(self, path: Path, package: str | None, st: os.stat_result | None = None) -> TextFile:
        key = path.resolve()
        if key in self.ws.files:
            return self.ws.files[key]
        st = st or path.stat()
        text: str | None = None
        if st.st_size <= MAX_SCAN_BYTES:
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raw = b""
                self.problem("unreadable", Location(self.display(path), None, package), str(exc))
            if b"\0" not in raw:
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    text = None
        file = TextFile(
            path, self.display(path), st.st_size, bool(st.st_mode & 0o111), text, package
        )
        self.ws.files[key] = file
        return file

    def walk(self, folder: Path, package: str | None) -> list[TextFile]:
        """Every regular file under ``folder``; links are reported and not followed."""
        files: list[TextFile] = []
        pending = [folder]
        while pending:
            current = pending.pop()
            try:
                items = sorted(os.scandir(current), key=lambda e: e.name)
            except OSError as exc:
                self.problem("unreadable", Location(self.display(current), None, package), str(exc))
                continue
            for item in items:
                st = item.stat(follow_symlinks=False)
                path = Path(item.path)
                if stat.S_ISLNK(st.st_mode):
                    self.problem(
                        "link",
                        Location(self.display(path), None, package),
                        f"{item.name} is a symbolic link",
                    )
                elif stat.S_ISDIR(st.st_mode):
                    if item.name not in NOT_PUBLISHED:
                        pending.append(path)
                elif stat.S_ISREG(st.st_mode) and item.name not in NOT_PUBLISHED:
                    files.append(self.read(path, package, st))
        files.sort(key=lambda f: f.rel)
        return files

    def problem(self, kind: str, where: Location, message: str, hint: str = "") -> None:
        found = Problem(kind, where, message, hint)
        if found not in self.ws.problems:  # a package walk meets its skills' links again
            self.ws.problems.append(found)

    # -- units -----------------------------------------------------------------------------

    def add_skill(self, folder: Path, package: str | None, group: str | None) -> Skill:
        files = self.walk(folder, package)
        skill_md = next(
            (f for f in files if f.path.parent == folder and f.path.name == "SKILL.md"), None
        )
        fm = None
        if skill_md is None:
            self.problem(
                "missing",
                Location(self.display(folder), None, package),
                f"{folder.name}: no SKILL.md in the skill folder",
                "a skill is a folder with a SKILL.md (frontmatter name and description)",
            )
        elif skill_md.text is None:
            self.problem("unreadable", skill_md.at(), "SKILL.md is not UTF-8 text")
        else:
            fm = parse_frontmatter(skill_md.text, skill_md.rel)
        skill = Skill(
            folder, self.display(folder), folder.name, package, group, files, skill_md, fm
        )
        self.ws.skills.append(skill)
        return skill

    def add_fragment(
        self, path: Path, package: str | None, version: str, group: str | None
    ) -> None:
        if not path.is_file():
            self.problem(
                "missing",
                Location(self.display(path), None, package),
                f"fragment {path.name} is missing",
            )
            return
        file = self.read(path, package)
        fm = parse_frontmatter(file.text, file.rel) if file.text is not None else None
        parsed, error = read_fragment(file, package or path.stem, version)
        self.ws.fragments.append(Fragment(file, path.stem, package, group, fm, parsed, error))

    def add_package(self, root: Path, group: str | None, version_hint: str = "") -> None:
        from skillpm.clientlib import MANIFEST_NAME, load_package_manifest

        manifest_file = self.read(root / MANIFEST_NAME, None)
        try:
            manifest = load_package_manifest(root)
        except SkillpmError as exc:
            line, message = split_error(exc, str(root / MANIFEST_NAME))
            self.problem("manifest", manifest_file.at(line), message)
            return
        manifest_file.package = manifest.name
        if group is not None and any(
            p.name == manifest.name and p.group == group for p in self.ws.packages
        ):
            # The same package twice (its source folder and its published copy, say) is
            # never installed twice: the first one given stands for it in the context.
            group = None
        self.ws.packages.append(
            Package(root, self.display(root), manifest.name, manifest.version, group, manifest_file)
        )
        for rel in manifest.skills:
            folder = root / rel
            if folder.is_dir():
                self.add_skill(folder, manifest.name, group)
            else:
                self.problem(
                    "manifest",
                    manifest_file.at(None),
                    f"skill folder {rel} is listed but missing",
                )
        for rel in manifest.fragments:
            self.add_fragment(root / rel, manifest.name, manifest.version, group)
        # Other files of the package (README, templates) are scanned for secrets too.
        self.walk(root, manifest.name)

    def add_registry(self, root: Path) -> None:
        from skillpm.clientlib import load_index, sorted_versions

        try:
            index = load_index(root / "index.json", self.display(root))
        except SkillpmError as exc:
            self.problem("manifest", Location(self.display(root / "index.json")), str(exc))
            return
        for _name, versions in sorted(index.packages.items()):
            ordered = [e for _, e in sorted_versions(versions)]
            live = [e for e in ordered if not e.yanked] or ordered
            newest = live[-1] if live else None
            for entry in ordered if self.all_versions else ([newest] if newest else []):
                if entry.path is None:
                    continue
                group = ARGS_GROUP if entry is newest else None
                self.add_package(root / entry.path, group)

    def add_project(self, root: Path) -> None:
        from skillpm.project import Project
        from skillpm.projectfiles import LOCK_FILE, parse_manifest

        group = f"project:{self.display(root)}"
        project = Project(root)
        manifest = None
        manifest_file = None
        if project.manifest_path.is_file():
            manifest_file = self.read(project.manifest_path, None)
            try:
                text = yamlio.decode(project.manifest_path.read_bytes(), manifest_file.rel)
                manifest = parse_manifest(yamlio.loads(text, manifest_file.rel), manifest_file.rel)
            except SkillpmError as exc:
                line, message = split_error(exc, manifest_file.rel)
                self.problem("manifest", manifest_file.at(line), message)
        lock = None
        lock_rel = self.display(project.lock_path)
        if project.lock_path.is_file():
            self.read(project.lock_path, None)
            try:
                lock = project.load_lock()
            except SkillpmError as exc:
                line, message = split_error(exc, LOCK_FILE)
                self.problem("manifest", Location(lock_rel, line), message)
        owners = lock.skill_owners() if lock else {}
        if project.skills_dir.is_dir():
            for item in sorted(project.skills_dir.iterdir(), key=lambda p: p.name):
                if item.is_dir() and not item.name.startswith("."):
                    self.add_skill(item.resolve(), owners.get(item.name), group)
        claude_mds = [
            self.read(p, None)
            for p in (root / "CLAUDE.md", root / ".claude" / "CLAUDE.md")
            if p.is_file()
        ]
        # Where fragments are placed (fragment_plan): CLAUDE.md, or generated files that
        # Claude Code reads as well (claude-md: {placement: import | rules}).
        generated = [
            self.read(p, None)
            for folder in (root / ".claude" / "skillpm", root / ".claude" / "rules")
            if folder.is_dir()
            for p in sorted(folder.glob("*.md"))
            if p.is_file()
        ]
        self.ws.projects.append(
            ProjectFiles(
                root,
                group,
                manifest,
                manifest_file,
                lock,
                lock_rel,
                self.display(project.skills_dir),
                claude_mds,
                generated,
            )
        )
        if manifest is not None:
            self.ws.vars[group] = manifest.vars
        if lock is not None:
            self._locked_fragments(project, manifest, lock, group)

    def _locked_fragments(self, project: Any, manifest: Any, lock: Any, group: str) -> None:
        """The fragments of each locked package, from a verified copy (as install reads them)."""
        from skillpm.clientlib import MANIFEST_NAME, load_package_manifest
        from skillpm.installer import package_source
        from skillpm.projectfiles import ProjectManifest

        wanted = [p for p in lock.packages if p.fragments]
        if not wanted:
            return
        try:
            sources = project.sources(manifest or ProjectManifest())
        except SkillpmError as exc:
            for pkg in wanted:
                self._unavailable(project, pkg, exc)
            return
        for pkg in wanted:
            try:
                root = package_source(sources, pkg)
                package = load_package_manifest(root) if (root / MANIFEST_NAME).is_file() else None
            except SkillpmError as exc:
                self._unavailable(project, pkg, exc)
                continue
            for rel in package.fragments if package else ():
                self.add_fragment(root / rel, pkg.name, pkg.version, group)

    def _unavailable(self, project: Any, pkg: Any, exc: SkillpmError) -> None:
        self.problem(
            "unavailable",
            Location(self.display(project.lock_path), None, pkg.name),
            f"the fragments of {pkg.name} {pkg.version} were not checked: {exc}",
        )

    # -- arguments -------------------------------------------------------------------------

    def add_default(self, root: Path) -> bool:
        """No arguments: the project at ``root``, else whatever else ``root`` is."""
        if is_project(root):
            self.add_project(root)
            return True
        return self.add_path(root)

    def add_path(self, path: Path) -> bool:
        """Lint what ``path`` is; ``False`` when it is none of the things lint knows."""
        if path.is_file():
            return self._add_file(path)
        if (path / "index.json").is_file() and (path / "packages").is_dir():
            self.add_registry(path)
        elif (path / "skillpm.yaml").is_file():
            self.add_package(path, ARGS_GROUP)
        elif (path / "SKILL.md").is_file():
            self.add_skill(path, None, ARGS_GROUP)
        elif is_project(path):
            self.add_project(path)
        else:
            children = [
                c
                for c in sorted(path.iterdir())
                if c.is_dir() and ((c / "skillpm.yaml").is_file() or (c / "SKILL.md").is_file())
            ]
            for child in children:
                self.add_path(child)
            return bool(children)
        return True

    def _add_file(self, path: Path) -> bool:
        name = path.name
        if name == "index.json":
            self.add_registry(path.parent)
            return True
        if name in ("skills.yaml", "skills.lock", "CLAUDE.md"):
            self.add_project(path.parent)
            return True
        for parent in path.parents:
            if (parent / "skillpm.yaml").is_file() or (parent / "SKILL.md").is_file():
                return self.add_path(parent)
        return False


def is_project(path: Path) -> bool:
    return (
        (path / "skills.yaml").is_file()
        or (path / ".claude" / "skills").is_dir()
        or (path / "CLAUDE.md").is_file()
    )


def iter_markdown(skill: Skill) -> Iterator[TextFile]:
    """The files of a skill Claude reads as instructions."""
    for f in skill.files:
        if f.text is not None and f.path.suffix.lower() in (".md", ".markdown", ".txt"):
            yield f
