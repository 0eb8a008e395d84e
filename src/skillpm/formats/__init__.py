"""The file formats, parsed at the boundary into frozen dataclasses."""
