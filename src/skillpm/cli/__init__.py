"""The command line: options parsed here, work done in skillpm.commands."""
