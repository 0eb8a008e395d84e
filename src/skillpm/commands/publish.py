"""Author commands: ``new``, ``pack`` and ``publish``."""

from __future__ import annotations

from pathlib import Path

from skillpm.formats.index import RegistryIndex
from skillpm.output import console, plural
from skillpm.publish import prepare as core
from skillpm.publish.open import open_writer
from skillpm.signing import sshsig


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
    for signature in prepared.signatures:
        console.info(f"  signed by     {sshsig.parse(signature.value).fingerprint}")
    console.info(f"  files         {plural(len(files), 'file')}, {_size(total)}")
    for rel, mode, size in files:
        console.info(f"    {mode}  {_size(size):>10}  {rel}")


def publish(
    source: Path,
    registry: str,
    base: Path,
    *,
    version: str | None,
    dry_run: bool,
    sign: Path | None = None,
) -> None:
    writer = open_writer(registry, base)
    writer.check_source(source)
    prepared = core.prepare(source, version=version)  # validated before the network
    if sign is not None:  # signed before the network too: a refused key leaves no trace
        from skillpm.publish.signatures import sign_prepared

        prepared = sign_prepared(prepared, sign)
    done = writer.publish(prepared, dry_run=dry_run)
    _warn_about(prepared, done.index, done.label)
    if dry_run:
        _show_dry_run(prepared, done.where, fresh=done.new_registry, nothing=done.nothing_done)
        return
    new = "a new registry at " if done.new_registry else ""
    commit = f" as commit {done.commit[:12]}" if done.commit else ""
    signed = " signed," if prepared.signatures else ""
    console.info(
        f"Published {prepared.manifest.name} {prepared.manifest.version}{signed} to {new}"
        f"{done.where}{commit} ({prepared.integrity})"
    )
    console.info(
        f"Install it with: skillpm install {prepared.manifest.name} --registry {done.install_url}"
    )
