"""Lint's precision and recall, measured on real repositories and kept as a test (issue 17).

``data/lint_corpus/triage.yaml`` holds every error-level finding the old lint gave on eight
public skill repositories, each triaged by hand, with the excerpt of the file it was on.
Each excerpt is put back at its path in a repository of the same layout and linted: every
true positive must still be an error, and no false positive may be one.
``data/lint_corpus/hostile.yaml`` is the other side: attacks in other words, each of which
must stay an error.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import Cli, lint_json, skill_md, write_tree

DATA = Path(__file__).parent / "data" / "lint_corpus"
TRIAGE: list[dict[str, Any]] = yaml.safe_load((DATA / "triage.yaml").read_text())
HOSTILE: list[dict[str, Any]] = yaml.safe_load((DATA / "hostile.yaml").read_text())


def restore(text: str) -> str:
    """The text as it was: invisible characters back in place, split keys joined."""
    text = re.sub(r"<U\+([0-9A-F]{4,6})>", lambda m: chr(int(m.group(1), 16)), text)
    return text.replace("<>", "")


def rebuild(root: Path, entries: list[dict[str, Any]]) -> dict[tuple[str, int], int]:
    """Write each entry's excerpt to its file under ``root``; where each flagged line lands.

    Excerpts of one file follow each other in the order of their lines (a code block left
    open is closed); a skill folder without a SKILL.md excerpt gets a plain one, and a
    SKILL.md excerpt without frontmatter goes after one.
    """
    files: dict[str, list[str]] = defaultdict(list)
    landed: dict[tuple[str, int], int] = {}
    for entry in sorted(entries, key=lambda e: (e["path"], e["line"])):
        if (entry["path"], entry["line"]) in landed:
            continue  # two findings on one line (SPEC002 and SPEC003): one excerpt
        lines = files[entry["path"]]
        name = Path(entry["skill"]).name
        if not lines and entry["path"].endswith("SKILL.md") and entry["rule"][:4] != "SPEC":
            lines += skill_md(name).splitlines()
        excerpt = restore(entry["excerpt"]).splitlines()
        landed[(entry["path"], entry["line"])] = (
            len(lines) + 1 + entry["line"] - entry["excerpt-start"]
        )
        # An excerpt that ends inside a code block gets its fence closed, so it does not
        # swallow the next excerpt of the same file.
        fences = sum(line.lstrip().startswith(("```", "~~~")) for line in excerpt)
        lines += [*excerpt, *(["```"] if fences % 2 else []), ""]
    for entry in entries:
        skill_file = f"{entry['skill']}/SKILL.md"
        if skill_file not in files:
            files[skill_file] = skill_md(Path(entry["skill"]).name).splitlines()
    write_tree(root, {path: "\n".join(lines) + "\n" for path, lines in files.items()})
    return landed


def by_repository(entries: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        found[entry["repo"]].append(entry)
    return found


LINE_FINDINGS = by_repository([e for e in TRIAGE if "excerpt" in e])


@pytest.mark.parametrize("repo", sorted(LINE_FINDINGS))
def test_triaged_findings(cli: Cli, tmp_path: Path, repo: str) -> None:
    entries = LINE_FINDINGS[repo]
    landed = rebuild(tmp_path, entries)
    skills = sorted({e["skill"] for e in entries})
    _, found = lint_json(cli, *skills, cwd=tmp_path)
    errors = {(f["file"], f["line"], f["rule"]) for f in found if f["severity"] == "error"}
    severity = {(f["file"], f["line"], f["rule"]): f["severity"] for f in found}
    wrong = []
    for entry in entries:
        at = (entry["path"], landed[(entry["path"], entry["line"])], entry["rule"])
        expected = entry["verdict"] == "true-positive"
        # What lint says now, as the triage file records it ("none": nothing at all).
        if (at in errors) != expected or severity.get(at, "none") != entry["after"]:
            wrong.append(f"{entry['path']}:{entry['line']} {entry['rule']} ({entry['verdict']})")
    assert wrong == []
    # Only the true positives are errors: the rebuilt files hold no other.
    assert len(errors) == sum(e["verdict"] == "true-positive" for e in entries)


CONFLICTS = by_repository([e for e in TRIAGE if e["rule"] == "CONFLICT003"])


@pytest.mark.parametrize("repo", sorted(CONFLICTS))
def test_triaged_catalog_conflicts(cli: Cli, tmp_path: Path, repo: str) -> None:
    """Two plugins of one marketplace with a skill of the same name are no conflict."""
    entries = CONFLICTS[repo]
    assert all(e["verdict"] == "false-positive" for e in entries)
    folders = sorted({f.rsplit("/", 1)[0] for e in entries for f in [e["path"], *e["related"]]})
    plugins = sorted({f.split("/skills/")[0] for f in folders})
    marketplace = {
        "name": "official",
        "owner": {"name": "Anthropic"},
        "plugins": [{"name": Path(p).name, "source": f"./{p}"} for p in plugins],
    }
    write_tree(
        tmp_path,
        {
            ".claude-plugin/marketplace.json": json.dumps(marketplace),
            **{f"{f}/SKILL.md": skill_md(Path(f).name) for f in folders},
        },
    )
    code, found = lint_json(cli, ".", cwd=tmp_path)
    assert (code, found) == (0, [])
    # Installed together in one project, the same skills do conflict.
    name = Path(entries[0]["path"]).parent.name
    same_name = [f for f in folders if Path(f).name == name][:2]
    code, found = lint_json(cli, *same_name, cwd=tmp_path)
    assert {f["rule"] for f in found} == {"CONFLICT003"}


def test_hostile_corpus_stays_errors(cli: Cli, tmp_path: Path) -> None:
    for case in HOSTILE:
        text = restore(case["text"])
        files = {f"{case['id']}/{case['file']}": text + "\n"}
        if case["file"] != "SKILL.md":
            files[f"{case['id']}/SKILL.md"] = skill_md(case["id"], body=f"Uses {case['file']}.")
        else:
            files[f"{case['id']}/SKILL.md"] = skill_md(case["id"], body=text)
        write_tree(tmp_path, files)
    code, found = lint_json(cli, *(c["id"] for c in HOSTILE), cwd=tmp_path)
    errors = {(f["file"].split("/", 1)[0], f["rule"]) for f in found if f["severity"] == "error"}
    missed = [c["id"] for c in HOSTILE if (c["id"], c["rule"]) not in errors]
    assert (code, missed) == (1, [])
