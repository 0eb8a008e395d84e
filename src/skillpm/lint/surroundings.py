"""Where a line of markdown sits: in a code block, in a table, in a section about attacks.

A security skill documents attacks verbatim: the payload of a real incident in a
code block under "### Attack", a table of injection phrasings to detect. The
same words are an attack in a skill's instructions and a quotation in such a
section, so the safety rules ask where a line is before they call it an error.
Only markdown has these structures; every other file is plain text.

Everything works on the lower-cased text with ``str.find``, and only for files
that hold a trigger word at all (see ``safety.scan_text``).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

MARKDOWN = frozenset({".md", ".markdown", ".mdx", ".txt"})
# Headings that announce material about attacks rather than instructions.
_ATTACK_HEADING = re.compile(
    r"\b(attacks?|attacker|exploits?|exploitation|vulnerab\w*|malicious|threats?|injection|"
    r"payloads?|red team\w*|anti-?patterns?|insecure|dangerous|unsafe)\b"
)


def line_numbers(text: str, positions: list[int]) -> list[int]:
    """The distinct 1-based line numbers of ``positions`` in ``text``, in order.

    Counting line breaks between sorted positions is linear and runs in C; a table of
    every line start costs more than the few lines a skill has hits on.
    """
    numbers: list[int] = []
    line, last = 1, 0
    for at in sorted(positions):
        line += text.count("\n", last, at)
        last = at
        if not numbers or numbers[-1] != line:
            numbers.append(line)
    return numbers


def _starts_of(text: str, token: str, *, indent: str) -> list[int]:
    """Where the lines that start with ``token`` (after ``indent`` characters) start."""
    found = []
    at = text.find(token)
    while at != -1:
        start = text.rfind("\n", 0, at) + 1
        if not text[start:at].strip(indent):
            found.append(start)
        end = text.find("\n", at)
        at = text.find(token, end) if end != -1 else -1
    return found


@dataclass(frozen=True)
class Surroundings:
    fences: list[int] = field(default_factory=list)  # line numbers of ``` and ~~~ lines
    headings: list[int] = field(default_factory=list)  # line numbers of headings
    attack: list[bool] = field(default_factory=list)  # per heading: a section about attacks
    markdown: bool = False

    def code_block(self, number: int) -> bool:
        # Inside a code block when an odd number of fence lines come before the line.
        return bisect_right(self.fences, number - 1) % 2 == 1

    def about_attacks(self, number: int) -> bool:
        at = bisect_right(self.headings, number - 1) - 1
        return at >= 0 and self.attack[at]

    def mention(self, number: int, line: str) -> str:
        """Why the line only shows what it says, or "" for plain instructions."""
        if self.code_block(number):
            return "in a code block"
        if self.markdown and line.lstrip().startswith("|"):
            return "in a table"
        return self.attack_section(number)

    def attack_section(self, number: int) -> str:
        return "in a section about attacks" if self.about_attacks(number) else ""


PLAIN = Surroundings()


def surroundings(low: str, lines: list[str]) -> Surroundings:
    """The code blocks and sections of a lower-cased markdown text."""
    # The zero-width space some templates put before a fence, to show it as text.
    fence_starts = _starts_of(low, "```", indent=" \t\u200b") + _starts_of(
        low, "~~~", indent=" \t\u200b"
    )
    fences = line_numbers(low, fence_starts)
    plain = Surroundings(fences)
    headings: list[int] = []
    attack: list[bool] = []
    path: list[tuple[int, bool]] = []  # (level, about attacks) of the enclosing headings
    for number in line_numbers(low, _starts_of(low, "#", indent="")):
        text = lines[number - 1] if number <= len(lines) else ""
        level = len(text) - len(text.lstrip("#"))
        if plain.code_block(number) or not text[level:].startswith(" "):
            continue  # a comment in a code block, or #hashtag
        while path and path[-1][0] >= level:
            path.pop()
        path.append((level, _ATTACK_HEADING.search(text.lower()) is not None))
        headings.append(number)
        attack.append(any(flag for _, flag in path))
    return Surroundings(fences, headings, attack, markdown=True)
