"""Downloads piped into a shell, and where they come from.

``curl https://sh.rustup.rs | sh`` is how rustup, uv, Homebrew and many other
projects tell people to install them, so a skill that repeats it is following
the project's documentation. The same construct from a bare IP address or a host
nobody knows is how a skill gets a machine to run code no one reviewed. This
module finds the construct on a line and says which of the two it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from skillpm.lint.phrases import mention

_FETCH = r"(curl|wget|fetch|iwr|irm|Invoke-WebRequest|Invoke-RestMethod)"
PIPE_SHELL = [
    re.compile(
        # The arguments may hold a $(...) with pipes of its own: $(echo ... | base64 -d).
        r"\b" + _FETCH + r"\b(?:\$\([^)\n]*\)|[^\n|;])*\|\s*(sudo\s+(-\S+\s+)*)?(env\s+)?"
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

# Projects whose documented install command is a download piped into a shell, by the
# host (and path) it is served from. A skill repeating one of these is not an attack.
OFFICIAL_INSTALLERS = (
    "astral.sh/",  # uv, ruff
    "sh.rustup.rs",
    "rustup.rs",
    "raw.githubusercontent.com/Homebrew/install/",
    "raw.githubusercontent.com/nvm-sh/nvm/",
    "raw.githubusercontent.com/helm/helm/",
    "community.chocolatey.org/install.ps1",
    "chocolatey.org/install.ps1",
    "get.docker.com",
    "claude.ai/install",
    "deno.land/install",
    "deno.land/x/install",
    "bun.sh/install",
    "get.pnpm.io/",
    "fnm.vercel.app/install",
    "install.python-poetry.org",
    "pyenv.run",
    "run.linkerd.io/install",
    "fluxcd.io/install.sh",
    "get.k3s.io",
    "sdk.cloud.google.com",
    "ollama.com/install.sh",
    "starship.rs/install.sh",
    "tailscale.com/install.sh",
    "foundry.paradigm.xyz",
    "get.sdkman.io",
    "cli.doppler.com/install.sh",
    "get.pulumi.com",
    "awscli.amazonaws.com/",
    "dot.net/v1/dotnet-install",
    "mise.run",
    "get.jetify.com/devbox",
    "opencode.ai/install",
)
# Hosts that only ever appear in examples: RFC 2606 names and obvious stand-ins.
_EXAMPLE_HOST = re.compile(
    r"(^|\.)(example\.(com|org|net)|[\w-]+\.(example|test|invalid|localhost)|localhost|"
    r"(attacker|evil|malicious)\.(com|org|net))$",
    re.IGNORECASE,
)
# A release asset of a GitHub project, or a raw file of its repository: the project's own
# installer as a rule, and pinned when the URL names a version.
_CODE_HOST = re.compile(
    r"^(github\.com/[\w.-]+/[\w.-]+/releases/|raw\.githubusercontent\.com/|"
    r"gitlab\.com/[\w.-]+/[\w.-]+/-/raw/|objects\.githubusercontent\.com/)",
    re.IGNORECASE,
)
_URL = re.compile(r"\bhttps?://([^\s'\"|)`<>\\]+)", re.IGNORECASE)
_BARE_HOST = re.compile(
    r"\b" + _FETCH + r"\b(?:\s+-{1,2}[\w-]+(?:[=\s]'[^']*'|[=\s]\"[^\"]*\")?)*\s+[\"']?"
    r"((?:\d{1,3}\.){3}\d{1,3}(?::\d+)?(?:/[^\s'\"|)]*)?|"
    r"(?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d+)?(?:/[^\s'\"|)]*)?)",
    re.IGNORECASE,
)
# After the interpreter: code given inline (-c, -e), a module (-m) or a script file, so
# what comes down the pipe is read as data.
_STDIN_IS_DATA = re.compile(r"\s*(-[cme]\b|[\w./~$][^\s;|&)<>]*(?=\s|$|[;|&)]))")
# A source known only at run time: $URL, ${URL}, $(command). (Backticks are left out:
# in markdown they quote the command itself.)
_VARIABLE = re.compile(r"\$(\w|\{|\((?!\s*(curl|wget)\b))")
_IP = re.compile(r"^(\d{1,3}\.){3}\d{1,3}(:\d+)?(/|$)")


class Source(Enum):
    OFFICIAL = "a project's official installer"
    CODE_HOST = "a project's own release or repository file"
    EXAMPLE = "an example host"
    PLACEHOLDER = "a placeholder, not a source"
    UNKNOWN = "an unknown host"
    ADDRESS = "a bare IP address"
    HIDDEN = "a source the line does not show"


@dataclass(frozen=True)
class Pipe:
    command: str
    source: Source
    where: str  # the URL (without scheme) or ""
    mention: str  # why the line only mentions it ("" for an instruction)

    @property
    def attack(self) -> bool:
        risky = self.source in (Source.UNKNOWN, Source.ADDRESS, Source.HIDDEN)
        return risky and not self.mention


def pipe_to_shell(line: str) -> Pipe | None:
    """The first download-into-a-shell of ``line``, with where it downloads from."""
    found = None
    for pattern in PIPE_SHELL:
        m = pattern.search(line)
        # "curl ... | python script.py" runs the script on the download: data, not code.
        if m and not (pattern is PIPE_SHELL[0] and _STDIN_IS_DATA.match(line, m.end())):
            found = m
            break
    if found is None:
        return None
    rest = line[found.start() :]
    url = _URL.search(rest)
    bare = None if url else _BARE_HOST.search(rest)
    where = url.group(1) if url else (bare.group(2) if bare else "")
    if where:
        source = classify(where)
    elif _VARIABLE.search(rest):
        source = Source.HIDDEN  # $URL, $(echo ... | base64 -d): whatever it is at run time
    else:
        source = Source.PLACEHOLDER  # "curl | bash", "curl [url] | sh": the pattern named
    why = "negated or explained" if mention(line, found.start()) else ""
    return Pipe(found.group(0), source, where, why)


def example_destination(line: str) -> bool:
    """Whether the first URL of ``line`` goes to an example host (attacker.com, ...)."""
    url = _URL.search(line)
    return url is not None and classify(url.group(1)) is Source.EXAMPLE


def classify(where: str) -> Source:
    """What kind of source ``where`` (a URL without its scheme) is."""
    if not where:
        return Source.HIDDEN
    lowered = where.lower()
    host, _, path = lowered.partition("/")
    host = host.split(":", 1)[0]
    for known in OFFICIAL_INSTALLERS:
        # The same host, not one that starts alike (sh.rustup.rs.example.net).
        known_host, _, known_path = known.lower().partition("/")
        if host == known_host and path.startswith(known_path):
            return Source.OFFICIAL
    if _IP.match(where):
        return Source.ADDRESS
    if _EXAMPLE_HOST.search(host):
        return Source.EXAMPLE
    if _CODE_HOST.match(where):
        return Source.CODE_HOST
    return Source.UNKNOWN
