"""The write side of registries: publish, yank, reindex, static sites, new-package scaffolds."""
