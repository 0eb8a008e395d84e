"""Reading registries: one module per transport behind ``base.Registry``;
``open.open_registry`` picks one by URL."""
