"""Author commands: ``new``, ``pack`` and ``publish``."""

from __future__ import annotations

from pathlib import Path

from skillpm.errors import RegistryError
from skillpm.formats.index import RegistryIndex
from skillpm.output import console, plural, redact
from skillpm.publish import local as core
from skillpm.registry.urls import GIT, HTTPS, local_path, transport_of


def local_root(registry: str, base: Path) -> Path:
    """The folder of a local registry given on the command line (relative to ``base``)."""
    transport = transport_of(registry)
    if transport == HTTPS:
        raise RegistryError(
            f"{redact(registry)} is a static site, which is read-only: publish to the registry "
            "folder it is built from, then run 'skillpm registry build-static' and upload the site"
        )
    if transport == GIT:
        raise RegistryError(
            f"{redact(registry)} is a git registry, and this command works on a registry "
            "folder: run it on a clone of the repository"
        )
    return local_path(registry, base)


def _size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KiB"


def new(parent: Path, name: str, *, skill: bool, fragment: bool) -> None:
    from skillpm.publish import scaffold

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
    from skillpm.formats.archive import pack_to

    prepared = core.prepare(source, version=version)
    target = out_dir / prepared.archive_name
    digest = pack_to(prepared.members(), target)
    files = prepared.stored_files()
    total = sum(size for _, _, size in files)
    console.info(f"Packed {target} ({plural(len(files), 'file')}, {_size(total)} unpacked)")
    console.result(f"sha256:{digest}")
    console.detail(f"integrity {prepared.integrity}")


def _warn_about(prepared: core.Prepared, index: RegistryIndex | None, where: str) -> None:
    from skillpm.publish.scaffold import PLACEHOLDER

    m = prepared.manifest
    for rel, name in zip(m.skills, m.skill_names, strict=True):
        description = _skill_description(prepared, rel)
        if description is not None and PLACEHOLDER in description:
            console.warn(f"skill {name} still has the description 'skillpm new' wrote")
    if index is None:
        return
    missing = sorted(d for d in m.dependencies if d not in index.packages and d != m.name)
    if missing:
        console.warn(
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not in {where}; "
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


def _show_dry_run(prepared: core.Prepared, where: str, *, fresh: bool, nothing: str) -> None:
    m = prepared.manifest
    files = prepared.stored_files()
    total = sum(size for _, _, size in files)
    console.info(
        f"Would publish {m.name} {m.version} to {where}"
        + (" (a new registry)" if fresh else "")
        + f" (dry run, nothing {nothing})"
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
    if transport_of(registry) == GIT:
        _publish_git(source, registry, version=version, dry_run=dry_run)
        return
    root = local_root(registry, base)
    if root.resolve().is_relative_to(source.resolve()):
        raise RegistryError(
            f"{root}: the registry is inside the package folder {source}; publish to a "
            "folder outside it"
        )
    prepared = core.prepare(source, version=version)
    with core.registry_lock(root):
        if not dry_run:
            from skillpm.commands.registry_admin import recover

            recover(root)
        fresh = not (root / "index.json").exists()
        entry = core.publish_local(prepared, root, dry_run=dry_run)
        try:
            index: RegistryIndex | None = core.open_index(root, create=True)
        except RegistryError:
            index = None
        _warn_about(prepared, index, str(root))
    if dry_run:
        _show_dry_run(prepared, str(root), fresh=fresh, nothing="written")
        return
    where = f"a new registry at {root}" if fresh else str(root)
    console.info(f"Published {entry.name} {entry.version} to {where} ({entry.integrity})")
    console.info(f"Install it with: skillpm install {entry.name} --registry {root}")


def _publish_git(source: Path, url: str, *, version: str | None, dry_run: bool) -> None:
    """Publish to a git registry: the local publish on its tip, committed and pushed."""
    from skillpm.publish.git import Change, Checkout, GitWriter

    prepared = core.prepare(source, version=version)  # validate before the network
    writer = GitWriter(url)
    m = prepared.manifest
    folder = f"packages/{m.name}/{m.version}"

    def edit(tip: Checkout) -> Change[RegistryIndex]:
        if tip.has(folder):
            # All publish_local needs to know of it: the folder is there.
            (tip.root / folder).mkdir(parents=True)
        core.publish_local(prepared, tip.root, dry_run=dry_run, where=writer.where, index=tip.index)
        return Change(tip.index, f"publish {m.name} {m.version}")

    outcome = writer.apply(edit, dry_run=dry_run)
    _warn_about(prepared, outcome.result, writer.where)
    where = f"{writer.display} (branch {outcome.branch})"
    if dry_run:
        _show_dry_run(prepared, where, fresh=outcome.new_registry, nothing="pushed")
        return
    assert outcome.commit is not None
    new = "a new registry at " if outcome.new_registry else ""
    console.info(
        f"Published {m.name} {m.version} to {new}{where} as commit {outcome.commit[:12]} "
        f"({prepared.integrity})"
    )
    console.info(f"Install it with: skillpm install {m.name} --registry {writer.display}")
