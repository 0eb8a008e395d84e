"""Publishing one package to a git registry: skillpm's way against checkout-based ways.

    python bench/git_publish.py [--packages 50] [--versions 3] [--runs 5]

Builds the registry of bench/git_cold_install.py in a bare repository served over
file:// (filters allowed, as GitHub and GitLab do), then times, median of --runs,
each run publishing a new package:

  skillpm warm    `skillpm publish` with the registry's mirror already cached
  skillpm cold    `skillpm publish` with an empty cache
  clone           what a checkout-based publish does: `git clone --depth 1` (a
                  temporary non-bare working clone), the same local publish code
                  on it, `git add -A`, `git commit`, `git push`
  worktree        the best case for a worktree: a full mirror kept in the cache,
                  `git fetch`, `git worktree add` of the tip, local publish, add,
                  commit, push, `git worktree remove`

Every variant is a real subprocess (the checkout-based ones run as one Python
process driving git), so each pays Python's start-up once.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path.insert(0, str(SRC))
sys.path.insert(0, str(HERE))

from git_cold_install import build_registry  # noqa: E402

# The checkout-based variants, run as `python -c` so they pay the same start-up.
CLONE = """
import subprocess, sys, tempfile
from pathlib import Path
from skillpm.publish.prepare import prepare
from skillpm.publish.folder import publish_local
url, source = sys.argv[1], Path(sys.argv[2])
def git(*a, cwd=None): subprocess.run(["git", *a], cwd=cwd, check=True, capture_output=True)
prepared = prepare(source)
with tempfile.TemporaryDirectory() as tmp:
    work = Path(tmp) / "r"
    git("clone", "-q", "--depth", "1", "--no-tags", url, str(work))
    publish_local(prepared, work)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "publish", cwd=work)
    git("push", "-q", "origin", "HEAD", cwd=work)
"""

WORKTREE = """
import subprocess, sys, tempfile
from pathlib import Path
from skillpm.publish.prepare import prepare
from skillpm.publish.folder import publish_local
url, source, mirror = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
def git(*a, cwd=None):
    return subprocess.run(["git", *a], cwd=cwd, check=True, capture_output=True, text=True).stdout
prepared = prepare(source)
git("--git-dir", mirror, "fetch", "-q", "--depth", "1", url, "+refs/heads/main:refs/heads/tip")
with tempfile.TemporaryDirectory() as tmp:
    work = Path(tmp) / "r"
    git("--git-dir", mirror, "worktree", "add", "-q", "--detach", str(work), "tip")
    publish_local(prepared, work)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "publish", cwd=work)
    git("push", "-q", url, "HEAD:refs/heads/main", cwd=work)
    git("--git-dir", mirror, "worktree", "remove", "--force", str(work))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packages", type=int, default=50)
    parser.add_argument("--versions", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="skillpm-bench-"))
    env = dict(os.environ, PYTHONPATH=str(SRC), HOME=str(work / "home"))
    env["GIT_CONFIG_GLOBAL"] = str(work / "gitconfig")
    (work / "gitconfig").write_text(
        "[user]\n\tname = Bench\n\temail = b@example.com\n[init]\n\tdefaultBranch = main\n"
        '[protocol "file"]\n\tallow = always\n'
    )
    os.environ.update(env)
    try:
        (work / "server").mkdir()
        bare = build_registry(work / "server", args.packages, args.versions, True)
        url = f"git+{bare.as_uri()}"
        counter = [0]

        def package() -> Path:
            counter[0] += 1
            name = f"new-{counter[0]:03d}"
            src = work / "src-new" / name
            skill = src / "skills" / name
            skill.mkdir(parents=True)
            (src / "skillpm.yaml").write_text(f"name: {name}\nversion: 1.0.0\ndescription: x\n")
            (skill / "SKILL.md").write_text(
                f"---\nname: {name}\ndescription: Does {name} things.\n---\nSteps.\n"
            )
            return src

        def run(*argv: str, cache: Path | None = None) -> None:
            run_env = dict(env, SKILLPM_CACHE_DIR=str(cache or work / "cache"))
            proc = subprocess.run(argv, env=run_env, capture_output=True, text=True)
            if proc.returncode != 0:
                raise SystemExit(proc.stderr)

        def skillpm(cache: Path) -> None:
            publish = [sys.executable, "-m", "skillpm", "-q", "publish", str(package())]
            run(*publish, "--registry", url, cache=cache)

        warm = work / "cache-warm"
        skillpm(warm)  # fills the mirror
        full_mirror = work / "full-mirror.git"
        subprocess.run(["git", "init", "-q", "--bare", str(full_mirror)], check=True)

        colds = [0]

        def cold() -> None:
            colds[0] += 1
            skillpm(work / f"cache-cold-{colds[0]}")

        scenarios = {
            "skillpm publish, warm cache": lambda: skillpm(warm),
            "skillpm publish, cold cache": cold,
            "clone --depth 1 + checkout + commit + push": lambda: run(
                sys.executable, "-c", CLONE, bare.as_uri(), str(package())
            ),
            "worktree of a cached full mirror": lambda: run(
                sys.executable, "-c", WORKTREE, bare.as_uri(), str(package()), str(full_mirror)
            ),
        }
        scenarios["worktree of a cached full mirror"]()  # fills that mirror
        samples: dict[str, list[float]] = {label: [] for label in scenarios}
        for _ in range(args.runs):
            for label, fn in scenarios.items():
                started = time.perf_counter()
                fn()
                samples[label].append(time.perf_counter() - started)
        results = {label: statistics.median(times) for label, times in samples.items()}
        files = subprocess.run(
            ["git", "ls-tree", "-r", "--name-only", "HEAD"],
            cwd=bare,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.count("\n")
        size = sum(f.stat().st_size for f in (bare / "objects").rglob("*") if f.is_file())
        print(
            f"{args.packages} packages x {args.versions} versions ({files} files, repository "
            f"{size / 1e6:.1f} MB), median of {args.runs} runs"
        )
        base = results["clone --depth 1 + checkout + commit + push"]
        for label, seconds in results.items():
            print(f"  {label:<45} {seconds * 1000:8.0f} ms   {seconds / base:5.2f}x")
        print(json.dumps({k: round(v, 4) for k, v in results.items()}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
