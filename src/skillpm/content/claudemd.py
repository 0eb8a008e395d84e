"""Managed blocks in CLAUDE.md: pure text-in, text-out merge and removal.

A block is the text between two marker lines (DESIGN 5)::

    <!-- skillpm:begin NAME VERSION sha256:HEX -->
    ...rendered fragment...
    <!-- skillpm:end NAME -->

The hash covers the block's text with LF line endings, so a file checked out
with CRLF is not mistaken for an edited one. Everything outside the markers is
the user's and comes back byte for byte: the file's own line ending is reused for
the blocks, and the one line break skillpm adds before a run of blocks appended
at the end of the file is taken away again with the last of them. ``None`` stands
for "no file": blocks merged into no file make a file of blocks only, and
removing the last of them gives ``None`` back (the file is deleted).

Nothing here does I/O; text is ``str`` decoded with ``surrogateescape`` so any
bytes survive the round trip.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from skillpm.errors import FragmentError

BEGIN_RE = re.compile(
    r"<!-- skillpm:begin (?P<name>[a-z0-9][a-z0-9-]*) (?P<version>\S+) "
    r"(?P<hash>sha256:[0-9a-f]{64}) -->"
)
END_RE = re.compile(r"<!-- skillpm:end (?P<name>[a-z0-9][a-z0-9-]*) -->")
# Loose forms, to tell a damaged marker from ordinary text.
LOOSE_BEGIN = re.compile(r"<!--\s*skillpm:begin\s+(?P<name>[a-z0-9-]+)")
LOOSE_END = re.compile(r"<!--\s*skillpm:end\s+(?P<name>[a-z0-9-]+)")
# A CommonMark code fence: up to three spaces, then three or more backticks or tildes.
_FENCE = re.compile(r" {0,3}(?P<run>`{3,}|~{3,})(?P<info>.*)")


def content_hash(content: str) -> str:
    """``sha256:`` of a block's text, line endings normalised to LF."""
    data = content.replace("\r\n", "\n").encode("utf-8", "surrogateescape")
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Block:
    """A block skillpm wants in the file. ``content`` is LF text ending in a newline."""

    name: str
    version: str
    content: str
    order: int = 100

    @property
    def hash(self) -> str:
        return content_hash(self.content)

    @property
    def key(self) -> tuple[int, str]:
        return (self.order, self.name)

    def text(self, eol: str = "\n") -> str:
        body = self.content.replace("\n", eol)
        return (
            f"<!-- skillpm:begin {self.name} {self.version} {self.hash} -->{eol}"
            f"{body}<!-- skillpm:end {self.name} -->{eol}"
        )


@dataclass(frozen=True)
class Existing:
    """A block as found in a file."""

    name: str
    version: str
    recorded_hash: str
    raw: str  # begin line through end line, as in the file
    content: str  # the lines between the markers, as in the file
    line: int  # 1-based line of the begin marker

    @property
    def eol(self) -> str:
        first = self.raw.split("\n", 1)[0]
        return "\r\n" if first.endswith("\r") else "\n"

    @property
    def content_lf(self) -> str:
        return self.content.replace("\r\n", "\n")

    @property
    def actual_hash(self) -> str:
        return content_hash(self.content)

    @property
    def edited(self) -> bool:
        return self.actual_hash != self.recorded_hash


@dataclass(frozen=True)
class Damage:
    """A marker line without its partner."""

    name: str
    line: int
    what: str


@dataclass
class Document:
    """A file as alternating user text (``str``) and blocks (``Existing``)."""

    parts: list[str | Existing] = field(default_factory=list)
    damage: list[Damage] = field(default_factory=list)

    def blocks(self) -> dict[str, Existing]:
        found: dict[str, Existing] = {}
        for part in self.parts:
            if isinstance(part, Existing):
                found.setdefault(part.name, part)
        return found

    def text(self) -> str:
        return "".join(p if isinstance(p, str) else p.raw for p in self.parts)


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split on LF only (a lone CR is not a line break here)."""
    pieces = text.split("\n")
    lines = [p + "\n" for p in pieces[:-1]]
    if pieces[-1]:
        lines.append(pieces[-1])
    return lines


def _bare(line: str) -> str:
    if line.endswith("\n"):
        line = line[:-1]
        if line.endswith("\r"):
            line = line[:-1]
    return line


def _fence_end(lines: list[str], start: int, unclosed: dict[str, int]) -> int | None:
    """The index of the line closing a code fence opened at ``start``, if one opens there.

    Markers shown inside fenced code (an example in a hand-written CLAUDE.md) are
    text. A fence never closed is not honoured: by CommonMark it runs to the end of
    the file, and would hide every real block after it. ``unclosed`` keeps, per fence
    character, the shortest run found without a closing line: a longer one later
    cannot close either, so no stretch of lines is scanned again for nothing.
    """
    opening = _FENCE.fullmatch(_bare(lines[start]))
    if opening is None or (opening["run"][0] == "`" and "`" in opening["info"]):
        return None
    run = opening["run"]
    shortest_unclosed = unclosed.get(run[0])
    if shortest_unclosed is not None and len(run) >= shortest_unclosed:
        return None
    for j in range(start + 1, len(lines)):
        closing = _FENCE.fullmatch(_bare(lines[j]))
        if (
            closing is not None
            and closing["run"][0] == run[0]
            and len(closing["run"]) >= len(run)
            and not closing["info"].strip()
        ):
            return j
    unclosed[run[0]] = len(run)
    return None


def parse(text: str) -> Document:
    """Find every well-formed block; damaged markers are reported, not guessed at.
    Lines of a closed code fence outside blocks are text, markers or not."""
    lines = split_lines(text)
    doc = Document()
    pending: list[str] = []
    unclosed: dict[str, int] = {}
    i = 0
    while i < len(lines):
        fence_end = _fence_end(lines, i, unclosed)
        if fence_end is not None:
            pending.extend(lines[i : fence_end + 1])
            i = fence_end + 1
            continue
        begin = BEGIN_RE.fullmatch(_bare(lines[i]))
        if begin is None:
            end = END_RE.fullmatch(_bare(lines[i])) or LOOSE_END.match(_bare(lines[i]))
            loose = LOOSE_BEGIN.match(_bare(lines[i]))
            if end is not None:
                doc.damage.append(Damage(end["name"], i + 1, "an end marker without a begin"))
            elif loose is not None:
                doc.damage.append(Damage(loose["name"], i + 1, "a malformed begin marker"))
            pending.append(lines[i])
            i += 1
            continue
        name = begin["name"]
        close = None
        for j in range(i + 1, len(lines)):
            bare = _bare(lines[j])
            if BEGIN_RE.fullmatch(bare) or LOOSE_BEGIN.match(bare):
                break
            end = END_RE.fullmatch(bare)
            if end is not None:
                if end["name"] == name:
                    close = j
                break
        if close is None:
            doc.damage.append(Damage(name, i + 1, "a begin marker without its end marker"))
            pending.append(lines[i])
            i += 1
            continue
        if pending:
            doc.parts.append("".join(pending))
            pending = []
        doc.parts.append(
            Existing(
                name=name,
                version=begin["version"],
                recorded_hash=begin["hash"],
                raw="".join(lines[i : close + 1]),
                content="".join(lines[i + 1 : close]),
                line=i + 1,
            )
        )
        i = close + 1
    if pending:
        doc.parts.append("".join(pending))
    return doc


def check_markers(doc: Document, names: Collection[str], where: str) -> None:
    """Refuse to touch a file whose markers for ``names`` are damaged or doubled."""
    for damage in doc.damage:
        if damage.name in names:
            raise FragmentError(
                f"{where}:{damage.line}: {damage.what} for {damage.name}; restore the "
                f"'<!-- skillpm:begin/end {damage.name} -->' marker lines (or delete the whole "
                "block), then run skillpm again"
            )
    seen: dict[str, int] = {}
    for part in doc.parts:
        if isinstance(part, Existing) and part.name in names:
            if part.name in seen:
                raise FragmentError(
                    f"{where}:{part.line}: a second block for {part.name} (the first is at line "
                    f"{seen[part.name]}); delete one of them, then run skillpm again"
                )
            seen[part.name] = part.line


def detect_eol(doc: Document, relevant: Collection[str]) -> str:
    """The line ending to write: that of an existing block, else the file's first one."""
    for part in doc.parts:
        if isinstance(part, Existing) and part.name in relevant:
            return part.eol
    text = doc.text()
    at = text.find("\n")
    return "\r\n" if at > 0 and text[at - 1] == "\r" else "\n"


def _strip_eol(text: str, eol: str) -> str:
    if text.endswith(eol):
        return text[: -len(eol)]
    if text.endswith("\n"):
        return text[:-1]
    return text


def merge(
    text: str | None,
    blocks: Sequence[Block],
    owned: Collection[str] = (),
    keep: Collection[str] = (),
    *,
    where: str = "CLAUDE.md",
) -> str | None:
    """Make ``text`` hold exactly ``blocks`` among the blocks skillpm manages.

    ``owned`` names blocks skillpm put there before: those not in ``blocks`` are
    removed. Blocks of other names are the user's text. Blocks named in ``keep``
    are left exactly as found (a hand edit skillpm must not overwrite). Existing
    blocks stay where they are; new ones go beside them in ``(order, name)``
    order, or after the user's text when there are none.
    """
    wanted = {b.name: b for b in blocks}
    relevant = set(owned) | set(wanted)
    if text is None:
        if not blocks:
            return None
        return "".join(b.text() for b in sorted(blocks, key=lambda b: b.key))
    doc = parse(text)
    check_markers(doc, relevant, where)
    eol = detect_eol(doc, relevant)
    # Blocks of names skillpm does not manage are the user's text.
    parts: list[str | Existing] = []
    for part in doc.parts:
        if isinstance(part, Existing) and part.name not in relevant:
            part = part.raw
        if isinstance(part, str) and parts and isinstance(parts[-1], str):
            parts[-1] += part
        else:
            parts.append(part)
    had_tail = bool(parts) and isinstance(parts[-1], Existing)

    # Remove blocks no longer wanted, and replace the wanted ones in place.
    out: list[str | Block | Existing] = []
    for part in parts:
        if isinstance(part, Existing):
            if part.name in keep:
                out.append(part)
            elif part.name in wanted:
                out.append(wanted[part.name])
            continue  # removed
        out.append(part)
    present = {p.name for p in out if not isinstance(p, str)}
    if had_tail and not isinstance(out[-1] if out else None, Block | Existing):
        # The run of blocks at the end is gone: take back the line break added before it.
        if out and isinstance(out[-1], str):
            out[-1] = _strip_eol(out[-1], eol)
        elif not out:
            return _finish(out, blocks, present, eol, created=True)
    return _finish(out, blocks, present, eol, created=False)


def _finish(
    out: list[str | Block | Existing],
    blocks: Sequence[Block],
    present: set[str],
    eol: str,
    *,
    created: bool,
) -> str | None:
    new = sorted((b for b in blocks if b.name not in present), key=lambda b: b.key)
    order = {b.name: b.key for b in blocks}
    for block in new:
        managed = [i for i, p in enumerate(out) if not isinstance(p, str)]
        if not managed:
            if not created:
                tail = out[-1] if out else ""
                if out and isinstance(tail, str):
                    out[-1] = tail + eol
                else:
                    out.append(eol)
            out.append(block)
            created = False
            continue
        later = [i for i in managed if order.get(_name(out[i]), (1 << 62, "")) > block.key]
        out.insert(later[0] if later else managed[-1] + 1, block)
    if not out:
        return None if created else ""
    return "".join(
        p if isinstance(p, str) else p.raw if isinstance(p, Existing) else p.text(eol) for p in out
    )


def _name(part: str | Block | Existing) -> str:
    return "" if isinstance(part, str) else part.name


def remove(text: str | None, names: Collection[str], *, where: str = "CLAUDE.md") -> str | None:
    """``text`` without the blocks named ``names`` (``None``: delete the file)."""
    if text is None:
        return None
    return merge(text, (), owned=names, where=where)
