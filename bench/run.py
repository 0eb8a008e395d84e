"""skillpm's benchmark: each scenario against a floor, as ratios of medians in one run.

    python bench/run.py                     every scenario, 7 rounds (a few minutes)
    python bench/run.py --quick             smoke run: small inputs, 1 round, no verdicts
    python bench/run.py --only noop --only help --runs 11
    python bench/run.py --json out.json     write the numbers; --compare old.json to diff them

The inputs are built in a temp folder (registries in bare git repositories served
over file://, a 5,000 x 20 index, projects; see scenarios.py and inputs.py).
Rounds are interleaved and rotated, so a noisy neighbour hits every command
alike (measure.py). The peer (the `skills` npm CLI) is installed with npm into
bench/.node/ on first use. Exit code 1 when a target is missed (not with --quick).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import site
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import inputs
from measure import Measure, Spawner, rounds
from scenarios import PY, ROOT, SRC, Bench


@dataclass(frozen=True)
class Scenario:
    name: str  # what --only takes
    title: str
    subject: str  # measure keys
    floor: str | None  # None: the target is CPU seconds of the subject
    target: float  # the largest acceptable ratio (or CPU seconds)


SCENARIOS = (
    Scenario("help", "skillpm --help / python -c pass", "help", "pass", 2.5),
    Scenario("noop", "no-op install / python -c 'import skillpm'", "noop", "import", 2.0),
    Scenario("cold", "cold install (git+file://) / clone --depth 1 + cp", "cold", "clone", 1.5),
    Scenario("peer", "the same install / `skills` npm CLI add --copy", "cold", "npm", 0.75),
    Scenario("add", "add a package: 200 installed / none installed", "add200", "add0", 1.3),
    Scenario("resolve", "resolve, 5,000 x 20 index / json.load of it", "resolve", "json", 3.0),
    Scenario("lint", "lint 200 skills, CPU seconds", "lint", None, 1.0),
)


def _git_head() -> dict[str, object]:
    def out(*args: str) -> str:
        proc = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return proc.stdout.strip()

    return {"commit": out("rev-parse", "HEAD"), "dirty": bool(out("status", "--porcelain"))}


def _startup_hooks() -> list[str]:
    """.pth files that run code in every Python process (they weigh on every floor)."""
    found = []
    for folder in site.getsitepackages():
        for pth in sorted(Path(folder).glob("*.pth")):
            lines = pth.read_text(errors="replace").splitlines()
            if any(line.startswith(("import ", "import\t")) for line in lines):
                found.append(pth.name)
    return found


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.0f} ms"


def report(measures: dict[str, Measure], chosen: list[Scenario], judged: bool) -> dict[str, object]:
    print("\nmedian of each command (wall, CPU of the process tree, peak RSS):")
    for m in measures.values():
        rss = m.maxrss_kb / 1024
        print(f"  {m.label:<46} {_ms(m.wall)}  cpu {_ms(m.cpu)}  rss {rss:6.1f} MB")
    print(f"\n{'scenario':<62} {'ratio':>6}  target")
    results: dict[str, object] = {}
    failed = False
    for sc in chosen:
        if sc.subject not in measures or (sc.floor is not None and sc.floor not in measures):
            why = "no 'skillpm lint' here" if sc.name == "lint" else "no node/npm"
            print(f"  {sc.title:<60} skipped ({why})")
            results[sc.name] = {"skipped": True}
            continue
        subject = measures[sc.subject]
        if sc.floor is None:
            value, shown, limit = subject.cpu, f"{subject.cpu:.2f}s", f"< {sc.target}s"
            ok = value < sc.target
        else:
            value = subject.wall / measures[sc.floor].wall
            shown, limit = f"{value:.2f}x", f"<= {sc.target}x"
            ok = value <= sc.target
        verdict = ("ok" if ok else "FAIL") if judged else ""
        failed |= judged and not ok
        print(f"  {sc.title:<60} {shown:>6}  {limit:<8} {verdict}")
        results[sc.name] = {"value": round(value, 4), "target": sc.target, "ok": ok}
    if "cold" in measures:
        rss = measures["cold"].maxrss_kb / 1024
        print(f"\ncold install peak RSS: {rss:.1f} MB (the largest process of its tree)")
    hooks = _startup_hooks()
    if hooks:
        print(f"note: {', '.join(hooks)} run code at every Python start, floors included")
    return {"scenarios": results, "failed": failed}


def compare(old_path: Path, new: dict[str, dict[str, dict[str, object]]]) -> None:
    old = json.loads(old_path.read_text())
    print(f"\nagainst {old_path} ({str(old.get('commit', '?'))[:10]}):")
    for key, now in new["measures"].items():
        before = old.get("measures", {}).get(key)
        if before:
            was, wall = float(before["wall"]), float(str(now["wall"]))
            print(f"  {now['label']!s:<46} {_ms(was)} -> {_ms(wall)} {wall / was - 1:+.0%}")


def _arguments() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    names = [s.name for s in SCENARIOS]
    p.add_argument(
        "--only",
        action="append",
        choices=names,
        metavar="SCENARIO",
        help=f"run only these scenarios (repeat): {', '.join(names)}",
    )
    p.add_argument("--quick", action="store_true", help="small inputs, 1 round, no verdicts")
    p.add_argument("--runs", type=int, help="rounds (default 7; --quick: 1)")
    p.add_argument("--json", type=Path, metavar="OUT", help="write the results as JSON")
    p.add_argument("--compare", type=Path, metavar="OLD", help="changes against a --json file")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    p.add_argument("--packages", type=int, help="packages in the cold install (50)")
    p.add_argument("--versions", type=int, default=3, help="versions of each of them (3)")
    p.add_argument("--installed", type=int, help="installed packages in the add scenario (200)")
    p.add_argument("--index-names", type=int, help="packages in the resolve index (5000)")
    p.add_argument("--index-versions", type=int, default=20, help="versions each (20)")
    args = p.parse_args()
    args.runs = args.runs or (1 if args.quick else 7)
    args.packages = args.packages or (10 if args.quick else 50)
    args.installed = args.installed or (40 if args.quick else 200)
    args.index_names = args.index_names or (500 if args.quick else 5000)
    return args


def build(bench: Bench, wanted: set[str]) -> None:
    """Every input the chosen scenarios need, then their measures."""
    args, work = bench.args, bench.work
    subprocess.run([PY, "-m", "compileall", "-q", str(SRC)], check=True, env=bench.env)
    if "help" in wanted:
        bench.startup()
    if wanted & {"noop", "cold", "peer"}:
        bare = inputs.cold_registry(work, args.packages, args.versions, bench.env)
        if "noop" in wanted:
            bench.noop(bare)
        if wanted & {"cold", "peer"}:
            peer = inputs.peer_cli(ROOT / "bench" / ".node") if "peer" in wanted else None
            bench.cold(bare, peer)
    if "lint" in wanted and not bench.has_lint():
        wanted.discard("lint")
    if wanted & {"add", "lint"}:
        bench.wide(inputs.wide_registry(work, args.installed + 1, bench.env), wanted)
    if "resolve" in wanted:
        bench.resolve()


def main() -> None:
    spawner = Spawner()  # first, while this process is small (see measure.py)
    args = _arguments()
    chosen = [s for s in SCENARIOS if not args.only or s.name in args.only]
    work = Path(tempfile.mkdtemp(prefix="skillpm-bench-"))
    started = time.time()
    failed = False
    try:
        print(f"building inputs in {work}", flush=True)
        bench = Bench(work, args)
        build(bench, {s.name for s in chosen})
        print(f"inputs ready in {time.time() - started:.0f}s; {args.runs} rounds", flush=True)
        measures = list(bench.measures.values())
        rounds(spawner, measures, args.runs, lambda text: print(f"  {text}", file=sys.stderr))
        summary = report(bench.measures, chosen, judged=not args.quick)
        failed = bool(summary["failed"])
        sizes = ("packages", "versions", "installed", "index_names", "index_versions")
        data = {
            **_git_head(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "python": sys.version.split()[0],
            "machine": f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs",
            "runs": args.runs,
            "quick": args.quick,
            "sizes": {k: getattr(args, k) for k in sizes},
            "measures": {
                m.key: {
                    "label": m.label,
                    "wall": round(m.wall, 5),
                    "cpu": round(m.cpu, 5),
                    "maxrss_kb": m.maxrss_kb,
                    "samples": [round(s.wall, 5) for s in m.samples],
                }
                for m in measures
            },
            **summary,
        }
        if args.compare:
            compare(args.compare, data)  # type: ignore[arg-type]
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(data, indent=2) + "\n")
            print(f"\nwrote {args.json}")
        print(f"total {time.time() - started:.0f}s")
    finally:
        spawner.close()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
