"""Building blocks shared by the addon manifests: labels, Services, Deployments, endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshstack.model.resources import Resources

Manifest = dict[str, Any]


def labels(app: str) -> dict[str, str]:
    return {"app": app, "app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "meshstack-addons"}


@dataclass(frozen=True)
class Endpoint:
    """A dashboard or API of an addon: its Service, port and path inside the cluster."""

    service: str
    namespace: str
    port: int
    path: str = ""
    local_port: int | None = None

    @property
    def url(self) -> str:
        return f"http://{self.service}.{self.namespace}.svc.cluster.local:{self.port}{self.path}"

    @property
    def short_url(self) -> str:
        """The URL other addons in the same namespace use."""
        return f"http://{self.service}.{self.namespace}:{self.port}{self.path}"

    @property
    def port_forward(self) -> str:
        """A ready command that opens the dashboard on localhost."""
        local = self.local_port or self.port
        return f"kubectl -n {self.namespace} port-forward svc/{self.service} {local}:{self.port}"

    @property
    def local_url(self) -> str:
        return f"http://localhost:{self.local_port or self.port}{self.path}"


def config_map(name: str, namespace: str, app: str, data: dict[str, str]) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(app)},
        "data": data,
    }


def service_account(name: str, namespace: str) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(name)},
    }


def cluster_role(name: str, rules: list[dict[str, Any]]) -> Manifest:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name, "labels": labels(name)},
        "rules": rules,
    }


def cluster_role_binding(name: str, namespace: str) -> Manifest:
    """Binds ClusterRole ``name`` to ServiceAccount ``name`` in ``namespace``."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name, "labels": labels(name)},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
    }


def service(name: str, namespace: str, app: str, ports: list[tuple[str, int, int]]) -> Manifest:
    """A ClusterIP Service; ``ports`` are ``(name, port, targetPort)`` with protocol-prefixed names."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(app)},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": app},
            "ports": [{"name": n, "port": p, "targetPort": t, "protocol": "TCP"} for n, p, t in ports],
        },
    }


def deployment(
    name: str,
    namespace: str,
    image: str,
    *,
    ports: list[tuple[str, int]],
    ready_path: str,
    ready_port: int,
    resources: Resources,
    args: list[str] | None = None,
    env: list[dict[str, Any]] | None = None,
    mounts: list[dict[str, Any]] | None = None,
    volumes: list[dict[str, Any]] | None = None,
    service_account_name: str | None = None,
    run_as_user: int = 65534,
    pod_annotations: dict[str, str] | None = None,
) -> Manifest:
    """One replica, never injected (``sidecar.istio.io/inject: "false"``), non-root, no privilege
    escalation, all capabilities dropped, readiness-gated (Pulumi awaits the rollout)."""
    container: dict[str, Any] = {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": n, "containerPort": p, "protocol": "TCP"} for n, p in ports],
        "readinessProbe": {"httpGet": {"path": ready_path, "port": ready_port}, "periodSeconds": 5},
        "resources": resources.to_manifest(),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    if args:
        container["args"] = args
    if env:
        container["env"] = env
    if mounts:
        container["volumeMounts"] = mounts
    pod_spec: dict[str, Any] = {
        "containers": [container],
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": run_as_user,
            "runAsGroup": run_as_user,
            "fsGroup": run_as_user,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    if volumes:
        pod_spec["volumes"] = volumes
    if service_account_name:
        pod_spec["serviceAccountName"] = service_account_name
    pod_labels = {**labels(name), "sidecar.istio.io/inject": "false"}
    template_meta: dict[str, Any] = {"labels": pod_labels}
    if pod_annotations:
        template_meta["annotations"] = pod_annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(name)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": template_meta, "spec": pod_spec},
        },
    }


def config_volume(name: str, config_map_name: str) -> dict[str, Any]:
    return {"name": name, "configMap": {"name": config_map_name}}


def scratch_volume(name: str) -> dict[str, Any]:
    return {"name": name, "emptyDir": {}}


def mount(name: str, path: str, read_only: bool = True) -> dict[str, Any]:
    return {"name": name, "mountPath": path, "readOnly": read_only}
