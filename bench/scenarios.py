"""The scenarios: their inputs (built once, untimed) and the commands measured.

Every command is a real subprocess run by the fresh environment of
interpreter.py: skillpm is the console script pip wrote there, the floors are
that environment's ``python``, and nothing is on PYTHONPATH. Each runs in an
isolated HOME, git config and cache (set through XDG_CACHE_HOME, as a user's
would be, not SKILLPM_CACHE_DIR).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import inputs
from interpreter import Venv
from measure import Command, Measure

ROOT = Path(__file__).resolve().parent.parent


class Bench:
    def __init__(self, work: Path, args: argparse.Namespace, venv: Venv) -> None:
        self.work = work
        self.args = args
        self.py = str(venv.python)
        self.script = venv.skillpm
        self.counter = 0
        home = work / "home"
        home.mkdir()
        gitconfig = work / "gitconfig"
        gitconfig.write_text(
            "[user]\n\tname = Bench\n\temail = bench@example.com\n"
            "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SKILLPM_", "GIT_"))}
        # Only the environment's own packages, with the bytecode pip compiled for them.
        for name in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONDONTWRITEBYTECODE"):
            env.pop(name, None)
        env.pop("PYTHONPYCACHEPREFIX", None)  # a prefix would miss pip's bytecode
        (work / "tmp").mkdir()
        env.update(
            HOME=str(home),
            TMPDIR=str(work / "tmp"),
            XDG_CACHE_HOME=str(home / ".cache"),
            XDG_CONFIG_HOME=str(home / ".config"),
            GIT_CONFIG_GLOBAL=str(gitconfig),
            GIT_CONFIG_NOSYSTEM="1",
            NO_COLOR="1",
            DISABLE_TELEMETRY="1",  # the peer's telemetry and audit calls
            DO_NOT_TRACK="1",
            npm_config_update_notifier="false",
        )
        self.env = env
        self.measures: dict[str, Measure] = {}

    # -- helpers ---------------------------------------------------------------

    def fresh(self, prefix: str) -> Path:
        self.counter += 1
        path = self.work / "runs" / f"{prefix}-{self.counter}"
        path.mkdir(parents=True)
        return path

    def skillpm(self, *args: str) -> list[str]:
        return [str(self.script), *args]

    def setup_run(self, argv: list[str], cwd: Path, **env: str) -> str:
        proc = subprocess.run(
            argv, cwd=cwd, env=dict(self.env, **env), capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise SystemExit(f"setup failed: {' '.join(argv)}\n{proc.stdout}{proc.stderr}")
        return proc.stdout

    def settle(self, project: Path, **env: str) -> str:
        """A no-op install once the files just written are old enough for skillpm to trust
        their stat stamps (2 s; see installstate): the steady state of a project whose
        hook or CI step runs install again and again."""
        time.sleep(2.2)
        return self.setup_run(self.skillpm("install"), project, **env)

    def add(self, measure: Measure) -> None:
        self.measures[measure.key] = measure

    def command(
        self, argv: list[str], cwd: Path, ok: tuple[int, ...] = (0,), **env: str
    ) -> Command:
        return Command(argv, cwd, dict(self.env, **env), ok)

    # -- scenarios -------------------------------------------------------------

    def startup(self) -> None:
        here = self.work
        floor = [self.py, "-c", "pass"]
        self.add(Measure("pass", "python -c pass", lambda: self.command(floor, here)))
        self.add(
            Measure("help", "skillpm --help", lambda: self.command(self.skillpm("--help"), here))
        )

    def floor_import(self) -> None:
        here = self.work
        self.add(
            Measure(
                "import",
                "python -c 'import skillpm'",
                lambda: self.command([self.py, "-c", "import skillpm"], here),
            )
        )

    def noop(self, bare: Path) -> None:
        a = self.args
        project = self.work / "noop-project"
        cache = str(self.work / "cache-noop")
        deps = {f"skill-{i:03d}": f"^1.{a.versions - 1}.0" for i in range(a.packages)}
        inputs.write_manifest(project, {"team": f"git+{bare.as_uri()}"}, deps)
        self.setup_run(self.skillpm("install"), project, XDG_CACHE_HOME=cache)
        out = self.settle(project, XDG_CACHE_HOME=cache)
        assert "Nothing to do" in out, out
        self.add(
            Measure(
                "noop",
                f"skillpm install (no-op, {a.packages} packages)",
                lambda: self.command(self.skillpm("install"), project, XDG_CACHE_HOME=cache),
            )
        )

    def noop_builtin(self, key: str, label: str, package: str, vars_yaml: str = "") -> None:
        """A no-op of a project set up from the built-in registry, as the README does it."""
        project = self.work / f"{key}-project"
        project.mkdir()
        if vars_yaml:
            (project / "skills.yaml").write_text(vars_yaml, encoding="utf-8")
        self.setup_run(self.skillpm("install", package), project)
        out = self.settle(project)
        assert "Nothing to do" in out, out
        self.add(Measure(key, label, lambda: self.command(self.skillpm("install"), project)))

    def noop_demo(self) -> None:
        """The README's demo: ``skillpm install cdk-patterns`` (a skill and a CLAUDE.md block)."""
        self.noop_builtin("noop-demo", "skillpm install (no-op, README demo)", "cdk-patterns")

    def noop_pieces(self) -> None:
        """bedrock-setup: a skill, .claude/settings.json keys and (a dependency's) .claudeignore."""
        self.noop_builtin(
            "noop-pieces",
            "skillpm install (no-op, settings + ignore)",
            "bedrock-setup",
            "vars:\n  aws: {region: us-east-1}\n",
        )

    def cold(self, bare: Path, peers: Sequence[inputs.Peer]) -> None:
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
        for peer in peers:

            def npm(peer: inputs.Peer = peer) -> Command:
                argv = [*peer.argv, "add", bare.as_uri(), "--copy", "--yes"]
                argv += ["--agent", "claude-code", "--skill", "*"]
                return self.command(argv, self.fresh("npm"))

            label = f"{peer.package} add --copy (Node {peer.node_version})"
            self.add(Measure(peer.key, label, npm, expect_skills, cleanup))

    def wide(self, bare: Path, scenarios: set[str]) -> None:
        """The add and lint scenarios: a project with N installed, another with none."""
        n = self.args.installed
        cache = str(self.work / "cache-wide")
        env = {"XDG_CACHE_HOME": cache, "SKILLPM_FETCH_INTERVAL": "86400"}
        registry = {"wide": f"git+{bare.as_uri()}"}
        full = self.work / "wide-full"
        inputs.write_manifest(full, registry, {f"tool-{i:03d}": "^1.0.0" for i in range(n)})
        self.setup_run(self.skillpm("install"), full, **env)
        self.settle(full, **env)
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
        for key, project, what in (("add0", empty, "empty project"), ("add200", full, f"{n} in")):
            self.add(
                Measure(
                    key,
                    f"skillpm install {added} ({what})",
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

        load = [self.py, "-c", "import json, sys; json.load(open(sys.argv[1], 'rb'))", str(index)]
        self.add(Measure("json", "json.load(index.json)", lambda: self.command(load, self.work)))
        self.add(Measure("resolve", "skillpm install (resolve, no lock)", resolve, check, cleanup))
        size = index.stat().st_size / 1e6
        print(f"  index: {a.index_names} x {a.index_versions} entries, {size:.1f} MB", flush=True)

    def has_lint(self) -> bool:
        proc = subprocess.run(
            self.skillpm("lint", "--help"), env=self.env, capture_output=True, check=False
        )
        return proc.returncode == 0
