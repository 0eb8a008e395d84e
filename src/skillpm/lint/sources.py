"""Everything ``lint`` reads, gathered into one ``Workspace``.

This is the I/O edge of the linter: it finds the skills, fragments, packages and
project files behind the paths it is given and reads each file once. The rule
families are pure functions of the workspace. Whatever cannot be read becomes a
``Problem`` for a family to report, never an exception, so one broken package
does not hide the findings of the others.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from skillpm import yamlio
from skillpm.errors import SkillpmError, split_error
from skillpm.formats.filenames import LOCK_FILE, MANIFEST_FILE
from skillpm.lint.discovery import PackageParts, find_layout, lenient_manifest
from skillpm.lint.model import Location
from skillpm.lint.workspace import (
    Fragment,
    Package,
    Problem,
    ProjectFiles,
    Skill,
    TextFile,
    Workspace,
    parse_frontmatter,
)
from skillpm.publish.prepare import NOT_PUBLISHED  # what never ships is not linted either

MAX_SCAN_BYTES = 2 * 1024 * 1024  # larger files are reported, not read
ARGS_GROUP = "arguments"  # the context shared by every package, skill and registry argument


def read_fragment(file: TextFile, package: str, version: str) -> tuple[Any, SkillpmError | None]:
    """A fragment parsed by the fragments module, exactly as install will read it."""
    from skillpm.content.fragments import parse_fragment

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

    def _rel(self, real: Path) -> str:
        """The display path of a path known to be canonical (no links, absolute)."""
        try:
            return real.relative_to(self.ws.base).as_posix() or "."
        except ValueError:
            return real.as_posix()

    def read(
        self,
        path: Path,
        package: str | None,
        st: os.stat_result | None = None,
        *,
        canonical: bool = False,
    ) -> TextFile:
        # A walk meets canonical paths only; resolving each of its files again costs
        # system calls that add up over thousands of files.
        key = path if canonical else path.resolve()
        if key in self.ws.files:
            return self.ws.files[key]
        st = st or path.stat()
        text: str | None = None
        unread = f"larger than {MAX_SCAN_BYTES // 1024} KiB, so not read"
        if st.st_size <= MAX_SCAN_BYTES:
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raw, unread = b"", f"unreadable ({exc.strerror})"
                self.problem("unreadable", Location(self.display(path), None, package), unread)
            if b"\0" in raw:
                unread = "binary (it holds NUL bytes)"
            else:
                try:
                    text, unread = raw.decode("utf-8"), ""
                except UnicodeDecodeError as exc:
                    unread = f"not UTF-8 text (byte {exc.start + 1})"
        shown = self._rel(path) if canonical else self.display(path)
        file = TextFile(path, shown, st.st_size, bool(st.st_mode & 0o111), text, package, unread)
        self.ws.files[key] = file
        return file

    def walk(self, folder: Path, package: str | None) -> list[TextFile]:
        """Every regular file under ``folder``; links are reported and not followed."""
        files: list[TextFile] = []
        pending = [folder.resolve()]
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
                    files.append(self.read(path, package, st, canonical=True))
        files.sort(key=lambda f: f.rel)
        return files

    def problem(self, kind: str, where: Location, message: str, hint: str = "") -> None:
        found = Problem(kind, where, message, hint)
        if found not in self.ws.problems:  # a package walk meets its skills' links again
            self.ws.problems.append(found)

    # -- units -----------------------------------------------------------------------------

    def add_skill(self, folder: Path, package: str | None, group: str | None) -> Skill:
        real = folder.resolve()
        files = self.walk(real, package)
        skill_md = next(
            (f for f in files if f.path.parent == real and f.path.name == "SKILL.md"), None
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
            self.problem("unreadable", skill_md.at(), f"SKILL.md is {skill_md.unread}")
        else:
            fm = parse_frontmatter(skill_md.text, skill_md.rel)
        skill = Skill(real, self.display(folder), folder.name, package, group, files, skill_md, fm)
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
        if file.text is None:
            self.problem("unreadable", file.at(), f"the fragment is {file.unread}")
        fm = parse_frontmatter(file.text, file.rel) if file.text is not None else None
        parsed, error = read_fragment(file, package or path.stem, version)
        self.ws.fragments.append(Fragment(file, path.stem, package, group, fm, parsed, error))

    def add_package(self, root: Path, group: str | None) -> None:
        from skillpm.formats.index import MANIFEST_NAME, load_package_manifest

        manifest_file = self.read(root / MANIFEST_NAME, None)
        try:
            manifest = load_package_manifest(root)
            parts = PackageParts(
                manifest.name, manifest.version, manifest.skills, manifest.fragments
            )
        except SkillpmError as exc:
            line, message = split_error(exc, str(root / MANIFEST_NAME))
            self.problem("manifest", manifest_file.at(line), message)
            # Lint on with what the manifest still says: one error hides nothing else.
            parts = lenient_manifest(root, _yaml_data(manifest_file))
        manifest_file.package = parts.name
        if group is not None and any(
            p.name == parts.name and p.group == group for p in self.ws.packages
        ):
            # The same package twice (its source folder and its published copy, say) is
            # never installed twice: the first one given stands for it in the context.
            group = None
        self.ws.packages.append(
            Package(root, self.display(root), parts.name, parts.version, group, manifest_file)
        )
        for rel in parts.skills:
            folder = root / rel
            if folder.is_dir():
                self.add_skill(folder, parts.name, group)
            else:
                self.problem(
                    "manifest",
                    manifest_file.at(None),
                    f"skill folder {rel} is listed but missing",
                )
        for rel in parts.fragments:
            self.add_fragment(root / rel, parts.name, parts.version, group)
        # Other files of the package (README, templates) are scanned for secrets too.
        self.walk(root, parts.name)

    def add_catalog(self, root: Path) -> bool:
        """A repository of skills or plugins, each package checked on its own: a catalog's
        packages are never all installed together, so they share no context."""
        from skillpm.registry.marketplace import MARKETPLACE_FILE

        layout = find_layout(root)
        if layout is None:
            return False
        for message in layout.problems:
            self.problem("manifest", Location(self.display(root / MARKETPLACE_FILE)), message)
        self.ws.not_checked += len(layout.not_checked)
        known = {s.folder for s in self.ws.skills}
        for package, folders in layout.packages:
            group = f"catalog:{self.display(root)}:{package}"
            for folder in folders:
                path = root / folder
                if path.is_dir() and path.resolve() not in known:
                    owner = package if layout.kind == "marketplace" else None
                    known.add(self.add_skill(path, owner, group).folder)
        return bool(layout.packages or layout.problems or layout.not_checked)

    def add_registry(self, root: Path) -> None:
        from skillpm.formats.index import load_index, newest, sorted_versions

        try:
            index = load_index(root / "index.json", self.display(root))
        except SkillpmError as exc:
            self.problem("manifest", Location(self.display(root / "index.json")), str(exc))
            return
        for _name, versions in sorted(index.packages.items()):
            ordered = [e for _, e in sorted_versions(versions)]
            latest = newest(ordered, prereleases=True) or (ordered[-1] if ordered else None)
            for entry in ordered if self.all_versions else ([latest] if latest else []):
                if entry.path is None:
                    continue
                # A registry is a catalog: each package is a context of its own.
                group = f"registry:{self.display(root)}:{entry.name}" if entry is latest else None
                self.add_package(root / entry.path, group)

    def add_project(self, root: Path) -> None:
        from skillpm.content.fragment_plan import CLAUDE_MD, IMPORT_DIR, RULES_DIR
        from skillpm.install.installed import installed_copies
        from skillpm.project.folder import Project
        from skillpm.registry.base import RemoteOptions

        group = f"project:{self.display(root)}"
        # Lint never touches the network: a git registry's packages come from the cache.
        project = Project(root, RemoteOptions(offline=True))
        manifest, manifest_file = self._manifest(project)
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
        # Every target's folder (.claude/skills, .agents/skills); a skill in two of them is
        # the same skill for two agents, linted once (drift compares every copy).
        seen: set[str] = set()
        for folder in project.skill_dirs:
            if not folder.is_dir():
                continue
            for item in sorted(folder.iterdir(), key=lambda p: p.name):
                if item.is_dir() and not item.name.startswith(".") and item.name not in seen:
                    seen.add(item.name)
                    self.add_skill(item.resolve(), owners.get(item.name), group)
        # The files fragments go to (CLAUDE.md, AGENTS.md), and .claude/CLAUDE.md, which
        # Claude Code reads too. One file under two names (a link) is read once.
        memory: list[TextFile] = []
        for name in dict.fromkeys([*project.memory_files, CLAUDE_MD, ".claude/CLAUDE.md"]):
            if (root / name).is_file():
                file = self.read(root / name, None)
                if all(file is not known for known in memory):
                    memory.append(file)
        # Where fragments are placed (fragment_plan): CLAUDE.md, or generated files that
        # Claude Code reads as well (claude-md: {placement: import | rules}).
        generated = [
            self.read(p, None)
            for folder in (root / IMPORT_DIR, root / RULES_DIR)
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
                {
                    skill: {self.display(d): h for d, h in copies.items()}
                    for skill, copies in installed_copies(project, lock).items()
                },
                memory,
                generated,
            )
        )
        if manifest is not None:
            self.ws.vars[group] = manifest.vars
        if lock is not None:
            self._locked_fragments(project, manifest, lock, group)

    def _manifest(self, project: Any) -> tuple[Any, TextFile | None]:
        """The project's skills.yaml, read once, and the targets it names (else the default)."""
        from skillpm.formats.project_files import ProjectManifest

        manifest = manifest_file = None
        if project.manifest_path.is_file():
            manifest_file = self.read(project.manifest_path, None)
            text = manifest_file.text
            try:
                # Text lint could not read is read by the project, for its exact error.
                manifest = project.load_manifest(
                    text.removeprefix("\ufeff") if text is not None else None
                )
                project.use_targets(manifest)
            except SkillpmError as exc:
                line, message = split_error(exc, MANIFEST_FILE)
                self.problem("manifest", manifest_file.at(line), message)
        if project.targets is None:
            project.use_targets(ProjectManifest())
        return manifest, manifest_file

    def _locked_fragments(self, project: Any, manifest: Any, lock: Any, group: str) -> None:
        """The fragments of each locked package, from a verified copy (as install reads them)."""
        from skillpm.formats.index import MANIFEST_NAME, load_package_manifest
        from skillpm.formats.project_files import ProjectManifest
        from skillpm.install.package_copies import package_source

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
            if _repository(root):
                self.add_catalog(root)
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
            if _repository(path):
                self.add_catalog(path)
        else:
            packages = [c for c in sorted(path.iterdir()) if (c / "skillpm.yaml").is_file()]
            for child in packages:
                self.add_package(child, ARGS_GROUP)
            # Then skills in any layout registry add reads (those of the packages known).
            return self.add_catalog(path) or bool(packages)
        return True

    def _add_file(self, path: Path) -> bool:
        name = path.name
        if name == "index.json":
            self.add_registry(path.parent)
            return True
        if name in (MANIFEST_FILE, LOCK_FILE, "CLAUDE.md"):
            self.add_project(path.parent)
            return True
        for parent in path.parents:
            if (parent / "skillpm.yaml").is_file() or (parent / "SKILL.md").is_file():
                return self.add_path(parent)
        return False


def is_project(path: Path) -> bool:
    return (
        (path / MANIFEST_FILE).is_file()
        or (path / ".claude" / "skills").is_dir()
        or (path / "CLAUDE.md").is_file()
    )


def _repository(path: Path) -> bool:
    """A folder with a CLAUDE.md or .claude/skills that is neither a skillpm project nor a
    package: a repository of skills, whose skills are checked too."""
    return not (path / MANIFEST_FILE).is_file() and not (path / "skillpm.yaml").is_file()


def _yaml_data(file: TextFile) -> object:
    """A file's YAML, or None when it is not valid YAML (the error is reported already)."""
    try:
        return yamlio.loads(file.text, file.rel) if file.text else None
    except SkillpmError:
        return None
