"""Workload and gateway namespaces: exactly one injection label each (never both)."""

from __future__ import annotations

from meshstack.model.mesh import MeshConfig
from meshstack.model.namespace import INJECTION_LABELS, WorkloadNamespace
from meshstack.render.kube import MANAGED_BY, Manifest, pod_security_labels


class InjectionLabelError(ValueError):
    """A namespace would carry both injection labels (IST0123), or none."""


def check_injection_labels(labels: dict[str, str]) -> None:
    """Raise unless ``labels`` carry exactly one of ``istio-injection=enabled`` / ``istio.io/rev``."""
    present = [key for key in INJECTION_LABELS if key in labels]
    if len(present) != 1:
        raise InjectionLabelError(
            f"a workload namespace needs exactly one of {', '.join(INJECTION_LABELS)}; got {present or 'none'}"
        )
    if "istio-injection" in labels and labels["istio-injection"] != "enabled":
        raise InjectionLabelError(f"istio-injection must be 'enabled', got {labels['istio-injection']!r}")


def workload_namespace(name: str, spec: WorkloadNamespace, mesh: MeshConfig) -> Manifest:
    """A Namespace whose pods are injected by the revision (or tag) the spec names."""
    labels = {
        **spec.labels,
        **mesh.injection_labels(spec.revision),
        **pod_security_labels(mesh.pod_security.value),
        **MANAGED_BY,
    }
    check_injection_labels(labels)
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def gateway_namespace(name: str) -> Manifest:
    """A gateway namespace: no injection label at all. The gateway pods opt in themselves; a
    namespace with ``istio-injection=disabled`` would leave them on image ``auto``."""
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": dict(MANAGED_BY)}}
