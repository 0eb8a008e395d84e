"""Conflict rules: what disagrees across everything that will be in Claude's context.

Fragments state structured facts (``claims``) and protected paths
(``must-not-touch``); lint compares them across every package of one context
(a project, or all the packages given on the command line) and with the
project's ``vars``. Each finding is placed on one side and names the other in
``related``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from skillpm.lint.model import Finding, Location, Severity, rule
from skillpm.lint.workspace import Fragment, Skill, TextFile, Workspace, iter_markdown

CLAIMS = rule(
    "CONFLICT001",
    "claim-conflict",
    Severity.ERROR,
    "Two fragments claim different values for the same fact",
    "Fragments state facts as claims (aws.region: us-east-1, model.interactive: sonnet). "
    "When two fragments in one context disagree, Claude gets contradictory instructions. "
    "Keep one package, change one claim, or take the value from vars in both.",
    "conflict",
    not_reported=(
        "Fragments in different contexts, such as the packages of a catalog; templated "
        "claims that cannot be rendered (CONFLICT007)."
    ),
)
PROTECTED = rule(
    "CONFLICT002",
    "must-not-touch-edit",
    Severity.ERROR,
    "A skill tells Claude to edit a path a fragment marks must-not-touch",
    "A must-not-touch fragment lists paths Claude must not change without a named team's "
    "review. A skill whose instructions say to edit, modify or change such a path contradicts "
    "it. Reword the skill or narrow the glob.",
    "conflict",
    not_reported=(
        "Lines that mention a protected path without asking to edit, modify or change it."
    ),
)
DUPLICATE_SKILL = rule(
    "CONFLICT003",
    "duplicate-skill",
    Severity.ERROR,
    "Two packages provide a skill of the same name",
    "Skills install to .claude/skills/<name>; two packages providing one name cannot both "
    "be installed. Rename one skill or install only one of the packages.",
    "conflict",
    not_reported=(
        "Skills of one name in different packages of a catalog (a marketplace, registry "
        "or skills repository): alternatives nobody installs together. A project, and "
        "packages given together on the command line, are checked."
    ),
)
DUPLICATE_SECTION = rule(
    "CONFLICT004",
    "duplicate-section",
    Severity.ERROR,
    "Two fragments provide the same CLAUDE.md section or fragment name",
    "Each fragment becomes one section of CLAUDE.md, keyed by its name, under its section "
    "heading. Two fragments with one name collide; two with one heading repeat it. Rename "
    "one of them.",
    "conflict",
    not_reported="Fragments in different contexts, such as the packages of a catalog.",
)
VARS = rule(
    "CONFLICT005",
    "vars-contradict-claim",
    Severity.ERROR,
    "A vars value in skills.yaml contradicts a fragment's claim",
    "A fragment claims a fixed value that the project's vars set differently, so CLAUDE.md "
    "would say one thing and the project another. Make the claim a template "
    "('{{ vars.aws.region }}') or change the var.",
    "conflict",
    not_reported="Claims that are templates over vars: they follow vars by construction.",
)
UNAVAILABLE = rule(
    "CONFLICT006",
    "fragments-not-checked",
    Severity.INFO,
    "An installed package's fragments could not be read, so their claims were not compared",
    "lint reads the fragments of each locked package from its registry. When the registry "
    "cannot be read (offline, removed), those claims are skipped.",
    "conflict",
    not_reported=(
        "Anything fetched: lint never uses the network, so a registry missing from the "
        "cache is skipped, not read."
    ),
)
RENDER = rule(
    "CONFLICT007",
    "claim-template",
    Severity.WARNING,
    "A templated claim or path cannot be rendered with the project's vars",
    "Claims and must-not-touch paths may be Jinja2 templates over vars ('{{ vars.aws.region "
    "}}'); a template that names a var skills.yaml does not set cannot be compared.",
    "conflict",
    not_reported="Templates over vars that skills.yaml sets (they are rendered and compared).",
)

_EDIT = re.compile(
    r"\b(edit|edits|editing|modify|modifies|modifying|change|changes|changing|update|updates|"
    r"updating|rewrite|rewriting|refactor|refactoring|patch|patching|replace|replacing|"
    r"overwrite|overwriting|delete|deleting|remove|removing|alter|altering|rename|renaming)\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(
    r"\b(do not|don't|dont|does not|doesn't|never|must not|mustn't|should not|shouldn't|"
    r"cannot|can't|avoid|without|not|no)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+")
_TOKEN_STRIP = "`'\"()[]<>,;:!?*_"


@dataclass(frozen=True)
class Claim:
    key: str
    raw: str  # as written
    value: str | None  # as compared: rendered; None when a template cannot be rendered
    where: Location

    @property
    def normal(self) -> str:
        return " ".join((self.value or "").split()).casefold()


@dataclass(frozen=True)
class Protected:
    glob: str
    reason: str
    where: Location
    pattern: re.Pattern[str]


def _is_template(value: Any) -> bool:
    """Whether ``value`` (text, or lists and mappings of it) holds a Jinja2 template."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, Mapping):
        return any(_is_template(v) for v in value.values())
    if isinstance(value, list):
        return any(_is_template(v) for v in value)
    return False


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_scalar(v) for v in value)
    return str(value)


def _flatten(
    value: Mapping[Any, Any], prefix: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], Any]]:
    for key, item in value.items():
        path = (*prefix, str(key))
        if isinstance(item, Mapping):
            yield from _flatten(item, path)
        elif item is not None:
            yield path, item


class _Context:
    """One context's fragments, their templates rendered as install renders them.

    In a project, claims and must-not-touch paths are rendered with its ``vars`` by
    the fragments module's renderer. Packages linted on their own have no vars: a
    template is rendered with none, and skipped when it needs one.
    """

    def __init__(self, ws: Workspace, group: str) -> None:
        self.ws = ws
        self.group = group
        self.vars: Mapping[str, Any] | None = ws.vars.get(group)
        self.findings: list[Finding] = []
        self._renderer: Any = None

    def _render(self, fragment: Fragment, what: str, **fields: Any) -> Any:
        """The fragment rendered with only ``fields`` (claims, must_not_touch) kept."""
        from dataclasses import replace

        from skillpm.content.fragments import Renderer
        from skillpm.errors import FragmentError

        if self._renderer is None:
            self._renderer = Renderer(self.vars or {})
        bare = replace(fragment.parsed, body="", claims={}, must_not_touch=())
        try:
            return self._renderer.render(replace(bare, **fields))
        except FragmentError as exc:
            if self.vars is not None:
                where = fragment.file.at(self._line(fragment, what))
                self.findings.append(
                    RENDER(where, f"{what} cannot be rendered: {exc}", "set it under vars:")
                )
            return None

    @staticmethod
    def _line(fragment: Fragment, what: str) -> int | None:
        if fragment.fm is None:
            return None
        if what.startswith("claim "):
            return fragment.fm.key_line("claims", what.removeprefix("claim "))
        return fragment.fm.key_line("must-not-touch")

    def claims(self, fragment: Fragment) -> list[Claim]:
        if fragment.parsed is None:
            return []
        fm = fragment.fm
        found = []
        for key, raw in fragment.parsed.claims.items():
            value = raw
            if _is_template(raw):
                rendered = self._render(fragment, f"claim {key}", claims={key: raw})
                if rendered is None:
                    continue  # not comparable here (reported in a project)
                value = rendered.claims[key]
            leaves = _flatten(value, (key,)) if isinstance(value, Mapping) else [((key,), value)]
            for path, leaf in leaves:
                line = fm.key_line("claims", *path) if fm else None
                if line is None and fm is not None:
                    line = fm.key_line("claims", key)
                written = raw if not isinstance(raw, Mapping) else leaf
                found.append(
                    Claim(".".join(path), _scalar(written), _scalar(leaf), fragment.file.at(line))
                )
        return found

    def protected(self, fragment: Fragment) -> list[Protected]:
        parsed = fragment.parsed
        if parsed is None or not parsed.must_not_touch:
            return []
        items: list[tuple[str, str, int | None]] = []
        fm = fragment.fm
        top = fm.key_line("must-not-touch") if fm else None
        templated = _is_template(parsed.must_not_touch)
        rendered = None
        if templated:
            rendered = self._render(
                fragment, "must-not-touch", must_not_touch=parsed.must_not_touch
            )
        if rendered is not None:
            for i, entry in enumerate(rendered.must_not_touch):
                line = fm.key_line("must-not-touch", str(i)) if fm else None
                items.append((entry.path, entry.reason, line or top))
        elif (self.vars is None or not templated) and isinstance(parsed.must_not_touch, list):
            # Literal entries count as written; without vars, templated ones are skipped.
            for i, entry in enumerate(parsed.must_not_touch):
                path = entry.get("path") if isinstance(entry, Mapping) else entry
                reason = entry.get("reason") if isinstance(entry, Mapping) else ""
                if isinstance(path, str) and path.strip() and not _is_template(path):
                    line = fm.key_line("must-not-touch", str(i)) if fm else None
                    items.append((path.strip(), str(reason or "").strip(), line or top))
        found = []
        for glob, reason, line in items:
            note = f"must-not-touch {glob}" + (f" ({reason})" if reason else "")
            where = fragment.file.at(line, note)
            found.append(Protected(glob, reason, where, glob_pattern(glob)))
        return found


def glob_pattern(glob: str) -> re.Pattern[str]:
    """A glob as a regex over posix paths: ``**`` any depth, ``*`` and ``?`` within a part.

    Without a slash the glob matches a file name at any depth (as in .gitignore).
    """
    glob = glob.strip()
    glob = (glob[2:] if glob.startswith("./") else glob).lstrip("/")
    out = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    body = "".join(out)
    if glob.endswith("/"):
        body += ".*"
    prefix = "" if "/" in glob.rstrip("/") else "(?:.*/)?"
    return re.compile(f"^{prefix}{body}$")


def _mentions(token: str, protected: Protected) -> bool:
    token = token.strip(_TOKEN_STRIP).rstrip(".")
    if "/" not in token and not re.search(r"\.[A-Za-z0-9]{1,8}$", token):
        return False
    token = token.removeprefix("./")
    if protected.pattern.match(token) or protected.pattern.match(token.rstrip("/") + "/x"):
        return True
    # "edit vpc-stack.ts" names infra/vpc-stack.ts by its file name.
    base = protected.glob.rstrip("/").rsplit("/", 1)[-1]
    return "/" not in token and not re.search(r"[*?\[]", base) and token == base


def _edit_targets(line: str, protected: list[Protected]) -> Iterator[Protected]:
    if not _EDIT.search(line):
        return
    for sentence in _SENTENCE.split(line):
        verb = _EDIT.search(sentence)
        if verb is None or _NEGATION.search(sentence[: verb.start()]):
            continue
        tokens = sentence.split()
        for p in protected:
            if any(_mentions(t, p) for t in tokens):
                yield p


def check(ws: Workspace) -> Iterator[Finding]:
    for problem in ws.problems:
        if problem.kind == "unavailable":
            yield UNAVAILABLE(problem.where, problem.message, "run 'skillpm install' when online")
    for group in ws.groups():
        yield from _check_group(ws, group)


def _check_group(ws: Workspace, group: str) -> Iterator[Finding]:
    context = _Context(ws, group)
    fragments = [f for f in ws.fragments if f.group == group]
    skills = [s for s in ws.skills if s.group == group]
    claims = [c for f in fragments for c in context.claims(f)]
    protected = [p for f in fragments for p in context.protected(f)]
    yield from context.findings
    yield from _claim_conflicts(claims)
    yield from _vars_conflicts(ws, group, claims)
    yield from _protected_edits(skills, fragments, protected)
    yield from _duplicate_skills(skills)
    yield from _duplicate_sections(fragments)


def _claim_conflicts(claims: list[Claim]) -> Iterator[Finding]:
    first: dict[str, Claim] = {}
    for claim in claims:
        if claim.value is None:
            continue
        seen = first.setdefault(claim.key, claim)
        if seen is claim or seen.normal == claim.normal:
            continue
        other = Location(
            seen.where.file, seen.where.line, seen.where.package, f"{seen.key}: {seen.value}"
        )
        if claim.key.startswith("model."):
            task = claim.key.removeprefix("model.")
            message = (
                f"model selection disagrees for {task!r}: {_owner(claim)} says {claim.value}, "
                f"{_owner(seen)} says {seen.value}"
            )
        else:
            message = (
                f"claim {claim.key}: {claim.value} ({_owner(claim)}) contradicts "
                f"{seen.value} ({_owner(seen)}, {seen.where.file}:{seen.where.line})"
            )
        yield CLAIMS(
            claim.where,
            message,
            "keep one value: change one claim, or take it from vars in both fragments",
            related=[other],
        )


def _owner(claim: Claim) -> str:
    return claim.where.package or claim.where.file


def _lookup(variables: Mapping[str, Any], key: str) -> tuple[bool, Any]:
    if key in variables:
        return True, variables[key]
    node: Any = variables
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _vars_conflicts(ws: Workspace, group: str, claims: list[Claim]) -> Iterator[Finding]:
    variables = ws.vars.get(group)
    project = next((p for p in ws.projects if p.group == group), None)
    if variables is None or project is None or project.manifest_file is None:
        return
    from skillpm.lint.workspace import yaml_key_lines

    manifest: TextFile = project.manifest_file
    lines = yaml_key_lines(manifest.text or "")
    for claim in claims:
        if _is_template(claim.raw) or claim.value is None:
            continue
        found, value = _lookup(variables, claim.key)
        if not found or isinstance(value, (Mapping, list)) or value is None:
            continue
        if " ".join(_scalar(value).split()).casefold() == claim.normal:
            continue
        line = lines.get(("vars", *claim.key.split("."))) or lines.get(("vars", claim.key))
        yield VARS(
            claim.where,
            f"claim {claim.key}: {claim.value} ({_owner(claim)}) contradicts vars.{claim.key}: "
            f"{_scalar(value)} in {manifest.rel}",
            f"write the claim as '{{{{ vars.{claim.key} }}}}' or change vars.{claim.key}",
            related=[manifest.at(line, f"vars.{claim.key}: {_scalar(value)}")],
        )


def _protected_edits(
    skills: list[Skill], fragments: list[Fragment], protected: list[Protected]
) -> Iterator[Finding]:
    if not protected:
        return
    texts: list[TextFile] = [f for s in skills for f in iter_markdown(s)]
    texts += [f.file for f in fragments if f.file.text is not None]
    for file in texts:
        for number, line in enumerate(file.lines, 1):
            for p in _edit_targets(line, protected):
                if p.where.file == file.rel:
                    continue  # the must-not-touch fragment itself
                yield PROTECTED(
                    file.at(number),
                    f"instructions edit {p.glob}, a must-not-touch path"
                    + (f" ({p.reason})" if p.reason else "")
                    + f" set by {p.where.package or p.where.file}",
                    "reword the instruction (e.g. 'ask the owning team to change ...') or "
                    "narrow the must-not-touch glob",
                    related=[p.where],
                )


def _duplicate_skills(skills: list[Skill]) -> Iterator[Finding]:
    first: dict[str, Skill] = {}
    for skill in skills:
        seen = first.setdefault(skill.name, skill)
        if seen is skill:
            continue
        yield DUPLICATE_SKILL(
            skill.at(1),
            f"skill {skill.name!r} is provided by both {seen.package or seen.rel} and "
            f"{skill.package or skill.rel}",
            "rename one of the skills, or install only one of the packages",
            related=[seen.at(1, f"skill {seen.name}")],
        )


def _duplicate_sections(fragments: list[Fragment]) -> Iterator[Finding]:
    by_name: dict[str, Fragment] = {}
    by_section: dict[str, tuple[Fragment, str]] = {}
    for fragment in fragments:
        seen = by_name.setdefault(fragment.name, fragment)
        if seen is not fragment:
            yield DUPLICATE_SECTION(
                fragment.file.at(1),
                f"fragment {fragment.name!r} is provided by both {seen.package or seen.file.rel} "
                f"and {fragment.package or fragment.file.rel}",
                "rename one fragment (its file name and name:)",
                related=[seen.file.at(1, f"fragment {seen.name}")],
            )
            continue
        fm = fragment.fm
        section = fm.meta.get("section") if fm is not None and fm.meta is not None else None
        if not isinstance(section, str) or not section.strip():
            continue
        key = " ".join(section.split()).casefold()
        prior = by_section.setdefault(key, (fragment, section))
        if prior[0] is fragment:
            continue
        other, heading = prior
        assert fm is not None
        yield DUPLICATE_SECTION(
            fragment.file.at(fm.key_line("section")),
            f"section {section!r} is provided by both {other.package or other.file.rel} "
            f"({other.name}) and {fragment.package or fragment.file.rel} ({fragment.name})",
            "merge the two fragments or give one a different section heading",
            related=[other.file.at(_section_line(other), f"section: {heading}")],
        )


def _section_line(fragment: Fragment) -> int | None:
    return fragment.fm.key_line("section") if fragment.fm is not None else None
