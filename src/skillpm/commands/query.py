"""Read-only commands: ``list``, ``info`` and ``search``."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

from skillpm.content.settings_merge import shown
from skillpm.errors import PackageNotFound, RegistryError, SignatureError, SkillpmError
from skillpm.formats.index import VersionEntry, latest_entry, sorted_versions
from skillpm.formats.project_files import BUILTIN, Lockfile
from skillpm.install.installed import edited_fragments, installed_skill_state, is_intact
from skillpm.output import console, redact
from skillpm.project.folder import Project, user_claude_dir
from skillpm.registry.base import Registry

if TYPE_CHECKING:
    from skillpm.signing.allowed_signers import AllowedSigners


def list_installed(project: Project, *, as_json: bool) -> None:
    from skillpm.install.steps import settle

    settle(project)
    manifest = project.load_manifest()
    lock = project.load_lock()
    state = installed_skill_state(project, lock)
    edited = edited_fragments(project, lock)
    names = {redact(url): name for name, url in (*manifest.registries, (BUILTIN, BUILTIN))}
    rows: list[dict[str, Any]] = []
    for pkg in lock.packages if lock else ():
        dep = manifest.dependencies.get(pkg.name)
        rows.append(
            {
                "name": pkg.name,
                "version": pkg.version,
                "direct": dep is not None,
                "requirement": dep.range if dep else None,
                # The name from skills.yaml, as in every --json; a lock naming a registry
                # skills.yaml lacks (install refuses it) shows the URL.
                "registry": names.get(redact(pkg.registry), redact(pkg.registry)),
                "registry_url": redact(pkg.registry),
                "skills": list(pkg.skills),
                "fragments": list(pkg.fragments),
                "settings": sorted(shown(p) for p in pkg.settings),
                "claudeignore": list(pkg.claudeignore),
                "intact": is_intact(pkg, state, edited),
                "signers": [s.to_json() for s in pkg.signers],
            }
        )
    shadowed = [] if project.is_user else shadowed_skills(project, lock)
    if as_json:
        console.json({"packages": rows, "shadowed": shadowed})
        return
    for skill in shadowed:
        console.warn(
            f"skill {skill} is also in your user scope ({user_claude_dir() / 'skills' / skill}); "
            "Claude Code uses the personal one, not this project's"
        )
    if not rows:
        what = "in your user scope" if project.is_user else ""
        flag = " -g" if project.is_user else ""
        console.result(
            f"No packages installed{' ' + what if what else ''} (add one with "
            f"'skillpm install{flag} NAME')"
        )
        return
    width = max(len(r["name"]) for r in rows)
    # 10 wide as before, or wider for a commit-derived version (0.0.0+g<12 hex digits).
    version_width = max(10, *(len(r["version"]) + 1 for r in rows))
    for r in rows:
        notes = [] if r["direct"] else ["dependency"]
        if not r["intact"]:
            notes.append("modified or missing: run 'skillpm install'")
        skills = ", ".join(r["skills"]) or "-"
        note = f"  ({'; '.join(notes)})" if notes else ""
        version = f"{r['version']:<{version_width}}"
        console.result(f"{r['name']:<{width}}  {version} skills: {skills}{note}")


def shadowed_skills(project: Project, lock: Lockfile | None) -> list[str]:
    """Project skills that a personal skill of the same name hides (personal ones win)."""
    personal = user_claude_dir() / "skills"
    if not lock or not personal.is_dir() or personal.resolve() == project.skills_dir.resolve():
        return []
    return sorted(skill for p in lock.packages for skill in p.skills if (personal / skill).is_dir())


def _signatures(entry: VersionEntry, trust: AllowedSigners | None) -> list[dict[str, Any]]:
    """Each SSH signature: the key, the principal the registry's allowed signers give it
    (null without one), and whether it is a good signature over this version."""
    from skillpm.signing.sshsig import verify
    from skillpm.signing.statement import NAMESPACE
    from skillpm.signing.trust import entry_statement, ssh_signatures

    statement = entry_statement(entry)
    out = []
    for sig in ssh_signatures(entry) if entry.signatures else ():
        principal = trust.principal_of(sig.public_key) if trust else None
        try:
            valid = verify(sig, statement, NAMESPACE)
        except SignatureError:  # a key type skillpm cannot check
            valid = False
        out.append({"key": sig.fingerprint, "principal": principal, "valid": valid})
    return out


def info(project: Project, name: str, *, as_json: bool) -> None:
    """A package, ``PACKAGE/SKILL`` (as install takes it), or a skill found by its name."""
    from skillpm.install.signatures import trusted_registries

    manifest = project.load_manifest()
    sources = project.sources(manifest)
    trusted = trusted_registries(manifest, project.files_dir)
    lock = project.load_lock()
    name, _, skill = name.partition("/")
    if not skill and not any(r.lookup([name]).get(name) for r in sources.registries):
        # The lock first: it knows the skills of installed plugins stored in other
        # repositories, which the registries list only after fetching each one.
        owner = (lock.skill_owners().get(name) if lock else None) or sources.skill_owner(name)
        if owner is not None:
            name, skill = owner, name
    for registry in sources.registries:
        versions = registry.lookup([name]).get(name)
        if not versions:
            continue
        ordered = sorted_versions(versions)
        latest = latest_entry(versions)
        trust = trusted.get(redact(registry.url))
        if skill and skill not in latest.skills:
            close = difflib.get_close_matches(skill, latest.skills, n=3, cutoff=0.6)
            raise PackageNotFound(f"{name}/{skill}", [f"{name}/{c}" for c in close])
        installed = lock.by_name().get(name) if lock else None
        data = {
            "name": name,
            "registry": registry.name,
            "registry_url": redact(registry.url),
            "latest": latest.version,
            "installed": installed.version if installed else None,
            "description": latest.description,
            "skills": list(latest.skills),
            "fragments": list(latest.fragments),
            "dependencies": dict(latest.dependencies),
            "skill": skill or None,
            "versions": [
                {
                    "version": v,
                    "yanked": e.yanked,
                    "yank_reason": e.yank_reason,
                    "published": e.published,
                    "signers": _signatures(e, trust),
                }
                for v, e in ordered
            ],
        }
        if as_json:
            console.json(data)
            return
        if skill:
            console.result(f"skill {skill} is in {name}")
        console.result(f"{name} {latest.version}  ({registry.display})")
        console.result(f"  {latest.description}")
        if installed:
            console.result(f"  installed:    {installed.version}")
        console.result(f"  skills:       {', '.join(latest.skills) or '-'}")
        console.result(f"  fragments:    {', '.join(latest.fragments) or '-'}")
        deps = ", ".join(f"{n} {r}" for n, r in sorted(latest.dependencies.items()))
        console.result(f"  dependencies: {deps or '-'}")
        for signer in _signatures(latest, trust):
            who = signer["principal"] or "a key not in the allowed signers"
            state = "" if signer["valid"] else ", NOT a valid signature of this version"
            console.result(f"  signed by:    {who} ({signer['key']}{state})")
        shown = [v + (" (yanked)" if e.yanked else "") for v, e in reversed(ordered)]
        console.result(f"  versions:     {', '.join(shown)}")
        return
    error = PackageNotFound(name, sources.suggest(name))
    if as_json:  # a script reading stdout gets a document too, not nothing
        console.json({"name": name, "error": str(error)})
    raise error


def search(project: Project, text: str, *, as_json: bool) -> None:
    sources = project.sources(project.load_manifest())
    needle = text.lower()
    hits: list[dict[str, Any]] = []
    seen: set[str] = set()
    failed = 0
    for registry in sources.registries:
        try:
            packages = registry.all_packages()
        except RegistryError as exc:
            # One unreachable or unlistable registry should not hide the others' results.
            console.warn(f"skipped in search: {exc}")
            failed += 1
            continue
        for name in sorted(packages):
            if name in seen:
                continue
            try:
                versions = packages[name]  # entries are parsed here, on first use
            except SkillpmError as exc:
                # One bad entry should not hide the rest of its registry.
                console.warn(f"skipped {name} in search: {exc}")
                continue
            if not versions:
                continue
            seen.add(name)  # a name is served by the first registry that has it
            latest = latest_entry(versions)
            texts = [name, latest.description, *latest.skills]  # a skill is found by its name
            if any(needle in t.lower() for t in texts):
                hits.append(
                    {
                        "name": name,
                        "version": latest.version,
                        "description": latest.description,
                        "registry": registry.name,
                        "registry_url": redact(registry.url),
                    }
                )
        hits += _remote_hits(registry, needle, seen)
    if as_json:
        console.json({"results": hits})
        return
    if not hits:
        searched = "" if not failed else " in the registries that could be searched"
        console.result(f"No packages match {text!r}{searched}")
        return
    width = max(len(h["name"]) for h in hits)
    # Content versions (0.0.0+c1147cd14e2b7) are long: the column fits the widest.
    version_width = max(len(h["version"] or "-") for h in hits)
    for h in hits:
        version = h["version"] or "-"
        console.result(f"{h['name']:<{width}}  {version:<{version_width}}  {h['description']}")


def _remote_hits(registry: Registry, needle: str, seen: set[str]) -> list[dict[str, Any]]:
    """Marketplace plugins in other repositories, as their entries describe them (their
    version is known once installed: ``null`` when the entry gives none)."""
    hits: list[dict[str, Any]] = []
    for name, (version, description) in sorted(registry.remote_listings().items()):
        if name in seen:
            continue
        seen.add(name)
        if needle in name.lower() or needle in description.lower():
            hits.append(
                {
                    "name": name,
                    "version": version,
                    "description": description,
                    "registry": registry.name,
                    "registry_url": redact(registry.url),
                }
            )
    return hits
