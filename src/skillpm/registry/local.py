"""A registry folder on disk (the built-in registry is one)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from skillpm.errors import RegistryError
from skillpm.formats.index import RegistryIndex, VersionEntry, load_index
from skillpm.integrity import plain_folder
from skillpm.output import console
from skillpm.registry.base import Registry


class LocalRegistry(Registry):
    """A folder with ``index.json`` and ``packages/<name>/<version>/``."""

    def __init__(self, name: str, url: str, root: Path) -> None:
        super().__init__(name, url)
        self.root = root
        self._index: RegistryIndex | None = None

    @property
    def index(self) -> RegistryIndex:
        if self._index is None:
            if not self.root.is_dir():
                raise RegistryError(f"registry {self.display}: folder {self.root} not found")
            if (self.root / ".claude-plugin/marketplace.json").is_file() and not (
                self.root / "index.json"
            ).exists():
                # A checkout of a marketplace: its plugins are read at a commit, over git.
                raise RegistryError(
                    f"registry {self.display}: {self.root} is a plugin marketplace, which "
                    f"skillpm reads over git; use git+{self.root.resolve().as_uri()}"
                )
            self._index = load_index(
                self.root / "index.json", f"registry {self.display}", console.warn
            )
        return self._index

    def lookup(self, names: Collection[str]) -> Mapping[str, Mapping[str, VersionEntry]]:
        packages = self.index.packages
        return {n: packages[n] for n in names if n in packages}

    def all_packages(self) -> Mapping[str, Mapping[str, VersionEntry]]:
        return self.index.packages

    def package_dir(self, entry: VersionEntry, commit: str | None = None) -> Path:
        path = plain_folder(self.root, entry.path or f"packages/{entry.name}/{entry.version}")
        if not path.is_dir():
            raise RegistryError(
                f"registry {self.display} no longer has {entry.name} {entry.version} "
                f"({path} is missing)"
            )
        return path


def builtin_registry_root() -> Path:
    """The registry shipped in the wheel, or the checkout's ``registry/`` in development."""
    here = Path(__file__).resolve().parent.parent
    shipped = here / "_registry"
    if shipped.is_dir():
        return shipped
    return here.parent.parent / "registry"
