"""The names of a project's own files, written once (cheap to import: the no-op fast
path needs them before any parser is loaded)."""

MANIFEST_FILE = "skills.yaml"
LOCK_FILE = "skills.lock"
