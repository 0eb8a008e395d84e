"""skillpm: a package manager for Claude Code skills and CLAUDE.md fragments."""

__version__ = "0.1.0"
