"""Find IAM policies in a project that let Claude Code call Bedrock but not stream.

Claude Code streams every response (``bedrock:InvokeModelWithResponseStream``).
A principal allowed only ``bedrock:InvokeModel`` gets through authentication and
then waits forever: Claude Code shows no error. This module reads what a project
keeps as policy text and reports that trap.

What is read:
- JSON and YAML files holding policy documents (any mapping with ``Statement``,
  wherever it sits: a bare policy, a CloudFormation template, a ``.tf.json``).
  Each document is judged on its own: the union of its Allow statements, less
  its Deny statements, as IAM evaluates them.
- Code where policies are simple to read: CDK ``PolicyStatement({ actions: [...] })``
  (TypeScript, JavaScript, Python) and Terraform ``actions = [...]`` /
  ``Action = [...]``. These are judged per file (a role's statements are usually
  built in one file), and only literal action strings count.
Wildcards follow IAM: case-insensitive, ``*`` and ``?``; ``bedrock:*`` and
``bedrock:Invoke*`` grant both actions.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INVOKE = "bedrock:InvokeModel"
STREAM = "bedrock:InvokeModelWithResponseStream"
MAX_FILE_BYTES = 1024 * 1024
MAX_FILES = 5000  # candidate files read before the scan stops (a huge monorepo)
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".claude",  # skillpm's own installs and Claude Code's settings
        "node_modules",
        "cdk.out",  # synthesized from the CDK source, which is read instead
        ".terraform",
        ".venv",
        "venv",
        "__pycache__",
        ".tox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "dist",
        "build",
    }
)
DOC_SUFFIXES = (".json", ".yaml", ".yml")
CODE_SUFFIXES = (".ts", ".mts", ".cts", ".js", ".mjs", ".cjs", ".py", ".tf", ".hcl")


@dataclass(frozen=True)
class PolicyProblem:
    path: str  # posix, relative to the scanned root
    line: int | None
    kind: str  # "stream-missing" or "stream-denied"
    granted_by: str  # the action pattern that grants InvokeModel


@dataclass(frozen=True)
class ScanResult:
    problems: tuple[PolicyProblem, ...]
    files_read: int
    truncated: bool


def action_matches(pattern: str, action: str) -> bool:
    """IAM action matching: case-insensitive, ``*`` any run, ``?`` one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, action, flags=re.IGNORECASE | re.DOTALL) is not None


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _statements(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    raw = doc.get("Statement")
    items = raw if isinstance(raw, list) else [raw]
    return [s for s in items if isinstance(s, Mapping)]


def judge_document(doc: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(kind, granting pattern)`` when ``doc`` allows InvokeModel without streaming."""
    grants_invoke: str | None = None
    grants_stream = False
    denies_stream = False
    for stmt in _statements(doc):
        effect = str(stmt.get("Effect", "Allow")).lower()
        actions = _as_list(stmt.get("Action"))
        not_actions = _as_list(stmt.get("NotAction"))
        if effect == "deny":
            if any(action_matches(a, STREAM) for a in actions) or (
                not_actions and not any(action_matches(a, STREAM) for a in not_actions)
            ):
                denies_stream = True
            continue
        for action in actions:
            if grants_invoke is None and action_matches(action, INVOKE):
                grants_invoke = action
            grants_stream = grants_stream or action_matches(action, STREAM)
        if not_actions:  # Allow + NotAction grants everything not listed
            if grants_invoke is None and not any(action_matches(a, INVOKE) for a in not_actions):
                grants_invoke = "NotAction"
            if not any(action_matches(a, STREAM) for a in not_actions):
                grants_stream = True
    if grants_invoke is None:
        return None
    if denies_stream:
        return "stream-denied", grants_invoke
    if not grants_stream:
        return "stream-missing", grants_invoke
    return None


def find_documents(value: Any, depth: int = 0) -> Iterator[Mapping[str, Any]]:
    """Every mapping with a ``Statement`` key, however deeply nested (templates)."""
    if depth > 64:
        return
    if isinstance(value, Mapping):
        if "Statement" in value:
            yield value
            return
        for child in value.values():
            yield from find_documents(child, depth + 1)
    elif isinstance(value, list):
        for child in value:
            yield from find_documents(child, depth + 1)


def _line_of(text: str, needle: str, start: int = 1) -> int | None:
    """1-based line of the first ``needle`` (case-insensitive) at or after line ``start``."""
    lines = text.splitlines()
    for i in range(max(start, 1) - 1, len(lines)):
        if needle.lower() in lines[i].lower():
            return i + 1
    return None


def scan_document_text(text: str, relpath: str) -> list[PolicyProblem]:
    """Policy documents in a JSON or YAML file's text; unreadable files are skipped."""
    from skillpm import yamlio
    from skillpm.errors import ManifestError

    try:
        if relpath.endswith(".json"):
            data = json.loads(text)
        else:
            data = yamlio.loads(text, relpath, any_tags=True)
    except (ValueError, RecursionError, ManifestError):
        return []
    problems = []
    cursor = 1
    for doc in find_documents(data):
        verdict = judge_document(doc)
        if verdict is None:
            continue
        kind, pattern = verdict
        needle = STREAM if kind == "stream-denied" else pattern
        line = _line_of(text, needle, cursor) or _line_of(text, needle)
        cursor = line or cursor
        problems.append(PolicyProblem(relpath, line, kind, pattern))
    return problems


_STRING = re.compile(r"""'([^'\\\n]*)'|"([^"\\\n]*)"|`([^`\\\n]*)`""")
# actions: [...] (CDK TS/JS), actions=[...] (CDK Python), actions = [...] (Terraform),
# Action = [...] / "Action": [...] (Terraform jsonencode, policies as code literals).
_ACTIONS = re.compile(
    r"""(?<![\w.])["']?(actions|Action)["']?\s*[:=]\s*(\[[^\]]*\]|"[^"\n]*"|'[^'\n]*')"""
)


def scan_code_text(text: str, relpath: str) -> list[PolicyProblem]:
    """Literal action lists in code, judged together for the whole file."""
    granted: list[tuple[str, int]] = []
    for match in _ACTIONS.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        for s in _STRING.finditer(match.group(2)):
            value = next(g for g in s.groups() if g is not None)
            if ":" in value or value == "*":
                granted.append((value, line))
    invoke = next(((a, n) for a, n in granted if action_matches(a, INVOKE)), None)
    if invoke is None or any(action_matches(a, STREAM) for a, _ in granted):
        return []
    return [PolicyProblem(relpath, invoke[1], "stream-missing", invoke[0])]


def candidate_files(root: Path) -> Iterator[Path]:
    """Files that may hold policies, in a stable order, skipping generated folders."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            if name.endswith(DOC_SUFFIXES + CODE_SUFFIXES):
                path = Path(folder) / name
                if not path.is_symlink():
                    yield path


def scan(root: Path, files: Iterable[Path] | None = None) -> ScanResult:
    problems: list[PolicyProblem] = []
    read = 0
    for path in files if files is not None else candidate_files(root):
        if read >= MAX_FILES:
            return ScanResult(tuple(problems), read, True)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                continue
            raw = path.read_bytes()
        except OSError:
            continue
        read += 1
        if b"bedrock" not in raw.lower():
            continue
        text = raw.decode("utf-8", errors="replace")
        relpath = path.relative_to(root).as_posix()
        if path.name.endswith(DOC_SUFFIXES):
            problems.extend(scan_document_text(text, relpath))
        else:
            problems.extend(scan_code_text(text, relpath))
    return ScanResult(tuple(problems), read, False)
