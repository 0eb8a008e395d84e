"""From ranges to versions: a pure resolver fed by the configured registries."""
