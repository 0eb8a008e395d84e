"""Skill repositories without skillpm files, found as ``registry add`` finds them.

A Claude Code marketplace (``.claude-plugin/marketplace.json``) offers plugins, each
with the skills of its ``skills`` list or ``skills/`` folder; a plain repository
offers its skill folders (``skills/*/SKILL.md``, ``.claude/skills/*``, ``SKILL.md``
folders a few levels deep). Which layouts exist and how they are read belongs to
the registry (``registry.repo_layouts``): lint reads a local folder through the
same functions, so lint and install never disagree about what a repository
holds. The one difference: lint keeps skills whose names install would refuse,
to report them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from skillpm.errors import SkillpmError
from skillpm.registry import marketplace as mp
from skillpm.registry.git_commands import TreeEntry
from skillpm.registry.plugin_layout import marketplace_catalog
from skillpm.registry.repo_layouts import Reader, Tree, plain_skill_folders

# Folders that never hold a repository's skills, and are often huge.
_SKIPPED = frozenset({".git", "node_modules", "__pycache__", ".venv", "venv", ".tox"})


@dataclass(frozen=True)
class Layout:
    kind: str  # "marketplace" or "skills"
    packages: tuple[tuple[str, tuple[str, ...]], ...]  # (package, its skill folders), posix
    not_checked: tuple[str, ...] = ()  # plugins stored elsewhere or without skills
    problems: tuple[str, ...] = ()  # what the marketplace file gets wrong


def folder_tree(root: Path) -> dict[str, TreeEntry]:
    """The files under ``root`` as git's ``ls-tree -r`` lists them (links not followed)."""
    files: dict[str, TreeEntry] = {}
    pending = [root]
    while pending:
        current = pending.pop()
        try:
            items = list(os.scandir(current))
        except OSError:
            continue  # an unreadable folder holds nothing lint can check
        for item in items:
            st = item.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                if item.name not in _SKIPPED:
                    pending.append(Path(item.path))
                continue
            rel = Path(item.path).relative_to(root).as_posix()
            if stat.S_ISLNK(st.st_mode):
                files[rel] = TreeEntry("120000", "blob", rel, rel)
            elif stat.S_ISREG(st.st_mode):
                mode = "100755" if st.st_mode & 0o111 else "100644"
                files[rel] = TreeEntry(mode, "blob", rel, rel)
    return files


def _reader(root: Path) -> Reader:
    def read(paths: Sequence[str], oids: Sequence[str], what: str) -> Mapping[str, bytes]:
        # The "object id" of a local file is its path.
        return {oid: (root / oid).read_bytes() for oid in oids}

    return read


def find_layout(root: Path) -> Layout | None:
    """The packages a repository folder offers, or None when it offers none."""
    files = folder_tree(root)
    if mp.MARKETPLACE_FILE in files:
        return _marketplace(root, files)
    folders = plain_skill_folders(files)
    if not folders:
        return None
    return Layout("skills", tuple((Path(f).name, (f,)) for f in folders))


def _marketplace(root: Path, files: Mapping[str, TreeEntry]) -> Layout:
    read = _reader(root)
    try:
        # No commit: lint reads the folder as it is, and never opens remote plugins.
        catalog = marketplace_catalog(Tree("", files, read), root.name, strict_names=False)
    except SkillpmError as exc:
        return Layout("marketplace", (), problems=(str(exc),))
    packages = tuple(
        (name, tuple(folder for _, folder in offer.skills))
        for name, offer in sorted(catalog.offers.items())
    )
    # Plugins kept in another repository have nothing here to lint.
    skipped: list[str] = sorted(catalog.remote)
    problems: list[str] = []
    for name, why in sorted(catalog.unavailable.items()):
        # Neither have plugins made of commands and agents only, nor renamed ones; a
        # plugin pointing at a missing folder or skills path is the file's fault.
        elsewhere = any(words in why for words in (" source", "has no skills", "was renamed"))
        (skipped if elsewhere else problems).append(name if elsewhere else why)
    problems += [f"{mp.MARKETPLACE_FILE}: {note}" for note in catalog.notes]
    return Layout("marketplace", packages, tuple(skipped), tuple(problems))


@dataclass(frozen=True)
class PackageParts:
    """What a package's skillpm.yaml lists, read leniently when it is broken."""

    name: str
    version: str
    skills: tuple[str, ...]
    fragments: tuple[str, ...]


def lenient_manifest(root: Path, data: object) -> PackageParts:
    """The name, skills and fragments a broken ``skillpm.yaml`` still names (else the
    defaults), so that one error in a manifest hides none of the package's other findings."""
    fields = data if isinstance(data, Mapping) else {}
    name = fields.get("name")
    version = fields.get("version")
    return PackageParts(
        name if isinstance(name, str) and name.strip() else root.name,
        str(version) if version is not None else "0.0.0",
        _listed(fields.get("skills"), sorted(root.glob("skills/*/SKILL.md")), root, parent=True),
        _listed(fields.get("fragments"), sorted(root.glob("fragments/*.md")), root, parent=False),
    )


def _listed(value: object, defaults: list[Path], root: Path, *, parent: bool) -> tuple[str, ...]:
    if value is None:
        return tuple((p.parent if parent else p).relative_to(root).as_posix() for p in defaults)
    items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    # Only paths inside the package: a broken manifest must not send lint elsewhere.
    return tuple(
        item
        for item in items
        if isinstance(item, str) and item and not item.startswith("/") and ".." not in item
    )
