"""Core Kubernetes objects of an app: ServiceAccount, Service(s), one Deployment per version."""

from __future__ import annotations

from typing import Any

from meshstack.model.app import AppSpec, Version

Manifest = dict[str, Any]
MANAGED_BY = {"app.kubernetes.io/managed-by": "meshstack"}


def meta(name: str, namespace: str | None, labels: dict[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "labels": {**MANAGED_BY, **(labels or {})}}
    if namespace is not None:
        out["namespace"] = namespace
    return out


def namespace(name: str, injection_labels: dict[str, str]) -> Manifest:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta(name, None, injection_labels)}


def service_account(app: str, spec: AppSpec, ns: str) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": meta(spec.service_account or app, ns, {"app": app}),
    }


def service(app: str, spec: AppSpec, ns: str, version: str | None = None) -> Manifest:
    """The app's Service, or (``version`` set) a per-version Service ``<app>-<version>``."""
    selector = {"app": app} if version is None else {"app": app, "version": version}
    name = app if version is None else f"{app}-{version}"
    labels = {"app": app, "service": app} if version is None else {"app": app, "version": version}
    ports = [
        {
            "name": p.rendered_name,
            "port": p.port,
            "targetPort": p.container_port,
            "protocol": "TCP",
            "appProtocol": p.protocol.value,
        }
        for p in spec.ports
    ]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(name, ns, labels),
        "spec": {"selector": selector, "ports": ports},
    }


def deployment(app: str, version_name: str, spec: AppSpec, ns: str) -> Manifest:
    version: Version = spec.versions[version_name]
    labels = {**version.labels, "app": app, "version": version_name}
    volumes = [{"name": f"writable-{i}", "emptyDir": {}} for i, _ in enumerate(version.writable_paths)]
    mounts = [{"name": f"writable-{i}", "mountPath": path} for i, path in enumerate(version.writable_paths)]
    container: dict[str, Any] = {
        "name": app,
        **({"image": version.image} if version.image is not None else {}),
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"containerPort": p.container_port, "protocol": "TCP"} for p in spec.ports],
        "securityContext": version.security.container_context(),
    }
    if resources := version.resources.to_manifest():
        container["resources"] = resources
    if version.env:
        container["env"] = [{"name": k, "value": v} for k, v in version.env.items()]
    if mounts:
        container["volumeMounts"] = mounts
    pod_spec: dict[str, Any] = {
        "serviceAccountName": spec.service_account or app,
        "automountServiceAccountToken": True,
        "securityContext": {"runAsNonRoot": version.security.run_as_non_root},
        "containers": [container],
    }
    if version.security.seccomp_runtime_default:
        pod_spec["securityContext"]["seccompProfile"] = {"type": "RuntimeDefault"}
    if volumes:
        pod_spec["volumes"] = volumes
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(f"{app}-{version_name}", ns, {"app": app, "version": version_name}),
        "spec": {
            "replicas": version.replicas,
            "selector": {"matchLabels": {"app": app, "version": version_name}},
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }
