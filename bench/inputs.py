"""Inputs the benchmark builds for itself: registries, projects, the peer CLI.

Registries are written straight from the formats in DESIGN.md (index.json and
the integrity of section 4), not through skillpm's own publish code, so the
bench measures skillpm against a registry any conforming tool could have made.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

WORDS = [
    *("stack", "lambda", "bedrock", "region", "alarm", "budget", "deploy", "construct", "tag"),
    *("naming", "retry", "backoff", "timeout", "memory", "arm64", "graviton", "invoke", "model"),
    *("agent", "state", "machine", "parallel", "approval", "token", "cost", "latency"),
    *("throttle", "burst", "queue", "event", "bridge", "bucket", "table", "index", "stream"),
    *("policy", "role"),
]
PUBLISHED = "2026-11-01T00:00:00Z"


def text(rng: random.Random, size: int) -> str:
    """Prose-like filler: compresses like real markdown, not like zeros or noise."""
    out, n = [], 0
    while n < size:
        line = " ".join(rng.choices(WORDS, k=12)) + ".\n"
        out.append(line)
        n += len(line)
    return "".join(out)


def git(*args: str | Path, cwd: Path, env: Mapping[str, str] | None = None) -> str:
    proc = subprocess.run(
        ["git", *map(str, args)], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return proc.stdout


# -- packages and registries (DESIGN 2-4) -------------------------------------


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    files: Mapping[str, tuple[bytes, bool]]  # relpath -> (bytes, executable)
    dependencies: Mapping[str, str]
    skills: tuple[str, ...]
    description: str

    def integrity(self) -> str:
        lines = sorted(
            (rel, "755" if exe else "644", hashlib.sha256(data).hexdigest())
            for rel, (data, exe) in self.files.items()
        )
        h = hashlib.sha256()
        for rel, mode, digest in lines:
            h.update(f"{digest} {mode} {rel}\n".encode())
        return "sha256:" + h.hexdigest()

    def entry(self) -> dict[str, object]:
        return {
            "path": f"packages/{self.name}/{self.version}",
            "integrity": self.integrity(),
            "description": self.description,
            "dependencies": dict(self.dependencies),
            "skills": list(self.skills),
            "fragments": [],
            "published": PUBLISHED,
            "yanked": False,
        }


def skill_package(
    rng: random.Random,
    name: str,
    version: str,
    *,
    skill_size: int,
    references: Sequence[int],
    script_size: int,
    dependencies: Mapping[str, str] | None = None,
) -> Package:
    """A package with one skill: SKILL.md, references/*.md and an executable script."""
    description = f"Conventions and checks for {name.replace('-', ' ')}"
    deps = dict(dependencies or {})
    manifest = f"name: {name}\nversion: {version}\ndescription: {description}\n"
    if deps:
        manifest += "dependencies:\n" + "".join(f"  {d}: '{r}'\n" for d, r in deps.items())
    manifest += f"skills: [skills/{name}]\n"
    skill = (
        f"---\nname: {name}\ndescription: {description}. Use when working on {name}.\n---\n"
        f"# {name}\n\n" + text(rng, skill_size)
    )
    files: dict[str, tuple[bytes, bool]] = {
        "skillpm.yaml": (manifest.encode(), False),
        f"skills/{name}/SKILL.md": (skill.encode(), False),
    }
    for i, size in enumerate(references):
        files[f"skills/{name}/references/ref-{i}.md"] = (text(rng, size).encode(), False)
    if script_size:
        body = "#!/bin/sh\n# " + text(rng, script_size).replace("\n", "\n# ") + "\necho ok\n"
        files[f"skills/{name}/scripts/check.sh"] = (body.encode(), True)
    return Package(name, version, files, deps, (name,), description)


def write_registry(root: Path, packages: Sequence[Package], extra: Mapping[str, object] = {}):
    """``root/index.json`` and ``root/packages/<name>/<version>/`` for ``packages``.

    ``extra`` adds index entries without files (a large index's unreachable part).
    """
    index: dict[str, dict[str, dict[str, object]]] = {}
    for pkg in packages:
        folder = root / "packages" / pkg.name / pkg.version
        for rel, (data, exe) in pkg.files.items():
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            path.chmod(0o755 if exe else 0o644)
        index.setdefault(pkg.name, {})[pkg.version] = pkg.entry()
    packages_json = {n: {"versions": v} for n, v in sorted(index.items())}
    for name, versions in extra.items():
        packages_json.setdefault(name, {"versions": versions})  # type: ignore[arg-type]
    data = {"format": 1, "packages": dict(sorted(packages_json.items()))}
    (root / "index.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def git_registry(
    base: Path, name: str, packages: Sequence[Package], env: Mapping[str, str]
) -> Path:
    """A bare repository (served over file://, partial clone allowed) holding a registry."""
    bare, work = base / f"{name}.git", base / f"{name}-work"
    git("init", "-q", "--bare", bare, cwd=base, env=env)
    git("config", "uploadpack.allowFilter", "true", cwd=bare, env=env)
    git("init", "-q", work, cwd=base, env=env)
    write_registry(work, packages)
    git("add", "-A", cwd=work, env=env)
    git("commit", "-q", "-m", "publish", cwd=work, env=env)
    git("push", "-q", bare.as_uri(), "HEAD:refs/heads/main", cwd=work, env=env)
    git("symbolic-ref", "HEAD", "refs/heads/main", cwd=bare, env=env)
    shutil.rmtree(work)
    return bare


def cold_registry(base: Path, count: int, versions: int, env: Mapping[str, str]) -> Path:
    """``count`` packages x ``versions``: SKILL.md ~4 KB, three 20 KB references, a script."""
    rng = random.Random(7)
    packages = [
        skill_package(
            rng,
            f"skill-{i:03d}",
            f"1.{v}.0",
            skill_size=4000,
            references=(20000, 20000, 20000),
            script_size=2000,
        )
        for i in range(count)
        for v in range(versions)
    ]
    return git_registry(base, "cold-registry", packages, env)


def wide_registry(base: Path, count: int, env: Mapping[str, str]) -> Path:
    """``count`` smaller packages, one version each, for the add and lint scenarios."""
    rng = random.Random(11)
    packages = [
        skill_package(
            rng, f"tool-{i:03d}", "1.0.0", skill_size=3000, references=(6000,), script_size=500
        )
        for i in range(count)
    ]
    return git_registry(base, "wide-registry", packages, env)


def big_index(root: Path, names: int, versions: int, roots: int) -> list[str]:
    """A local registry whose index lists ``names`` x ``versions`` entries.

    The first ``roots`` packages each depend on two more (``^1.5``), and those 3x
    packages are real folders in every version; every other entry only exists in
    the index, like the part of a large registry a project never touches.
    Returns the root names.
    """
    rng = random.Random(13)
    width = len(str(names - 1))
    label = [f"pkg-{i:0{width}d}" for i in range(names)]
    real: list[Package] = []
    for i in range(3 * roots):
        deps = {label[roots + 2 * i]: "^1.5", label[roots + 2 * i + 1]: "^1.5"} if i < roots else {}
        for v in range(versions):
            real.append(
                skill_package(
                    rng,
                    label[i],
                    f"1.{v}.0",
                    skill_size=600,
                    references=(),
                    script_size=0,
                    dependencies=deps,
                )
            )
    extra: dict[str, object] = {}
    for i in range(3 * roots, names):
        name = label[i]
        extra[name] = {
            f"1.{v}.0": {
                "path": f"packages/{name}/1.{v}.0",
                "integrity": "sha256:" + hashlib.sha256(f"{name}@{v}".encode()).hexdigest(),
                "description": f"Conventions and checks for {name.replace('-', ' ')}",
                "dependencies": {label[(i * 7 + v) % names]: "^1.0"} if v % 4 == 0 else {},
                "skills": [name],
                "fragments": [],
                "published": PUBLISHED,
                "yanked": False,
            }
            for v in range(versions)
        }
    write_registry(root, real, extra)
    return label[:roots]


def write_manifest(project: Path, registries: Mapping[str, str], deps: Mapping[str, str]) -> None:
    project.mkdir(parents=True, exist_ok=True)
    lines = ["registries:"] + [f"  {n}: {u}" for n, u in registries.items()]
    lines += ["dependencies:"] + [f"  {n}: '{r}'" for n, r in deps.items()]
    if not deps:
        lines[-1] = "dependencies: {}"
    (project / "skills.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


# -- the peers: the `skills` npm CLI -----------------------------------------

# (measure key, package, the npm package that provides its Node; None: the node on PATH).
# 1.4.9 is the last release that runs on Node 20; the current one needs Node >= 22.20,
# which npm's `node` package installs beside it (a Node binary as an npm dependency).
PEERS = (
    ("npm-1.4", "skills@1.4.9", None),
    ("npm-1.7", "skills@1.7.4", "node@22"),
)


@dataclass(frozen=True)
class Peer:
    key: str
    package: str
    argv: tuple[str, ...]  # node and the CLI's script
    node_version: str


def peer_cli(folder: Path, key: str, package: str, node_package: str | None) -> Peer | None:
    """``package`` installed with npm into a folder of ``folder`` (kept between runs), or None."""
    if shutil.which("npm") is None:
        print(f"  ({package}: no npm on PATH)")
        return None
    target = folder / package.replace("@", "-")
    cli = target / "node_modules" / "skills" / "bin" / "cli.mjs"
    node = str(target / "node_modules" / ".bin" / "node") if node_package else shutil.which("node")
    env = dict(os.environ, npm_config_update_notifier="false")
    if not cli.is_file() or node is None or not Path(node).exists():
        target.mkdir(parents=True, exist_ok=True)
        wanted = [package, *([node_package] if node_package else [])]
        proc = subprocess.run(
            [
                "npm",
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(target),
                *wanted,
            ],
            capture_output=True,
            text=True,
            env=env,
        )
        node = str(target / "node_modules" / ".bin" / "node") if node_package else node
        if proc.returncode != 0 or not cli.is_file() or node is None:
            print(f"  (npm install {' '.join(wanted)} failed: {proc.stderr.strip()[-300:]})")
            return None
    version = subprocess.run([node, "--version"], capture_output=True, text=True, env=env)
    works = subprocess.run([node, str(cli), "--version"], capture_output=True, text=True, env=env)
    if version.returncode != 0 or works.returncode != 0:
        print(f"  ({package} does not run on Node {version.stdout.strip() or '?'})")
        return None
    return Peer(key, package, (node, str(cli)), version.stdout.strip().lstrip("v"))
