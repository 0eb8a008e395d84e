"""``skillpm new``: the files of a fresh package, and writing them in one step.

The templates are a small lesson in writing skills: a description that says what
the skill does *and when to use it* (Claude reads only the descriptions to decide
which skill to load), a short SKILL.md body with concrete steps, and long detail
moved to ``references/`` so it costs no context until a step needs it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from skillpm.errors import ManifestError
from skillpm.formats.index import check_name

# publish warns while a skill still carries this text; it is valid, so the
# scaffold publishes as is, which lets an author try the whole loop first.
PLACEHOLDER = "Replace this description"

_MANIFEST = """\
# skillpm package manifest. Publish with: skillpm publish --registry PATH
name: {name}
# Semver. Every publish needs a new version: published versions never change.
version: 0.1.0
# One line, shown by 'skillpm search' and 'skillpm info'.
description: {title} for Claude Code
license: MIT
# Other packages this one needs, with version ranges (npm or PEP 440 style):
# dependencies:
#   aws-environment: ^1.0
# By default every skills/*/SKILL.md and every fragments/*.md is part of the
# package; list them to choose:
# skills: [skills/{name}]
# fragments: [fragments/{name}.md]
"""

_SKILL = """\
---
name: {name}
description: >-
  {placeholder}: say what the skill does and when Claude should use it, in the
  third person, with the words a request would contain. For example: "Generates
  CDK stacks that follow the team's naming and tagging standards. Use when
  creating, reviewing or renaming CDK stacks or constructs."
---

# {title}

One or two sentences: the outcome this skill produces and the conventions it
enforces. Claude is already capable; write only what it cannot know (your team's
choices, names, commands and traps), and keep this file under about 500 lines.

## Steps

1. First concrete step, with the exact command to run:
   `make check`
2. Next step. Prefer one recommended way over a list of options.
3. Check the result before finishing, and fix what the check reports:
   `make test`

## Pitfalls

- A mistake that is easy to make here, and what to do instead.

## Reference

Long tables, full API details and rarely needed cases belong in separate files
that Claude reads only when a step needs them. Link each one from here, one level
deep, and say when to read it:

- Naming rules and examples: [references/REFERENCE.md](references/REFERENCE.md)
"""

_REFERENCE = """\
# {title}: reference

Detail that SKILL.md links to. Claude loads this file only when a step points
here, so it can be long. Start with a short table of contents when it passes
about 100 lines.

## Contents

- Naming rules
- Examples

## Naming rules

| Thing | Pattern | Example |
|-------|---------|---------|
| ...   | ...     | ...     |

## Examples

Input and expected output pairs show a format better than a description of it.
"""

_FRAGMENT = """\
---
name: {name}
# What this CLAUDE.md section is for.
description: {title} rules for this project
# Rendered as a '## ' heading in CLAUDE.md; lower order comes first, ties by name.
section: {title}
order: 50
# Facts that 'skillpm lint' compares across fragments (dotted keys, plain values):
claims: {{}}
#   model.routine-edits: haiku
# Paths Claude must not change without review:
must-not-touch: []
#   - path: infra/vpc-stack.ts
#     reason: shared VPC; infra-team review
# The body below is a Jinja2 template: {{{{ vars.aws.region }}}} inserts a value from
# the project's skills.yaml vars (a missing variable is an error naming it).
---
- One rule per line, short and checkable: "Deploy with `cdk deploy --all`."
- Say what to do, not only what to avoid, and why when it is not obvious.
"""


def _title(name: str) -> str:
    return name.replace("-", " ").capitalize()


def files_for(name: str, *, skill: bool, fragment: bool) -> dict[str, str]:
    """The relative paths and text of a new package. Pure: no I/O."""
    values = {"name": name, "title": _title(name), "placeholder": PLACEHOLDER}
    files = {"skillpm.yaml": _MANIFEST.format(**values)}
    if skill:
        files[f"skills/{name}/SKILL.md"] = _SKILL.format(**values)
        files[f"skills/{name}/references/REFERENCE.md"] = _REFERENCE.format(**values)
    if fragment:
        files[f"fragments/{name}.md"] = _FRAGMENT.format(**values)
    return files


def create(parent: Path, name: str, *, skill: bool, fragment: bool) -> tuple[Path, list[str]]:
    """Write a new package folder ``parent/name``; refuse one that exists.

    The files are written into a hidden folder beside the target and renamed into
    place, so the folder appears complete or not at all.
    """
    check_name(name, "skillpm new", "package name")
    target = parent / name
    if target.exists() or target.is_symlink():
        raise ManifestError(f"{target}: already exists; choose another name or folder")
    files = files_for(name, skill=skill, fragment=fragment)
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=parent))
    try:
        for rel, text in files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            os.chmod(path, 0o644)
        os.chmod(tmp, 0o755)
        if target.exists() or target.is_symlink():  # appeared meanwhile: still refuse
            raise ManifestError(f"{target}: already exists; choose another name or folder")
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target, sorted(files)
