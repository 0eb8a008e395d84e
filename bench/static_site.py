"""A static HTTPS registry at scale: build a site of thousands of packages, install from it.

    python bench/static_site.py [--packages 5000] [--runs 3] [--dir /dev/shm]

Writes a registry of --packages one-skill packages plus a small dependency chain
(cdk-kit -> aws-env), then measures (median of --runs where it repeats):

  build          `skillpm registry build-static` into an empty folder
  rebuild        the same on an unchanged registry (writes nothing)
  cold install   `skillpm install cdk-kit` in a new project, empty cache, site on 127.0.0.1
  warm install   the same in another new project, cache warm (no request at all)
  no-op          `skillpm install` again in an up-to-date project
  frozen offline `skillpm install --frozen --offline` in a clone, with the server stopped

and what the cold install downloaded against the size of the whole site. Every
skillpm run is a real subprocess, so its times include Python's start-up.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.helpers import make_registry  # noqa: E402
from tests.sitehelpers import SiteServer, make_big_registry  # noqa: E402


def skillpm(*args: str | Path, cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "skillpm", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"skillpm {' '.join(map(str, args))} failed:\n{proc.stderr}")
    return elapsed


def median(runs: int, once: Callable[[int], float]) -> float:
    return statistics.median(once(i) for i in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packages", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", default=None, help="work folder parent (default: the temp dir)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="skillpm-bench-", dir=args.dir))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "HOME": str(work / "home"),
        "SKILLPM_CACHE_DIR": str(work / "cache"),
    }
    try:
        registry = work / "registry"
        started = time.perf_counter()
        make_big_registry(registry, args.packages)
        make_registry(
            registry,
            [{"name": "aws-env"}, {"name": "cdk-kit", "dependencies": {"aws-env": "^1.0"}}],
        )
        took = time.perf_counter() - started
        print(f"registry of {args.packages + 2} packages written in {took:.1f}s")

        def build(i: int) -> float:
            shutil.rmtree(work / "site", ignore_errors=True)
            return skillpm("registry", "build-static", registry, work / "site", cwd=work, env=env)

        t_build = median(args.runs, build)
        t_rebuild = median(
            args.runs,
            lambda i: skillpm(
                "registry", "build-static", registry, work / "site", cwd=work, env=env
            ),
        )
        site_files = [p for p in (work / "site").rglob("*") if p.is_file()]
        site_bytes = sum(p.stat().st_size for p in site_files)

        with SiteServer(work / "site") as server:

            def cold(i: int) -> float:
                shutil.rmtree(work / "cache", ignore_errors=True)
                project = work / f"cold-{i}"
                project.mkdir()
                server.reset()
                return skillpm("install", "--registry", server.url, "cdk-kit", cwd=project, env=env)

            t_cold = median(args.runs, cold)
            requests, downloaded = len(server.hits), server.bytes_sent()

            def warm(i: int) -> float:
                project = work / f"warm-{i}"
                project.mkdir()
                return skillpm("install", "--registry", server.url, "cdk-kit", cwd=project, env=env)

            server.reset()
            t_warm = median(args.runs, warm)
            warm_requests = len(server.hits)
            t_noop = median(args.runs, lambda i: skillpm("install", cwd=work / "warm-0", env=env))

        def offline(i: int) -> float:
            clone = work / f"clone-{i}"
            clone.mkdir()
            for name in ("skills.yaml", "skills.lock"):
                shutil.copy(work / "cold-0" / name, clone / name)
            return skillpm("install", "--frozen", "--offline", cwd=clone, env=env)

        t_offline = median(args.runs, offline)
        print(f"site: {len(site_files)} files, {site_bytes / 2**20:.1f} MiB")
        print(f"build           {t_build:6.2f}s")
        print(f"rebuild         {t_rebuild:6.2f}s  (no file written)")
        print(
            f"cold install    {t_cold:6.2f}s  {requests} requests, {downloaded} bytes "
            f"({downloaded / site_bytes:.5%} of the site)"
        )
        print(f"warm install    {t_warm:6.2f}s  {warm_requests} requests")
        print(f"no-op           {t_noop:6.2f}s")
        print(f"frozen offline  {t_offline:6.2f}s  (server stopped)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
