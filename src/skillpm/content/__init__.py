"""What packages put into a project besides skill folders: CLAUDE.md fragments,
settings and ignore pieces."""
