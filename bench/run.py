"""skillpm's benchmark: each scenario against a floor, as ratios of medians in one run.

    python bench/run.py                     every scenario, 7 rounds (a few minutes)
    python bench/run.py --quick             smoke run: small inputs, 1 round, targets not judged
    python bench/run.py --only noop --only help --runs 11
    python bench/run.py --json out.json     write the numbers; --compare old.json to diff them

The bench builds its inputs in a temp folder (registries in bare git repositories
served over file://, a 5,000 x 20 index, projects) and runs every command as a
real subprocess with this checkout's ``src`` first on PYTHONPATH and this
interpreter (``sys.executable``), in an isolated HOME, git config and cache (set
through XDG_CACHE_HOME, as a user's would be, not SKILLPM_CACHE_DIR).
Rounds are interleaved and rotated, so a noisy neighbour hits every command
alike. The peer (the `skills` npm CLI) is installed with npm into bench/.node/.
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import inputs
from measure import Command, Measure, Spawner, rounds

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
PY = sys.executable


@dataclass(frozen=True)
class Scenario:
    name: str  # what --only takes
    title: str
    subject: str  # measure keys
    floor: str | None
    target: float  # the largest acceptable ratio; for floor None, CPU seconds
    needs: tuple[str, ...] = ()


SCENARIOS = (
    Scenario("help", "skillpm --help / python -c pass", "help", "pass", 2.5),
    Scenario("noop", "no-op install (lock fresh) / python -c 'import skillpm'", "noop", "import", 2.0),
    Scenario("cold", "cold install from git+file:// / git clone --depth 1 + cp", "cold", "clone", 1.5),
    Scenario("peer", "cold install / `skills` npm CLI add --copy", "cold", "npm", 0.75),
    Scenario("add", "add one package: 200 installed / empty project", "add200", "add0", 1.3),
    Scenario("resolve", "resolve 5,000 x 20 index / json.load of it", "resolve", "json", 3.0),
    Scenario("lint", "lint 200 skills (CPU seconds)", "lint", None, 1.0),
)  # fmt: skip


class Bench:
    def __init__(self, work: Path, args: argparse.Namespace) -> None:
        self.work = work
        self.args = args
        self.counter = 0
        home = work / "home"
        home.mkdir()
        gitconfig = work / "gitconfig"
        gitconfig.write_text(
            "[user]\n\tname = Bench\n\temail = bench@example.com\n"
            "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SKILLPM_", "GIT_"))}
        # Users' installs have bytecode (pip compiles it): never measure compiling.
        for name in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"):
            env.pop(name, None)
        (work / "tmp").mkdir()
        env.update(
            HOME=str(home),
            TMPDIR=str(work / "tmp"),
            XDG_CACHE_HOME=str(home / ".cache"),
            XDG_CONFIG_HOME=str(home / ".config"),
            GIT_CONFIG_GLOBAL=str(gitconfig),
            GIT_CONFIG_NOSYSTEM="1",
            PYTHONPATH=str(SRC),
            NO_COLOR="1",
            DISABLE_TELEMETRY="1",  # the peer's telemetry and audit calls
            DO_NOT_TRACK="1",
            npm_config_update_notifier="false",
        )
        self.env = env
        self.measures: dict[str, Measure] = {}
        self.write_script()

    # -- helpers ---------------------------------------------------------------

    def fresh(self, prefix: str) -> Path:
        self.counter += 1
        path = self.work / "runs" / f"{prefix}-{self.counter}"
        path.mkdir(parents=True)
        return path

    def skillpm(self, *args: str) -> list[str]:
        return [PY, str(self.script), *args]

    def write_script(self) -> None:
        """The `skillpm` command as pip writes it, from pyproject's [project.scripts]."""
        import tomllib

        with open(ROOT / "pyproject.toml", "rb") as f:
            target = tomllib.load(f)["project"]["scripts"]["skillpm"]
        module, _, func = target.partition(":")
        self.script = self.work / "bin" / "skillpm"
        self.script.parent.mkdir()
        self.script.write_text(
            f"import sys\nfrom {module} import {func}\n"
            f"if __name__ == '__main__':\n    sys.exit({func}())\n"
        )

    def setup_run(self, argv: list[str], cwd: Path, **env: str) -> str:
        proc = subprocess.run(
            argv, cwd=cwd, env=dict(self.env, **env), capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise SystemExit(f"setup failed: {' '.join(argv)}\n{proc.stdout}{proc.stderr}")
        return proc.stdout

    def add(self, measure: Measure) -> None:
        self.measures[measure.key] = measure

    def command(self, argv: list[str], cwd: Path, ok: tuple[int, ...] = (0,), **env: str):
        return Command(argv, cwd, dict(self.env, **env), ok)

    # -- scenarios -------------------------------------------------------------

    def startup(self) -> None:
        here = self.work
        self.add(Measure("pass", "python -c pass", lambda: self.command([PY, "-c", "pass"], here)))
        self.add(
            Measure("help", "skillpm --help", lambda: self.command(self.skillpm("--help"), here))
        )

    def noop(self, bare: Path) -> None:
        a = self.args
        project = self.work / "noop-project"
        cache = str(self.work / "cache-noop")
        deps = {f"skill-{i:03d}": f"^1.{a.versions - 1}.0" for i in range(a.packages)}
        inputs.write_manifest(project, {"team": f"git+{bare.as_uri()}"}, deps)
        self.setup_run(self.skillpm("install"), project, XDG_CACHE_HOME=cache)
        out = self.setup_run(self.skillpm("install"), project, XDG_CACHE_HOME=cache)
        assert "Nothing to do" in out, out
        here = self.work
        self.add(
            Measure(
                "import",
                "python -c 'import skillpm'",
                lambda: self.command([PY, "-c", "import skillpm"], here),
            )
        )
        self.add(
            Measure(
                "noop",
                f"skillpm install (no-op, {a.packages} packages)",
                lambda: self.command(self.skillpm("install"), project, XDG_CACHE_HOME=cache),
            )
        )

    def cold(self, bare: Path, peer: Path | None) -> None:
        a = self.args
        names = [f"skill-{i:03d}" for i in range(a.packages)]
        latest = f"1.{a.versions - 1}.0"

        def expect_skills(cmd: Command) -> None:
            folder = cmd.cwd / ".claude" / "skills"
            found = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
            if found != names:
                raise RuntimeError(f"{' '.join(cmd.argv)}: installed {len(found)} skills")
            if not (folder / names[0] / "SKILL.md").is_file():
                raise RuntimeError(f"{' '.join(cmd.argv)}: no SKILL.md in {names[0]}")

        def cleanup(cmd: Command) -> None:
            shutil.rmtree(cmd.cwd)
            if cmd.env["XDG_CACHE_HOME"] != self.env["XDG_CACHE_HOME"]:
                shutil.rmtree(cmd.env["XDG_CACHE_HOME"], ignore_errors=True)

        def clone() -> Command:
            sources = [f"r/packages/{n}/{latest}/skills/{n}" for n in names]
            script = 'git clone -q --depth 1 "$0" r && mkdir -p .claude/skills && '
            script += 'cp -R "$@" .claude/skills/'
            return self.command(["sh", "-c", script, bare.as_uri(), *sources], self.fresh("clone"))

        def cold() -> Command:
            project = self.fresh("cold")
            deps = {n: f"^{latest}" for n in names}
            inputs.write_manifest(project, {"team": f"git+{bare.as_uri()}"}, deps)
            cache = self.fresh("cold-cache")
            return self.command(self.skillpm("install"), project, XDG_CACHE_HOME=str(cache))

        self.add(Measure("clone", "git clone --depth 1 + cp -R", clone, expect_skills, cleanup))
        self.add(Measure("cold", "skillpm install (cold)", cold, expect_skills, cleanup))
        if peer is None:
            return

        def npm() -> Command:
            argv = ["node", str(peer), "add", bare.as_uri(), "--copy", "--yes"]
            argv += ["--agent", "claude-code", "--skill", "*"]
            return self.command(argv, self.fresh("npm"))

        self.add(Measure("npm", f"{inputs.PEER_PACKAGE} add --copy", npm, expect_skills, cleanup))

    def wide(self, bare: Path, scenarios: set[str]) -> None:
        """The add and lint scenarios: a project with N installed, another with none."""
        n = self.args.installed
        cache = str(self.work / "cache-wide")
        env = {"XDG_CACHE_HOME": cache, "SKILLPM_FETCH_INTERVAL": "86400"}
        registry = {"wide": f"git+{bare.as_uri()}"}
        full = self.work / "wide-full"
        inputs.write_manifest(full, registry, {f"tool-{i:03d}": "^1.0.0" for i in range(n)})
        self.setup_run(self.skillpm("install"), full, **env)
        if "lint" in scenarios:
            self.add(
                Measure(
                    "lint",
                    f"skillpm lint ({n} skills)",
                    lambda: self.command(self.skillpm("lint"), full, (0, 1), **env),
                )
            )
        if "add" not in scenarios:
            return
        empty = self.work / "wide-empty"
        inputs.write_manifest(empty, registry, {})
        self.setup_run(self.skillpm("install"), empty, **env)
        added = f"tool-{n:03d}"
        saved = {
            p: {f: (p / f).read_bytes() for f in ("skills.yaml", "skills.lock")}
            for p in (full, empty)
        }

        def check(cmd: Command) -> None:
            if not (cmd.cwd / ".claude" / "skills" / added / "SKILL.md").is_file():
                raise RuntimeError(f"{added} was not installed in {cmd.cwd}")

        def restore(cmd: Command) -> None:
            # Undo the add by hand (not with skillpm remove): the state is byte for byte
            # what it was, and other skills' folders are never touched.
            for name, data in saved[cmd.cwd].items():
                (cmd.cwd / name).write_bytes(data)
            shutil.rmtree(cmd.cwd / ".claude" / "skills" / added)

        # Warm the cache with the package added, so every timed add finds it there.
        warm = self.command(self.skillpm("install", added), empty, **env)
        self.setup_run(list(warm.argv), empty, **env)
        restore(warm)
        for key, project, what in (("add0", empty, "empty project"), ("add200", full, f"{n}")):
            self.add(
                Measure(
                    key,
                    f"skillpm install {added} ({what} installed)"
                    if key == "add200"
                    else f"skillpm install {added} (empty project)",
                    lambda p=project: self.command(self.skillpm("install", added), p, **env),
                    check,
                    restore,
                )
            )

    def resolve(self) -> None:
        a = self.args
        registry = self.work / "big-registry"
        roots = inputs.big_index(registry, a.index_names, a.index_versions, roots=10)
        index = registry / "index.json"
        cache = str(self.work / "cache-resolve")
        expected = 3 * len(roots)

        def resolve() -> Command:
            project = self.fresh("resolve")
            inputs.write_manifest(project, {"big": str(registry)}, {r: "^1.0" for r in roots})
            return self.command(self.skillpm("install"), project, XDG_CACHE_HOME=cache)

        def check(cmd: Command) -> None:
            lock = (cmd.cwd / "skills.lock").read_text()
            if lock.count("- name: ") != expected:
                raise RuntimeError(f"resolve: expected {expected} packages in {cmd.cwd}")

        def cleanup(cmd: Command) -> None:
            shutil.rmtree(cmd.cwd)

        load = "import json, sys; json.load(open(sys.argv[1], 'rb'))"
        self.add(
            Measure("json", "json.load(index.json)", lambda: self.command([PY, "-c", load, str(index)], self.work))
        )  # fmt: skip
        self.add(Measure("resolve", "skillpm install (resolve, no lock)", resolve, check, cleanup))
        size = index.stat().st_size / 1e6
        print(f"  index: {a.index_names} x {a.index_versions} entries, {size:.1f} MB", flush=True)


def _has_lint(env: dict[str, str]) -> bool:
    proc = subprocess.run(
        [PY, "-m", "skillpm", "lint", "--help"], env=env, capture_output=True, check=False
    )
    return proc.returncode == 0


def _git_head() -> dict[str, object]:
    def out(*args: str) -> str:
        proc = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return proc.stdout.strip()

    return {"commit": out("rev-parse", "HEAD"), "dirty": bool(out("status", "--porcelain"))}


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.0f} ms"


def report(bench: Bench, chosen: list[Scenario], judged: bool) -> dict[str, object]:
    m = bench.measures
    print("\nmedian of each command (wall, CPU of the process tree, peak RSS):")
    for measure in m.values():
        print(
            f"  {measure.label:<46} {_ms(measure.wall)}  cpu {_ms(measure.cpu)}"
            f"  rss {measure.maxrss_kb / 1024:6.1f} MB"
        )
    print("\nscenario                                                        ratio   target")
    results: dict[str, object] = {}
    failed = False
    for sc in chosen:
        if sc.subject not in m or (sc.floor is not None and sc.floor not in m):
            print(
                f"  {sc.title:<60}  skipped ({'no lint command' if sc.name == 'lint' else 'n/a'})"
            )
            results[sc.name] = {"skipped": True}
            continue
        if sc.floor is None:
            value, shown, limit = m[sc.subject].cpu, f"{m[sc.subject].cpu:.2f}s", f"< {sc.target}s"
            ok = value < sc.target
        else:
            value = m[sc.subject].wall / m[sc.floor].wall
            shown, limit = f"{value:.2f}x", f"<= {sc.target}x"
            ok = value <= sc.target
        verdict = ("ok" if ok else "FAIL") if judged else ""
        failed |= judged and not ok
        print(f"  {sc.title:<60} {shown:>6}  {limit:<8} {verdict}")
        results[sc.name] = {"value": round(value, 4), "target": sc.target, "ok": ok}
    if "cold" in m:
        print(f"\ncold install peak RSS: {m['cold'].maxrss_kb / 1024:.1f} MB (largest process)")
    return {"scenarios": results, "failed": failed}


def compare(old_path: Path, new: dict[str, object]) -> None:
    old = json.loads(old_path.read_text())
    print(f"\nagainst {old_path} ({str(old.get('commit', '?'))[:10]}):")
    new_m: dict[str, dict[str, float]] = new["measures"]  # type: ignore[assignment]
    for key, now in new_m.items():
        before = old.get("measures", {}).get(key)
        if before:
            delta = now["wall"] / before["wall"] - 1
            print(f"  {now['label']:<46} {_ms(before['wall'])} -> {_ms(now['wall'])} {delta:+.0%}")


def main() -> None:
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
    p.add_argument(
        "--compare", type=Path, metavar="OLD", help="print changes against a --json file"
    )
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    p.add_argument("--packages", type=int, help="packages in the cold install (50)")
    p.add_argument("--versions", type=int, default=3, help="versions of each of them (3)")
    p.add_argument("--installed", type=int, help="installed packages in the add scenario (200)")
    p.add_argument("--index-names", type=int, help="packages in the resolve index (5000)")
    p.add_argument("--index-versions", type=int, default=20, help="versions each (20)")
    args = p.parse_args()  # fmt: skip
    spawner = Spawner()  # first, while this process is small (see measure.py)
    quick = args.quick
    args.runs = args.runs or (1 if quick else 7)
    args.packages = args.packages or (10 if quick else 50)
    args.installed = args.installed or (40 if quick else 200)
    args.index_names = args.index_names or (500 if quick else 5000)
    chosen = [s for s in SCENARIOS if not args.only or s.name in args.only]
    wanted = {s.name for s in chosen}
    work = Path(tempfile.mkdtemp(prefix="skillpm-bench-"))
    started = time.time()
    bench = Bench(work, args)
    progress: Callable[[str], None] = lambda text: print(f"  {text}", file=sys.stderr, flush=True)
    try:
        print(f"building inputs in {work}", flush=True)
        subprocess.run([PY, "-m", "compileall", "-q", str(SRC)], check=True, env=bench.env)
        if wanted & {"help"}:
            bench.startup()
        if wanted & {"noop", "cold", "peer"}:
            bare = inputs.cold_registry(work, args.packages, args.versions, bench.env)
            if "noop" in wanted:
                bench.noop(bare)
            if wanted & {"cold", "peer"}:
                peer = inputs.peer_cli(ROOT / "bench" / ".node") if "peer" in wanted else None
                if "peer" in wanted and peer is None:
                    print("  (node/npm missing: the peer scenario is skipped)")
                bench.cold(bare, peer)
        if "lint" in wanted and not _has_lint(bench.env):
            wanted.discard("lint")
        if wanted & {"add", "lint"}:
            bench.wide(inputs.wide_registry(work, args.installed + 1, bench.env), wanted)
        if "resolve" in wanted:
            bench.resolve()
        measures = list(bench.measures.values())
        print(f"inputs ready in {time.time() - started:.0f}s; {args.runs} rounds", flush=True)
        rounds(spawner, measures, args.runs, progress)
        summary = report(bench, chosen, judged=not quick)
        data = {
            **_git_head(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "python": sys.version.split()[0],
            "machine": f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs",
            "runs": args.runs,
            "quick": quick,
            "sizes": {k: getattr(args, k) for k in ("packages", "versions", "installed",
                                                   "index_names", "index_versions")},
            "measures": {
                m.key: {"label": m.label, "wall": round(m.wall, 5), "cpu": round(m.cpu, 5),
                        "maxrss_kb": m.maxrss_kb, "samples": [round(s.wall, 5) for s in m.samples]}
                for m in measures
            },
            **summary,
        }  # fmt: skip
        if args.compare:
            compare(args.compare, data)
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
    sys.exit(1 if summary["failed"] else 0)


if __name__ == "__main__":
    main()
