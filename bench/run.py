"""skillpm's benchmark: each scenario against a floor, as ratios of medians in one run.

    python bench/run.py                     every scenario, 7 rounds (a few minutes)
    python bench/run.py --quick             smoke run: small inputs, 1 round, no verdicts
    python bench/run.py --only noop --only help --runs 11
    python bench/run.py --json out.json     write the numbers; --compare old.json to diff them

skillpm and the Python floors run in a fresh virtual environment holding this
checkout's wheel, with no start-up hooks (interpreter.py). The inputs are built
in a temp folder (--dir picks its parent): registries in bare git repositories
served over file://, a 5,000 x 20 index, projects (scenarios.py, inputs.py).
Rounds are interleaved and rotated, so a noisy neighbour hits every command
alike (measure.py). The peers (the `skills` npm CLI, 1.4.9 on the Node on PATH
and the current one on Node 22 from npm's `node` package) are installed with
npm into bench/.node/ on first use. Exit code 1 when a target is missed (not
with --quick).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import inputs
from interpreter import Venv, fresh_venv
from measure import Measure, Spawner, rounds
from scenarios import ROOT, Bench


@dataclass(frozen=True)
class Scenario:
    name: str  # what --only takes
    title: str
    subject: str  # measure keys
    floor: str | None  # None: the target is CPU seconds of the subject
    target: float  # the largest acceptable ratio (or CPU seconds)


SCENARIOS = (
    Scenario("help", "skillpm --help / python -c pass", "help", "pass", 3.0),
    Scenario("noop", "no-op install, 50 packages / import skillpm", "noop", "import", 2.0),
    Scenario("noop-demo", "no-op install, README demo / import skillpm", "noop-demo", "import", 2),
    Scenario("noop-pieces", "no-op, settings, ignore / import skillpm", "noop-pieces", "import", 2),
    Scenario("cold", "cold install (git+file://) / clone --depth 1 + cp", "cold", "clone", 2.0),
    Scenario("peer", "the same install / skills@1.7.4 add --copy", "cold", "npm-1.7", 0.6),
    Scenario("peer-1.4", "the same install / skills@1.4.9 add --copy", "cold", "npm-1.4", 0.75),
    Scenario("add", "add a package: 200 installed / none installed", "add200", "add0", 1.3),
    Scenario("resolve", "resolve, 5,000 x 20 index / json.load of it", "resolve", "json", 3.0),
    Scenario("lint", "lint 200 skills, CPU seconds", "lint", None, 1.0),
)
COLD_RSS_MB = 40.0  # the cold install's peak RSS stays under this
COLD_AIM = 1.5  # the cold install's ratio the issue aims at, below its target


def _git_head() -> dict[str, object]:
    def out(*args: str) -> str:
        proc = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return proc.stdout.strip()

    return {"commit": out("rev-parse", "HEAD"), "dirty": bool(out("status", "--porcelain"))}


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.0f} ms"


def report(
    measures: dict[str, Measure], chosen: list[Scenario], judged: bool, venv: Venv
) -> dict[str, object]:
    print("\nmedian of each command (wall, CPU of the process tree, peak RSS; fastest run):")
    for m in measures.values():
        rss = m.maxrss_kb / 1024
        line = f"  {m.label:<46} {_ms(m.wall)}  cpu {_ms(m.cpu)}  rss {rss:6.1f} MB"
        print(f"{line}  min {_ms(m.fastest)}")
    print(f"\n{'scenario':<62} {'ratio':>6}  target")
    results: dict[str, object] = {}
    failed = False
    for sc in chosen:
        if sc.subject not in measures or (sc.floor is not None and sc.floor not in measures):
            why = "no 'skillpm lint' here" if sc.name == "lint" else "the peer did not install"
            print(f"  {sc.title:<60} skipped ({why})")
            results[sc.name] = {"skipped": True}
            continue
        subject = measures[sc.subject]
        if sc.floor is None:
            value, shown, limit = subject.cpu, f"{subject.cpu:.2f}s", f"< {sc.target}s"
            ok = value < sc.target
        else:
            value = subject.wall / measures[sc.floor].wall
            shown, limit = f"{value:.2f}x", f"<= {sc.target:.1f}x"
            ok = value <= sc.target
        verdict = ("ok" if ok else "FAIL") if judged else ""
        failed |= judged and not ok
        extra = ""
        if sc.floor is not None:  # the same ratio from CPU time and from the fastest runs
            floor = measures[sc.floor]
            cpu, fastest = subject.cpu / floor.cpu, subject.fastest / floor.fastest
            extra = f"(cpu {cpu:.2f}x, min {fastest:.2f}x)"
        print(f"  {sc.title:<60} {shown:>6}  {limit:<8} {verdict:<4} {extra}")
        results[sc.name] = {"value": round(value, 4), "target": sc.target, "ok": ok}
    if "cold" in measures:
        rss = measures["cold"].maxrss_kb / 1024
        ok = rss < COLD_RSS_MB
        verdict = ("ok" if ok else "FAIL") if judged else ""
        failed |= judged and not ok
        print(f"\ncold install peak RSS: {rss:.1f} MB (the largest process of its tree)", end="")
        print(f"  < {COLD_RSS_MB:.0f} MB {verdict}")
        cold = results.get("cold")
        if isinstance(cold, dict) and "value" in cold:
            print(f"cold install ratio {cold['value']:.2f}x; the aim is {COLD_AIM}x")
        results["cold-rss"] = {"value": round(rss, 1), "target": COLD_RSS_MB, "ok": ok}
    print(f"\ninterpreter: a fresh venv with {venv.wheel} ({platform.python_version()})", end="")
    if venv.hooks:
        print(f"; start-up hooks {', '.join(venv.hooks)} run in every Python process")
    else:
        print("; no .pth start-up hooks")
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
    p.add_argument("--dir", type=Path, help="parent of the work folder (default: the temp dir)")
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
    if "help" in wanted:
        bench.startup()
    if wanted & {"noop", "noop-demo", "noop-pieces"}:
        bench.floor_import()
    if "noop-demo" in wanted:
        bench.noop_demo()
    if "noop-pieces" in wanted:
        bench.noop_pieces()
    if wanted & {"noop", "cold", "peer", "peer-1.4"}:
        bare = inputs.cold_registry(work, args.packages, args.versions, bench.env)
        if "noop" in wanted:
            bench.noop(bare)
        if wanted & {"cold", "peer", "peer-1.4"}:
            folder = ROOT / "bench" / ".node"
            peers = [
                inputs.peer_cli(folder, key, package, node)
                for key, package, node in inputs.PEERS
                if ("peer" if key == "npm-1.7" else "peer-1.4") in wanted
            ]
            bench.cold(bare, [p for p in peers if p is not None])
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
    work = Path(tempfile.mkdtemp(prefix="skillpm-bench-", dir=args.dir))
    started = time.time()
    failed = False
    try:
        print(f"building the wheel and a fresh venv in {work}", flush=True)
        venv = fresh_venv(ROOT, work)
        print("building inputs", flush=True)
        bench = Bench(work, args, venv)
        build(bench, {s.name for s in chosen})
        print(f"inputs ready in {time.time() - started:.0f}s; {args.runs} rounds", flush=True)
        measures = list(bench.measures.values())
        rounds(spawner, measures, args.runs, lambda text: print(f"  {text}", file=sys.stderr))
        summary = report(bench.measures, chosen, judged=not args.quick, venv=venv)
        failed = bool(summary["failed"])
        sizes = ("packages", "versions", "installed", "index_names", "index_versions")
        data = {
            **_git_head(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "python": sys.version.split()[0],
            "interpreter": {"venv": True, "wheel": venv.wheel, "startup_hooks": list(venv.hooks)},
            "machine": f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs",
            "runs": args.runs,
            "quick": args.quick,
            "sizes": {k: getattr(args, k) for k in sizes},
            "measures": {
                m.key: {
                    "label": m.label,
                    "wall": round(m.wall, 5),
                    "fastest": round(m.fastest, 5),
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
