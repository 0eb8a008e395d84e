"""How skillpm's costs grow: installed packages, and the size of a registry.

    python bench/scale.py                          50 and 500 installed; 2,000 and 20,000
    python bench/scale.py --installed 100,1000 --registry 5000,20000 --runs 5

Like run.py: a fresh venv with this checkout's wheel (interpreter.py), every command a
real subprocess, medians of interleaved rounds (measure.py). For each count of
installed packages (one-skill packages in a bare git repository over file://, cache
warm) it times a no-op ``install`` and adding one more package; for each registry
size (one-skill packages, one version each) it times the cold install of one package
(empty cache, new project) from the registry in git (``git+file://``) and from its
static site (``registry build-static``, served over http://127.0.0.1). The last
column is how much the largest size costs against the smallest.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import random
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import inputs
from interpreter import fresh_venv
from measure import Command, Measure, Spawner, rounds
from scenarios import ROOT, Bench


def _sizes(text: str) -> list[int]:
    return sorted(int(part) for part in text.split(","))


def _arguments() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--installed", type=_sizes, default=[50, 500], help="installed counts")
    p.add_argument("--registry", type=_sizes, default=[2000, 20000], help="registry sizes")
    p.add_argument("--runs", type=int, default=3, help="rounds (3)")
    p.add_argument("--dir", type=Path, help="parent of the work folder (default: the temp dir)")
    return p.parse_args()


def installed_scale(bench: Bench, sizes: Sequence[int]) -> list[tuple[str, int, Measure]]:
    """No-op and +1 package for a project with each count of packages installed."""
    bare = inputs.wide_registry(bench.work, max(sizes) + 1, bench.env)
    env = {"XDG_CACHE_HOME": str(bench.work / "cache-scale"), "SKILLPM_FETCH_INTERVAL": "86400"}
    added = f"tool-{max(sizes):03d}"
    out = []
    for n in sizes:
        # Two projects: the timed +1 (and its undo) leaves a record the no-op cannot use.
        quiet, added_to = bench.work / f"installed-{n}", bench.work / f"installed-{n}-add"
        deps = {f"tool-{i:03d}": "^1.0.0" for i in range(n)}
        for project in (quiet, added_to):
            inputs.write_manifest(project, {"wide": f"git+{bare.as_uri()}"}, deps)
            bench.setup_run(bench.skillpm("install"), project, **env)
        saved = {f: (added_to / f).read_bytes() for f in ("skills.yaml", "skills.lock")}
        bench.setup_run(bench.skillpm("install", added), added_to, **env)  # now in the cache
        _restore(added_to, saved, added)
        bench.settle(quiet, **env)

        def noop(p: Path = quiet) -> Command:
            return bench.command(bench.skillpm("install"), p, **env)

        def add(p: Path = added_to) -> Command:
            return bench.command(bench.skillpm("install", added), p, **env)

        def undo(cmd: Command, s: dict[str, bytes] = saved) -> None:
            _restore(cmd.cwd, s, added)

        out.append(("no-op install", n, Measure(f"noop-{n}", f"no-op, {n} installed", noop)))
        out.append(("install 1 more", n, Measure(f"add-{n}", f"+1, {n} installed", add, undo)))
    return out


def _restore(project: Path, saved: dict[str, bytes], added: str) -> None:
    for name, data in saved.items():
        (project / name).write_bytes(data)
    shutil.rmtree(project / ".claude" / "skills" / added, ignore_errors=True)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(folder: Path) -> tuple[str, Callable[[], None]]:
    """``folder`` over http://127.0.0.1 (a thread of this process); its URL and a stop."""
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/", server.shutdown


def registry_scale(
    bench: Bench, sizes: Sequence[int], stops: list[Callable[[], None]]
) -> list[tuple[str, int, Measure]]:
    """A cold install of one package from registries of each size, over git and a site."""
    out = []
    for n in sizes:
        rng = random.Random(n)
        packages = [
            inputs.skill_package(
                rng, f"pkg-{i:05d}", "1.0.0", skill_size=600, references=(), script_size=0
            )
            for i in range(n)
        ]
        started = time.time()
        bare = inputs.git_registry(bench.work, f"registry-{n}", packages, bench.env)
        folder = bench.work / f"folder-{n}"
        inputs.write_registry(folder, packages)
        site = bench.work / f"site-{n}"
        build = bench.skillpm("registry", "build-static", str(folder), str(site))
        bench.setup_run(build, bench.work)
        url, stop = serve(site)
        stops.append(stop)
        print(f"  registry of {n} packages built in {time.time() - started:.0f}s", flush=True)
        wanted = f"pkg-{n // 2:05d}"

        def cold(registry: str, wanted: str = wanted) -> Callable[[], Command]:
            def prepare() -> Command:
                project, cache = bench.fresh("scale-cold"), bench.fresh("scale-cache")
                argv = bench.skillpm("install", wanted, "--registry", registry)
                return bench.command(argv, project, XDG_CACHE_HOME=str(cache))

            return prepare

        def check(cmd: Command, wanted: str = wanted) -> None:
            if not (cmd.cwd / ".claude" / "skills" / wanted / "SKILL.md").is_file():
                raise RuntimeError(f"{wanted} was not installed in {cmd.cwd}")

        def cleanup(cmd: Command) -> None:
            shutil.rmtree(cmd.cwd)
            shutil.rmtree(cmd.env["XDG_CACHE_HOME"], ignore_errors=True)

        for what, registry in (("git", f"git+{bare.as_uri()}"), ("site", url)):
            label = f"cold install of 1 from {what}"
            measure = Measure(f"{what}-{n}", f"{label}, {n}", cold(registry), check, cleanup)
            out.append((label, n, measure))
    return out


def report(rows: list[tuple[str, int, Measure]]) -> None:
    by_label: dict[str, list[tuple[int, Measure]]] = {}
    for label, n, m in rows:
        by_label.setdefault(label, []).append((n, m))
    print()
    for label, sized in by_label.items():
        cells = "  ".join(f"{n:>6}: {m.wall * 1000:6.0f} ms" for n, m in sized)
        small, large = sized[0], sized[-1]
        growth = large[1].wall / small[1].wall
        print(f"  {label:<28} {cells}   x{growth:.2f} for x{large[0] / small[0]:.0f} the size")


def main() -> None:
    spawner = Spawner()  # first, while this process is small (see measure.py)
    args = _arguments()
    work = Path(tempfile.mkdtemp(prefix="skillpm-scale-", dir=args.dir))
    stops: list[Callable[[], None]] = []
    try:
        print(f"building the wheel and a fresh venv in {work}", flush=True)
        venv = fresh_venv(ROOT, work)
        bench = Bench(work, args, venv)
        rows = installed_scale(bench, args.installed) + registry_scale(bench, args.registry, stops)
        print(f"inputs ready; {args.runs} rounds", flush=True)
        measures = [m for _, _, m in rows]
        rounds(spawner, measures, args.runs, lambda t: print(f"  {t}", file=sys.stderr))
        report(rows)
        print("\nmedians of interleaved rounds; a fresh venv with", venv.wheel)
    finally:
        for stop in stops:
            stop()
        spawner.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
