"""Pulumi ComponentResources: thin wrappers that turn rendered manifests into resources."""
