"""The catalog pages of ``build-static`` at scale.

    python bench/catalog.py [--packages 5000] [--runs 3] [--body tiny|real] [--dir /dev/shm]

Writes a registry of --packages one-skill packages (each SKILL.md a heading, or
with --body real the built-in cdk-patterns SKILL.md, ~8.5 KB of headings, tables
and code), then measures the CPU seconds (user + system) of the real CLI in a
subprocess, median of --runs:

  no html    `build-static --no-html` into an empty folder (the site without a catalog)
  html       `build-static` into an empty folder
  rebuild    `build-static` again on the unchanged registry (writes nothing)
  one change a new version of one package published, then `build-static`: what it rewrote

and the sizes of index.html, a list page, search.json and the whole catalog.
"""

from __future__ import annotations

import argparse
import gzip
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.helpers import make_package, publish_to  # noqa: E402
from tests.sitehelpers import make_big_registry  # noqa: E402


def skillpm(*args: str | Path, cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    """Seconds of CPU (user + system) the command used, and its output. CPU rather than
    wall time: the machine is shared, and waiting for a core is not the build's cost."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(
        [sys.executable, "-m", "skillpm", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    elapsed = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if proc.returncode != 0:
        raise SystemExit(f"skillpm {' '.join(map(str, args))} failed:\n{proc.stderr}")
    return elapsed, proc.stdout + proc.stderr


def size(path: Path) -> str:
    data = path.read_bytes()
    return f"{len(data) / 1024:7.1f} KiB ({len(gzip.compress(data)) / 1024:.1f} KiB gzipped)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packages", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--body", choices=("tiny", "real"), default="tiny")
    parser.add_argument("--dir", default=None, help="work folder parent (default: the temp dir)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="skillpm-catalog-", dir=args.dir))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "HOME": str(work / "home"),
        "SKILLPM_CACHE_DIR": str(work / "cache"),
    }
    body = ""
    if args.body == "real":
        text = next((ROOT / "registry/packages/cdk-patterns").glob("*/skills/*/SKILL.md"))
        body = text.read_text().split("\n---\n", 1)[1]
    try:
        registry = work / "registry"
        make_big_registry(registry, args.packages, body=body)
        site = work / "site"

        def fresh(*flags: str) -> float:
            shutil.rmtree(site, ignore_errors=True)
            return skillpm("registry", "build-static", *flags, registry, site, cwd=work, env=env)[0]

        t_plain = statistics.median(fresh("--no-html") for _ in range(args.runs))
        t_html = statistics.median(fresh() for _ in range(args.runs))
        t_again = statistics.median(
            skillpm("registry", "build-static", registry, site, cwd=work, env=env)[0]
            for _ in range(args.runs)
        )
        publish_to(registry, make_package(work / "src", "pkg-00042", "1.1.0"))
        t_change, output = skillpm(
            "-v", "registry", "build-static", registry, site, cwd=work, env=env
        )
        written = sorted(
            line.split("wrote ")[1] for line in output.splitlines() if "wrote " in line
        )
        catalog = [
            p
            for p in site.rglob("*")
            if p.is_file() and p.suffix in (".html", ".css", ".js", ".svg")
        ]
        print(f"{args.packages} packages, SKILL.md body: {args.body} ({len(body)} chars)")
        print(f"build --no-html  {t_plain:6.2f}s")
        print(f"build            {t_html:6.2f}s  (catalog: +{t_html - t_plain:.2f}s)")
        print(f"rebuild          {t_again:6.2f}s  (nothing written)")
        print(f"one change       {t_change:6.2f}s  wrote {len(written)}: {', '.join(written)}")
        print(f"index.html       {size(site / 'index.html')}")
        pages = (
            sorted((site / "catalog/pages").glob("*.html"))
            if (site / "catalog/pages").is_dir()
            else []
        )
        if pages:
            print(f"list page        {size(pages[0])}  ({len(pages) + 1} list pages)")
            print(f"search.json      {size(site / 'catalog/search.json')}")
        total = sum(p.stat().st_size for p in catalog)
        print(f"catalog          {len(catalog)} files, {total / 2**20:.1f} MiB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
