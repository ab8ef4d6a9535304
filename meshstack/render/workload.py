"""Core Kubernetes objects of an app: ServiceAccount, Service(s), one Deployment per version."""

from __future__ import annotations

from meshstack.model.app import AppSpec, Version
from meshstack.render import fields, kube
from meshstack.render.kube import Manifest

__all__ = ["deployment", "namespace", "service", "service_account"]


def namespace(name: str, injection_labels: dict[str, str], pod_security: str = "privileged") -> Manifest:
    return kube.namespace(name, {**injection_labels, **kube.pod_security_labels(pod_security)})


def service_account(app: str, spec: AppSpec, ns: str) -> Manifest:
    return kube.service_account(spec.service_account or app, ns, {"app": app})


def service(app: str, spec: AppSpec, ns: str, version: str | None = None) -> Manifest:
    """The app's Service, or (``version`` set) a per-version Service ``<app>-<version>``."""
    selector = {"app": app} if version is None else {"app": app, "version": version}
    name = app if version is None else f"{app}-{version}"
    labels = {"app": app, "service": app} if version is None else {"app": app, "version": version}
    ports = [kube.service_port(p.rendered_name, p.port, p.container_port, p.protocol.value) for p in spec.ports]
    return kube.service(name, ns, labels, selector, ports)


def deployment(app: str, version_name: str, spec: AppSpec, ns: str) -> Manifest:
    version: Version = spec.versions[version_name]
    labels = {"app": app, "version": version_name}
    volumes = [{"name": f"writable-{i}", "emptyDir": {}} for i, _ in enumerate(version.writable_paths)]
    mounts = [{"name": f"writable-{i}", "mountPath": path} for i, path in enumerate(version.writable_paths)]
    container = kube.container(
        app,
        version.image,
        ports=[{"containerPort": p.container_port, "protocol": "TCP"} for p in spec.ports],
        security=version.security.container_context(),
        resources=version.resources,
        env=[{"name": k, "value": v} for k, v in version.env.items()],
        mounts=mounts,
        readiness=fields.probe(spec.probe, spec.ports[0].container_port, liveness=False),
        liveness=fields.probe(spec.probe, spec.ports[0].container_port, liveness=True),
    )
    pod_security: dict[str, object] = {"runAsNonRoot": version.security.run_as_non_root}
    if version.security.seccomp_runtime_default:
        pod_security["seccompProfile"] = {"type": "RuntimeDefault"}
    return kube.deployment(
        f"{app}-{version_name}",
        ns,
        labels=labels,
        selector=labels,
        pod_labels={**version.labels, **labels},
        containers=[container],
        pod_security=pod_security,
        replicas=version.replicas,
        volumes=volumes,
        service_account_name=spec.service_account or app,
        # Apps do not call the Kubernetes API; the sidecar gets its own projected istio-token.
        automount_token=False,
    )
