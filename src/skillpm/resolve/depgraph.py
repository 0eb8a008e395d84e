"""The locked dependency graph as paths and trees: pure functions behind ``why`` and ``tree``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from skillpm.formats.project_files import LockedPackage

MAX_CHAINS = 100  # a diamond-heavy graph has exponentially many paths; show the first ones


def reachable(roots: Iterable[str], locked: Mapping[str, LockedPackage]) -> set[str]:
    """The locked packages that ``roots`` (skills.yaml dependencies) need, themselves included."""
    seen: set[str] = set()
    stack = [r for r in roots if r in locked]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack.extend(d for d in locked[name].dependencies if d in locked)
    return seen


def chains_to(
    target: str, roots: Sequence[str], locked: Mapping[str, LockedPackage]
) -> tuple[list[list[str]], bool]:
    """Every simple path from a root (a skills.yaml dependency) down to ``target``.

    Returns the paths, shortest first then by name, and whether the list was cut
    at ``MAX_CHAINS``.
    """
    found: list[list[str]] = []
    truncated = False

    def walk(path: list[str]) -> None:
        nonlocal truncated
        if len(found) >= MAX_CHAINS:
            truncated = True
            return
        name = path[-1]
        if name == target:
            found.append(list(path))
            return
        for dep in sorted(locked[name].dependencies):
            if dep in locked and dep not in path:
                path.append(dep)
                walk(path)
                path.pop()

    for root in sorted(roots):
        if root in locked:
            walk([root])
    found.sort(key=lambda p: (len(p), p))
    return found, truncated


@dataclass
class Node:
    name: str
    version: str | None  # None: required by skills.yaml but not in the lock
    requirement: str | None = None  # the skills.yaml range, for roots
    skills: tuple[str, ...] = ()
    children: list[Node] = field(default_factory=list)
    cycle: bool = False  # the package is its own ancestor here; not expanded again

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "version": self.version,
            "requirement": self.requirement,
            "skills": list(self.skills),
            "cycle": self.cycle,
            "dependencies": [c.to_json() for c in self.children],
        }


def build_tree(
    requirements: Mapping[str, str], locked: Mapping[str, LockedPackage]
) -> tuple[list[Node], list[str]]:
    """Roots (skills.yaml dependencies, by name) with their locked subtrees.

    Also returns locked packages no root reaches (a stale lock), by name.
    """

    def node(name: str, ancestors: frozenset[str]) -> Node:
        pkg = locked[name]
        if name in ancestors:
            return Node(name, pkg.version, skills=pkg.skills, cycle=True)
        inner = ancestors | {name}
        children = [node(d, inner) for d in sorted(pkg.dependencies) if d in locked]
        return Node(name, pkg.version, skills=pkg.skills, children=children)

    roots = []
    for name, requirement in sorted(requirements.items()):
        if name in locked:
            root = node(name, frozenset())
            root.requirement = requirement
        else:
            root = Node(name, None, requirement)
        roots.append(root)
    orphans = sorted(set(locked) - reachable(requirements, locked))
    return roots, orphans


def render_tree(roots: Sequence[Node], ascii_only: bool = False) -> list[str]:
    """cargo-tree style lines; a subtree shown once is marked ``(*)`` after that."""
    tee, last, bar = ("|-- ", "`-- ", "|   ") if ascii_only else ("├── ", "└── ", "│   ")
    expanded: set[str] = set()
    lines: list[str] = []
    marked = False

    def label(n: Node) -> str:
        if n.version is None:
            return f"{n.name} {n.requirement} (not installed: run 'skillpm install')"
        return f"{n.name} {n.version}"

    def walk(n: Node, prefix: str, is_last: bool, top: bool) -> None:
        nonlocal marked
        branch = "" if top else (last if is_last else tee)
        repeat = n.name in expanded and bool(n.children)
        suffix = " (cycle)" if n.cycle else " (*)" if repeat else ""
        marked = marked or repeat
        lines.append(f"{prefix}{branch}{label(n)}{suffix}")
        if repeat or n.cycle:
            return
        expanded.add(n.name)
        inner = prefix if top else prefix + ("    " if is_last else bar)
        for i, child in enumerate(n.children):
            walk(child, inner, i == len(n.children) - 1, False)

    for root in roots:
        walk(root, "", True, True)
    if marked:
        lines.append("(*) dependencies shown above")
    return lines
