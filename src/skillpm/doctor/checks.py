"""``skillpm doctor``: read the project and explain what would go wrong, with the fix.

Nothing here writes or uses the network. The only process started is
``aws --version``, when ``awsAuthRefresh`` is ``aws login`` and ``aws`` is on PATH.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from skillpm.doctor import iampolicy
from skillpm.doctor.bedrock import AwsCli, SettingsLayer, check_bedrock, parse_cli_version
from skillpm.doctor.diagnostics import Finding
from skillpm.doctor.iampolicy import STREAM, PolicyProblem
from skillpm.errors import SkillpmError, split_error
from skillpm.formats.filenames import LOCK_FILE, MANIFEST_FILE
from skillpm.formats.project_files import LockedPackage, ProjectManifest
from skillpm.install.installed import edited_fragments, installed_skill_state
from skillpm.project.folder import Project

# Claude Code warns when a CLAUDE.md passes 40,000 characters (it is loaded into
# every session); Anthropic's memory guide suggests about 200 lines per file.
CLAUDE_MD_MAX_CHARS = 40_000
CLAUDE_MD_MAX_LINES = 200
CLAUDE_MD_FILES = ("CLAUDE.md", ".claude/CLAUDE.md", "CLAUDE.local.md")
AWS_VERSION_TIMEOUT = 5.0


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]
    policy_files: int  # files read while looking for IAM policies

    @property
    def errors(self) -> int:
        return sum(f.level == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.level == "warning" for f in self.findings)


def run(
    project: Project,
    *,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
    aws_cli: Callable[[], AwsCli] | None = None,
) -> Report:
    environ = dict(os.environ) if environ is None else environ
    home = Path.home() if home is None else home
    findings = check_lock(project)
    findings += check_claude_md(project.root)
    layers, settings_findings = read_settings(project.root, home)
    findings += settings_findings
    findings += check_bedrock(layers, environ, aws_cli or probe_aws_cli)
    scan = iampolicy.scan(project.root)
    findings += [_policy_finding(p) for p in scan.problems]
    if scan.truncated:
        findings.append(
            Finding(
                "info",
                "iam-scan-truncated",
                f"stopped looking for IAM policies after {scan.files_read} files",
                "run doctor in the folder that holds the infrastructure code",
            )
        )
    return Report(tuple(findings), scan.files_read)


# -- the lock and the installed tree ------------------------------------------------


def _display(project: Project, folder: Path) -> str:
    try:
        return folder.relative_to(project.root).as_posix()
    except ValueError:
        return str(folder)


def check_lock(project: Project) -> list[Finding]:
    try:
        text = project.manifest_text()
        manifest = project.load_manifest(text)
    except SkillpmError as exc:
        line, message = split_error(exc, MANIFEST_FILE)
        return [
            Finding("error", "manifest-invalid", message, "fix skills.yaml", MANIFEST_FILE, line)
        ]
    try:
        lock = project.load_lock()
    except SkillpmError as exc:
        line, message = split_error(exc, LOCK_FILE)
        return [
            Finding(
                "error",
                "lock-invalid",
                message,
                "delete skills.lock and run 'skillpm install'",
                LOCK_FILE,
                line,
            )
        ]
    findings: list[Finding] = []
    in_flight = _change_in_flight(project)
    if in_flight is not None:
        return [in_flight]  # the installed files are between two states: nothing to judge
    if lock is None:
        if manifest.dependencies:
            findings.append(
                Finding(
                    "error",
                    "lock-missing",
                    "skills.yaml has dependencies but there is no skills.lock, so other "
                    "clones and CI cannot install the same versions",
                    "run 'skillpm install' and commit skills.lock",
                    MANIFEST_FILE,
                )
            )
        return findings
    if lock.manifest_hash != manifest.hash():
        findings.append(
            Finding(
                "error",
                "lock-stale",
                "skills.lock is out of date with skills.yaml ('skillpm install --frozen' "
                "fails in CI)",
                "run 'skillpm install' and commit skills.lock",
                LOCK_FILE,
            )
        )
    state = installed_skill_state(project, lock)
    primary = _display(project, project.skill_dirs[0])
    for pkg in lock.packages:
        for skill in pkg.skills:
            rel = f"{primary}/{skill}"
            if state.get(skill) is None:
                findings.append(
                    Finding(
                        "error",
                        "skill-missing",
                        f"{rel} ({pkg.name} {pkg.version}) is in skills.lock but not installed",
                        "run 'skillpm install'",
                        rel,
                    )
                )
            elif pkg.skill_integrity.get(skill) not in (None, state[skill]):
                findings.append(
                    Finding(
                        "warning",
                        "skill-modified",
                        f"{rel} ({pkg.name} {pkg.version}) was edited after it was installed; "
                        "skillpm will refuse to update it",
                        "keep the edit by publishing it as a new version, or restore the "
                        "installed copy with 'skillpm install --force'",
                        rel,
                    )
                )
    findings += _fragment_findings(project, manifest, lock.packages)
    for name, rel in sorted(edited_fragments(project, lock).items()):
        findings.append(
            Finding(
                "warning",
                "fragment-modified",
                f"{rel}: the {name} block was edited by hand after it was installed; skillpm "
                "will refuse to update it",
                "move the edit outside the skillpm markers (or into vars in skills.yaml), or "
                "restore the block with 'skillpm sync --force'",
                rel,
            )
        )
    findings += _settings_findings(project, lock.packages)
    if project.staging_root.exists():
        findings.append(
            Finding(
                "warning",
                "staging-leftover",
                "an interrupted skillpm run left files in .claude/.skillpm-staging",
                "run 'skillpm install'; it recovers the interrupted change and cleans up",
                ".claude/.skillpm-staging",
            )
        )
    return findings


def _change_in_flight(project: Project) -> Finding | None:
    """A change that passed its commit point and has not finished (see transaction)."""
    from skillpm.project.transaction import has_journal
    from skillpm.store import project_busy

    if not has_journal(project.staging_root):
        return None
    if project_busy(project.root):
        return Finding(
            "info",
            "change-running",
            "another skillpm process is changing this project right now",
            "run doctor again when it has finished",
            ".claude/.skillpm-staging",
        )
    return Finding(
        "error",
        "change-interrupted",
        "an interrupted skillpm run left a change half done: the installed files are "
        "between the old state and the new one",
        "run 'skillpm install' (or list, or any command that changes the project): it "
        "finishes the change first",
        ".claude/.skillpm-staging",
    )


def _fragment_findings(
    project: Project, manifest: ProjectManifest, packages: tuple[LockedPackage, ...]
) -> list[Finding]:
    """Fragments the lock records as merged must still be in place (in their placement)."""
    from skillpm.content import fragment_plan

    expected = {f: h for pkg in packages for f, h in pkg.fragment_hashes.items()}
    if not expected:
        return []
    try:
        placement = fragment_plan.placement_of(manifest.settings)
        intact = fragment_plan.outputs_intact(project.root, placement, expected)
    except SkillpmError as exc:
        return [Finding("error", "fragments-invalid", str(exc), "fix skills.yaml", MANIFEST_FILE)]
    if intact:
        return []
    return [
        Finding(
            "error",
            "fragments-missing",
            "CLAUDE.md fragment blocks are missing, damaged or out of date with skills.lock",
            "run 'skillpm diff' to see what differs, then 'skillpm sync' to put them back",
            "CLAUDE.md",
        )
    ]


def _settings_findings(project: Project, packages: tuple[LockedPackage, ...]) -> list[Finding]:
    """Keys skillpm set in .claude/settings.json that are gone or were changed since."""
    from skillpm.content.settings_merge import MISSING, same, shown, split_pointer

    recorded = [(pkg, ptr, value) for pkg in packages for ptr, value in pkg.settings.items()]
    if not recorded:
        return []
    rel = ".claude/settings.json"
    try:
        data = json.loads((project.root / rel).read_bytes())
    except (OSError, ValueError):
        data = {}
    findings = []
    for pkg, ptr, value in recorded:
        node = data
        for key in split_pointer(ptr):
            node = node.get(key, MISSING) if isinstance(node, dict) else MISSING
        if node is MISSING:
            findings.append(
                Finding(
                    "warning",
                    "settings-missing",
                    f"{shown(ptr)} (set by {pkg.name}) is missing from {rel}",
                    "run 'skillpm install' to put it back, or remove the package",
                    rel,
                )
            )
        elif not same(node, value):
            findings.append(
                Finding(
                    "info",
                    "settings-changed",
                    f"{shown(ptr)} (set by {pkg.name}) was changed by hand; skillpm keeps your "
                    "value and will not take it back",
                    "nothing to do, or restore it with 'skillpm install --force'",
                    rel,
                )
            )
    return findings


# -- CLAUDE.md ----------------------------------------------------------------------


def check_claude_md(root: Path) -> list[Finding]:
    findings = []
    for rel in CLAUDE_MD_FILES:
        try:
            text = (root / rel).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        chars, lines = len(text), text.count("\n") + (not text.endswith("\n") and bool(text))
        if chars > CLAUDE_MD_MAX_CHARS:
            findings.append(
                Finding(
                    "warning",
                    "claude-md-large",
                    f"{rel} is {chars:,} characters (about {chars // 4:,} tokens), over the "
                    f"{CLAUDE_MD_MAX_CHARS:,} at which Claude Code warns; it is sent with "
                    "every request",
                    "move long reference material into skills (loaded only when relevant) "
                    "and keep CLAUDE.md to rules and pointers",
                    rel,
                )
            )
        elif lines > CLAUDE_MD_MAX_LINES:
            findings.append(
                Finding(
                    "info",
                    "claude-md-long",
                    f"{rel} has {lines} lines; shorter memory files are followed more "
                    f"reliably (about {CLAUDE_MD_MAX_LINES} lines is a good ceiling)",
                    "move detail into skills or files that CLAUDE.md points to",
                    rel,
                )
            )
    return findings


# -- settings -----------------------------------------------------------------------


def read_settings(root: Path, home: Path) -> tuple[list[SettingsLayer], list[Finding]]:
    """The settings files Claude Code merges, lowest precedence first."""
    files = [
        (home / ".claude/settings.json", "~/.claude/settings.json", False),
        (root / ".claude/settings.json", ".claude/settings.json", True),
        (root / ".claude/settings.local.json", ".claude/settings.local.json", False),
    ]
    layers: list[SettingsLayer] = []
    findings: list[Finding] = []
    for path, label, shared in files:
        try:
            raw = path.read_bytes()
        except OSError:
            continue
        try:
            data = json.loads(raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            findings.append(
                Finding("error", "settings-invalid", f"{label} is not UTF-8", "", label)
            )
            continue
        except json.JSONDecodeError as exc:
            findings.append(
                Finding(
                    "error",
                    "settings-invalid",
                    f"{label} is not valid JSON ({exc.msg}); Claude Code ignores it",
                    "fix the JSON syntax (no comments or trailing commas)",
                    label,
                    exc.lineno,
                )
            )
            continue
        if not isinstance(data, dict):
            findings.append(
                Finding("error", "settings-invalid", f"{label} must hold a JSON object", "", label)
            )
            continue
        env = data.get("env")
        if env is not None and not isinstance(env, dict):
            findings.append(
                Finding(
                    "error",
                    "settings-invalid",
                    f"{label}: env must be an object of strings",
                    '"env": {"AWS_REGION": "us-east-1"}',
                    label,
                )
            )
        elif env and any(not isinstance(v, str) for v in env.values()):
            bad = sorted(k for k, v in env.items() if not isinstance(v, str))
            findings.append(
                Finding(
                    "warning",
                    "settings-env-not-string",
                    f"{label}: env values must be strings ({', '.join(bad)})",
                    'quote the values, e.g. "CLAUDE_CODE_USE_BEDROCK": "1"',
                    label,
                )
            )
        layers.append(SettingsLayer(label, data, shared))
    return layers, findings


def probe_aws_cli() -> AwsCli:
    """``aws --version`` if ``aws`` is on PATH, with a short timeout; no network."""
    import shutil
    import subprocess

    exe = shutil.which("aws")
    if exe is None:
        return AwsCli(False)
    try:
        proc = subprocess.run(
            [exe, "--version"],
            capture_output=True,
            text=True,
            timeout=AWS_VERSION_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return AwsCli(True, None, "no answer")
    out = (proc.stdout + proc.stderr).strip()
    return AwsCli(True, parse_cli_version(out), out[:80])


# -- IAM ----------------------------------------------------------------------------


def _policy_finding(problem: PolicyProblem) -> Finding:
    if problem.kind == "stream-denied":
        return Finding(
            "error",
            "iam-stream-denied",
            f"this policy allows {problem.granted_by} but denies InvokeModelWithResponseStream; "
            "Claude Code streams every response and hangs with no error",
            f"remove {STREAM} from the Deny statement",
            problem.path,
            problem.line,
        )
    return Finding(
        "error",
        "iam-stream-missing",
        f"this policy grants {problem.granted_by} without InvokeModelWithResponseStream; "
        "Claude Code streams every response and hangs with no error",
        f'add "{STREAM}" beside "{problem.granted_by}" (or grant "bedrock:InvokeModel*")',
        problem.path,
        problem.line,
    )
