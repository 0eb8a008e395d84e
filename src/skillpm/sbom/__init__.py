"""Software bills of materials for a project's locked packages (CycloneDX, SPDX)."""
