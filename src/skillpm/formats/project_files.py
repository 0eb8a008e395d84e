"""The project's own files: ``skills.yaml`` (the manifest) and ``skills.lock``."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillpm import yamlio
from skillpm.errors import LockError, ManifestError, SkillpmError
from skillpm.formats.index import SourcePin, check_integrity, check_name, check_relpath
from skillpm.formats.ranges import parse_version, range_text
from skillpm.formats.signatures import Signer, parse_lock_signers

LOCK_VERSION = 1
BUILTIN = "builtin"


@dataclass(frozen=True)
class DependencySpec:
    name: str
    range: str
    registry: str | None = None  # a name from ``registries:``
    skills: tuple[str, ...] | None = None  # only these skills of the package (None: all)


@dataclass(frozen=True)
class ProjectManifest:
    registries: tuple[tuple[str, str], ...] = ()  # (name, url) in lookup order
    dependencies: Mapping[str, DependencySpec] = field(default_factory=dict)
    vars: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)  # every other top-level key
    # Registry name -> its allowed-signers file as written (relative to the project).
    # Not in hash(): trust is checked on every install that lands something, lock or not.
    allowed_signers: Mapping[str, str] = field(default_factory=dict)

    def registry_url(self, name: str) -> str | None:
        return dict(self.registries).get(name)

    def hash(self) -> str:
        """Hash of what resolution depends on; the lock is stale when it changes."""
        normal = {
            "registries": [list(r) for r in self.registries],
            "dependencies": {
                n: {"range": d.range, "registry": d.registry}
                # A skill selection counts only when there is one: older hashes stay valid.
                | ({"skills": sorted(d.skills)} if d.skills is not None else {})
                for n, d in sorted(self.dependencies.items())
            },
            "vars": _canonical(self.vars),
        }
        if "targets" in self.settings:  # only when set: older hashes stay valid
            from skillpm.formats.targets import targets_of

            normal["targets"] = list(targets_of(self.settings))
        blob = json.dumps(normal, sort_keys=True, separators=(",", ":"), default=str)
        return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


def _canonical(value: Any) -> Any:
    """``vars`` with every mapping key a string, so keys of mixed types (YAML reads
    ``0:`` as an int) can be sorted; string keys, and so existing hashes, are unchanged."""
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def parse_manifest(data: Any, where: str) -> ProjectManifest:
    if data is None:
        return ProjectManifest()
    if not isinstance(data, Mapping):
        raise ManifestError(f"{where}: expected a mapping with registries, dependencies and vars")
    registries: list[tuple[str, str]] = []
    raw_registries = data.get("registries") or {}
    if not isinstance(raw_registries, Mapping):
        raise ManifestError(f"{where}: registries must map names to paths or URLs")
    allowed_signers: dict[str, str] = {}
    for name, value in raw_registries.items():
        check_name(name, f"{where}: registries", "registry name")
        if name == BUILTIN:
            raise ManifestError(f"{where}: registries: {BUILTIN!r} is reserved for the built-in")
        url, signers = _registry_value(value, f"{where}: registries: {name}")
        registries.append((name, url))
        if signers is not None:
            allowed_signers[name] = signers
    deps: dict[str, DependencySpec] = {}
    raw_deps = data.get("dependencies") or {}
    if not isinstance(raw_deps, Mapping):
        raise ManifestError(f"{where}: dependencies must map package names to version ranges")
    known = {n for n, _ in registries} | {BUILTIN}
    for name, value in raw_deps.items():
        check_name(name, f"{where}: dependencies", "package name")
        registry = None
        skills = None
        if isinstance(value, Mapping):
            registry = value.get("registry")
            if "skills" in value:
                raw = value["skills"]
                if not isinstance(raw, list) or not raw:
                    raise ManifestError(
                        f"{where}: dependencies: {name}: skills must be a list of skill names"
                    )
                skills = tuple(
                    sorted({check_name(s, f"{where}: dependencies: {name}", "skill") for s in raw})
                )
            value = value.get("version", "*")
            if registry is not None and registry not in known:
                raise ManifestError(
                    f"{where}: dependencies: {name}: registry {registry!r} is not listed under "
                    "registries:"
                )
        rng = range_text(value, f"{where}: dependencies: {name}")
        deps[name] = DependencySpec(name, rng, registry, skills)
    vars_ = data.get("vars") or {}
    if not isinstance(vars_, Mapping):
        raise ManifestError(f"{where}: vars must be a mapping")
    settings = {k: v for k, v in data.items() if k not in ("registries", "dependencies", "vars")}
    return ProjectManifest(tuple(registries), deps, vars_, settings, allowed_signers)


def _registry_value(value: Any, where: str) -> tuple[str, str | None]:
    """A registry's URL, and its allowed-signers file: ``URL`` or ``{url, allowed-signers}``."""
    signers = None
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - {"url", "allowed-signers"})
        if unknown:
            raise ManifestError(f"{where}: unknown key {unknown[0]!r} (url, allowed-signers)")
        signers = value.get("allowed-signers")
        if signers is not None and (not isinstance(signers, str) or not signers.strip()):
            raise ManifestError(f"{where}: allowed-signers must be a file path")
        value = value.get("url")
    if not isinstance(value, str) or not value.strip():
        raise ManifestError(f"{where}: expected a path or URL")
    return value.strip(), signers.strip() if signers else None


@dataclass(frozen=True)
class LockedPackage:
    name: str
    version: str
    registry: str
    integrity: str
    commit: str | None = None
    dependencies: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    fragments: tuple[str, ...] = ()
    # Integrity of each installed skill folder, to tell a local edit from our own copy.
    skill_integrity: Mapping[str, str] = field(default_factory=dict)
    # Hash of each fragment's rendered block, to detect drift in CLAUDE.md.
    fragment_hashes: Mapping[str, str] = field(default_factory=dict)
    # Leaves of .claude/settings.json this package set (JSON pointer -> value), and the
    # user's values it replaced under --force: what ``remove`` takes back, exactly.
    settings: Mapping[str, Any] = field(default_factory=dict)
    settings_replaced: Mapping[str, Any] = field(default_factory=dict)
    # The lines this package puts in .claudeignore's managed block.
    claudeignore: tuple[str, ...] = ()
    # Who signed this version, as verified against the registry's allowed signers.
    signers: tuple[Signer, ...] = ()
    # A marketplace plugin stored in another repository: where it was read.
    source: SourcePin | None = None


@dataclass(frozen=True)
class Lockfile:
    manifest_hash: str
    packages: tuple[LockedPackage, ...] = ()
    # Project files skillpm created for settings pieces; deleted once nothing of skillpm's
    # is left in them, so an install then a remove leaves no trace.
    created_files: tuple[str, ...] = ()

    def by_name(self) -> dict[str, LockedPackage]:
        return {p.name: p for p in self.packages}

    def skill_owners(self) -> dict[str, str]:
        return {s: p.name for p in self.packages for s in p.skills}


def _names(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise LockError(f"{where}: expected a list of names")
    return tuple(check_name(v, where) for v in value)


def _hash_map(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise LockError(f"{where}: expected a mapping of names to hashes")
    return {check_name(k, where): check_integrity(v, where) for k, v in value.items()}


def _json_map(value: Any, where: str) -> dict[str, Any]:
    """Pointer -> JSON value (written as JSON inside the YAML)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and k.startswith("/") for k in value
    ):
        raise LockError(f"{where}: expected a mapping of JSON pointers to values")
    return dict(value)


def _lines(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LockError(f"{where}: expected a list of lines")
    return tuple(value)


def _ignore_lines(value: Any, where: str) -> tuple[str, ...]:
    from skillpm.formats.claudeignore import check_line

    lines = _lines(value, where)
    for line in lines:
        problem = check_line(line)
        if problem:
            raise LockError(f"{where}: line {line!r} {problem}")
    return lines


def _source_pin(value: Any, where: str) -> SourcePin | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise LockError(f"{where}: expected a mapping with url, path and commit")
    url, path, commit = value.get("url"), value.get("path", ""), value.get("commit")
    if not isinstance(url, str) or not url:
        raise LockError(f"{where}: url is missing")
    if not isinstance(path, str):
        raise LockError(f"{where}: path must be a folder inside the repository")
    if path:
        try:
            check_relpath(path, f"{where}: path")
        except SkillpmError as exc:
            raise LockError(str(exc)) from None
    if not isinstance(commit, str) or not re.fullmatch(r"[0-9a-f]{40}", commit):
        raise LockError(f"{where}: commit must be 40 hex digits")
    return SourcePin(url, path, commit)


def parse_lock(data: Any, where: str) -> Lockfile:
    if not isinstance(data, Mapping) or data.get("lock-version") != LOCK_VERSION:
        raise LockError(
            f"{where}: not a skillpm lock (lock-version {LOCK_VERSION}); delete it and run "
            "'skillpm install' to re-create it"
        )
    packages = []
    seen: set[str] = set()
    raw_packages = data.get("packages") or []
    if not isinstance(raw_packages, list):
        raise LockError(f"{where}: packages must be a list")
    for i, item in enumerate(raw_packages):
        at = f"{where}: packages[{i}]"
        if not isinstance(item, Mapping):
            raise LockError(f"{at}: expected a mapping")
        name = check_name(item.get("name"), at, "package name")
        if name in seen:
            raise LockError(f"{at}: {name} is locked twice")
        seen.add(name)
        version = str(item.get("version"))
        parse_version(version, at)
        registry = item.get("registry")
        if not isinstance(registry, str) or not registry:
            raise LockError(f"{at}: registry is missing")
        commit = item.get("commit")
        if commit is not None and not re.fullmatch(r"[0-9a-f]{40}", str(commit)):
            raise LockError(f"{at}: commit must be 40 hex digits")
        packages.append(
            LockedPackage(
                name=name,
                version=version,
                registry=registry,
                integrity=check_integrity(item.get("integrity"), at),
                commit=str(commit) if commit else None,
                dependencies=_names(item.get("dependencies"), at),
                skills=_names(item.get("skills"), at),
                fragments=_names(item.get("fragments"), at),
                skill_integrity=_hash_map(item.get("skill-integrity"), at),
                fragment_hashes=_hash_map(item.get("fragment-hashes"), at),
                settings=_json_map(item.get("settings"), f"{at}: settings"),
                settings_replaced=_json_map(
                    item.get("settings-replaced"), f"{at}: settings-replaced"
                ),
                claudeignore=_ignore_lines(item.get("claudeignore"), f"{at}: claudeignore"),
                signers=parse_lock_signers(item.get("signers"), f"{at}: signers"),
                source=_source_pin(item.get("source"), f"{at}: source"),
            )
        )
    manifest_hash = data.get("manifest-hash")
    if not isinstance(manifest_hash, str):
        raise LockError(f"{where}: manifest-hash is missing")
    created = _lines(data.get("created-files"), f"{where}: created-files")
    return Lockfile(manifest_hash, tuple(packages), tuple(sorted(set(created))))


def load_lock(path: Path) -> Lockfile | None:
    if not path.exists():
        return None
    try:
        data = yamlio.load_file(path, path.name)
    except ManifestError as exc:
        raise LockError(str(exc)) from None
    return parse_lock(data, path.name)


def lock_from_bytes(raw: bytes, where: str) -> Lockfile:
    try:
        text = yamlio.decode(raw, where)
        data = read_generated_lock(text)
        if data is None:
            data = yamlio.loads(text, where)
    except ManifestError as exc:
        raise LockError(str(exc)) from None
    return parse_lock(data, where)


_HEADER = "# Generated by skillpm. Do not edit."
_LOCK_SCALARS = ("version", "registry", "commit", "integrity")
_LOCK_LISTS = ("dependencies", "skills", "fragments")
_LOCK_MAPS = ("source", "skill-integrity", "fragment-hashes")
# Plain scalars YAML reads as strings whatever its resolvers: a letter first (the
# words it reads as booleans or null are quoted by dump_lock, and refused below),
# or the shapes of a version and a commit, which no int, float or date can have.
_TEXT = re.compile(
    r"^(?:[A-Za-z][A-Za-z0-9._/:@+~-]*|[0-9]+\.[0-9]+\.[0-9A-Za-z.+~-]*|(?=[0-9]*[a-f])[0-9a-f]{40})$"
)


def _lock_scalar(token: str) -> str:
    # dump_lock quotes with json.dumps, which YAML reads the same way, as long as the
    # raw text holds only printable ASCII (YAML refuses some other characters raw).
    if token.startswith('"') and token.endswith('"') and len(token) > 1 and token.isascii():
        if "\x7f" in token:
            raise ValueError(token)
        value = json.loads(token)
        if isinstance(value, str):
            return value
    elif _TEXT.match(token) and not _AMBIGUOUS.match(token):
        return token
    raise ValueError(token)


def read_generated_lock(text: str) -> dict[str, Any] | None:
    """What YAML reads from a lock exactly as ``dump_lock`` writes it, ~30x faster.

    ``None`` for anything else (an edited or older lock): the caller then reads it
    as YAML. A 200-package lock took 20-40 ms through PyYAML's constructors.
    """
    lines = text.split("\n")
    if len(lines) < 5 or lines[-1] or lines[0] != _HEADER or lines[1] != "lock-version: 1":
        return None
    if not lines[2].startswith("manifest-hash: ") or lines[3] not in ("packages:", "packages: []"):
        return None
    packages: list[dict[str, Any]] = []
    package: dict[str, Any] | None = None
    hashes: dict[str, str] | None = None
    try:
        manifest_hash = _lock_scalar(lines[2][len("manifest-hash: ") :])
        for line in lines[4:-1]:
            if line.startswith("- name: "):
                package, hashes = {"name": _lock_scalar(line[8:])}, None
                packages.append(package)
                continue
            if package is None:
                return None
            if line.startswith("    ") and hashes is not None:
                key, sep, value = line[4:].partition(": ")
                name = _lock_scalar(key)
                if not sep or name in hashes:
                    return None
                hashes[name] = _lock_scalar(value)
                continue
            key, sep, value = line.removeprefix("  ").partition(": ")
            hashes = None
            if not line.startswith("  ") or key in package:
                return None
            if sep and key in _LOCK_SCALARS:
                package[key] = _lock_scalar(value)
            elif sep and key in _LOCK_LISTS and value.startswith("[") and value.endswith("]"):
                items = value[1:-1]
                if '"' in items:
                    return None
                package[key] = [_lock_scalar(v) for v in items.split(", ")] if items else []
            elif sep and key == "signers" and value.startswith("[{"):
                package[key] = json.loads(value)  # dump_lock writes it as JSON
            elif not sep and key.endswith(":") and key[:-1] in _LOCK_MAPS:
                hashes = package[key[:-1]] = {}
            else:
                return None
    except ValueError:
        return None
    if (lines[3] == "packages: []") != (not packages):
        return None
    return {"lock-version": 1, "manifest-hash": manifest_hash, "packages": packages}


_AMBIGUOUS = re.compile(
    r"^(?:[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|[0-9:]+)$|^("
    r"y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|"
    r"off|Off|OFF|null|Null|NULL)$"
)


def _scalar(value: str) -> str:
    # Plain only in the shapes YAML can only read as text (and the fast reader accepts):
    # a name such as 2026-01-01 or 0x1f would read back as a date or a number.
    if _TEXT.match(value) and not _AMBIGUOUS.match(value):
        return value
    return json.dumps(value, ensure_ascii=False)


# Characters YAML does not allow raw (or reads as line breaks): written as \uXXXX.
# A string, compiled (by re's cache) the first time a value is not plain printable
# ASCII: its Unicode ranges take longer to compile than a whole no-op install.
_YAML_UNSAFE = (
    "[^\x09\x0a\x0d\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029\ufeff]"
)


def _json(value: Any) -> str:
    """A JSON value as YAML flow text that reads back as the same value."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, allow_nan=False)
    if text.isascii() and text.isprintable():
        return text  # nothing _YAML_UNSAFE could match
    return re.sub(_YAML_UNSAFE, lambda m: f"\\u{ord(m.group()):04x}", text)


def dump_lock(lock: Lockfile) -> bytes:
    """Deterministic YAML: sorted packages, fixed key order, flow lists."""
    out = [
        "# Generated by skillpm. Do not edit.",
        f"lock-version: {LOCK_VERSION}",
        f"manifest-hash: {_scalar(lock.manifest_hash)}",
    ]
    if lock.created_files:
        out.append(f"created-files: [{', '.join(_scalar(f) for f in sorted(lock.created_files))}]")
    packages = sorted(lock.packages, key=lambda p: p.name)
    out.append("packages:" if packages else "packages: []")
    for p in packages:
        out.append(f"- name: {_scalar(p.name)}")
        out.append(f"  version: {_scalar(p.version)}")
        out.append(f"  registry: {_scalar(p.registry)}")
        if p.commit:
            out.append(f"  commit: {_scalar(p.commit)}")
        if p.source:
            out.append("  source:")
            out.append(f"    url: {_scalar(p.source.url)}")
            if p.source.path:
                out.append(f"    path: {_scalar(p.source.path)}")
            out.append(f"    commit: {_scalar(p.source.commit)}")
        out.append(f"  integrity: {_scalar(p.integrity)}")
        for key, names in (
            ("dependencies", sorted(p.dependencies)),
            ("skills", sorted(p.skills)),
            ("fragments", sorted(p.fragments)),
        ):
            out.append(f"  {key}: [{', '.join(_scalar(n) for n in names)}]")
        for key, hashes in (
            ("skill-integrity", p.skill_integrity),
            ("fragment-hashes", p.fragment_hashes),
        ):
            if hashes:
                out.append(f"  {key}:")
                out.extend(f"    {_scalar(k)}: {_scalar(v)}" for k, v in sorted(hashes.items()))
        if p.claudeignore:
            out.append(f"  claudeignore: {_json(list(p.claudeignore))}")
        if p.signers:
            out.append(f"  signers: {_json([s.to_json() for s in sorted(p.signers)])}")
        for key, leaves in (("settings", p.settings), ("settings-replaced", p.settings_replaced)):
            if leaves:
                out.append(f"  {key}:")
                out.extend(f"    {_json(k)}: {_json(v)}" for k, v in sorted(leaves.items()))
    return ("\n".join(out) + "\n").encode()
