"""Where rendered fragments go, and what that changes in the project's files.

Placement (``claude-md: {placement: ...}`` in skills.yaml):

- ``inline`` (default): one managed block per fragment in ``CLAUDE.md``;
- ``import``: each fragment in ``.claude/skillpm/<name>.md`` and one managed block
  of ``@`` imports in ``CLAUDE.md`` (Claude Code follows them);
- ``rules``: each fragment in ``.claude/rules/<name>.md``, with ``paths:``
  frontmatter when the fragment declares paths.

Generated files hold the same managed block as CLAUDE.md would, so a hand edit
is recognised the same way everywhere. This module reads files and decides;
the installer writes through its transaction.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillpm.content.claudemd import Block, Document, check_markers, merge, parse
from skillpm.content.fragments import IMPORTS_BLOCK, Rendered
from skillpm.errors import ConflictError, FragmentError, ManifestError

PLACEMENTS = ("inline", "import", "rules")
CLAUDE_MD = "CLAUDE.md"
AGENTS_MD = "AGENTS.md"
IMPORT_DIR = ".claude/skillpm"
RULES_DIR = ".claude/rules"
IMPORTS_VERSION = "1"  # format of the @-imports block, not a package version
_GENERATED_REST = re.compile(r"\A(?:---\r?\npaths:\r?\n(?:  - [^\r\n]*\r?\n)+---\r?\n)?\Z")


def placement_of(settings: Mapping[str, Any]) -> str:
    raw = settings.get("claude-md")
    if raw is None:
        return "inline"
    if not isinstance(raw, Mapping):
        raise ManifestError("skills.yaml: claude-md must be a mapping, e.g. {placement: inline}")
    unknown = sorted(str(k) for k in set(raw) - {"placement"})
    if unknown:
        raise ManifestError(
            f"skills.yaml: claude-md: unknown key {unknown[0]!r} (known: placement)"
        )
    placement = raw.get("placement") or "inline"
    if placement not in PLACEMENTS:
        raise ManifestError(
            f"skills.yaml: claude-md.placement must be inline, import or rules, not {placement!r}"
        )
    return str(placement)


def read_text(path: Path) -> str | None:
    """A file's text with every byte kept (``surrogateescape``), or ``None``."""
    try:
        return path.read_bytes().decode("utf-8", "surrogateescape")
    except (FileNotFoundError, NotADirectoryError):
        return None
    except IsADirectoryError:
        raise FragmentError(f"{path.name} is a folder; skillpm needs it to be a file") from None


def encode(text: str | None) -> bytes | None:
    return None if text is None else text.encode("utf-8", "surrogateescape")


def import_path(name: str) -> str:
    return f"{IMPORT_DIR}/{name}.md"


def rules_path(name: str) -> str:
    return f"{RULES_DIR}/{name}.md"


def imports_block(rendered: Sequence[Rendered]) -> Block:
    lines = "".join(f"@{import_path(r.name)}\n" for r in rendered)
    return Block(IMPORTS_BLOCK, IMPORTS_VERSION, lines, order=-1)


def rules_prefix(rendered: Rendered) -> str:
    paths = rendered.fragment.paths
    if not paths:
        return ""
    return "---\npaths:\n" + "".join(f"  - {json.dumps(p)}\n" for p in paths) + "---\n"


@dataclass(frozen=True)
class FileChange:
    rel: str  # posix path relative to the project
    old: str | None
    new: str | None  # None: delete the file


@dataclass(frozen=True)
class EditedBlock:
    """A block whose text no longer matches the hash in its marker."""

    rel: str
    name: str
    current: str  # LF text as edited
    rendered: str | None  # what skillpm would write; None when the block goes away
    action: str  # "kept" (nothing to change), "refused" (needs --force), "overwritten"


@dataclass
class FragmentPlan:
    hashes: dict[str, dict[str, str]] = field(default_factory=dict)  # package -> name -> hash
    changes: list[FileChange] = field(default_factory=list)
    edited: list[EditedBlock] = field(default_factory=list)

    @property
    def refused(self) -> list[EditedBlock]:
        return [e for e in self.edited if e.action == "refused"]


def _decide(
    rel: str, doc: Document, wanted: Mapping[str, Block], names: Collection[str], force: bool
) -> tuple[set[str], list[EditedBlock]]:
    """Which edited blocks to keep as they are, and what to tell the user about each."""
    keep: set[str] = set()
    notes: list[EditedBlock] = []
    for name, found in doc.blocks().items():
        if name not in names or not found.edited:
            continue
        block = wanted.get(name)
        if block is not None and block.content == found.content_lf:
            continue  # the edit is exactly the new text: only the marker changes
        rendered = block.content if block is not None else None
        if force:
            action = "overwritten"
        elif block is not None and block.hash == found.recorded_hash:
            action = "kept"
        else:
            action = "refused"
        if action != "overwritten":
            keep.add(name)
        notes.append(EditedBlock(rel, name, found.content_lf, rendered, action))
    return keep, notes


def _memory_plan(
    root: Path, memory: Collection[str], claude: Sequence[Block], inline: Sequence[Block]
) -> list[tuple[str, Sequence[Block]]]:
    """(file, blocks it should hold) for CLAUDE.md and AGENTS.md, once per real file.

    ``memory`` names the files the targets use; the others lose skillpm's blocks.
    AGENTS.md is always inline: the agents reading it do not follow @-imports.
    """
    wanted = {
        CLAUDE_MD: claude if CLAUDE_MD in memory else [],
        AGENTS_MD: inline if AGENTS_MD in memory else [],
    }
    claude_path, agents_path = root / CLAUDE_MD, root / AGENTS_MD
    if (
        claude_path.exists()
        and agents_path.exists()
        and (claude_path.resolve() == agents_path.resolve())
    ):
        # One file under two names (CLAUDE.md linked to AGENTS.md): one set of blocks.
        return [(CLAUDE_MD, wanted[AGENTS_MD] if AGENTS_MD in memory else wanted[CLAUDE_MD])]
    files: list[tuple[str, Sequence[Block]]] = [(CLAUDE_MD, wanted[CLAUDE_MD])]
    if AGENTS_MD in memory or os.path.lexists(agents_path):
        files.append((AGENTS_MD, wanted[AGENTS_MD]))
    return files


def _claude_md(
    root: Path,
    desired: Sequence[Block],
    owned: Collection[str],
    force: bool,
    leave: Collection[str] = (),
    name: str = "CLAUDE.md",
) -> tuple[FileChange | None, list[EditedBlock]]:
    """CLAUDE.md (or AGENTS.md) with ``desired`` among ``owned``; blocks named in
    ``leave`` stay as they are."""
    path = root / name
    rel, outside = name, None
    if path.is_symlink():
        # Writes replace the path they are given: follow the link (to AGENTS.md, say)
        # so it stays a link and its target gets the blocks.
        target = path.resolve()
        try:
            rel = target.relative_to(root.resolve()).as_posix()
        except ValueError:
            outside = target
    text = read_text(path)
    wanted = {b.name: b for b in desired}
    names = set(owned) | set(wanted) | set(leave)
    doc = parse(text or "")
    check_markers(doc, names, rel)
    keep, notes = _decide(rel, doc, wanted, names - set(leave), force)
    new = merge(text, desired, owned=names, keep=keep | set(leave), where=rel)
    if new == text:
        return None, notes
    if outside is not None:
        raise FragmentError(
            f"{name} links to {outside}, outside the project, and skillpm writes only "
            "inside it; replace the link with a file, or set claude-md: {placement: rules}"
        )
    return FileChange(rel, text, new), notes


def _generated(
    root: Path, rel: str, name: str, block: Block | None, prefix: str, force: bool
) -> tuple[FileChange | None, list[EditedBlock]]:
    """A file skillpm generates whole: ``prefix`` (frontmatter) and one block."""
    text = read_text(root / rel)
    if text is None:
        new = None if block is None else prefix + block.text()
        return (FileChange(rel, None, new) if new is not None else None), []
    doc = parse(text)
    check_markers(doc, {name}, rel)
    found = doc.blocks().get(name)
    rest = "".join(p for p in doc.parts if isinstance(p, str))
    if found is None or not _GENERATED_REST.match(rest):
        if block is None:
            return None, []  # not ours, and not wanted: leave it alone
        if not force:
            raise ConflictError(
                f"{rel} exists and was not written by skillpm; move it away, or pass --force "
                "to replace it"
            )
        return FileChange(rel, text, prefix + block.text()), []
    keep, notes = _decide(rel, doc, {name: block} if block else {}, {name}, force)
    if keep:
        return None, notes
    eol = found.eol
    new = None if block is None else prefix.replace("\n", eol) + block.text(eol)
    return (FileChange(rel, text, new) if new != text else None), notes


def plan_outputs(
    root: Path,
    placement: str,
    rendered: Sequence[Rendered],
    old_names: Collection[str],
    *,
    force: bool,
    memory: Collection[str] = (CLAUDE_MD,),
) -> tuple[list[FileChange], list[EditedBlock]]:
    """The file changes that put ``rendered`` in place and take old fragments away."""
    by_name = {r.name: r for r in rendered}
    every = sorted(set(old_names) | set(by_name))
    if placement == "inline":
        desired = [r.block() for r in rendered]
    elif placement == "import" and rendered:
        desired = [imports_block(rendered)]
    else:
        desired = []
    changes: list[FileChange] = []
    notes: list[EditedBlock] = []
    inline = [r.block() for r in rendered]
    for file, blocks in _memory_plan(root, memory, desired, inline):
        change, found = _claude_md(root, blocks, [*every, IMPORTS_BLOCK], force, name=file)
        changes += [change] if change else []
        notes += found
    for name in every:
        r = by_name.get(name)
        for mode, rel, prefix in (
            ("import", import_path(name), ""),
            ("rules", rules_path(name), rules_prefix(r) if r else ""),
        ):
            used = placement == mode and CLAUDE_MD in memory
            block = r.block() if r is not None and used else None
            change, found = _generated(root, rel, name, block, prefix, force)
            changes += [change] if change else []
            notes += found
    return changes, notes


def plan_removal(
    root: Path,
    placement: str,
    removed: Collection[str],
    staying: Collection[str],
    *,
    force: bool,
    memory: Collection[str] = (CLAUDE_MD,),
) -> tuple[list[FileChange], list[EditedBlock]] | None:
    """Take fragments away without rendering the ones that stay (``None``: cannot).

    Only valid when every fragment is in place as the lock records it and the
    vars are unchanged: then the blocks that stay are already right.
    """
    if tuple(memory) != (CLAUDE_MD,) or os.path.lexists(root / AGENTS_MD):
        return None  # AGENTS.md in play: render, which handles every file
    desired: list[Block] = []
    owned = set(removed)
    if placement == "import":
        imports = parse(read_text(root / CLAUDE_MD) or "").blocks().get(IMPORTS_BLOCK)
        if imports is None or imports.edited:
            return None
        gone = {f"@{import_path(n)}" for n in removed}
        lines = [
            ln for ln in imports.content_lf.splitlines(keepends=True) if ln.strip() not in gone
        ]
        owned.add(IMPORTS_BLOCK)
        if lines:
            desired.append(Block(IMPORTS_BLOCK, IMPORTS_VERSION, "".join(lines), order=-1))
    change, notes = _claude_md(root, desired, owned, force, leave=staying)
    changes = [change] if change else []
    for name in sorted(removed):
        for rel in (import_path(name), rules_path(name)):
            change, found = _generated(root, rel, name, None, "", force)
            changes += [change] if change else []
            notes += found
    return changes, notes


def _intact_everywhere(
    root: Path, placement: str, expected: Mapping[str, str], memory: Collection[str]
) -> bool:
    """``outputs_intact`` when AGENTS.md is in play: inline blocks only, in each file."""
    if placement != "inline":
        return False  # rare: let the render decide
    names = {n: Block(n, "", "") for n in expected}
    for file, wanted in _memory_plan(root, memory, list(names.values()), list(names.values())):
        doc = parse(read_text(root / file) or "")
        blocks = doc.blocks()
        if any(d.name in expected or d.name == IMPORTS_BLOCK for d in doc.damage):
            return False
        if IMPORTS_BLOCK in blocks:
            return False
        for name, digest in expected.items():
            found = blocks.get(name)
            if wanted and (found is None or found.recorded_hash != digest):
                return False
            if not wanted and found is not None:
                return False
    return True


def outputs_intact(
    root: Path,
    placement: str,
    expected: Mapping[str, str],
    memory: Collection[str] = (CLAUDE_MD,),
) -> bool:
    """Cheaply: is every fragment in place with the hash the lock records?

    ``expected`` maps fragment names to rendered hashes. A hand-edited block
    counts as in place (skillpm has nothing to do for it). No Jinja2 here: this
    is what keeps a no-op install fast.
    """
    if tuple(memory) != (CLAUDE_MD,) or os.path.lexists(root / AGENTS_MD):
        return _intact_everywhere(root, placement, expected, memory)
    claude = parse(read_text(root / CLAUDE_MD) or "")
    blocks = claude.blocks()
    if any(d.name in expected or d.name == IMPORTS_BLOCK for d in claude.damage):
        return False
    imports = blocks.get(IMPORTS_BLOCK)
    if placement == "import":
        listed = {line for line in (imports.content_lf if imports else "").split("\n") if line}
        if listed != {f"@{import_path(n)}" for n in expected}:
            return False
    elif imports is not None:
        return False
    for name, digest in expected.items():
        where: dict[str, Document | None] = {
            "inline": claude,
            "import": _parsed(root / import_path(name)),
            "rules": _parsed(root / rules_path(name)),
        }
        for mode, doc in where.items():
            found = doc.blocks().get(name) if doc is not None else None
            if mode == placement:
                if found is None or found.recorded_hash != digest:
                    return False
            elif found is not None:
                return False
    return True


def edited_blocks(root: Path, names: Collection[str], memory: Collection[str]) -> dict[str, str]:
    """The fragments among ``names`` whose managed block was edited by hand (its text no
    longer matches the hash in its begin marker), each with the file that holds it.

    The check lint's DRIFT003 makes; ``list`` and ``doctor`` ask it too, so the three
    agree on what "intact" means. (``outputs_intact`` counts such a block as in place:
    a no-op has nothing to do for it.)
    """
    files = [*memory, *(import_path(n) for n in names), *(rules_path(n) for n in names)]
    edited: dict[str, str] = {}
    for rel in dict.fromkeys(files):
        doc = _parsed(root / rel)
        for name, block in doc.blocks().items() if doc is not None else ():
            if name in names and block.edited:
                edited.setdefault(name, rel)
    return edited


def _parsed(path: Path) -> Document | None:
    text = read_text(path)
    return None if text is None else parse(text)
