"""Render: pure functions from a valid model to Kubernetes and Istio manifests (no Pulumi, no processes)."""
