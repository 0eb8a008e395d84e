"""Policy evaluation: pure functions from parsed policies and packages to violations.

Policies combine tighten-only by construction: the effective policy is the list
of layers (the managed file first, then the project's), and a registry or a
package must pass every layer. A project layer can therefore only add refusals;
nothing is merged, so nothing can be widened.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from urllib.parse import unquote, urlsplit, urlunsplit

from skillpm.policy.rules import BUILTIN, EXECUTABLE_MODES, Item, Policy

MANAGED, PROJECT = "managed", "project"


@dataclass(frozen=True)
class Layer:
    kind: str  # MANAGED or PROJECT
    policy: Policy
    key: str = ""  # the managed file's ``managed.policy_key``, for the no-op record

    @property
    def source(self) -> str:
        return self.policy.source


@dataclass(frozen=True)
class Effective:
    """Every policy in force, most binding first."""

    layers: tuple[Layer, ...] = ()

    @property
    def empty(self) -> bool:
        return all(layer.policy.empty for layer in self.layers)

    @property
    def executables(self) -> tuple[str, Layer | None, Item | None]:
        """The strictest mode any layer sets, and where."""
        strictest: tuple[str, Layer | None, Item | None] = ("allow", None, None)
        for layer in self.layers:
            item = layer.policy.executables
            rank = EXECUTABLE_MODES.index
            if item is not None and rank(item.text) > rank(strictest[0]):
                strictest = (item.text, layer, item)
        return strictest


@dataclass(frozen=True)
class Subject:
    """A resolved package as policy sees it."""

    name: str
    version: str
    registry: str  # the registry URL normalised by ``registry_key`` (or "builtin")
    registry_shown: str  # as messages show it (name and redacted URL)
    chain: tuple[str, ...] = ()  # skills.yaml dependency ... down to this package
    parts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


@dataclass(frozen=True)
class LintHit:
    rule: str  # SAFETY004
    file: str  # inside the package
    line: int | None
    message: str


@dataclass(frozen=True)
class Content:
    """What a package's files hold, read at the edge."""

    executables: tuple[str, ...] = ()  # paths inside the package with an x bit
    lint_errors: tuple[LintHit, ...] = ()


@dataclass(frozen=True)
class Violation:
    rule: str  # the policy key: packages.deny
    subject: str  # "evil-tool 1.0.0", "registry team (https://...)"
    detail: str  # what in the policy or the package refused it
    source: str  # the policy file
    line: int | None
    chain: tuple[str, ...] = ()
    package: str | None = None
    warning: bool = False  # content.executables: warn
    place: tuple[str, int | None] | None = None  # the file (and line) in the package at fault

    @property
    def origin(self) -> str:
        return f"{self.source}:{self.line}" if self.line else self.source

    @property
    def message(self) -> str:
        via = ""
        if len(self.chain) > 1:
            via = f" (brought in by {' -> '.join(self.chain[:-1])})"
        verb = "is flagged by" if self.warning else "is refused by"
        return f"{self.subject}{via} {verb} {self.rule} {self.detail} ({self.origin})"


_SCP_LIKE = re.compile(r"^(?P<user>[\w.-]+)@(?P<host>[\w.-]+):(?P<path>(?!//).*)$")


def registry_key(url: str, base: str) -> str | None:
    """``url`` as allow-lists are matched against it, or None when no glob may vouch for it.

    Userinfo is dropped (``https://acme.example@evil.com/`` is evil.com), scheme and
    host are lower-cased, and a folder becomes an absolute ``file://`` URL (relative
    ones from ``base``, skills.yaml's folder). A remote path with ``.`` or ``..``
    segments, percent-encoded or not, matches nothing: git and curl would normalise
    it to another repository than the text suggests.
    """
    if url == BUILTIN:
        return BUILTIN
    scp = _SCP_LIKE.match(url)
    if scp:
        if _dotted(scp["path"]):
            return None
        return f"{scp['user']}@{scp['host'].lower()}:{scp['path']}"
    prefix, text = ("git+", url[4:]) if url.startswith("git+") else ("", url)
    if "://" not in text:  # a local registry folder
        return "file://" + posixpath.normpath(posixpath.join(base, text))
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme == "file":
        path = posixpath.normpath(posixpath.join(base, unquote(parts.path)))
        return prefix + "file://" + path + (f"#{parts.fragment}" if parts.fragment else "")
    if _dotted(parts.path):
        return None
    host = (parts.hostname or "").lower() + (f":{parts.port}" if parts.port else "")
    return prefix + urlunsplit((scheme, host, parts.path, parts.query, parts.fragment))


def _dotted(path: str) -> bool:
    return any(seg in (".", "..") for seg in unquote(path).split("/"))


def _allowed_registry(globs: Sequence[Item], key: str | None) -> bool:
    """A glob with a ``#`` speaks of refs too; one without, of the repository or site."""
    if key is None:
        return False
    if key == BUILTIN:
        return any(g.text == BUILTIN for g in globs)
    bare = key.partition("#")[0]
    return any(
        g.text != BUILTIN and fnmatchcase(key if "#" in g.text else bare, _glob_key(g.text))
        for g in globs
    )


def _glob_key(glob: str) -> str:
    """A glob in the form of ``registry_key``'s keys: a folder as a ``file://`` URL, the
    host lower-cased, a URL's userinfo dropped (``git+ssh://git@host/...`` as written)."""
    if glob.startswith("/"):
        return "file://" + glob
    scp = _SCP_LIKE.match(glob)
    if scp:
        return f"{scp['user']}@{scp['host'].lower()}:{scp['path']}"
    scheme, sep, rest = glob.partition("://")
    if not sep:
        return glob
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{host.rpartition('@')[2].lower()}{slash}{path}"


def check_registries(
    effective: Effective, registries: Sequence[tuple[str, str | None]]
) -> list[Violation]:
    """Each registry a project lists, as (shown, ``registry_key``), against every
    registries.allow."""
    found = []
    for shown, key in registries:
        for layer in effective.layers:
            globs = layer.policy.registries_allow
            if globs is not None and not _allowed_registry(globs, key):
                found.append(
                    Violation(
                        "registries.allow",
                        f"registry {shown}",
                        _not_in(globs),
                        layer.source,
                        _first_line(globs),
                    )
                )
    return found


def check_packages(effective: Effective, subjects: Sequence[Subject]) -> list[Violation]:
    """Names, versions, registries and plugin parts: what the lock alone tells."""
    found: list[Violation] = []
    for subject in subjects:
        for layer in effective.layers:
            found.extend(_package_violations(layer, subject))
    return found


def _package_violations(layer: Layer, subject: Subject) -> Iterator[Violation]:
    policy, name, version = layer.policy, subject.name, subject.version

    def violation(rule: str, detail: str, line: int | None) -> Violation:
        return Violation(rule, subject.label, detail, layer.source, line, subject.chain, name)

    globs = policy.registries_allow
    if globs is not None and not _allowed_registry(globs, subject.registry):
        yield violation(
            "registries.allow",
            f"(registry {subject.registry_shown} {_not_in(globs)})",
            _first_line(globs),
        )
    for pattern in policy.packages_deny or ():
        if pattern.matches(name, version):
            yield violation("packages.deny", repr(pattern.item.text), pattern.item.line)
    allow = policy.packages_allow
    if allow is not None and not any(p.matches(name, version) for p in allow):
        items = tuple(p.item for p in allow)
        yield violation("packages.allow", _not_in(items), _first_line(items))
    parts = policy.plugin_parts
    if parts is not None:
        allowed = {p.text for p in parts}
        for part, provided in sorted(subject.parts.items()):
            if provided and part not in allowed:
                detail = f"(it provides {part}: {', '.join(provided)}; allowed: {_list(parts)})"
                yield violation("content.plugin-parts", detail, _first_line(parts))


def check_content(effective: Effective, subject: Subject, content: Content) -> list[Violation]:
    """What the package's files hold: executables and the block-lint rules."""
    found: list[Violation] = []
    mode, layer, item = effective.executables
    if content.executables and layer is not None and item is not None and mode != "allow":
        shown = ", ".join(content.executables[:3])
        more = len(content.executables) - 3
        detail = f"{mode} (executable: {shown}{f' and {more} more' if more > 0 else ''})"
        found.append(
            Violation(
                "content.executables",
                subject.label,
                detail,
                layer.source,
                item.line,
                subject.chain,
                subject.name,
                warning=mode == "warn",
                place=(content.executables[0], None),
            )
        )
    for lay in effective.layers:
        blocked = lay.policy.block_lint
        for hit in content.lint_errors:
            rule = next((b for b in blocked or () if _in_family(hit.rule, b.text)), None)
            if rule is None:
                continue
            at = f"{hit.file}:{hit.line}" if hit.line else hit.file
            found.append(
                Violation(
                    "content.block-lint",
                    subject.label,
                    f"{rule.text} ({hit.rule} at {at}: {hit.message})",
                    lay.source,
                    rule.line,
                    subject.chain,
                    subject.name,
                    place=(hit.file, hit.line),
                )
            )
    return found


def _in_family(rule_id: str, blocked: str) -> bool:
    return rule_id == blocked or rule_id.rstrip("0123456789") == blocked


def _not_in(items: Sequence[Item]) -> str:
    return f"(not in {_list(items)})" if items else "(the list is empty)"


def _list(items: Sequence[Item]) -> str:
    return "[" + ", ".join(i.text for i in items) + "]"


def _first_line(items: Sequence[Item]) -> int | None:
    return items[0].line if items else None
