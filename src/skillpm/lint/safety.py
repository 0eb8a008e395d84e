"""Safety rules: a light scanner for what should never reach Claude unreviewed.

Skills and fragments are instructions an agent follows with the user's
permissions, so the classic supply-chain tricks apply: text a reviewer cannot see
(bidi controls, zero-width and tag characters), phrasing that hijacks the agent,
asks to send secrets somewhere, piping a download into a shell, committed
secrets, and executable scripts SKILL.md never mentions. Every text file of a
package, skill, fragment and project is scanned. The patterns aim at few false
alarms; a deliberate mention can be suppressed with ``skillpm:ignore RULE``.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterator
from itertools import accumulate

from skillpm.lint.model import Finding, Severity, rule
from skillpm.lint.workspace import TextFile, Workspace

OVERSIZED_BYTES = 1024 * 1024

HIDDEN = rule(
    "SAFETY001",
    "hidden-unicode",
    Severity.ERROR,
    "Invisible Unicode: bidi controls, zero-width or tag characters",
    "Bidi controls (U+202A-202E, U+2066-2069) reorder what a reviewer sees; zero-width "
    "characters (U+200B-200D, U+2060, U+FEFF) and tag characters (U+E0000-E007F) are "
    "invisible, yet Claude reads them. Tag characters can spell out a whole hidden "
    "instruction. Delete them.",
    "security",
)
INJECTION = rule(
    "SAFETY002",
    "prompt-injection",
    Severity.ERROR,
    "Prompt-injection phrasing such as 'ignore all previous instructions'",
    "Text that tells Claude to ignore or override its earlier instructions, or to keep "
    "something from the user, hijacks the agent. Legitimate skills never need it.",
    "security",
)
EXFILTRATION = rule(
    "SAFETY003",
    "exfiltration",
    Severity.ERROR,
    "Instructions or commands that send secrets, credentials or the environment elsewhere",
    "A skill that asks Claude to send credentials, tokens or environment variables to a URL, "
    "or a command that posts ~/.aws/credentials or $(env), leaks secrets with the user's "
    "permissions.",
    "security",
)
PIPE_SHELL = rule(
    "SAFETY004",
    "pipe-to-shell",
    Severity.ERROR,
    "A download piped into a shell or interpreter (curl ... | sh)",
    "Running whatever a URL serves today bypasses review and pinning. Download to a file, "
    "check its hash or signature, then run it; or install through a package manager.",
    "security",
)
SECRET = rule(
    "SAFETY005",
    "secret",
    Severity.ERROR,
    "A committed secret: AWS access key, private key, GitHub, Slack or Anthropic token",
    "Secrets in a package are published to everyone who can read the registry. Revoke the "
    "secret, remove it, and read it from the environment or a secrets manager instead.",
    "security",
)
UNREFERENCED = rule(
    "SAFETY006",
    "unreferenced-script",
    Severity.WARNING,
    "An executable script under scripts/ that SKILL.md never mentions",
    "Scripts are there for Claude to run as SKILL.md instructs; an executable nobody "
    "references is either dead weight or something meant to be run unreviewed. Reference "
    "it from SKILL.md or remove it.",
    "security",
)
OVERSIZED = rule(
    "SAFETY007",
    "oversized-file",
    Severity.WARNING,
    f"A file larger than {OVERSIZED_BYTES // 1024} KiB",
    "Large files cost context when Claude reads them, slow installs, and hide content from "
    "review. Trim them, or keep data outside the package.",
    "security",
    "context",
)
LINK = rule(
    "SAFETY008",
    "symlink",
    Severity.WARNING,
    "A symbolic link inside a skill or package",
    "Links can point outside the package (e.g. to ~/.aws); skillpm refuses to publish or "
    "install them and lint does not follow them. Replace the link with the file.",
    "security",
)

# Invisible characters. U+FEFF at the very start is a byte-order mark, and a zero-width
# joiner between two non-ASCII characters builds emoji and Indic ligatures: both allowed.
_HIDDEN_RE = re.compile(
    "[\u202a-\u202e\u2066-\u2069\u200b-\u200d\u2060\ufeff\U000e0000-\U000e007f]"
)

_INJECTION_RE = [
    re.compile(
        r"\b(ignore|disregard|forget|override|bypass)\s+(?:(?:all|any|every|the|your|of|these|"
        r"those|my)\s+)*(previous|prior|above|earlier|preceding|former|original|system|"
        r"existing)\s+(instructions?|prompts?|rules|directions|guidelines|messages|context|"
        r"commands)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\bdisregard\s+(?:(?:all|everything|anything|the)\s+)*(above|before|said before)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(ignore|disregard|forget)\s+(the\s+|your\s+)?(system prompt|claude\.md|"
        r"safety (rules|guidelines))\b",
        re.IGNORECASE,
    ),
    re.compile(r"\byou are now (in )?(developer|jailbreak|god|dan|unrestricted) mode\b", re.I),
    re.compile(
        r"\b(do not|don't|never)\s+(tell|inform|notify|alert|warn)\s+the user\b|"
        r"\bwithout (telling|informing|notifying|alerting) the user\b",
        re.IGNORECASE,
    ),
]

_SEND = re.compile(
    r"\b(send|sends|sending|post|posting|upload|uploading|exfiltrate|exfiltrating|transmit|"
    r"transmitting|forward|forwarding|leak|leaking|email|e-mail)\b",
    re.IGNORECASE,
)
_SECRET_NOUN = re.compile(
    r"\b(secrets?|credentials?|passwords?|passphrases?|api[-_ ]?keys?|access[-_ ]?keys?|"
    r"tokens?|private[-_ ]?keys?|ssh[-_ ]?keys?|cookies|environment variables|env vars?)\b|"
    r"~/\.aws|~/\.ssh|\bid_rsa\b|\.env\b",
    re.IGNORECASE,
)
_DESTINATION = re.compile(r"https?://|\bwebhook\b|\b[\w.-]+@[\w-]+\.[a-z]{2,}\b", re.IGNORECASE)
_SECRET_FILES = (
    r"(\.aws/credentials|\.ssh/id_\w+|\.env\b|\.netrc|\.npmrc|\.pypirc|\.docker/config\.json)"
)
_EXFIL_COMMANDS = [
    re.compile(r"\b(env|printenv)\b\s*\|\s*(curl|wget|nc|ncat|netcat)\b"),
    re.compile(
        r"\b(curl|wget)\b[^\n]*\s(--data[\w-]*|-d|-F|--form|--upload-file|-T|--post-data|"
        r"--post-file|--body-file)[\s=]*[\"']?[^\s\"']*(\$\((env|printenv|cat [^)]*)\)|"
        + _SECRET_FILES
        + ")"
    ),
    re.compile(r"\bcat\s+[^\n|]*" + _SECRET_FILES + r"[^\n|]*\|\s*(curl|wget|nc|ncat|netcat)\b"),
]

_FETCH = r"(curl|wget|fetch|iwr|irm|Invoke-WebRequest|Invoke-RestMethod)"
_PIPE_SHELL_RE = [
    re.compile(
        r"\b" + _FETCH + r"\b[^\n|;]*\|\s*(sudo\s+(-\S+\s+)*)?(env\s+)?"
        r"(sh|bash|zsh|ksh|dash|fish|python[0-9.]*|perl|ruby|node|php|iex|Invoke-Expression)\b"
    ),
    re.compile(r"\b(sh|bash|zsh)\s+(-\w+\s+)*[\"']?\$\(\s*(curl|wget)\b"),
    re.compile(r"\b(sh|bash|zsh|source|\.)\s+<\(\s*(curl|wget)\b"),
    re.compile(
        r"\b(iex|Invoke-Expression)\b[^\n]*\b(iwr|irm|Invoke-WebRequest|Invoke-RestMethod|"
        r"DownloadString)\b",
        re.IGNORECASE,
    ),
]

_SECRETS: list[tuple[str, re.Pattern[str]]] = [
    ("an AWS access key id", re.compile(r"\b((?:AKIA|ASIA)[A-Z0-9]{16})\b")),
    (
        "an AWS secret access key",
        re.compile(
            r"(?i)aws_?secret_?access_?key\s*[:=]\s*[\"']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"
        ),
    ),
    (
        "a private key",
        re.compile(
            r"(-----BEGIN (?:(?:RSA|EC|DSA|OPENSSH|PGP|ENCRYPTED) )?PRIVATE KEY(?: BLOCK)?-----)"
        ),
    ),
    ("a GitHub token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,255})\b")),
    ("a GitHub token", re.compile(r"\b(github_pat_[A-Za-z0-9_]{22,255})\b")),
    ("a Slack token", re.compile(r"\b(xox[abposr]-[A-Za-z0-9-]{10,})\b")),
    (
        "a Slack webhook URL",
        re.compile(
            r"(https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+)"
        ),
    ),
    ("an Anthropic API key", re.compile(r"\b(sk-ant-[A-Za-z0-9_-]{20,})")),
]
_FAST_SECRET = re.compile(
    r"AKIA|ASIA|(?i:secret)|PRIVATE KEY|gh[pousr]_|github_pat_|xox|hooks\.slack|sk-ant-"
)
_FAST_SHELL = re.compile(r"curl|wget|fetch|iwr|irm|Invoke-|iex", re.IGNORECASE)
_FAST_INJECTION = re.compile(
    r"ignore|disregard|forget|override|bypass|you are now|the user", re.IGNORECASE
)
_FAST_EXFILTRATION = re.compile(r"https?://|webhook|@|\b(curl|wget|nc|ncat|netcat)\b", re.I)
# A line is checked only when it holds an invisible character or one of these (lower case),
# which between them start every pattern above.
_TRIGGER_WORDS = (
    *("ignore", "disregard", "forget", "override", "bypass", "you are now", "the user"),
    *("http", "webhook", "@", "curl", "wget", "nc ", "ncat", "netcat", "fetch", "iwr", "irm"),
    *("invoke-", "iex", "akia", "asia", "secret", "private key", "xox", "sk-ant-"),
    *("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
)


def check(ws: Workspace) -> Iterator[Finding]:
    for problem in ws.problems:
        if problem.kind == "link":
            yield LINK(
                problem.where, problem.message, "replace the link with the file it points to"
            )
    for file in sorted(ws.files.values(), key=lambda f: f.rel):
        if file.size > OVERSIZED_BYTES:
            yield OVERSIZED(
                file.at(),
                f"{file.size // 1024} KiB (more than {OVERSIZED_BYTES // 1024} KiB)",
                "trim it or move the data out of the package",
            )
        if file.text is not None:
            yield from scan_text(file)
    for skill in ws.skills:
        if skill.skill_md is None or skill.skill_md.text is None:
            continue
        instructions = skill.skill_md.text
        for f in skill.files:
            rel = f.path.relative_to(skill.folder).as_posix()
            referenced = rel in instructions or f.path.name in instructions
            if rel.startswith("scripts/") and f.executable and not referenced:
                yield UNREFERENCED(
                    f.at(),
                    f"{rel} is executable but SKILL.md never mentions it",
                    f"say in SKILL.md when to run {rel}, or remove it",
                )


def scan_text(file: TextFile) -> Iterator[Finding]:
    """Check only the lines holding a trigger word; most lines of a skill hold none.

    Finding the triggers with ``str.find`` on the lower-cased text runs at C speed, far
    faster than case-insensitive regexes over every line (lint of 200 skills stays well
    under a second). Lower-casing never adds or removes a line break, so line numbers
    computed on it hold for the original.
    """
    text = file.text
    if not text:
        return
    low = text.lower()
    hits = [m.start() for m in _HIDDEN_RE.finditer(text)]
    for word in _TRIGGER_WORDS:
        at = low.find(word)
        while at != -1:
            hits.append(at)
            at = low.find(word, at + 1)
    if not hits:
        return
    starts = [0, *accumulate(len(part) + 1 for part in low.split("\n"))]
    lines = file.lines
    for number in sorted({bisect_right(starts, at) for at in hits}):
        if number <= len(lines):
            yield from _check_line(file, number, lines[number - 1])


def _check_line(file: TextFile, number: int, line: str) -> Iterator[Finding]:
    phrases = visible = line
    if _HIDDEN_RE.search(line) is not None:
        finding, spelled = _hidden(file, number, line)
        if finding is not None:
            yield finding
        visible = _HIDDEN_RE.sub("", line)
        # What tag characters spell is read by Claude too: check it for phrasing.
        phrases = f"{visible} {spelled}" if spelled else visible
    if _FAST_INJECTION.search(phrases) and (m := _first_match(_INJECTION_RE, phrases)):
        yield INJECTION(
            file.at(number),
            f"prompt-injection phrasing: {m.group(0)!r}",
            "remove it; a skill never needs to override Claude's instructions",
        )
    if _FAST_EXFILTRATION.search(visible):
        reason = _exfiltration(visible)
        if reason:
            yield EXFILTRATION(
                file.at(number),
                reason,
                "remove it; secrets must never leave the machine through a skill",
            )
    if _FAST_SHELL.search(visible) and (m := _first_match(_PIPE_SHELL_RE, visible)):
        yield PIPE_SHELL(
            file.at(number),
            f"runs a download without review: {_clip(m.group(0))!r}",
            "download to a file, verify its checksum, then run it (or use a package manager)",
        )
    if _FAST_SECRET.search(visible):
        yield from _secrets(file, number, visible)


def _hidden(file: TextFile, number: int, line: str) -> tuple[Finding | None, str]:
    """One finding for the invisible characters of a line, and the text tags spell."""
    kinds: dict[str, list[str]] = {}
    first_column = None
    tags: list[str] = []
    for m in _HIDDEN_RE.finditer(line):
        ch = m.group(0)
        cp = ord(ch)
        at = m.start()
        if cp == 0xFEFF and number == 1 and at == 0:
            continue  # byte-order mark
        if cp in (0x200C, 0x200D) and _joins_non_ascii(line, at):
            continue  # emoji sequences, Indic and Persian ligatures
        if 0x202A <= cp <= 0x202E or 0x2066 <= cp <= 0x2069:
            kind = "bidi control"
        elif cp >= 0xE0000:
            kind = "tag character"
            if 0xE0020 <= cp <= 0xE007E:
                tags.append(chr(cp - 0xE0000))
        else:
            kind = "zero-width character"
        code = f"U+{cp:04X}"
        names = kinds.setdefault(kind, [])
        if code not in names:
            names.append(code)
        first_column = at + 1 if first_column is None else first_column
    if not kinds:
        return None, ""
    parts = []
    for kind, codes in kinds.items():
        shown = ", ".join(codes[:4]) + (", ..." if len(codes) > 4 else "")
        parts.append(f"{kind}{'s' if len(codes) > 1 or kind == 'tag character' else ''} ({shown})")
    message = "invisible " + " and ".join(parts) + f" at column {first_column}"
    if tags:
        message += f"; the tag characters spell {_clip(''.join(tags), 80)!r}"
    return HIDDEN(file.at(number), message, "delete the invisible characters"), "".join(tags)


def _joins_non_ascii(line: str, at: int) -> bool:
    before = line[at - 1] if at > 0 else ""
    after = line[at + 1] if at + 1 < len(line) else ""
    return bool(before and after and ord(before) > 0x7F and ord(after) > 0x7F) and not (
        _HIDDEN_RE.match(before) or _HIDDEN_RE.match(after)
    )


def _first_match(patterns: list[re.Pattern[str]], text: str) -> re.Match[str] | None:
    for pattern in patterns:
        if m := pattern.search(text):
            return m
    return None


def _exfiltration(line: str) -> str:
    if m := _first_match(_EXFIL_COMMANDS, line):
        return f"a command sends secrets or the environment off the machine: {_clip(m.group(0))!r}"
    for sentence in re.split(r"(?<=[.!?])\s+", line):
        send = _SEND.search(sentence)
        noun = _SECRET_NOUN.search(sentence)
        dest = _DESTINATION.search(sentence)
        if send and noun and dest:
            target = _clip(sentence[dest.start() :], 40)
            return f"asks to {send.group(0).lower()} {noun.group(0)} to {target!r}"
    return ""


def _secrets(file: TextFile, number: int, line: str) -> Iterator[Finding]:
    for what, pattern in _SECRETS:
        for m in pattern.finditer(line):
            value = m.group(1)
            if "EXAMPLE" in value.upper() or _placeholder(value):
                continue
            yield SECRET(
                file.at(number),
                f"{what} ({_mask(value)})",
                "revoke it, delete it from the package, and read it from the environment or a "
                "secrets manager at run time",
            )
            return  # one finding per line is enough


def _placeholder(value: str) -> bool:
    """``AKIAXXXXXXXXXXXXXXXX``, ``ghp_xxxx...``: documentation, not a secret."""
    if value.startswith("-----"):
        return False
    tail = re.sub(r"^(AKIA|ASIA|gh[pousr]_|github_pat_|xox[abposr]-|sk-ant-)", "", value)
    return len(set(tail.casefold())) < 6


def _mask(value: str) -> str:
    if value.startswith("-----"):
        return value
    return value[:4] + "..." + value[-2:] if len(value) > 10 else "..."


def _clip(text: str, width: int = 60) -> str:
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return text if len(text) <= width else text[: width - 3] + "..."
