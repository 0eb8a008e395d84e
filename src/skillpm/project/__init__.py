"""A project folder: its files, its stat cache, and the journaled transaction that changes it."""
