"""``skillpm lint``: check skills, fragments and a project before Claude reads them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from skillpm import yamlio
from skillpm.errors import ManifestError, SkillpmError
from skillpm.formats.filenames import MANIFEST_FILE
from skillpm.output import console, plural


@dataclass(frozen=True)
class LintOptions:
    format: str = "text"  # text | json | sarif
    strict: bool = False  # warnings fail too
    strict_spec: bool = False  # unknown frontmatter keys are errors
    all_versions: bool = False  # every version of a registry, not only the newest
    ignore: tuple[str, ...] = ()
    inline_ignores: bool = True


def _project_ignores(project_root: Path) -> frozenset[str]:
    """``lint.ignore`` of the project's skills.yaml (absent or unreadable: none)."""
    from skillpm.lint.engine import config_ignores

    path = project_root / MANIFEST_FILE
    if not path.is_file():
        return frozenset()
    try:
        data = yamlio.load_file(path, MANIFEST_FILE)
    except SkillpmError:
        return frozenset()  # reported as a finding when the project itself is linted
    if not isinstance(data, dict):
        return frozenset()
    return config_ignores(data, MANIFEST_FILE)


def lint(project_root: Path, paths: Sequence[Path], options: LintOptions) -> int:
    """Lint, print the report, and return the exit code (1 when it fails).

    Paths are shown relative to ``project_root`` (-C, else the current folder), as SARIF
    consumers expect paths relative to the repository root.
    """
    from skillpm.lint import engine, formats
    from skillpm.lint.sources import Loader

    base = project_root
    if not paths or project_root in paths:
        from skillpm.install.steps import settle
        from skillpm.project.folder import Project

        settle(Project(project_root))  # never lint a half-done change
    ignored = _project_ignores(project_root) | engine.check_rule_ids(options.ignore, "--ignore")
    loader = Loader(base, all_versions=options.all_versions)
    if not paths and not loader.add_default(project_root):
        raise ManifestError(
            f"{project_root}: nothing to lint (no skills.yaml, .claude/skills, CLAUDE.md, "
            "skillpm.yaml, SKILL.md or marketplace); pass a package, skill, registry or "
            "repository folder"
        )
    for path in paths:
        if not path.exists():
            raise ManifestError(f"{path}: no such file or folder")
        if not loader.add_path(path):
            raise ManifestError(
                f"{path}: not a project, package (skillpm.yaml), skill (SKILL.md), registry "
                "(index.json), marketplace or repository of skills; nothing to lint"
            )
    ws = loader.ws
    if not (ws.skills or ws.fragments or ws.packages or ws.projects):
        # Passing on zero skills would tell a user their repository is clean.
        where = ", ".join(str(p) for p in paths) or str(project_root)
        raise ManifestError(
            f"{where}: no skill to lint"
            + (
                f" ({plural(ws.not_checked, 'plugin')} stored elsewhere or without skills)"
                if ws.not_checked
                else ""
            )
        )
    report = engine.run(
        loader.ws,
        engine.Options(
            strict_spec=options.strict_spec,
            inline_ignores=options.inline_ignores,
            ignore=ignored,
        ),
    )
    if options.format == "json":
        console.json(formats.json_data(report))
    elif options.format == "sarif":
        console.json(formats.sarif(report, base))
    else:
        for line, style in formats.text_lines(report):
            console.result(line, style)
        if report.findings:
            console.info("")
        console.info(formats.summary(report))
    return 1 if report.failed(strict=options.strict) else 0


def list_rules(fmt: str) -> None:
    from skillpm.lint import engine  # noqa: F401  (declares every rule)
    from skillpm.lint.formats import rules_data

    rows = rules_data()
    if fmt in ("json", "sarif"):
        console.json(rows)
        return
    import textwrap

    for r in rows:
        console.result(f"{r['id']:<12} {r['severity']:<8} {r['name']:<26} {r['summary']}")
        # What each rule catches and what it deliberately does not, for people deciding
        # whether to trust a finding.
        for text in (r["help"], f"Not reported: {r['not_reported']}"):
            for line in textwrap.wrap(text, 88):
                console.result(f"    {line}", {"dim": True})
