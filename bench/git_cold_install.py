"""Cold install of 50 packages from a git registry, against `git clone --depth 1` + copying.

    python bench/git_cold_install.py [--packages 50] [--versions 3] [--runs 5]

Builds a registry (every package with several versions, each a SKILL.md plus
references and a script) in a bare repository served over file://, then times,
median of --runs:

  baseline      git clone --depth 1 + copy each package's latest skill folder
  cold          `skillpm install` in a new project with an empty cache
  cold-full     the same from a server that does not filter blobs (git's file:// default)
  warm          `skillpm install` in another new project, cache warm (no git at all)
  no-op         `skillpm install` again in a project that is up to date

Every skillpm run is a real subprocess, so its times include Python's start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
sys.path.insert(0, str(SRC))

WORDS = [
    "stack",
    "lambda",
    "bedrock",
    "region",
    "alarm",
    "budget",
    "deploy",
    "construct",
    "tag",
    "naming",
    "retry",
    "backoff",
    "timeout",
    "memory",
    "arm64",
    "graviton",
    "invoke",
    "model",
    "agent",
    "state",
    "machine",
    "parallel",
    "approval",
    "token",
    "cost",
    "latency",
    "throttle",
    "burst",
    "queue",
    "event",
    "bridge",
    "bucket",
    "table",
    "index",
    "stream",
    "policy",
    "role",
]


def text(rng: random.Random, size: int) -> str:
    out, n = [], 0
    while n < size:
        line = " ".join(rng.choice(WORDS) for _ in range(12)) + ".\n"
        out.append(line)
        n += len(line)
    return "".join(out)


def git(*args: str | Path, cwd: Path) -> None:
    subprocess.run(["git", *map(str, args)], cwd=cwd, check=True, capture_output=True)


def build_registry(base: Path, packages: int, versions: int, allow_filter: bool) -> Path:
    from skillpm.publish import prepare, publish_local

    rng = random.Random(7)
    bare, work = base / "registry.git", base / "work"
    git("init", "-q", "--bare", bare, cwd=base)
    if allow_filter:
        git("config", "uploadpack.allowFilter", "true", cwd=bare)
    git("clone", "-q", bare, work, cwd=base)
    (work / "index.json").write_text('{"format": 1, "packages": {}}\n')
    for i in range(packages):
        name = f"skill-{i:03d}"
        for v in range(versions):
            src = base / "src" / f"{name}-{v}"
            skill = src / "skills" / name
            (skill / "references").mkdir(parents=True)
            (skill / "scripts").mkdir()
            (src / "skillpm.yaml").write_text(
                f"name: {name}\nversion: 1.{v}.0\ndescription: Package {name}\n"
            )
            (skill / "SKILL.md").write_text(
                f"---\nname: {name}\ndescription: Does {name} things.\n---\n" + text(rng, 4000)
            )
            for r in range(3):
                (skill / "references" / f"ref-{r}.md").write_text(text(rng, 20000))
            (skill / "scripts" / "run.py").write_text("print('hello')\n" + text(rng, 2000))
            publish_local(prepare(src), work)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "publish", cwd=work)
    git("push", "-q", "origin", "HEAD", cwd=work)
    return bare


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
        (work / "filtered").mkdir()
        (work / "full").mkdir()
        bare = build_registry(work / "filtered", args.packages, args.versions, True)
        full = build_registry(work / "full", args.packages, args.versions, False)
        names = [f"skill-{i:03d}" for i in range(args.packages)]
        latest = f"1.{args.versions - 1}.0"
        counter = [0]

        def fresh(prefix: str) -> Path:
            counter[0] += 1
            path = work / f"{prefix}-{counter[0]}"
            path.mkdir()
            return path

        def baseline() -> None:
            dest = fresh("clone")
            subprocess.run(
                ["git", "clone", "-q", "--depth", "1", bare.as_uri(), dest / "r"], check=True
            )
            for name in names:
                shutil.copytree(
                    dest / "r" / "packages" / name / latest / "skills" / name,
                    dest / ".claude" / "skills" / name,
                )

        def project_for(server: Path) -> Path:
            project = fresh("project")
            deps = "".join(f"  {n}: ^{latest}\n" for n in names)
            (project / "skills.yaml").write_text(
                f"registries:\n  team: git+{server.as_uri()}\ndependencies:\n{deps}"
            )
            return project

        def skillpm(project: Path, cache: Path) -> None:
            proc = subprocess.run(
                [sys.executable, "-m", "skillpm", "-q", "install"],
                cwd=project,
                env=dict(env, SKILLPM_CACHE_DIR=str(cache)),
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                raise SystemExit(proc.stderr)

        def cold(server: Path) -> None:
            skillpm(project_for(server), fresh("cache"))

        warm_cache = fresh("cache")
        skillpm(project_for(bare), warm_cache)
        noop_project = project_for(bare)
        skillpm(noop_project, warm_cache)

        def startup() -> None:
            subprocess.run(
                [sys.executable, "-m", "skillpm", "--version"],
                env=env,
                check=True,
                capture_output=True,
            )

        scenarios = {
            "baseline: git clone --depth 1 + copy": baseline,
            "skillpm cold (blobless server)": lambda: cold(bare),
            "skillpm cold (server without filters)": lambda: cold(full),
            "skillpm warm cache, new project": lambda: skillpm(project_for(bare), warm_cache),
            "skillpm no-op install": lambda: skillpm(noop_project, warm_cache),
            "python -m skillpm --version": startup,
        }
        # Round robin, so a noisy moment on the machine hits every scenario alike.
        samples: dict[str, list[float]] = {label: [] for label in scenarios}
        for _ in range(args.runs):
            for label, fn in scenarios.items():
                started = time.perf_counter()
                fn()
                samples[label].append(time.perf_counter() - started)
        results = {label: statistics.median(times) for label, times in samples.items()}
        size = sum(f.stat().st_size for f in (bare / "objects").rglob("*") if f.is_file())
        print(
            f"{args.packages} packages x {args.versions} versions, repository {size / 1e6:.1f} MB,"
            f" median of {args.runs} runs"
        )
        base = results["baseline: git clone --depth 1 + copy"]
        for label, seconds in results.items():
            print(f"  {label:<40} {seconds * 1000:8.0f} ms   {seconds / base:5.2f}x")
        print(json.dumps({k: round(v, 4) for k, v in results.items()}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
