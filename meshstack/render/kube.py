"""Core Kubernetes objects as plain manifests: the one set of builders every renderer uses
(apps, addons, control plane, gateways). Pure functions, no Pulumi.

Each builder takes what varies and fixes what meshstack always does: the ``managed-by`` label,
``imagePullPolicy: IfNotPresent``, TCP ports, and security contexts passed in whole so the
callers decide (apps from :class:`~meshstack.model.workload.PodSecurity`, addons hardened).
"""

from __future__ import annotations

from typing import Any

from meshstack.model.resources import Resources
from meshstack.render import fields

Manifest = dict[str, Any]
#: Every object meshstack renders carries this label.
MANAGED_BY = {"app.kubernetes.io/managed-by": "meshstack"}


def meta(name: str, namespace: str | None, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """Object metadata with the managed-by label (``namespace`` None: cluster-scoped)."""
    out: dict[str, Any] = {"name": name, "labels": {**MANAGED_BY, **(labels or {})}}
    if namespace is not None:
        out["namespace"] = namespace
    return out


def pod_security_labels(level: str) -> dict[str, str]:
    """Pod Security Admission labels enforcing (and warning and auditing) ``level``; none for privileged."""
    if level == "privileged":
        return {}
    return {f"pod-security.kubernetes.io/{mode}": level for mode in ("enforce", "warn", "audit")}


def namespace(name: str, labels: dict[str, str]) -> Manifest:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta(name, None, labels)}


def service_account(name: str, namespace: str, labels: dict[str, str]) -> Manifest:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(name, namespace, labels)}


def config_map(name: str, namespace: str, labels: dict[str, str], data: dict[str, str]) -> Manifest:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(name, namespace, labels), "data": data}


def service_port(name: str, port: int, target_port: int, app_protocol: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "port": port, "targetPort": target_port, "protocol": "TCP"}
    if app_protocol is not None:
        out["appProtocol"] = app_protocol
    return out


def service(
    name: str,
    namespace: str,
    labels: dict[str, str],
    selector: dict[str, str],
    ports: list[dict[str, Any]],
    service_type: str | None = None,
) -> Manifest:
    spec: dict[str, Any] = {}
    if service_type is not None:
        spec["type"] = service_type
    spec["selector"] = dict(selector)
    spec["ports"] = ports
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta(name, namespace, labels), "spec": spec}


def container(
    name: str,
    image: str | None,
    *,
    ports: list[dict[str, Any]],
    security: dict[str, Any],
    resources: Resources | None = None,
    args: list[str] | None = None,
    env: list[dict[str, Any]] | None = None,
    mounts: list[dict[str, Any]] | None = None,
    readiness: dict[str, Any] | None = None,
    liveness: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A container; ``image`` None leaves it out (the component fills it from an Input)."""
    out: dict[str, Any] = {"name": name}
    if image is not None:
        out["image"] = image
    out["imagePullPolicy"] = "IfNotPresent"
    out["ports"] = ports
    if readiness is not None:
        out["readinessProbe"] = readiness
    if liveness is not None:
        out["livenessProbe"] = liveness
    if resources is not None and (manifest := fields.resources(resources)):
        out["resources"] = manifest
    out["securityContext"] = security
    if args:
        out["args"] = args
    if env:
        out["env"] = env
    if mounts:
        out["volumeMounts"] = mounts
    return out


def deployment(
    name: str,
    namespace: str,
    *,
    labels: dict[str, str],
    selector: dict[str, str],
    pod_labels: dict[str, str],
    containers: list[dict[str, Any]],
    pod_security: dict[str, Any],
    replicas: int = 1,
    pod_annotations: dict[str, str] | None = None,
    volumes: list[dict[str, Any]] | None = None,
    service_account_name: str | None = None,
    automount_token: bool | None = None,
    strategy: str | None = None,
) -> Manifest:
    pod_spec: dict[str, Any] = {}
    if service_account_name:
        pod_spec["serviceAccountName"] = service_account_name
    if automount_token is not None:
        pod_spec["automountServiceAccountToken"] = automount_token
    pod_spec["securityContext"] = pod_security
    pod_spec["containers"] = containers
    if volumes:
        pod_spec["volumes"] = volumes
    template_meta: dict[str, Any] = {"labels": pod_labels}
    if pod_annotations:
        template_meta["annotations"] = pod_annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(name, namespace, labels),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(selector)},
            **({"strategy": {"type": strategy}} if strategy else {}),
            "template": {"metadata": template_meta, "spec": pod_spec},
        },
    }


def pod_disruption_budget(name: str, namespace: str, labels: dict[str, str], selector: dict[str, str]) -> Manifest:
    """At most one pod of ``selector`` disrupted at a time (minAvailable 1)."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": meta(name, namespace, labels),
        "spec": {"minAvailable": 1, "selector": {"matchLabels": dict(selector)}},
    }


def persistent_volume_claim(
    name: str, namespace: str, labels: dict[str, str], size: str, storage_class: str | None
) -> Manifest:
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": meta(name, namespace, labels),
        "spec": spec,
    }


def cluster_role(name: str, labels: dict[str, str], rules: list[dict[str, Any]]) -> Manifest:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": meta(name, None, labels),
        "rules": rules,
    }


def role(name: str, namespace: str, labels: dict[str, str], rules: list[dict[str, Any]]) -> Manifest:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": meta(name, namespace, labels),
        "rules": rules,
    }


def role_binding(name: str, namespace: str, labels: dict[str, str]) -> Manifest:
    """Binds Role ``name`` to ServiceAccount ``name`` in ``namespace``."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": meta(name, namespace, labels),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
    }


def cluster_role_binding(name: str, namespace: str, labels: dict[str, str]) -> Manifest:
    """Binds ClusterRole ``name`` to ServiceAccount ``name`` in ``namespace``."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": meta(name, None, labels),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
    }
