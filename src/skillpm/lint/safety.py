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
from collections.abc import Iterator
from dataclasses import replace

from skillpm.lint import installers, phrases
from skillpm.lint.model import Finding, Severity, rule
from skillpm.lint.phrases import clip
from skillpm.lint.surroundings import MARKDOWN, PLAIN, Surroundings, line_numbers, surroundings
from skillpm.lint.workspace import Skill, TextFile, Workspace, iter_markdown

OVERSIZED_BYTES = 1024 * 1024

HIDDEN = rule(
    "SAFETY001",
    "hidden-unicode",
    Severity.ERROR,
    "Invisible Unicode: bidi controls and tag characters (error), zero-width characters (warning)",
    "Bidi controls (U+202A-202E, U+2066-2069) reorder what a reviewer sees and tag "
    "characters (U+E0000-E007F) can spell out a whole hidden instruction Claude reads: "
    "errors. Zero-width characters (U+200B-200D, U+2060, U+FEFF) hide nothing by "
    "themselves and are used in markdown formatting: a warning. Delete them.",
    "security",
    not_reported=(
        "A byte-order mark at the start of a file; zero-width joiners inside emoji and "
        "Indic or Persian words. Zero-width characters alone are a warning, not an "
        "error."
    ),
)
INJECTION = rule(
    "SAFETY002",
    "prompt-injection",
    Severity.ERROR,
    "Prompt-injection phrasing such as 'ignore all previous instructions'",
    "Text that tells Claude to ignore, set aside or replace its earlier instructions, or to "
    "keep something from the user, hijacks the agent: an error, and always one when tag "
    "characters spell it. The same words quoted, in a code block, negated ('never ignore "
    "previous instructions') or explained ('phrases such as ...') are a warning: a skill that "
    "teaches Claude to resist injection has to name it.",
    "security",
    not_reported=(
        "As an error: the phrases quoted, in a code block or a table, under a heading "
        "about attacks, negated or explained (a warning). Asking Claude to prefer a "
        "skill's conventions ('use these naming rules') is not injection at all."
    ),
)
EXFILTRATION = rule(
    "SAFETY003",
    "exfiltration",
    Severity.ERROR,
    "Instructions or commands that send secrets, credentials or the environment elsewhere",
    "Catches commands that ship secret files or the environment off the machine (curl -d "
    "@~/.ssh/id_rsa, curl -F 'f=@.env', --data \"$(env)\", env | curl, cat ~/.netrc | nc, "
    "scp ~/.aws/credentials host:) and sentences that tell Claude to send, upload or email "
    "credentials, tokens or environment variables to a URL or address: secrets leaked with "
    "the user's permissions. Remove it.",
    "security",
    not_reported=(
        "API examples with placeholder logins (a JSON or form body with "
        "you@example.com), requests that obtain a token, keys copied from a URL, a "
        "token sent to an API in its Authorization header (unless to a bare IP "
        "address), links whose text or URL mentions secrets or tokens, and sentences "
        "that describe rather than ask: the sentence must start with a verb ('Send "
        "...', 'Read ... and upload ...') and send the secret to the destination. As "
        "an error: commands under a heading about attacks or sending to an example "
        "host such as attacker.com (a warning)."
    ),
)
PIPE_SHELL = rule(
    "SAFETY004",
    "pipe-to-shell",
    Severity.ERROR,
    "A download piped into a shell or interpreter (curl ... | sh)",
    "Running whatever a URL serves bypasses review and pinning. An error when the host is a "
    "bare IP address, unknown, or not shown; a warning for an example host (example.com), "
    "a GitHub release or raw repository file, or a negated or explained mention ('never pipe "
    "curl into sh'); info for the documented installers of well-known projects (uv, "
    "rustup, Homebrew, Docker, Flux, ...). Download to a file, check its hash or signature, "
    "then run it; or install through a package manager.",
    "security",
    not_reported=(
        "Downloads saved to a file and checked before they run, and downloads piped "
        "into a script as data (curl ... | python scripts/parse.py). As an error: the "
        "documented installers of well-known projects (info), example hosts, GitHub "
        "release and raw repository files, the pattern named without a source (curl | "
        "bash), lines under a heading about attacks, and negated or explained mentions "
        "(warnings)."
    ),
)
SECRET = rule(
    "SAFETY005",
    "secret",
    Severity.ERROR,
    "A committed secret: AWS access key, private key, GitHub, Slack or Anthropic token",
    "Secrets in a package are published to everyone who can read the registry. Revoke the "
    "secret, remove it, and read it from the environment or a secrets manager instead.",
    "security",
    not_reported=(
        "Values marked EXAMPLE, repeated placeholders (AKIAXXXXXXXXXXXXXXXX), private "
        "key headers with no key body after them ('...', a <placeholder>, nothing, a "
        "scanner's pattern), and files larger than 2 MiB, which are not read "
        "(SAFETY007 reports them as oversized)."
    ),
)
UNREFERENCED = rule(
    "SAFETY006",
    "unreferenced-script",
    Severity.WARNING,
    "An executable script under scripts/ that none of the skill's markdown mentions",
    "Scripts are there for Claude to run as the skill instructs; an executable nobody "
    "references is either dead weight or something meant to be run unreviewed. A script "
    "counts as mentioned by its path, its file name, or its module path (python -m "
    "scripts.x) in SKILL.md or any markdown file of the skill. Reference it or remove it.",
    "security",
    not_reported=(
        "Scripts that are not executable, __init__.py files, scripts any markdown file "
        "of the skill names by path, file name or module path, and helper modules a "
        "mentioned script names (from scripts.helper import ...)."
    ),
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
    not_reported="Files up to 1 MiB.",
)
LINK = rule(
    "SAFETY008",
    "symlink",
    Severity.WARNING,
    "A symbolic link inside a skill or package",
    "Links can point outside the package (e.g. to ~/.aws); skillpm refuses to publish or "
    "install them and lint does not follow them. Replace the link with the file.",
    "security",
    not_reported="Where a link points: lint never follows links.",
)

# Invisible characters. U+FEFF at the very start is a byte-order mark, and a zero-width
# joiner between two non-ASCII characters builds emoji and Indic ligatures: both allowed.
_HIDDEN_RE = re.compile(
    "[\u202a-\u202e\u2066-\u2069\u200b-\u200d\u2060\ufeff\U000e0000-\U000e007f]"
)

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
    r"ignore|disregard|forget|override|bypass|abandon|aside|no longer|"
    r"pay no|supersede|take precedence|you are now|the user",
    re.IGNORECASE,
)
_FAST_EXFILTRATION = re.compile(
    r"https?://|webhook|@|\b(curl|wget|nc|ncat|netcat|socat|scp|rsync|sftp)\b", re.I
)
# A line is checked only when it holds an invisible character or one of these (lower case),
# which between them start every pattern above.
_TRIGGER_WORDS = (
    *("ignore", "disregard", "forget", "override", "bypass", "you are now", "the user"),
    *("abandon", "aside", "no longer", "pay no", "supersede", "precedence"),
    *("http", "webhook", "@", "curl", "wget", "nc ", "ncat", "netcat", "fetch", "iwr", "irm"),
    *("scp ", "rsync", "sftp", "socat"),
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
        if skill.skill_md is not None and skill.skill_md.text is not None:
            yield from _unreferenced_scripts(skill)


def _unreferenced_scripts(skill: Skill) -> Iterator[Finding]:
    """Executable scripts that neither the skill's markdown nor a mentioned script names.

    A script named in a reference file is mentioned, and so is a helper module that a
    mentioned script imports (``from scripts.quick_validate import ...``).
    """
    names: dict[TextFile, tuple[str, ...]] = {}
    for f in skill.files:
        rel = f.path.relative_to(skill.folder).as_posix()
        if rel.startswith("scripts/") and f.executable and f.path.name != "__init__.py":
            names[f] = (rel, f.path.name, rel.rsplit(".", 1)[0].replace("/", "."))
    mentioned = [f.text or "" for f in iter_markdown(skill)]
    pending = dict(names)
    while pending:
        text = "\n".join(mentioned)
        found = [f for f, forms in pending.items() if any(form in text for form in forms)]
        if not found:
            break
        for f in found:
            del pending[f]
        mentioned = [f.text or "" for f in found]  # what the newly mentioned scripts add
    for f in sorted(pending, key=lambda f: f.rel):
        rel = names[f][0]
        yield UNREFERENCED(
            f.at(),
            f"{rel} is executable but no markdown file of the skill mentions it",
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
    # Invisible characters are all non-ASCII, and isascii() is far faster than a regex.
    hits = [] if text.isascii() else [m.start() for m in _HIDDEN_RE.finditer(text)]
    for word in _TRIGGER_WORDS:
        at = low.find(word)
        while at != -1:
            hits.append(at)
            # One hit flags the whole line: go on from the next line.
            at = low.find("\n", at)
            at = low.find(word, at) if at != -1 else -1
    if not hits:
        return
    lines = file.lines
    markdown = file.path.suffix.lower() in MARKDOWN
    where = surroundings(low, lines) if markdown else PLAIN
    for number in line_numbers(low, hits):
        if number <= len(lines):
            yield from _check_line(file, number, lines[number - 1], where)


def _check_line(file: TextFile, number: int, line: str, where: Surroundings) -> Iterator[Finding]:
    visible = line
    spelled = ""
    if _HIDDEN_RE.search(line) is not None:
        finding, spelled = _hidden(file, number, line)
        if finding is not None:
            yield finding
        visible = _HIDDEN_RE.sub("", line)
    # What tag characters spell is read by Claude too: check it for phrasing.
    if _FAST_INJECTION.search(visible) or spelled:
        found = phrases.injection(visible, context=where.mention(number, line), hidden=spelled)
        if found is not None:
            yield INJECTION(
                file.at(number),
                f"prompt-injection phrasing: {clip(found.phrase)!r}"
                + (f" ({found.why}, so a warning)" if not found.attack else ""),
                "remove it; a skill never needs to override Claude's instructions"
                if found.attack
                else "fine if the skill explains or defends against injection; else remove it",
                severity=None if found.attack else Severity.WARNING,
            )
    if _FAST_EXFILTRATION.search(visible):
        reason = phrases.exfiltration(visible)
        # A documented attack: under an attack heading, or sending to attacker.com.
        shown = where.attack_section(number) or (
            "to an example host" if installers.example_destination(visible) else ""
        )
        if reason:
            yield EXFILTRATION(
                file.at(number),
                reason + (f" ({shown}, so a warning)" if shown else ""),
                "remove it; secrets must never leave the machine through a skill",
                severity=Severity.WARNING if shown else None,
            )
    if _FAST_SHELL.search(visible) and (pipe := installers.pipe_to_shell(visible)):
        yield _pipe_finding(file, number, pipe, where.attack_section(number))
    if _FAST_SECRET.search(visible):
        yield from _secrets(file, number, visible)


def _pipe_finding(file: TextFile, number: int, pipe: installers.Pipe, section: str) -> Finding:
    source = pipe.source.value + (f" ({clip(pipe.where, 50)})" if pipe.where else "")
    if section and not pipe.mention:
        pipe = replace(pipe, mention=section)
    if pipe.attack:
        severity = None
    elif pipe.source is installers.Source.OFFICIAL and not pipe.mention:
        severity = Severity.INFO
    else:
        severity = Severity.WARNING
    because = f", {pipe.mention}" if pipe.mention else ""
    return PIPE_SHELL(
        file.at(number),
        f"runs a download without review: {clip(pipe.command)!r} from {source}{because}",
        "download to a file, verify its checksum, then run it (or use a package manager)",
        severity=severity,
    )


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
        message += f"; the tag characters spell {clip(''.join(tags), 80)!r}"
    # Zero-width characters alone reorder nothing and spell nothing (markdown templates use
    # them to show a nested fence): worth a look, not a failed build.
    only_zero_width = list(kinds) == ["zero-width character"]
    finding = HIDDEN(
        file.at(number),
        message,
        "delete the invisible characters",
        severity=Severity.WARNING if only_zero_width else None,
    )
    return finding, "".join(tags)


def _joins_non_ascii(line: str, at: int) -> bool:
    before = line[at - 1] if at > 0 else ""
    after = line[at + 1] if at + 1 < len(line) else ""
    return bool(before and after and ord(before) > 0x7F and ord(after) > 0x7F) and not (
        _HIDDEN_RE.match(before) or _HIDDEN_RE.match(after)
    )


def _secrets(file: TextFile, number: int, line: str) -> Iterator[Finding]:
    for what, pattern in _SECRETS:
        for m in pattern.finditer(line):
            value = m.group(1)
            if "EXAMPLE" in value.upper() or _placeholder(value):
                continue
            if value.startswith("-----") and not _pem_body(file.lines, number, line[m.end() :]):
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


_PEM_BODY = re.compile(r"[A-Za-z0-9+/]{32,}={0,2}")
# The body on the header's line: after a space, or a literal \n inside a string.
_PEM_BODY_INLINE = re.compile(r"(\\n|\s)+[A-Za-z0-9+/]{32,}")


def _pem_body(lines: list[str], number: int, rest: str) -> bool:
    """Whether a private key header is followed by a key: base64 on the next line (after
    any Proc-Type/DEK-Info headers) or after a literal ``\\n``. A header followed by '...',
    a <placeholder>, nothing, or code (a scanner's pattern) holds no key."""
    if _PEM_BODY_INLINE.match(rest):
        return True
    for following in lines[number : number + 4]:
        text = following.strip().strip("\"',").removesuffix("\\n")
        if not text or text.startswith(("Proc-Type:", "DEK-Info:", "Comment:")):
            continue
        return _PEM_BODY.fullmatch(text) is not None
    return False


def _mask(value: str) -> str:
    if value.startswith("-----"):
        return value
    return value[:4] + "..." + value[-2:] if len(value) > 10 else "..."
