"""Bringing a project in line with a lock: the steps install, update, sync and init share."""
