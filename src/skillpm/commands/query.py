"""Read-only commands: ``list``, ``info`` and ``search``."""

from __future__ import annotations

from typing import Any

from skillpm.content.settings_merge import shown
from skillpm.errors import PackageNotFound, RegistryError
from skillpm.formats.index import latest_entry, sorted_versions
from skillpm.formats.project_files import Lockfile
from skillpm.install.installed import installed_skill_state, is_intact
from skillpm.output import console, redact
from skillpm.project.folder import Project, user_claude_dir


def list_installed(project: Project, *, as_json: bool) -> None:
    from skillpm.install.steps import settle

    settle(project)
    manifest = project.load_manifest()
    lock = project.load_lock()
    state = installed_skill_state(project, lock)
    rows: list[dict[str, Any]] = []
    for pkg in lock.packages if lock else ():
        dep = manifest.dependencies.get(pkg.name)
        rows.append(
            {
                "name": pkg.name,
                "version": pkg.version,
                "direct": dep is not None,
                "requirement": dep.range if dep else None,
                "registry": redact(pkg.registry),
                "skills": list(pkg.skills),
                "fragments": list(pkg.fragments),
                "settings": sorted(shown(p) for p in pkg.settings),
                "claudeignore": list(pkg.claudeignore),
                "intact": is_intact(pkg, state),
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
    for r in rows:
        notes = [] if r["direct"] else ["dependency"]
        if not r["intact"]:
            notes.append("modified or missing: run 'skillpm install'")
        skills = ", ".join(r["skills"]) or "-"
        note = f"  ({'; '.join(notes)})" if notes else ""
        console.result(f"{r['name']:<{width}}  {r['version']:<10} skills: {skills}{note}")


def shadowed_skills(project: Project, lock: Lockfile | None) -> list[str]:
    """Project skills that a personal skill of the same name hides (personal ones win)."""
    personal = user_claude_dir() / "skills"
    if not lock or not personal.is_dir() or personal.resolve() == project.skills_dir.resolve():
        return []
    return sorted(skill for p in lock.packages for skill in p.skills if (personal / skill).is_dir())


def info(project: Project, name: str, *, as_json: bool) -> None:
    manifest = project.load_manifest()
    sources = project.sources(manifest)
    for registry in sources.registries:
        versions = registry.lookup([name]).get(name)
        if not versions:
            continue
        ordered = sorted_versions(versions)
        latest = latest_entry(versions)
        lock = project.load_lock()
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
            "versions": [
                {
                    "version": v,
                    "yanked": e.yanked,
                    "yank_reason": e.yank_reason,
                    "published": e.published,
                }
                for v, e in ordered
            ],
        }
        if as_json:
            console.json(data)
            return
        console.result(f"{name} {latest.version}  ({registry.display})")
        console.result(f"  {latest.description}")
        if installed:
            console.result(f"  installed:    {installed.version}")
        console.result(f"  skills:       {', '.join(latest.skills) or '-'}")
        console.result(f"  fragments:    {', '.join(latest.fragments) or '-'}")
        deps = ", ".join(f"{n} {r}" for n, r in sorted(latest.dependencies.items()))
        console.result(f"  dependencies: {deps or '-'}")
        shown = [v + (" (yanked)" if e.yanked else "") for v, e in reversed(ordered)]
        console.result(f"  versions:     {', '.join(shown)}")
        return
    raise PackageNotFound(name, sources.suggest(name))


def search(project: Project, text: str, *, as_json: bool) -> None:
    sources = project.sources(project.load_manifest())
    needle = text.lower()
    hits: list[dict[str, str]] = []
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
        for name, versions in sorted(packages.items()):
            if name in seen or not versions:
                continue
            seen.add(name)  # a name is served by the first registry that has it
            latest = latest_entry(versions)
            if needle in name.lower() or needle in latest.description.lower():
                hits.append(
                    {
                        "name": name,
                        "version": latest.version,
                        "description": latest.description,
                        "registry": registry.name,
                        "registry_url": redact(registry.url),
                    }
                )
    if as_json:
        console.json({"results": hits})
        return
    if not hits:
        searched = "" if not failed else " in the registries that could be searched"
        console.result(f"No packages match {text!r}{searched}")
        return
    width = max(len(h["name"]) for h in hits)
    for h in hits:
        console.result(f"{h['name']:<{width}}  {h['version']:<8} {h['description']}")
