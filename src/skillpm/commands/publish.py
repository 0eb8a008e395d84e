"""Author commands: ``new``, ``pack`` and ``publish``."""

from __future__ import annotations

from pathlib import Path

from skillpm import publish as core
from skillpm.errors import RegistryError
from skillpm.output import console
from skillpm.registry import is_remote, redact


def local_root(registry: str, base: Path) -> Path:
    """The folder of a local registry given on the command line (relative to ``base``)."""
    if registry.startswith(("http://", "https://")):
        raise RegistryError(
            f"{redact(registry)} is a static site, which is read-only: publish to the registry "
            "folder it is built from, then run 'skillpm registry build-static' and upload the site"
        )
    if is_remote(registry):
        raise RegistryError(
            f"{redact(registry)}: only local folder registries can be written to yet "
            "(git publishing comes with git registry support)"
        )
    return base / Path(registry.removeprefix("file://")).expanduser()


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KiB"


def new(parent: Path, name: str, *, skill: bool, fragment: bool) -> None:
    from skillpm import scaffold

    if not skill and not fragment:
        skill = True
    target, files = scaffold.create(parent, name, skill=skill, fragment=fragment)
    console.info(f"Created {target}")
    for rel in files:
        console.detail(f"  {rel}")
    first = f"skills/{name}/SKILL.md" if skill else f"fragments/{name}.md"
    console.info(
        f"Next: edit {first} (say what it does and when to use it), then\n"
        f"  skillpm publish {target} --registry PATH --dry-run"
    )


def pack(source: Path, out_dir: Path, *, version: str | None) -> None:
    from skillpm.archive import pack_to

    prepared = core.prepare(source, version=version)
    target = out_dir / prepared.archive_name
    digest = pack_to(prepared.members(), target)
    files = prepared.stored_files()
    total = sum(size for _, _, size in files)
    console.info(f"Packed {target} ({plural(len(files), 'file')}, {_size(total)} unpacked)")
    console.result(f"sha256:{digest}")
    console.detail(f"integrity {prepared.integrity}")


def _warn_about(prepared: core.Prepared, root: Path) -> None:
    from skillpm.scaffold import PLACEHOLDER

    m = prepared.manifest
    for rel, name in zip(m.skills, m.skill_names, strict=True):
        description = _skill_description(prepared, rel)
        if description is not None and PLACEHOLDER in description:
            console.warn(f"skill {name} still has the description 'skillpm new' wrote")
    try:
        index = core.open_index(root, create=True)
    except RegistryError:
        return
    missing = sorted(d for d in m.dependencies if d not in index.packages and d != m.name)
    if missing:
        console.warn(
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not in {root}; "
            "projects installing this package need a registry that has "
            f"{'it' if len(missing) == 1 else 'them'}"
        )


def _skill_description(prepared: core.Prepared, rel: str) -> str | None:
    from skillpm import yamlio

    for e in prepared.files:
        if e.relpath == f"{rel}/SKILL.md":
            where = str(e.path)
            meta, _, _ = yamlio.split_frontmatter(yamlio.decode(e.path.read_bytes(), where), where)
            value = meta.get("description")
            return value if isinstance(value, str) else None
    return None


def _show_dry_run(prepared: core.Prepared, root: Path) -> None:
    m = prepared.manifest
    files = prepared.stored_files()
    total = sum(size for _, _, size in files)
    fresh = not (root / "index.json").exists()
    console.info(
        f"Would publish {m.name} {m.version} to {root}"
        + (" (a new registry)" if fresh else "")
        + " (dry run, nothing written)"
    )
    console.info(f"  integrity     {prepared.integrity}")
    console.info(f"  description   {m.description}")
    console.info(f"  skills        {', '.join(m.skill_names) or '-'}")
    console.info(f"  fragments     {', '.join(m.fragment_names) or '-'}")
    deps = ", ".join(f"{n} {r}" for n, r in sorted(m.dependencies.items()))
    console.info(f"  dependencies  {deps or '-'}")
    console.info(f"  files         {plural(len(files), 'file')}, {_size(total)}")
    for rel, mode, size in files:
        console.info(f"    {mode}  {_size(size):>10}  {rel}")


def publish(source: Path, registry: str, base: Path, *, version: str | None, dry_run: bool) -> None:
    root = local_root(registry, base)
    if root.resolve().is_relative_to(source.resolve()):
        raise RegistryError(
            f"{root}: the registry is inside the package folder {source}; publish to a "
            "folder outside it"
        )
    prepared = core.prepare(source, version=version)
    with core.registry_lock(root):
        fresh = not (root / "index.json").exists()
        entry = core.publish_local(prepared, root, dry_run=dry_run)
        _warn_about(prepared, root)
    if dry_run:
        _show_dry_run(prepared, root)
        return
    where = f"a new registry at {root}" if fresh else str(root)
    console.info(f"Published {entry.name} {entry.version} to {where} ({entry.integrity})")
    console.info(f"Install it with: skillpm install {entry.name} --registry {root}")
