"""Builders for skill trees, packages and registries from dicts, and a CLI runner."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from skillpm.cli.main import main

SRC = Path(__file__).resolve().parent.parent / "src"


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Cli:
    """Runs the real CLI entry point (``skillpm.cli.main.main``) in-process."""

    def __call__(
        self, *args: str | Path, cwd: Path | None = None, input: str | None = None
    ) -> Result:
        argv = [str(a) for a in args]
        if cwd is not None:
            argv = ["-C", str(cwd), *argv]
        runner = CliRunner()
        code = 0
        with runner.isolation(input=input) as (out, err, _):
            try:
                main(argv)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
        return Result(code, stdout, stderr)


def lint_json(cli: Cli, *args: str | Path, cwd: Path) -> tuple[int, list[dict[str, Any]]]:
    """``skillpm lint --format json ARGS`` in ``cwd``: the exit code and the findings."""
    import json

    result = cli("lint", "--format", "json", *args, cwd=cwd)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def run_skillpm(*args: str | Path, cwd: Path, env: Mapping[str, str] | None = None) -> Result:
    """The CLI in a real subprocess (``python -m skillpm``)."""
    return finish(spawn_skillpm(*args, cwd=cwd, env=env))


def spawn_skillpm(
    *args: str | Path, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start the CLI in a subprocess without waiting (``finish`` collects it)."""
    import os

    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = str(SRC)
    full_env.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "skillpm", *map(str, args)],
        cwd=cwd,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str]) -> Result:
    stdout, stderr = proc.communicate(timeout=120)
    return Result(proc.returncode, stdout, stderr)


def run_killed(*args: str | Path, cwd: Path, step: int) -> int:
    """The CLI in a forked child that SIGKILLs itself after ``step`` durable steps.

    Returns the child's exit code, or -9 when it was killed. A fork skips Python's
    start-up and imports, so a test can kill a command at every one of its steps
    quickly; the kill is as real as in a subprocess.
    """
    import os

    from skillpm.project.transaction import CRASH_AFTER_ENV

    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns
        code = 70
        try:
            os.environ[CRASH_AFTER_ENV] = str(step)
            sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115
            try:
                main(["-C", str(cwd), *map(str, args)])
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def skill_md(name: str, description: str | None = None, body: str = "", **extra: Any) -> str:
    meta: dict[str, Any] = {
        "name": name,
        "description": description or f"Does {name} things. Use when working on {name}.",
        **extra,
    }
    front = yaml.safe_dump(meta, sort_keys=False)
    return f"---\n{front}---\n# {name}\n\n{body or 'Steps to follow.'}\n"


def fragment_md(
    name: str,
    body: str = "",
    *,
    description: str | None = None,
    section: str | None = None,
    order: int | None = None,
    **extra: Any,
) -> str:
    """A CLAUDE.md fragment file: frontmatter (``extra`` keys as given) and a body."""
    meta: dict[str, Any] = {"name": name, "description": description or f"The {name} section"}
    if section is not None:
        meta["section"] = section
    if order is not None:
        meta["order"] = order
    meta.update({k.replace("_", "-"): v for k, v in extra.items()})
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)
    return f"---\n{front}---\n{body}"


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def make_package(
    root: Path,
    name: str,
    version: str = "1.0.0",
    *,
    skills: Mapping[str, str] | None = None,
    fragments: Mapping[str, str] | None = None,
    dependencies: Mapping[str, str] | None = None,
    files: Mapping[str, str | bytes] | None = None,
    description: str | None = None,
) -> Path:
    """A package source folder. ``skills`` maps skill names to SKILL.md bodies."""
    skills = {name: ""} if skills is None else skills
    manifest: dict[str, Any] = {
        "name": name,
        "version": version,
        "description": description or f"The {name} package",
    }
    if dependencies:
        manifest["dependencies"] = dict(dependencies)
    tree: dict[str, str | bytes] = {"skillpm.yaml": yaml.safe_dump(manifest, sort_keys=False)}
    for skill, body in skills.items():
        tree[f"skills/{skill}/SKILL.md"] = skill_md(skill, body=body)
    for fragment, text in (fragments or {}).items():
        tree[f"fragments/{fragment}.md"] = text
    tree.update(files or {})
    return write_tree(root, tree)


def publish_to(registry: Path, source: Path) -> None:
    from skillpm.publish.folder import publish_local
    from skillpm.publish.prepare import prepare

    publish_local(prepare(source), registry)


def make_registry(root: Path, packages: list[dict[str, Any]]) -> Path:
    """A local registry holding each ``make_package`` keyword set in the list."""
    root.mkdir(parents=True, exist_ok=True)
    for i, spec in enumerate(packages):
        spec = dict(spec)
        source = root.parent / f".src-{root.name}-{i}-{spec['name']}"
        if source.exists():
            import shutil

            shutil.rmtree(source)
        make_package(source, spec.pop("name"), **spec)
        publish_to(root, source)
    return root


def git(*args: str | Path, cwd: Path) -> str:
    proc = subprocess.run(
        ["git", *map(str, args)], cwd=cwd, capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes, to prove nothing changed."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@dataclass
class GitRegistry:
    """A bare repository serving a registry, and the work clone that publishes to it."""

    bare: Path
    work: Path

    @property
    def url(self) -> str:
        return f"git+{self.bare.as_uri()}"

    def push(self, packages: list[dict[str, Any]], message: str = "publish") -> str:
        """Publish more ``make_package`` specs through the work clone, push; the new commit."""
        self.commit(packages, message)
        git("push", "-q", "origin", "HEAD", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)

    def commit(self, packages: list[dict[str, Any]], message: str = "publish") -> str:
        """Publish ``make_package`` specs in the work clone and commit, without pushing."""
        make_registry(self.work, packages)
        git("add", "-A", cwd=self.work)
        git("commit", "-q", "-m", message, cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)

    @property
    def head(self) -> str:
        return git("rev-parse", "HEAD", cwd=self.bare)

    def index(self, rev: str = "HEAD") -> dict[str, Any]:
        """The ``index.json`` the server holds at ``rev``."""
        import json

        data: dict[str, Any] = json.loads(git("show", f"{rev}:index.json", cwd=self.bare))
        return data

    def versions(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.index()["packages"].get(name, {}).get("versions", {})
        return found

    def subjects(self) -> list[str]:
        """The server's commit subjects, newest first."""
        return git("log", "--format=%s", cwd=self.bare).splitlines()

    def hook(self, name: str, script: str) -> None:
        """Install a server-side hook (a shell script) in the bare repository."""
        path = self.bare / "hooks" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text("#!/bin/sh\n" + script)
        path.chmod(0o755)


def make_git_registry(
    root: Path, packages: list[dict[str, Any]], *, allow_filter: bool = True
) -> GitRegistry:
    """A bare git repository (a real server over file://) holding a registry built from
    the same specs as ``make_registry``. ``allow_filter`` lets clients fetch without
    blobs, as GitHub and GitLab do; git's own default for file:// is off.
    """
    bare = root / "registry.git"
    work = root / "registry-work"
    root.mkdir(parents=True, exist_ok=True)
    git("init", "-q", "--bare", "--template=", bare, cwd=root)
    if allow_filter:
        git("config", "uploadpack.allowFilter", "true", cwd=bare)
    git("clone", "-q", bare, work, cwd=root)
    (work / "index.json").write_text('{"format": 1, "packages": {}}\n')
    registry = GitRegistry(bare, work)
    registry.push(packages, "first publish")
    return registry


@dataclass
class GitRepo:
    """A bare repository serving any tree (a marketplace, a folder of skills), and the
    work clone that commits to it."""

    bare: Path
    work: Path

    @property
    def url(self) -> str:
        return f"git+{self.bare.as_uri()}"

    @property
    def head(self) -> str:
        return git("rev-parse", "HEAD", cwd=self.bare)

    def commit(
        self,
        files: Mapping[str, str | bytes],
        message: str = "change",
        remove: tuple[str, ...] = (),
    ) -> str:
        """Write ``files`` (and delete ``remove``) in the work clone, commit, push."""
        import shutil

        for rel in remove:
            target = self.work / rel
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink()
        write_tree(self.work, files)
        git("add", "-A", cwd=self.work)
        git("commit", "-q", "--allow-empty", "-m", message, cwd=self.work)
        git("push", "-q", "origin", "HEAD", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)


def make_git_repo(root: Path, files: Mapping[str, str | bytes]) -> GitRepo:
    """A bare repository (a server over file://, filtering allowed) holding ``files``."""
    bare, work = root / "repo.git", root / "repo-work"
    root.mkdir(parents=True, exist_ok=True)
    git("init", "-q", "--bare", bare, cwd=root)
    git("config", "uploadpack.allowFilter", "true", cwd=bare)
    git("clone", "-q", bare, work, cwd=root)
    repo = GitRepo(bare, work)
    repo.commit(files, "first commit")
    return repo


def marketplace_json(name: str, plugins: list[dict[str, Any]], **extra: Any) -> str:
    """A ``.claude-plugin/marketplace.json`` as Claude Code documents it."""
    import json

    data: dict[str, Any] = {"name": name, "owner": {"name": "Acme Platform Team"}, **extra}
    data["plugins"] = plugins
    return json.dumps(data, indent=2) + "\n"


def empty_git_repo(root: Path, *, branch: str = "main") -> GitRegistry:
    """A bare repository with no commits (a registry's first publish starts it)."""
    bare = root / "registry.git"
    root.mkdir(parents=True, exist_ok=True)
    git("init", "-q", "--bare", "--template=", f"--initial-branch={branch}", bare, cwd=root)
    return GitRegistry(bare, root / "registry-work")


def modules_loaded(
    args: list[str], cwd: Path, watched: tuple[str, ...]
) -> tuple[list[str], subprocess.CompletedProcess[str]]:
    """Run the CLI in a fresh interpreter: which of ``watched`` it imported, and the run."""
    import os

    probe = (
        "import sys\n"
        "from skillpm.cli.main import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "finally:\n"
        f"    print('LOADED', ' '.join(m for m in {watched!r} if m in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe, *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        check=False,
    )
    marker = [line for line in proc.stdout.splitlines() if line.startswith("LOADED")]
    assert marker, proc.stdout + proc.stderr
    return marker[-1].split()[1:], proc
