"""``skillpm audit``: the installed project against the policies in force, the lock's
integrity, and drift of installed files and blocks. Reads only; package contents come
from the cache (like lint), so only a URL policy may need the network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from skillpm.errors import LockError, SkillpmError
from skillpm.formats.filenames import LOCK_FILE, MANIFEST_FILE
from skillpm.formats.project_files import BUILTIN, Lockfile, ProjectManifest
from skillpm.lint.model import Finding
from skillpm.output import redact
from skillpm.policy.evaluate import (
    Content,
    Effective,
    LintHit,
    Violation,
    check_content,
    check_packages,
    check_registries,
)
from skillpm.policy.gate import registry_key_of, signature_trust, subjects
from skillpm.policy.load import effective, key_lines
from skillpm.project.folder import Project

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class AuditRule:
    id: str
    name: str
    summary: str
    help: str


def _rules(*rows: tuple[str, str, str, str]) -> dict[str, AuditRule]:
    return {row[0]: AuditRule(*row) for row in rows}


# One rule per policy key (engineer-facing: a new policy key gets a row here too).
POLICY_RULES = {
    "registries.allow": "POLICY001",
    "packages.deny": "POLICY002",
    "packages.allow": "POLICY003",
    "content.executables": "POLICY004",
    "content.plugin-parts": "POLICY005",
    "content.block-lint": "POLICY006",
    "signatures.required": "POLICY007",
}
RULES = _rules(
    ("POLICY001", "registry-not-allowed", "A registry the policy does not allow",
     "skills.yaml lists a registry, or skills.lock a package from one, that no registries.allow "
     "glob of the policy matches. Remove the registry, or ask for it to be allowed."),
    ("POLICY002", "package-denied", "A package the policy denies",
     "A name (and version range) in packages.deny matches an installed package, perhaps one "
     "brought in by a dependency. Remove it or move to a version the policy allows."),
    ("POLICY003", "package-not-allowed", "A package outside the policy's allow-list",
     "packages.allow lists the packages the organisation vetted; this one matches none."),
    ("POLICY004", "executable-files", "A package installs executable files",
     "content.executables is deny (or warn): Claude can run scripts a skill ships."),
    ("POLICY005", "plugin-part-not-allowed", "A package provides a plugin part not allowed",
     "content.plugin-parts lists the parts of a plugin (skills, agents, commands, ...) that "
     "may be installed."),
    ("POLICY006", "lint-blocked", "A package has an error in a lint family the policy blocks",
     "content.block-lint names lint families or rules whose errors refuse a package; inline "
     "skillpm:ignore comments do not count here."),
    ("POLICY007", "signer-not-allowed", "A package not signed by a key the policy allows",
     "signatures.required: skills.lock records the signers install verified; none of this "
     "package's is in the policy's allowed-signers file. Run 'skillpm install' to verify it."),
    ("LOCK001", "lock-missing", "skills.lock is missing",
     "skills.yaml has dependencies but there is no skills.lock: run 'skillpm install' and "
     "commit skills.lock, so every clone installs the same bytes."),
    ("LOCK002", "lock-invalid", "skills.yaml or skills.lock cannot be read",
     "The file is malformed; restore it from version control."),
    ("LOCK003", "lock-stale", "skills.lock is out of date with skills.yaml",
     "skills.yaml changed since skills.lock was written: run 'skillpm install' and commit both."),
    ("LOCK004", "lock-edited", "skills.lock contradicts skills.yaml",
     "A package comes from another registry than the one skills.yaml pins, or from one "
     "skills.yaml does not list: the lock was edited. Restore it, or run 'skillpm install'."),
)  # fmt: skip


@dataclass(frozen=True)
class AuditFinding:
    rule: str
    level: str  # error | warning
    file: str  # relative to the project
    line: int | None
    message: str
    package: str | None = None
    hint: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "level": self.level,
            "file": self.file,
            "line": self.line,
            "package": self.package,
            "message": self.message,
            "hint": self.hint,
        }


@dataclass
class Audit:
    findings: list[AuditFinding] = field(default_factory=list)
    policy: Effective = field(default_factory=Effective)
    packages: int = 0

    @property
    def failed(self) -> bool:
        return any(f.level == ERROR for f in self.findings)


def run(project: Project) -> Audit:
    """Every finding about ``project``; a policy that cannot be read raises (fails closed)."""
    audit = Audit()
    if not project.manifest_path.is_file() and not project.lock_path.is_file():
        # A gate run in the wrong folder must not pass on nothing.
        raise LockError(
            f"{project.files_dir}: not a skillpm project (no {MANIFEST_FILE} or {LOCK_FILE}); "
            "run audit in the project folder, or pass -C PATH"
        )
    text = project.manifest_text() if project.manifest_path.is_file() else None
    try:
        manifest = project.load_manifest(text) if text is not None else ProjectManifest()
    except SkillpmError as exc:
        audit.findings.append(AuditFinding("LOCK002", ERROR, MANIFEST_FILE, None, str(exc)))
        return audit
    audit.policy = effective(manifest, text, project.files_dir, project.options)
    project.use_targets(manifest)
    lock = _lock(project, manifest, audit)
    audit.packages = len(lock.packages) if lock else 0
    lines = key_lines(text or "")
    for name, url in manifest.registries:
        listed = [(f"{name} ({redact(url)})", registry_key_of(project, url))]
        line = lines.get(("registries", name))
        for violation in check_registries(audit.policy, listed):
            audit.findings.append(_finding(violation, MANIFEST_FILE, line))
    if lock is not None:
        _check_lock(project, manifest, lock, audit)
    audit.findings.sort(key=lambda f: (f.file, f.line or 0, f.rule, f.message))
    return audit


def _lock(project: Project, manifest: ProjectManifest, audit: Audit) -> Lockfile | None:
    from skillpm.install.steps import check_pins

    try:
        lock = project.load_lock()
    except SkillpmError as exc:
        audit.findings.append(AuditFinding("LOCK002", ERROR, LOCK_FILE, None, str(exc)))
        return None
    if lock is None:
        if manifest.dependencies:
            audit.findings.append(
                AuditFinding("LOCK001", ERROR, LOCK_FILE, None, "skills.lock is missing")
            )
        return None
    if lock.manifest_hash != manifest.hash():
        audit.findings.append(
            AuditFinding(
                "LOCK003", ERROR, LOCK_FILE, None, "skills.lock is out of date with skills.yaml"
            )
        )
    try:
        check_pins(manifest, lock)
    except LockError as exc:
        audit.findings.append(AuditFinding("LOCK004", ERROR, LOCK_FILE, None, str(exc)))
    listed = {redact(u) for _, u in manifest.registries} | {BUILTIN}
    for pkg in lock.packages:
        if redact(pkg.registry) not in listed:
            audit.findings.append(
                AuditFinding(
                    "LOCK004",
                    ERROR,
                    LOCK_FILE,
                    None,
                    f"{pkg.name} comes from registry {redact(pkg.registry)}, which skills.yaml "
                    "does not list",
                    pkg.name,
                )
            )
    return lock


def _check_lock(project: Project, manifest: ProjectManifest, lock: Lockfile, audit: Audit) -> None:
    lock_text = project.lock_path.read_text(encoding="utf-8", errors="replace")
    where = {
        m.group(1): lock_text.count("\n", 0, m.start()) + 1
        for m in re.finditer(r"(?m)^- name: ([a-z0-9-]+)\s*$", lock_text)
    }
    at = {p.name: where.get(p.name) for p in lock.packages}
    for violation in check_packages(audit.policy, subjects(project, manifest, lock, lock.packages)):
        audit.findings.append(_finding(violation, LOCK_FILE, at.get(violation.package or "")))
    for label, trust in signature_trust(project, audit.policy):
        allowed = {signer.fingerprint for signer in trust.signers}
        for pkg in lock.packages:
            if not allowed & {s.key for s in pkg.signers}:
                line = at.get(pkg.name)
                message = f"{pkg.name} {pkg.version}: no signer in skills.lock that {label} allows"
                audit.findings.append(
                    AuditFinding("POLICY007", ERROR, LOCK_FILE, line, message, pkg.name)
                )
    by_package: dict[str, list[LintHit]] = {}
    for finding in _lint_project(project.root):
        if finding.rule.startswith("DRIFT"):
            audit.findings.append(
                AuditFinding(
                    finding.rule,
                    finding.severity.value if finding.severity.value == ERROR else WARNING,
                    finding.file,
                    finding.line,
                    finding.message,
                    finding.location.package,
                    finding.hint,
                )
            )
        elif finding.severity.value == ERROR and finding.location.package:
            by_package.setdefault(finding.location.package, []).append(
                LintHit(finding.rule, finding.file, finding.line, finding.message)
            )
    executables = _installed_executables(project, lock)
    for subject in subjects(project, manifest, lock, lock.packages):
        content = Content(
            tuple(executables.get(subject.name, ())), tuple(by_package.get(subject.name, ()))
        )
        for violation in check_content(audit.policy, subject, content):
            file, line = violation.place or (LOCK_FILE, at.get(subject.name))
            audit.findings.append(_finding(violation, file, line))


def _lint_project(root: Path) -> list[Finding]:
    """The project's lint findings, inline ignores not honoured."""
    from skillpm.lint import engine
    from skillpm.lint.sources import Loader

    loader = Loader(root)
    loader.add_project(root)
    report = engine.run(loader.ws, engine.Options(inline_ignores=False))
    return report.findings


def _installed_executables(project: Project, lock: Lockfile) -> dict[str, list[str]]:
    """Executable files in each installed skill folder, by the package that installed it."""
    found: dict[str, list[str]] = {}
    for pkg in lock.packages:
        for skill in pkg.skills:
            for folder in project.skill_dirs:
                copy = folder / skill
                if not copy.is_dir():
                    continue
                for path in sorted(copy.rglob("*")):
                    if path.is_file() and not path.is_symlink() and path.stat().st_mode & 0o111:
                        rel = path.relative_to(project.root).as_posix()
                        found.setdefault(pkg.name, []).append(rel)
    return found


def _finding(violation: Violation, file: str, line: int | None) -> AuditFinding:
    return AuditFinding(
        POLICY_RULES[violation.rule],
        WARNING if violation.warning else ERROR,
        file,
        line,
        violation.message,
        violation.package,
    )
