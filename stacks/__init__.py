"""Stacks: Pulumi config → the typed model, with per-environment defaults."""
