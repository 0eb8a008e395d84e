"""Health checks of a project and its Bedrock setup (no network)."""
