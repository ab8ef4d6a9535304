"""Rendered native manifests (plain dicts) → typed pulumi_kubernetes resources.

Typed classes (not ``yaml.v2.ConfigGroup``) keep every object a first-class Pulumi resource: its
own diff, await logic (Deployments are awaited until available) and ``depends_on`` edges, and
secret Outputs inside the manifest stay secret.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.k8s import custom_resource

_TYPED: dict[tuple[str, str], Any] = {
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "ConfigMap"): k8s.core.v1.ConfigMap,
    ("v1", "Secret"): k8s.core.v1.Secret,
    ("v1", "Service"): k8s.core.v1.Service,
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): k8s.rbac.v1.ClusterRole,
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): k8s.rbac.v1.ClusterRoleBinding,
    ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"): (
        k8s.admissionregistration.v1.MutatingWebhookConfiguration
    ),
}


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def kubernetes_object(name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """The typed resource for a core manifest, a CustomResource for anything else."""
    cls = _TYPED.get((manifest["apiVersion"], manifest["kind"]))
    if cls is None:
        return custom_resource(name, manifest, opts)
    fields = {_snake(k): v for k, v in manifest.items() if k not in {"apiVersion", "kind"}}
    resource: pulumi.CustomResource = cls(name, opts=opts, **fields)
    return resource


def resource_name(prefix: str, manifest: dict[str, Any]) -> str:
    """A readable, unique Pulumi name: ``<prefix>-<kind>-<name>`` in lowercase."""
    return f"{prefix}-{manifest['kind'].lower()}-{manifest['metadata']['name']}"
