"""Signature checks before a version lands (docs/signatures.md).

For every locked package from a registry that names an ``allowed-signers`` file in
skills.yaml, the version's index entry (at the locked commit for git) must carry a
signature over its statement by an allowed key, and, when skills.lock already
recorded signers for that version, by one of the same keys. The signers found are
recorded in the lock. Registries without trust configured are not checked, and
their packages record no signers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from skillpm.errors import SignatureError
from skillpm.formats.project_files import LockedPackage, Lockfile, ProjectManifest
from skillpm.formats.signatures import Signer
from skillpm.output import redact
from skillpm.resolve.catalog import Sources
from skillpm.signing.allowed_signers import AllowedSigners, load


def trusted_registries(manifest: ProjectManifest, base: Path) -> dict[str, AllowedSigners]:
    """Registry URL (credentials redacted, as the lock keeps it) -> its allowed signers."""
    trust = {}
    for name, path in manifest.allowed_signers.items():
        url = manifest.registry_url(name)
        if url is not None:
            where = f"skills.yaml: registries: {name}"
            trust[redact(url)] = load(base / Path(path).expanduser(), where)
    return trust


def check_signatures(
    sources: Sources,
    trust: dict[str, AllowedSigners],
    old: Lockfile | None,
    new: Lockfile,
    required: Sequence[tuple[str, AllowedSigners]] = (),
) -> Lockfile:
    """``new`` with each package's verified signers; a SignatureError if one fails.

    ``trust`` holds each registry's allowed signers (skills.yaml); ``required`` those a
    policy requires of every package, labelled with where. A package must pass each
    that applies to it (tighten-only, like the policy's other rules).
    """
    if not trust and not required and not any(p.signers for p in new.packages):
        return new
    before = old.by_name() if old else {}
    _read_indexes(sources, trust, new, everywhere=bool(required))
    packages = []
    for pkg in new.packages:
        allowed = trust.get(redact(pkg.registry))
        checks = [*([(_REGISTRY, allowed)] if allowed else []), *required]
        signers = _verify(sources, checks, pkg, before.get(pkg.name)) if checks else ()
        packages.append(replace(pkg, signers=signers))
    return replace(new, packages=tuple(packages))


_REGISTRY = "this registry's allowed-signers"


def _read_indexes(
    sources: Sources, trust: dict[str, AllowedSigners], lock: Lockfile, *, everywhere: bool
) -> None:
    """One lookup per registry for the entries not pinned to a commit: a static site then
    fetches the index files it lacks concurrently, rather than one by one below."""
    names: dict[str, list[str]] = {}
    for pkg in lock.packages:
        if pkg.commit is None and (everywhere or redact(pkg.registry) in trust):
            names.setdefault(pkg.registry, []).append(pkg.name)
    for url, wanted in names.items():
        registry = sources.by_url(url)
        if registry is not None:
            registry.lookup(wanted)


def _verify(
    sources: Sources,
    checks: Sequence[tuple[str, AllowedSigners]],
    pkg: LockedPackage,
    prev: LockedPackage | None,
) -> tuple[Signer, ...]:
    from skillpm.signing.trust import verify_version

    registry = sources.by_url(pkg.registry)
    origin = redact(pkg.registry) if registry is None else registry.display
    entry = registry.entry_at(pkg.name, pkg.version, pkg.commit) if registry else None
    if entry is None:
        raise SignatureError(
            f"{pkg.name} {pkg.version}: registry {origin} does not list it, so its signatures "
            "cannot be checked; nothing was installed"
        )
    if entry.integrity != pkg.integrity:
        raise SignatureError(
            f"{pkg.name} {pkg.version} from {origin}: the registry's entry has integrity "
            f"{entry.integrity}, skills.lock {pkg.integrity}; nothing was installed"
        )
    locked = pkg.signers
    if (
        not locked
        and prev is not None
        and (prev.version, prev.integrity)
        == (
            pkg.version,
            pkg.integrity,
        )
    ):
        locked = prev.signers  # a re-resolution picked the version the old lock had
    return verify_version(entry, checks, locked, origin)
