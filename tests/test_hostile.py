"""Hostile registries and packages: each refused with one clear line, nothing written.

Every case goes through the real CLI against a project (and, for publish, a
registry) whose every file is snapshotted before and compared after.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from skillpm.integrity import integrity_of_lines, tree_integrity
from tests.helpers import (
    Cli,
    fragment_md,
    git,
    make_package,
    make_registry,
    skill_md,
    snapshot,
    write_tree,
)

# -- helpers ---------------------------------------------------------------------------

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n"
    for i in range(8)
)
PYTHON_TAG = "!!python/object/apply:os.system ['touch PWNED']"


@pytest.fixture
def team(tmp_path: Path) -> Path:
    """A project with files of its own, so 'nothing written' means something."""
    return write_tree(
        tmp_path / "team",
        {"CLAUDE.md": "# Ours\n", "skills.yaml": "dependencies: {}\n", ".claude/keep": "x"},
    )


def refused(
    cli: Cli, where: Path, *args: str | Path, message: str, watch: Path | None = None
) -> str:
    """Run a command that must fail with one line containing ``message`` and change
    nothing under ``where`` (and ``watch``)."""
    watched = [where] if watch is None else [where, watch]
    before = [snapshot(w) for w in watched]
    result = cli(*args, cwd=where)
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr, result.stderr
    assert ".skillpm-staging" not in result.stderr  # no path the user cannot look at
    assert [snapshot(w) for w in watched] == before
    assert not list(where.rglob("PWNED"))
    return result.stderr


def _index(registry: Path) -> dict[str, Any]:
    data = json.loads((registry / "index.json").read_text())
    assert isinstance(data, dict)
    return data


def _edit_index(registry: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    data = _index(registry)
    edit(data)
    (registry / "index.json").write_text(json.dumps(data))


def _tamper(registry: Path, name: str, files: dict[str, str | bytes]) -> None:
    """Change a published package and make its index entry agree (a hostile registry
    is self-consistent: integrity alone does not stop it)."""
    folder = registry / f"packages/{name}/1.0.0"
    write_tree(folder, files)
    digest = tree_integrity(folder)

    def fix(data: dict[str, Any]) -> None:
        data["packages"][name]["versions"]["1.0.0"]["integrity"] = digest

    _edit_index(registry, fix)


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return make_registry(
        tmp_path / "registry",
        [{"name": "demo", "fragments": {"demo-rules": fragment_md("demo-rules", "Rules\n")}}],
    )


def _entry(data: dict[str, Any]) -> dict[str, Any]:
    entry = data["packages"]["demo"]["versions"]["1.0.0"]
    assert isinstance(entry, dict)
    return entry


# -- the index -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: _entry(d).update(path="../../outside"), "is not packages/demo/1.0.0"),
        (lambda d: _entry(d).update(path="/etc"), "is not packages/demo/1.0.0"),
        (lambda d: _entry(d).update(path="packages/other/1.0.0"), "is not packages/demo/1.0.0"),
        (lambda d: _entry(d).update(skills=["../evil"]), "skill name '../evil'"),
        (lambda d: _entry(d).update(skills=["a/b"]), "skill name 'a/b'"),
        (lambda d: _entry(d).update(skills=["/etc"]), "skill name '/etc'"),
        (lambda d: _entry(d).update(skills=["C:evil"]), "skill name 'C:evil'"),
        (lambda d: _entry(d).update(skills=[".."]), "skill name '..'"),
        (lambda d: _entry(d).update(fragments=["../CLAUDE"]), "fragment name '../CLAUDE'"),
        (lambda d: _entry(d).update(fragments=["c:\\x"]), "fragment name 'c:\\\\x'"),
        (
            lambda d: d["packages"]["demo"]["versions"].update({"1.0.0/../../x": _entry(d)}),
            "1.0.0/../../x",
        ),
        (lambda d: _entry(d).update(integrity="sha256:" + "0" * 64), "integrity check failed"),
        (lambda d: _entry(d).update(integrity="md5:abc"), "integrity must be 'sha256:'"),
    ],
)
def test_hostile_index_entries(
    cli: Cli, team: Path, registry: Path, edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    _edit_index(registry, edit)
    refused(cli, team, "install", "demo", "--registry", registry, message=message)
    assert not (team / ".claude/skills").exists()


def test_a_bad_package_name_in_the_index_is_left_out_with_a_warning(
    cli: Cli, team: Path, registry: Path
) -> None:
    """It cannot be asked for (names in skills.yaml are checked), so the rest is usable."""
    _edit_index(registry, lambda d: d["packages"].update({"../demo": d["packages"]["demo"]}))
    result = cli("install", "demo", "--registry", registry, cwd=team)
    assert result.exit_code == 0, result.output
    assert "package name '../demo'" in result.stderr and "left out" in result.stderr
    assert not list(team.parent.rglob("outside"))


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"skillpm.yaml": "name: demo\nversion: 1.0.0\ndescription: d\nskills: [../../x]\n"},
            "escapes its folder",
        ),
        (
            {"skillpm.yaml": "name: demo\nversion: 1.0.0\ndescription: d\nskills: [/etc]\n"},
            "is not a relative posix path",
        ),
        (
            {"skillpm.yaml": "name: demo\nversion: 1.0.0\ndescription: d\nskills: ['C:/x']\n"},
            "is not a relative posix path",
        ),
        (
            {
                "skillpm.yaml": "name: demo\nversion: 1.0.0\ndescription: d\n"
                "fragments: ['..\\\\x.md']\n"
            },
            "is not a relative posix path",
        ),
        (
            {"skillpm.yaml": f"name: demo\nversion: 1.0.0\ndescription: {PYTHON_TAG}\n"},
            "invalid YAML",
        ),
        ({"skillpm.yaml": BOMB}, "too many nodes"),
        (
            {"fragments/demo-rules.md": f"---\nname: demo-rules\ndescription: {PYTHON_TAG}\n---\n"},
            "invalid YAML",
        ),
        ({"fragments/demo-rules.md": f"---\n{BOMB}---\n"}, "too many nodes"),
        (
            {"fragments/demo-rules.md": "---\n" + "[" * 100 + "]" * 100 + "\n---\n"},
            "nested deeper than 64",
        ),
        (
            {"fragments/demo-rules.md": fragment_md("demo-rules", "{{ ''.__class__.__mro__ }}")},
            "demo-rules",
        ),
        (
            {
                "fragments/demo-rules.md": fragment_md(
                    "demo-rules",
                    "{% for i in range(10**6) %}"
                    "{% for j in range(10**6) %}x{% endfor %}{% endfor %}",
                )
            },
            "demo-rules",
        ),
        ({"skills/demo/assets/big.bin": b"\0" * (5 * 2**20 + 1)}, "5 MiB limit for one file"),
        ({"skills/demo/a\n0000 644 b": "x"}, "has a control character in its name"),
    ],
)
def test_hostile_package_contents_in_a_self_consistent_registry(
    cli: Cli, team: Path, registry: Path, files: dict[str, str | bytes], message: str
) -> None:
    _tamper(registry, "demo", files)
    refused(cli, team, "install", "demo", "--registry", registry, message=message)


def test_a_symlink_in_a_local_registry_package_is_refused(
    cli: Cli, team: Path, registry: Path, tmp_path: Path
) -> None:
    secret = write_tree(tmp_path / "home", {".ssh/id_rsa": "PRIVATE KEY"}) / ".ssh/id_rsa"
    (registry / "packages/demo/1.0.0/skills/demo/key").symlink_to(secret)
    err = refused(cli, team, "install", "demo", "--registry", registry, message="symbolic links")
    assert "PRIVATE KEY" not in err


def test_a_hard_link_in_a_local_registry_is_copied_never_linked(
    cli: Cli, team: Path, registry: Path, tmp_path: Path
) -> None:
    """Install copies bytes and checks their integrity, so a hard link (uv installs
    skillpm's own built-in registry as hard links) yields an independent file."""
    outside = write_tree(tmp_path / "elsewhere", {"notes.md": "original"}) / "notes.md"
    linked = registry / "packages/demo/1.0.0/skills/demo/notes.md"
    os.link(outside, linked)
    _tamper(registry, "demo", {})
    result = cli("install", "demo", "--registry", registry, cwd=team)
    assert result.exit_code == 0, result.output
    installed = team / ".claude/skills/demo/notes.md"
    assert installed.read_text() == "original" and installed.stat().st_nlink == 1
    outside.write_text("changed later, outside the project")
    assert installed.read_text() == "original"
    # The registry's copy changed after it was locked: fail closed, nothing touched.
    shutil.rmtree(team / ".claude/skills/demo")
    refused(cli, team, "install", "--frozen", message="integrity check failed")


# -- the project's own files ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"vars: {PYTHON_TAG}\n", "invalid YAML"),
        ("vars: !!python/name:os.system\n", "invalid YAML"),
        (BOMB, "too many nodes"),
        ("vars: " + "[" * 100 + "]" * 100 + "\n", "nested deeper than 64"),
        ("vars: {x: '" + "a" * (1024 * 1024) + "'}\n", "larger than 1024 KiB"),
        ("registries: {'../x': /tmp}\n", "registry name '../x'"),
        ("dependencies: {'../evil': '*'}\n", "package name '../evil'"),
        ("dependencies: {'C:evil': '*'}\n", "package name 'C:evil'"),
    ],
)
def test_hostile_skills_yaml(cli: Cli, team: Path, text: str, message: str) -> None:
    (team / "skills.yaml").write_text(text)
    for args in (("install",), ("install", "demo"), ("sync",), ("update",), ("list",)):
        refused(cli, team, *args, message=message)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"lock-version: 1\nmanifest-hash: {PYTHON_TAG}\n", "invalid YAML"),
        (BOMB, "too many nodes"),
        ("lock-version: 1\nmanifest-hash: x\npackages:\n- {name: ../evil}\n", "package name"),
        (
            "lock-version: 1\nmanifest-hash: x\npackages:\n- name: demo\n  version: 1.0.0\n"
            "  registry: r\n  integrity: sha256:" + "0" * 64 + "\n  skills: ['../../x']\n",
            "'../../x'",
        ),
        (
            "lock-version: 1\nmanifest-hash: x\npackages:\n- name: demo\n  version: 1.0.0\n"
            "  registry: r\n  integrity: sha256:" + "0" * 64 + "\n  commit: '; rm -rf /'\n",
            "commit must be 40 hex digits",
        ),
    ],
)
def test_hostile_skills_lock(cli: Cli, team: Path, text: str, message: str) -> None:
    (team / "skills.lock").write_text(text)
    for args in (("install", "--frozen"), ("install",), ("list",), ("remove", "demo")):
        refused(cli, team, *args, message=message)


def test_a_lock_pointing_at_another_registry_than_the_manifest_pins(
    cli: Cli, team: Path, tmp_path: Path
) -> None:
    """A pull request editing only skills.lock cannot swap a team package for a
    look-alike from another registry that skills.yaml lists."""
    ours = make_registry(tmp_path / "ours", [{"name": "demo", "skills": {"demo": "ours"}}])
    theirs = make_registry(tmp_path / "theirs", [{"name": "demo", "skills": {"demo": "evil"}}])
    manifest = {
        "registries": {"team": str(ours), "public": str(theirs)},
        "dependencies": {"demo": {"version": "^1", "registry": "team"}},
    }
    (team / "skills.yaml").write_text(yaml.safe_dump(manifest))
    assert cli("install", cwd=team).exit_code == 0
    lock = (team / "skills.lock").read_text()
    evil = tree_integrity(theirs / "packages/demo/1.0.0")
    good = tree_integrity(ours / "packages/demo/1.0.0")
    (team / "skills.lock").write_text(lock.replace(str(ours), str(theirs)).replace(good, evil))
    shutil.rmtree(team / ".claude/skills/demo")
    for args in (("install",), ("install", "--frozen"), ("sync",)):
        refused(cli, team, *args, message="but skills.yaml pins it to registry team")
    # A lock naming a registry skills.yaml does not list at all.
    (team / "skills.lock").write_text(lock.replace(str(ours), str(tmp_path / "unknown")))
    refused(cli, team, "install", "--frozen", message="skills.lock: demo comes from registry")


# -- publish ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"skillpm.yaml": f"name: demo\nversion: 1.0.0\ndescription: {PYTHON_TAG}\n"},
            "invalid YAML",
        ),
        ({"skillpm.yaml": BOMB}, "too many nodes"),
        (
            {"skills/demo/SKILL.md": f"---\nname: demo\ndescription: {PYTHON_TAG}\n---\n"},
            "invalid YAML",
        ),
        ({"skills/demo/SKILL.md": f"---\n{BOMB}---\n"}, "too many nodes"),
        (
            {"fragments/rules.md": f"---\nname: rules\ndescription: {PYTHON_TAG}\n---\n"},
            "invalid YAML",
        ),
        ({"fragments/rules.md": f"---\n{BOMB}---\n"}, "too many nodes"),
        (
            {"skillpm.yaml": "name: demo\nversion: 1.0.0\ndescription: d\nskills: [../x]\n"},
            "escapes its folder",
        ),
        (
            {"skillpm.yaml": "name: demo\nversion: 1.0.0\ndescription: d\nfragments: [C:/x.md]\n"},
            "is not a relative posix path",
        ),
    ],
)
def test_hostile_package_sources_are_not_published(
    cli: Cli, tmp_path: Path, files: dict[str, str], message: str
) -> None:
    source = make_package(tmp_path / "src", "demo", files=files)
    target = make_registry(tmp_path / "registry", [{"name": "other"}])
    refused(cli, tmp_path, "publish", source, "--registry", target, message=message, watch=target)


def test_a_hard_link_is_not_published(cli: Cli, tmp_path: Path) -> None:
    """A hard link can point at any file of its owner's (a key): publish refuses it."""
    secret = write_tree(tmp_path / "home", {"id_rsa": "PRIVATE KEY"}) / "id_rsa"
    source = make_package(tmp_path / "src", "demo")
    os.link(secret, source / "skills/demo/notes.txt")
    target = tmp_path / "registry"
    target.mkdir()
    refused(cli, tmp_path, "publish", source, "--registry", target, message="hard links")
    refused(cli, tmp_path, "pack", source, "-o", target, message="hard links")


# -- git registries ----------------------------------------------------------------------


def _bare_registry(root: Path, package: dict[str, tuple[str, bytes]]) -> str:
    """A git registry built with git's plumbing, which takes trees that ``git add``
    never makes (``..`` entries, links, submodules): what a hostile server can send.

    ``package`` maps paths inside ``packages/evil/1.0.0/`` to (git mode, content).
    """
    bare = root / "evil.git"
    git("init", "-q", "--bare", bare, cwd=root)

    def obj(kind: str, data: bytes) -> str:
        from subprocess import run

        out = run(
            ["git", "hash-object", "-w", "-t", kind, "--stdin", "--literally"],
            cwd=bare,
            input=data,
            capture_output=True,
            check=True,
        )
        return out.stdout.decode().strip()

    def tree(entries: dict[str, Any]) -> str:
        lines = []
        for name, value in sorted(entries.items()):
            if isinstance(value, dict):
                lines.append(f"040000 tree {tree(value)}\t{name}\n")
            else:
                mode, data = value
                kind = "commit" if mode == "160000" else "blob"
                oid = data.decode() if mode == "160000" else obj("blob", data)
                lines.append(f"{mode} {kind} {oid}\t{name}\n")
        from subprocess import run

        out = run(
            ["git", "mktree"],
            cwd=bare,
            input="".join(lines).encode(),
            capture_output=True,
            check=True,
        )
        return out.stdout.decode().strip()

    nested: dict[str, Any] = {}
    for path, value in package.items():
        node = nested
        *folders, leaf = path.split("/")
        for folder in folders:
            node = node.setdefault(folder, {})
        node[leaf] = value
    lines = [
        (p, "755" if m == "100755" else "644", hashlib.sha256(d).hexdigest())
        for p, (m, d) in package.items()
    ]
    index = {
        "format": 1,
        "packages": {
            "evil": {
                "versions": {
                    "1.0.0": {
                        "path": "packages/evil/1.0.0",
                        "integrity": integrity_of_lines(lines),
                        "skills": ["evil"],
                        "fragments": [],
                    }
                }
            }
        },
    }
    top = tree(
        {
            "index.json": ("100644", json.dumps(index).encode()),
            "packages": {"evil": {"1.0.0": nested}},
        }
    )
    commit = git("commit-tree", top, "-m", "evil", cwd=bare)
    git("update-ref", "refs/heads/main", commit, cwd=bare)
    return f"git+{bare.as_uri()}"


PLAIN = {
    "skillpm.yaml": ("100644", b"name: evil\nversion: 1.0.0\ndescription: d\n"),
    "skills/evil/SKILL.md": ("100644", skill_md("evil").encode()),
}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"skills/evil/key": ("120000", b"/home/user/.ssh/id_rsa")}, "is a symbolic link"),
        ({"skills/evil/vendor": ("160000", b"1" * 40)}, "is a submodule"),
        ({"../../../../outside.md": ("100644", b"escaped")}, "escapes its folder"),
        ({"skills/evil/../../x.md": ("100644", b"escaped")}, "escapes its folder"),
        ({"skills/evil/big.bin": ("100644", b"\0" * (5 * 2**20 + 1))}, "5 MiB limit"),
    ],
)
def test_hostile_git_trees(
    cli: Cli, team: Path, tmp_path: Path, isolated_env: Path, extra: dict[str, Any], message: str
) -> None:
    url = _bare_registry(tmp_path, {**PLAIN, **extra})
    refused(cli, team, "install", "evil", "--registry", url, message=message)
    cache = isolated_env / "cache" / "packages"
    assert not cache.exists() or not list(cache.iterdir())
    assert not (tmp_path / "outside.md").exists()


def test_a_plain_plumbing_registry_installs(cli: Cli, team: Path, tmp_path: Path) -> None:
    """The builder above makes a working registry when nothing hostile is added."""
    url = _bare_registry(tmp_path, PLAIN)
    result = cli("install", "evil", "--registry", url, cwd=team)
    assert result.exit_code == 0, result.output
    assert (team / ".claude/skills/evil/SKILL.md").is_file()


# -- fragment templates ------------------------------------------------------------------

ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ self.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ config.__class__.__init__.__globals__['os'] }}",
    "{{ request.application.__globals__.__builtins__ }}",
    "{{ url_for.__globals__ }}",
    "{{ range.__self__ }}",
    "{{ dict.__base__.__subclasses__() }}",
    "{{ dict.fromkeys(range(10)) }}",
    "{{ namespace(a=1).__dict__ }}",
    "{{ vars.__class__ }}",
    "{{ '{0.__class__}'.format(1) }}",
    "{{ 'x'|attr('__class__') }}",
    "{{ ''|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
    "{% for x in range(1) %}{{ loop.cycle.__func__.__globals__ }}{% endfor %}",
    "{% macro m() %}{% endmacro %}{{ m._environment }}",
    "{% import 'os' as os %}",
    "{% include '/etc/passwd' %}",
    "{% extends '/etc/passwd' %}",
]


@pytest.mark.parametrize("body", ESCAPES)
def test_sandbox_escapes_are_refused(body: str) -> None:
    from skillpm.content.fragments import Renderer, parse_fragment
    from skillpm.errors import FragmentError

    fragment = parse_fragment(
        fragment_md("demo", body), package="pkg", version="1.0.0", where="fragments/demo.md"
    )
    with pytest.raises(FragmentError) as info:
        Renderer({"aws": {"region": "x"}}).render(fragment)
    message = str(info.value)
    assert message.startswith(("demo: ", "fragments/demo.md")) and "\n" not in message
    for leak in ("<class", "<module", "<function", "root:", "uid="):
        assert leak not in message


def test_a_sandbox_escape_in_a_registry_stops_the_whole_install(
    cli: Cli, team: Path, tmp_path: Path
) -> None:
    evil = fragment_md("evil-rules", "{{ cycler.__init__.__globals__.os.system('touch PWNED') }}")
    registry = make_registry(
        tmp_path / "r",
        [{"name": "good"}, {"name": "evil", "fragments": {"evil-rules": evil}}],
    )
    refused(cli, team, "install", "good", "evil", "--registry", registry, message="evil-rules")


# -- settings.json and .claudeignore pieces -------------------------------------------------

MANIFEST_WITH = "name: demo\nversion: 1.0.0\ndescription: d\n"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"skillpm.yaml": MANIFEST_WITH + "settings: ../../../../home/x.json\n"},
            "escapes its folder",
        ),
        ({"settings.json": '{"a":' * 900 + "1" + "}" * 900}, "nested deeper than 63 levels"),
        ({"settings.json": "[" * 50_000}, "not valid JSON"),
        ({"settings.json": '{"env": {"X": "' + "a" * 70_000 + '"}}'}, "larger than 64 KiB"),
        (
            {"settings.json": '{"env": {"X": "{{ cycler.__init__.__globals__.os }}"}}'},
            "settings env.X: the template uses",
        ),
        (
            {"settings.json": '{"env": {"X": "{% for i in range(10**9) %}x{% endfor %}"}}'},
            "the template was stopped",
        ),
        (
            {"skillpm.yaml": MANIFEST_WITH + 'claudeignore: ["a\\n# skillpm:end\\nb"]\n'},
            "holds a line break",
        ),
        (
            {"skillpm.yaml": MANIFEST_WITH + "claudeignore: ['# skillpm:end']\n"},
            "looks like a skillpm marker",
        ),
    ],
)
def test_hostile_settings_and_claudeignore_pieces(
    cli: Cli, team: Path, registry: Path, files: dict[str, str], message: str
) -> None:
    write_tree(team, {".claude/settings.json": '{"env": {"MINE": "1"}}\n', ".claudeignore": "x/\n"})
    _tamper(registry, "demo", files)
    refused(cli, team, "install", "demo", "--registry", registry, message=message)


def test_a_lock_cannot_smuggle_lines_out_of_the_claudeignore_block(cli: Cli, team: Path) -> None:
    lock = (
        "lock-version: 1\nmanifest-hash: x\npackages:\n- name: demo\n  version: 1.0.0\n"
        "  registry: r\n  integrity: sha256:" + "0" * 64 + "\n"
        '  claudeignore: ["a\\n# skillpm:end\\nsecrets/"]\n'
    )
    (team / "skills.lock").write_text(lock)
    refused(cli, team, "install", message="holds a line break")


# -- static HTTPS sites ----------------------------------------------------------------------


def _tar(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=9) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def _member(name: str, data: bytes = b"x", kind: bytes = tarfile.REGTYPE) -> Any:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.linkname = "skillpm.yaml" if kind == tarfile.LNKTYPE else ""
    return info, data if kind == tarfile.REGTYPE else None


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    from skillpm.publish import static_site
    from skillpm.registry.local import LocalRegistry
    from tests.sitehelpers import SiteServer

    source = make_registry(tmp_path / "src-registry", [{"name": "demo"}])
    out = tmp_path / "site"
    static_site.build(LocalRegistry("src", "src", source), out)
    with SiteServer(out) as server:
        yield out, server.url


def _serve_archive(out: Path, data: bytes, **entry: Any) -> None:
    """Put ``data`` as demo's archive, with the index file agreeing on its sha256."""
    (out / "packages/demo/demo-1.0.0.tar.gz").write_bytes(data)
    index_file = out / "index/demo.json"
    index = json.loads(index_file.read_text())
    version = index["versions"]["1.0.0"]
    version["archive-sha256"] = hashlib.sha256(data).hexdigest()
    version.update(entry)
    index_file.write_text(json.dumps(index))


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([_member("../../outside.md")], "escapes the package folder"),
        ([_member("/etc/cron.d/x")], "not a relative posix path"),
        ([_member("C:/x")], "not a relative posix path"),
        ([_member("skillpm.yaml"), _member("copy", kind=tarfile.LNKTYPE)], "links are not allowed"),
        ([_member("zeros", b"\0" * (4 * 2**20))], "compression ratio"),
        ([_member("big", os.urandom(5 * 2**20 + 1))], "5 MiB limit"),
        ([_member("a\nb")], "control character"),
    ],
)
def test_hostile_archives_from_a_site(
    cli: Cli, team: Path, site: tuple[Path, str], members: list[Any], message: str
) -> None:
    out, url = site
    _serve_archive(out, _tar(members))
    refused(cli, team, "install", "demo", "--registry", url, message=message)
    assert not (team.parent / "outside.md").exists()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"archive": "packages/other/other-1.0.0.tar.gz"}, "is outside packages/demo/"),
        ({"archive": "../../etc/passwd"}, "escapes its folder"),
        ({"skills": ["../x"]}, "skill name '../x'"),
    ],
)
def test_hostile_index_files_from_a_site(
    cli: Cli, team: Path, site: tuple[Path, str], entry: dict[str, Any], message: str
) -> None:
    out, url = site
    _serve_archive(out, (out / "packages/demo/demo-1.0.0.tar.gz").read_bytes(), **entry)
    refused(cli, team, "install", "demo", "--registry", url, message=message)


# -- plugin marketplaces -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        ({"name": "evil", "source": "./../../outside"}, "points outside the repository"),
        ({"name": "evil", "source": "/etc"}, "not a relative path"),
        (
            {"name": "evil", "source": "./", "strict": False, "skills": ["./../../x"]},
            "points outside the repository",
        ),
    ],
)
def test_hostile_marketplace_entries(
    cli: Cli, team: Path, tmp_path: Path, plugin: dict[str, Any], message: str
) -> None:
    from tests.helpers import make_git_repo, marketplace_json

    repo = make_git_repo(
        tmp_path / "server",
        {
            ".claude-plugin/marketplace.json": marketplace_json("acme", [plugin]),
            "skills/ok/SKILL.md": skill_md("ok"),
        },
    )
    before = snapshot(team)
    result = cli("install", "evil", "--registry", repo.url, cwd=team)
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert snapshot(team) == before


def test_a_file_name_with_a_line_break_cannot_forge_an_integrity(
    cli: Cli, team: Path, tmp_path: Path
) -> None:
    """Integrity lines are '<sha256> <mode> <path>\\n': a name holding a line break can
    make another tree with the same integrity. The registry below serves one file where
    the published version had two, without touching index.json: refused by name."""
    registry = make_registry(
        tmp_path / "r",
        [{"name": "demo", "files": {"skills/demo/y": "why", "skills/demo/z": "zed"}}],
    )
    folder = registry / "packages/demo/1.0.0/skills/demo"
    published = tree_integrity(registry / "packages/demo/1.0.0")
    z_digest = hashlib.sha256(b"zed").hexdigest()
    (folder / "z").unlink()
    (folder / "y").unlink()
    write_tree(folder, {f"y\n{z_digest} 644 skills/demo/z": "why"})  # folders, then file z
    assert tree_integrity(registry / "packages/demo/1.0.0") == published  # forged
    refused(cli, team, "install", "demo", "--registry", registry, message="control character")
