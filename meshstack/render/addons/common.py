"""Building blocks shared by the addon manifests: labels, Services, Deployments, endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshstack.model.resources import Resources
from meshstack.render import kube
from meshstack.render.kube import Manifest


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
    return kube.config_map(name, namespace, labels(app), data)


def service_account(name: str, namespace: str) -> Manifest:
    return kube.service_account(name, namespace, labels(name))


def cluster_role(name: str, rules: list[dict[str, Any]]) -> Manifest:
    return kube.cluster_role(name, labels(name), rules)


def cluster_role_binding(name: str, namespace: str) -> Manifest:
    """Binds ClusterRole ``name`` to ServiceAccount ``name`` in ``namespace``."""
    return kube.cluster_role_binding(name, namespace, labels(name))


def service(name: str, namespace: str, app: str, ports: list[tuple[str, int, int]]) -> Manifest:
    """A ClusterIP Service; ``ports`` are ``(name, port, targetPort)`` with protocol-prefixed names."""
    return kube.service(
        name, namespace, labels(app), {"app": app}, [kube.service_port(n, p, t) for n, p, t in ports], "ClusterIP"
    )


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
    reads_kubernetes_api: bool = False,
    run_as_user: int = 65534,
    pod_annotations: dict[str, str] | None = None,
    replicas: int = 1,
    strategy: str | None = None,
) -> Manifest:
    """Never injected (``sidecar.istio.io/inject: "false"``), non-root, no privilege escalation,
    all capabilities dropped, a read-only root filesystem (``/tmp`` is an emptyDir), ready and live
    by HTTP GET, and a ServiceAccount token only when the addon reads the Kubernetes API."""
    check = {"httpGet": {"path": ready_path, "port": ready_port}}
    container = kube.container(
        name,
        image,
        ports=[{"name": n, "containerPort": p, "protocol": "TCP"} for n, p in ports],
        security={
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
        },
        resources=resources,
        args=args,
        env=env,
        mounts=[*(mounts or []), mount("tmp", "/tmp", read_only=False)],
        readiness={**check, "periodSeconds": 5},
        liveness={**check, "initialDelaySeconds": 30, "periodSeconds": 10, "failureThreshold": 6},
    )
    out = kube.deployment(
        name,
        namespace,
        labels=labels(name),
        selector={"app": name},
        pod_labels={**labels(name), "sidecar.istio.io/inject": "false"},
        containers=[container],
        pod_security={
            "runAsNonRoot": True,
            "runAsUser": run_as_user,
            "runAsGroup": run_as_user,
            "fsGroup": run_as_user,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        replicas=replicas,
        pod_annotations=pod_annotations,
        volumes=[*(volumes or []), scratch_volume("tmp")],
        service_account_name=service_account_name,
        automount_token=reads_kubernetes_api,
        strategy=strategy,
    )
    if reads_kubernetes_api:
        # The one justified exception to Checkov's CKV_K8S_38, stated on the object it concerns.
        out["metadata"]["annotations"] = {
            "checkov.io/skip1": f"CKV_K8S_38={name} reads the Kubernetes API (service discovery, mesh inventory)"
        }
    return out


def disruption_budget(name: str, namespace: str, replicas: int) -> list[Manifest]:
    """A PodDisruptionBudget for an addon running more than one replica (none otherwise)."""
    if replicas < 2:
        return []
    return [kube.pod_disruption_budget(name, namespace, labels(name), {"app": name})]


def config_volume(name: str, config_map_name: str) -> dict[str, Any]:
    return {"name": name, "configMap": {"name": config_map_name}}


def scratch_volume(name: str) -> dict[str, Any]:
    return {"name": name, "emptyDir": {}}


def mount(name: str, path: str, read_only: bool = True) -> dict[str, Any]:
    return {"name": name, "mountPath": path, "readOnly": read_only}
