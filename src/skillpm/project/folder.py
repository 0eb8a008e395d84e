"""A project folder: its files, its registries, and the lock that serialises runs."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from skillpm import yamlio
from skillpm.errors import LockError, ManifestError, SkillpmError
from skillpm.formats.filenames import LOCK_FILE, MANIFEST_FILE
from skillpm.formats.project_files import (
    BUILTIN,
    Lockfile,
    ProjectManifest,
    lock_from_bytes,
    parse_manifest,
)
from skillpm.project.state import ProjectState, digest
from skillpm.registry.base import Registry, RemoteOptions
from skillpm.registry.open import open_registry
from skillpm.registry.urls import HTTPS, transport_of
from skillpm.resolve.catalog import Sources

USER = "user"
CONFIG_DIR_ENV = "SKILLPM_CONFIG_DIR"


def user_config_dir() -> Path:
    """Where the user scope keeps its skills.yaml and skills.lock (XDG_CONFIG_HOME on Linux)."""
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("skillpm", appauthor=False))


def user_claude_dir() -> Path:
    """Claude Code's own folder: ``~/.claude``, or ``CLAUDE_CONFIG_DIR`` as Claude Code reads it."""
    override = os.environ.get("CLAUDE_CONFIG_DIR")
    return Path(override).expanduser() if override else Path.home() / ".claude"


@dataclass
class Project:
    """A project folder, or (``scope="user"``) the user's own Claude Code setup.

    In user scope ``root`` is ``~/.claude`` (skills in ``~/.claude/skills``,
    fragments in ``~/.claude/CLAUDE.md``) and the manifest and lock live in the
    config dir: nothing is written in the current folder.
    """

    root: Path
    options: RemoteOptions = field(default_factory=RemoteOptions)
    _registries: dict[tuple[str, str], Registry] = field(default_factory=dict)
    scope: str = "project"
    config_dir: Path | None = None  # user scope: where skills.yaml and skills.lock live
    targets: tuple[str, ...] | None = None  # from skills.yaml when None (see targets.py)
    # sha256 of the bytes last read of skills.yaml and skills.lock (None: absent).
    manifest_sha: str | None = None
    lock_sha: str | None = None
    _state: ProjectState | None = None

    @classmethod
    def user(cls, options: RemoteOptions | None = None) -> Project:
        return cls(
            user_claude_dir(), options or RemoteOptions(), scope=USER, config_dir=user_config_dir()
        )

    @property
    def is_user(self) -> bool:
        return self.scope == USER

    @property
    def files_dir(self) -> Path:
        """The folder of skills.yaml and skills.lock."""
        return self.config_dir if self.config_dir is not None else self.root

    @property
    def manifest_path(self) -> Path:
        return self.files_dir / MANIFEST_FILE

    @property
    def lock_path(self) -> Path:
        return self.files_dir / LOCK_FILE

    @property
    def claude_dir(self) -> Path:
        return self.root if self.is_user else self.root / ".claude"

    @property
    def skills_dir(self) -> Path:
        return self.claude_dir / "skills"

    def use_targets(self, manifest: ProjectManifest) -> None:
        """Install for the targets ``manifest`` names (it may not be written yet)."""
        from skillpm.formats.targets import targets_of

        self.targets = targets_of(manifest.settings)

    @property
    def skill_dirs(self) -> list[Path]:
        """Every folder the installed skills go to (one per target)."""
        from skillpm.formats.targets import CLAUDE, SKILLS_DIRS

        if self.is_user:
            return [self.skills_dir]
        if self.targets is None:
            self.use_targets(self.load_manifest())
        return [self.root / SKILLS_DIRS[t] for t in self.targets or (CLAUDE,)]

    @property
    def other_skill_dirs(self) -> list[Path]:
        """Skill folders of targets not in use, where copies of a dropped target may be."""
        from skillpm.formats.targets import SKILLS_DIRS

        if self.is_user:
            return []
        return [
            d for d in (self.root / r for r in SKILLS_DIRS.values()) if d not in self.skill_dirs
        ]

    @property
    def memory_files(self) -> tuple[str, ...]:
        """The instruction files fragments go to: CLAUDE.md and/or AGENTS.md."""
        from skillpm.formats.targets import CLAUDE, MEMORY_FILES

        if self.is_user:
            return (MEMORY_FILES[CLAUDE],)
        if self.targets is None:
            self.use_targets(self.load_manifest())
        return tuple(MEMORY_FILES[t] for t in self.targets or (CLAUDE,))

    @property
    def staging_root(self) -> Path:
        # Beside .claude/skills, never inside it: Claude Code reads every folder there.
        return self.claude_dir / ".skillpm-staging"

    def manifest_text(self) -> str | None:
        try:
            raw = self.manifest_path.read_bytes()
        except FileNotFoundError:
            self.manifest_sha = None
            return None
        except OSError as exc:
            raise ManifestError(f"{MANIFEST_FILE}: cannot read: {exc.strerror}") from None
        self.manifest_sha = digest(raw)
        return yamlio.decode(raw, MANIFEST_FILE)

    def load_manifest(self, text: str | None = None) -> ProjectManifest:
        text = self.manifest_text() if text is None else text
        if text is None:
            return ProjectManifest()
        if not text.strip() and self.lock_path.exists():
            # Most often a write cut short: read as "no dependencies", it would uninstall
            # everything the lock holds. (With no lock yet, it is a file to add to.)
            raise ManifestError(
                f"{MANIFEST_FILE}:1: the file is empty; restore it (from git, say), or write "
                "'dependencies: {}' in it to remove every package"
            )
        return parse_manifest(yamlio.loads(text, MANIFEST_FILE, unique_keys=True), MANIFEST_FILE)

    def load_lock(self) -> Lockfile | None:
        try:
            raw = self.lock_path.read_bytes()
        except FileNotFoundError:
            self.lock_sha = None
            return None
        except OSError as exc:
            raise LockError(f"{LOCK_FILE}: cannot read: {exc.strerror}") from None
        self.lock_sha = digest(raw)
        return lock_from_bytes(raw, LOCK_FILE)

    @property
    def state(self) -> ProjectState:
        """What skillpm last verified here (the stat cache of installstate)."""
        if self._state is None:
            self._state = ProjectState(self.root)
        return self._state

    def registry(self, name: str, url: str) -> Registry:
        key = (name, url)
        if key not in self._registries:
            self._registries[key] = open_registry(name, url, self.files_dir, self.options)
        return self._registries[key]

    def sources(self, manifest: ProjectManifest) -> Sources:
        """The manifest's registries in order, then the built-in one."""
        regs = [self.registry(n, u) for n, u in manifest.registries]
        regs.append(self.registry(BUILTIN, BUILTIN))
        return Sources(regs)


def registry_name_for(url: str, manifest: ProjectManifest) -> str:
    """A readable, unused name for a registry given on the command line."""
    for name, existing in manifest.registries:
        if existing == url:
            return name
    stem = re.sub(r"\.git$", "", url.rstrip("/").split("#")[0]).rsplit("/", 1)[-1]
    if transport_of(url) == HTTPS:
        from urllib.parse import urlsplit

        # A site's folder name, else its host: never a port number or a credential.
        parts = urlsplit(url)
        stem = parts.path.rstrip("/").rsplit("/", 1)[-1] or parts.hostname or ""
    stem = re.sub(r"[^a-z0-9]+", "-", stem.rsplit(":", 1)[-1].lower()).strip("-") or "registry"
    taken = {n for n, _ in manifest.registries} | {BUILTIN}
    name, i = stem[:60], 2
    while name in taken:
        name, i = f"{stem[:58]}-{i}", i + 1
    return name


def parse_install_spec(spec: str) -> tuple[str, str | None, str | None]:
    """``name``, ``name/skill`` or either with ``@range``: (name, skill, range)."""
    from skillpm.formats.index import check_name

    target, _, rng = spec.partition("@")
    name, slash, skill = target.strip().partition("/")
    try:
        check_name(name, f"{spec!r}", "package name")
        if slash:
            check_name(skill, f"{spec!r}", "skill name")
    except SkillpmError as exc:  # an unsafe name too: one kind of error for a bad spec
        raise ManifestError(str(exc)) from None
    return name, (skill if slash else None), _range(spec, rng)


def _range(spec: str, rng: str) -> str | None:
    from skillpm.formats.ranges import parse_range

    if not rng.strip():
        return None
    try:
        parse_range(rng.strip())
    except ValueError as exc:
        raise ManifestError(f"{spec!r}: {exc}") from None
    return rng.strip()
