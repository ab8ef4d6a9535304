"""The one way a component turns a rendered manifest (a plain dict) into a Pulumi resource, and a
Helm chart into a ``helm.v4.Chart``.

Core kinds become typed ``pulumi_kubernetes`` classes (not ``yaml.v2.ConfigGroup``), so every
object is a first-class resource: its own diff, await logic (Deployments are awaited until
available), ``depends_on`` edges, and secret Outputs inside the manifest stay secret. Every other
kind (Istio, Gateway API …) is an ``apiextensions.CustomResource``.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from meshstack.render.helm import ChartSource

_TYPED: dict[tuple[str, str], Any] = {
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "ConfigMap"): k8s.core.v1.ConfigMap,
    ("v1", "Secret"): k8s.core.v1.Secret,
    ("v1", "Service"): k8s.core.v1.Service,
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("v1", "PersistentVolumeClaim"): k8s.core.v1.PersistentVolumeClaim,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("policy/v1", "PodDisruptionBudget"): k8s.policy.v1.PodDisruptionBudget,
    ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
    ("rbac.authorization.k8s.io/v1", "Role"): k8s.rbac.v1.Role,
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): k8s.rbac.v1.RoleBinding,
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): k8s.rbac.v1.ClusterRole,
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): k8s.rbac.v1.ClusterRoleBinding,
    ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"): (
        k8s.admissionregistration.v1.MutatingWebhookConfiguration
    ),
}


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def kubernetes_object(name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """The resource for a rendered manifest: a typed class for core kinds, a CustomResource otherwise."""
    cls = _TYPED.get((manifest["apiVersion"], manifest["kind"]))
    if cls is None:
        extra = {k: v for k, v in manifest.items() if k not in {"apiVersion", "kind", "metadata"}}
        return k8s.apiextensions.CustomResource(
            name,
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            metadata=manifest["metadata"],
            opts=opts,
            **extra,
        )
    fields = {_snake(k): v for k, v in manifest.items() if k not in {"apiVersion", "kind"}}
    resource: pulumi.CustomResource = cls(name, opts=opts, **fields)
    return resource


def resource_name(prefix: str, manifest: dict[str, Any]) -> str:
    """A readable, unique Pulumi name: ``<prefix>-<kind>-<name>`` in lowercase."""
    return f"{prefix}-{manifest['kind'].lower()}-{manifest['metadata']['name']}"


def object_key(manifest: dict[str, Any]) -> str:
    """``<namespace>/<name>`` (``_/<name>`` for cluster-scoped objects): the Pulumi name of an app object."""
    meta = manifest["metadata"]
    return f"{meta.get('namespace', '_')}/{meta['name']}"


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
