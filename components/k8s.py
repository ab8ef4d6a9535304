"""Shared helpers for components: manifests (plain dicts) → pulumi_kubernetes resources."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from meshstack.render.helm import ChartSource


def custom_resource(
    name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions
) -> k8s.apiextensions.CustomResource:
    """A custom resource (Istio, Gateway API …) from a rendered manifest."""
    extra = {k: v for k, v in manifest.items() if k not in {"apiVersion", "kind", "metadata"}}
    return k8s.apiextensions.CustomResource(
        name,
        api_version=manifest["apiVersion"],
        kind=manifest["kind"],
        metadata=manifest["metadata"],
        opts=opts,
        **extra,
    )


def helm_chart(
    name: str,
    source: ChartSource,
    namespace: str,
    values: dict[str, Any] | pulumi.Input[dict[str, Any]],
    opts: pulumi.ResourceOptions,
    release_name: str | None = None,
) -> k8s.helm.v4.Chart:
    """A Helm chart rendered client-side (helm.v4.Chart): one Pulumi resource per object, so
    previews and refresh diff each object and transforms can tune single objects."""
    return k8s.helm.v4.Chart(
        name,
        chart=source.chart,
        version=source.version,
        repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=source.repository) if source.repository else None,
        namespace=namespace,
        name=release_name or name,
        values=values,
        opts=opts,
    )
