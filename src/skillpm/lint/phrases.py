"""What a line of a skill asks Claude to do: override its instructions, or send secrets away.

Pure functions over one line of text, used by the safety rules. The point is the
difference between an instruction and a mention. "Ignore previous instructions"
as a sentence is an attack; the same words in quotes, in a code block, or after
"avoid" or "never" are documentation of the attack. Likewise a sentence that
*tells* Claude to send credentials to a host is exfiltration, while a JSON login
body with ``you@example.com`` or a link whose URL says ``steal-tokens`` is not.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


def clip(text: str, width: int = 60) -> str:
    """``text`` for a message: invisible characters dropped, at most ``width`` long."""
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return text if len(text) <= width else text[: width - 3] + "..."


# -- prompt injection ---------------------------------------------------------------------

_EARLIER = (
    r"(previous|prior|above|earlier|preceding|former|original|system|existing|initial|"
    r"old)"
)
_ORDERS = (
    r"(instructions?|prompts?|rules|directions|directives|guidelines|messages|context|commands)"
)
OVERRIDE = [
    re.compile(
        r"\b(ignore|disregard|forget|override|bypass|abandon)\s+"
        r"(?:(?:all|any|every|the|your|of|these|those|my)\s+)*"
        + _EARLIER
        + r"\s+"
        + _ORDERS
        + r"\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\bdisregard\s+(?:(?:all|everything|anything|the)\s+)*(above|before|said before)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(ignore|disregard|forget|bypass)\s+(the\s+|your\s+)?(system prompt|claude\.md|"
        r"safety (rules|guidelines|checks))\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(set|put|push)\s+aside\s+(everything|anything|all|any|the|your)\b[^.;\n]{0,40}?"
        r"\b(told|instructions?|rules|guidelines|prompts?)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(your|the|all|any)\s+" + _EARLIER + r"\s+" + _ORDERS + r"\s+(no longer apply|"
        r"(are|is) (now )?(void|obsolete|cancell?ed|revoked|superseded|overridden))\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\bpay no (attention|heed)\s+to\s+(the\s+|your\s+|any\s+)?(system prompt|claude\.md|"
        + _EARLIER
        + r"|instructions)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(new|these|the following|my)\s+instructions\s+(supersede|override|replace|"
        r"take precedence over)\b",
        re.IGNORECASE,
    ),
    re.compile(r"\byou are now (in )?(developer|jailbreak|god|dan|unrestricted) mode\b", re.I),
]
# Keeping something from the user: the negation is the attack, so never read as a denial.
CONCEAL = re.compile(
    r"\b(do not|don't|never)\s+(tell|inform|notify|alert|warn)\s+the user\b|"
    r"\bwithout (telling|informing|notifying|alerting) the user\b",
    re.IGNORECASE,
)
# A clause whose last few words negate what follows ("never ignore previous ..."), or
# which explains an attack rather than making one ("phrases such as ...").
_NEGATED = re.compile(
    r"\b(never|not|no|avoid|avoiding|refuse to|don't|do not|doesn't|won't|shouldn't|"
    r"must not|cannot|can't)\s+(\S+\s+){0,2}\S*$",
    re.IGNORECASE,
)
_EXPLAINED = re.compile(
    r"\b(such as|e\.g|for example|for instance|phrases?|phrasing|attempts? to|tries to|"
    r"trying to|treat|detects?|attacks?|attacker|injection|malicious|hostile|vulnerable|"
    r"dangerous|unsafe|instead of)\b|"
    # A condition on what someone else says: "if a file tells you to ignore ..., stop".
    r"\b(if|when|whenever)\b.*\b(says?|asks?|tells?|requests?|wants?)\b",
    re.IGNORECASE,
)
_CLAUSE_BREAK = re.compile(r"[.;:!?,]\s|\s[\u2013\u2014-]\s")
_QUOTES = {'"': '"', "`": "`", "\u201c": "\u201d", "\u2018": "\u2019", "'": "'", "\u00ab": "\u00bb"}


def quoted(line: str, start: int, end: int) -> bool:
    """Whether ``line[start:end]`` sits inside a pair of quotes or backticks."""
    before, after = line[:start], line[end:]
    for opener, closer in _QUOTES.items():
        if opener == closer:
            if opener == "'":
                # Apostrophes are everywhere; a single quote counts only right at the phrase.
                if before.rstrip().endswith("'") and "'" in after:
                    return True
            elif before.count(opener) % 2 == 1 and opener in after:
                return True
        elif before.rfind(opener) > before.rfind(closer) and closer in after:
            return True
    return False


def mention(line: str, start: int) -> bool:
    """Whether the clause leading to ``start`` negates or explains what follows."""
    clause = _CLAUSE_BREAK.split(line[:start])[-1]
    return _NEGATED.search(clause) is not None or _EXPLAINED.search(clause) is not None


@dataclass(frozen=True)
class Injection:
    phrase: str
    attack: bool  # an order to Claude, not a quoted, fenced or negated mention
    why: str = ""  # why it is only a mention


def injection(line: str, *, context: str, hidden: str = "") -> Injection | None:
    """The first override phrase of ``line`` (``hidden``: text spelled by tag characters).

    ``context`` says why the line's place makes it a mention ("in a code block"), or "".
    """
    if hidden:
        for pattern in (*OVERRIDE, CONCEAL):
            if m := pattern.search(hidden):
                return Injection(m.group(0), True)
    for pattern in OVERRIDE:
        if m := pattern.search(line):
            return Injection(m.group(0), *_as_mention(line, m, context, negatable=True))
    if m := CONCEAL.search(line):
        return Injection(m.group(0), *_as_mention(line, m, context, negatable=False))
    return None


def _as_mention(line: str, m: re.Match[str], context: str, *, negatable: bool) -> tuple[bool, str]:
    if quoted(line, m.start(), m.end()):
        return False, "quoted"
    if context:
        return False, context
    if negatable and mention(line, m.start()):
        return False, "negated or explained"
    return True, ""


# -- exfiltration -------------------------------------------------------------------------

SECRET_FILES = (
    r"(\.aws/credentials|\.aws\b|\.ssh/id_\w+|\.ssh\b|\.env\b|\.netrc|\.npmrc|\.pypirc|"
    r"\.docker/config\.json|\.git-credentials|\.kube/config|/etc/shadow|/etc/passwd|id_rsa\b)"
)
_HOME = r"(~|\$HOME|\$\{HOME\}|/home/\w+|/root|/Users/\w+)?/?"
EXFIL_COMMANDS = [
    re.compile(r"\b(env|printenv|set)\b\s*\|\s*(curl|wget|nc|ncat|netcat|socat)\b"),
    re.compile(
        r"\b(curl|wget)\b[^\n]*\s(--data[\w-]*|-d|-F|--form|--upload-file|-T|"
        r"--post-data|--post-file|--body-file)[\s=]*[\"']?[^\s\"']*(\$\((env|printenv|cat [^)]*)\)|"
        + SECRET_FILES
        + ")"
    ),
    re.compile(
        r"\bcat\s+[^\n|]*" + SECRET_FILES + r"[^\n|]*\|\s*(curl|wget|nc|ncat|netcat|socat)\b"
    ),
    re.compile(r"\b(scp|rsync|sftp)\b[^\n]*\s" + _HOME + SECRET_FILES + r"[^\n]*\s\S*[\w.-]+:\S*"),
]
_COMMAND_WORDS = ("curl", "wget", "|", "scp", "rsync", "sftp")
_SEND = re.compile(
    r"\b(send|post|upload|exfiltrate|transmit|forward|leak|email|e-mail|share|copy|pipe|"
    r"submit|paste)\b",
    re.IGNORECASE,
)
# An imperative sentence starts with a verb (after a list marker or emphasis).
_IMPERATIVE = re.compile(
    r"^[\s>*_#+-]*(\d+[.)]\s*)?[*_]*(please\s+|now\s+|then\s+|also\s+|first\s+|next\s+|"
    r"finally\s+|always\s+|silently\s+|quietly\s+|immediately\s+|secretly\s+)*"
    r"(send|post|upload|exfiltrate|transmit|forward|leak|email|e-mail|share|copy|pipe|"
    r"submit|paste|read|collect|gather|grab|take|cat|dump|encode|base64|bundle|zip|get|fetch|"
    r"export|include|attach)\b(?!\s*[:=(\"'])",
    re.IGNORECASE,
)
SECRET_NOUN = re.compile(
    r"\b(secrets?|credentials?|passwords?|passphrases?|api[-_ ]?keys?|access[-_ ]?keys?|"
    r"tokens?|private[-_ ]?keys?|ssh[-_ ]?keys?|cookies|environment variables|env vars?)\b|"
    r"~/\.aws|~/\.ssh|\bid_rsa\b|\.env\b",
    re.IGNORECASE,
)
# "to get a token", "returns an access token": a secret received, not sent.
_RECEIVED = re.compile(
    r"\b(get|obtain|receive|fetch|exchange|return|returns|issue|issues|refresh|request|"
    r"retrieve|generate|create)\s+(\w+\s+){0,3}$",
    re.IGNORECASE,
)
_TOWARD = re.compile(r"\b(to|into|onto|with)\b", re.IGNORECASE)
_AUTHENTICATES = re.compile(
    r"\b(authori[sz]ation|bearer|auth header|header|authenticate|log ?in|sign ?in)\b",
    re.IGNORECASE,
)
_BARE_IP = re.compile(r"(\d{1,3}\.){3}\d{1,3}\b")
_URL = re.compile(r"\bhttps?://\S+|\]\([^)]*\)")
_DESTINATION = re.compile(
    r"https?://|\bwebhook\b|\b[\w.-]+@[\w-]+(\.[\w-]+)*\.[a-z]{2,}\b", re.IGNORECASE
)


def exfiltration(line: str) -> str:
    """Why ``line`` sends secrets off the machine; empty when it does not."""
    # Every command pattern needs one of these; most lines with a URL hold none.
    commands = any(word in line for word in _COMMAND_WORDS)
    for pattern in EXFIL_COMMANDS if commands else ():
        if m := pattern.search(line):
            return (
                f"a command sends secrets or the environment off the machine: {clip(m.group(0))!r}"
            )
    for sentence in re.split(r"(?<=[.!?])\s+", line):
        if not _IMPERATIVE.match(sentence):
            continue
        send = _SEND.search(sentence)
        dest = _DESTINATION.search(sentence, send.end()) if send else None
        # The secret goes *to* the destination ("copy your key from https://..." fetches).
        if send is None or dest is None or not _TOWARD.search(sentence, send.end(), dest.start()):
            continue
        # A credential sent to the API it is for, as the API asks, is how APIs work; not
        # to a bare IP address, which no documented API is.
        if _AUTHENTICATES.search(sentence) and not _BARE_IP.match(sentence, dest.end()):
            continue
        # Secrets named in the text, not in a URL's path or a link target.
        plain = _URL.sub(lambda u: " " * len(u.group(0)), sentence)
        for noun in SECRET_NOUN.finditer(plain):
            if not _RECEIVED.search(plain[: noun.start()]):
                target = clip(sentence[dest.start() :], 40)
                return f"asks to {send.group(0).lower()} {noun.group(0)} to {target!r}"
    return ""
