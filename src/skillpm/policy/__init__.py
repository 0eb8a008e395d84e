"""The organisation's and the project's policy (docs/policy.md): the rules, reading them,
and checking packages and projects against them."""
