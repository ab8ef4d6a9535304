"""The environment a stack stands for, and the defaults it brings.

An environment is a layer of defaults (config form, the keys a user writes in ``Pulumi.<stack>.yaml``)
under whatever the caller sets, applied by :class:`meshstack.model.platform.PlatformSpec` the same
way whether the spec is built in Python (``StackSpec.for_environment("prod", mesh=...)``) or read
from stack config. A value the caller sets wins; a value the caller leaves out takes the layer
below; anything no layer names takes the profile's value, then the model's default (docs/config.md).
Prod's *rules* (STRICT mTLS, no anonymous dashboards …) are separate: they hold whatever is set.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final


class Environment(StrEnum):
    """``dev``: one replica, PERMISSIVE mTLS, 100% tracing, anonymous dashboards allowed.
    ``prod``: HA control plane, STRICT mTLS, 1% tracing, authenticated dashboards, retained CRDs."""

    DEV = "dev"
    PROD = "prod"


DEV: Final[dict[str, Any]] = {
    "mesh": {
        # istioctl's demo profile: ingress + egress gateways, tiny sidecar and gateway requests.
        "profile": "demo",
        # Migration-friendly: workloads without sidecars can still call meshed services.
        "mtls": "PERMISSIVE",
        "accessLogging": True,
        # Trace everything: dev traffic is low and every trace helps debugging.
        "tracing": {"enabled": True, "sampling": 100.0},
        # One small istiod, no HPA, no PDB.
        "istiod": {"replicas": 1, "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}}},
        # dev is disposable: destroy removes CRDs and the namespace too.
        "retainOnDelete": False,
        "protect": False,
    },
    # One gateway replica each, no HPA, no PDB (the profile decides which gateways exist). The
    # ingress Service is a NodePort: dev clusters (kind, minikube, the embedded one of `make up`)
    # have no load-balancer controller, and a LoadBalancer Service would wait for an address forever.
    "gateways": {"ingress": {"replicas": 1, "serviceType": "NodePort"}, "egress": {"replicas": 1}},
    "addons": {
        "prometheus": {"enabled": True, "retention": "1d"},
        # Anyone reaching the port-forward may look: dev only (refused in prod).
        "grafana": {"enabled": True, "auth": "anonymous"},
        "jaeger": {"enabled": True},
        "kiali": {"enabled": True, "auth": "anonymous"},
    },
}

PROD: Final[dict[str, Any]] = {
    "mesh": {
        # istioctl's default profile: istiod + ingress gateway, production-sized sidecars.
        "profile": "default",
        # Only mutual TLS between workloads.
        "mtls": "STRICT",
        "accessLogging": True,
        # 1% of requests traced: enough for latency analysis without the storage bill.
        "tracing": {"enabled": True, "sampling": 1.0},
        # HA: 3 replicas spread by the HPA up to 10, at most one disrupted at a time.
        "istiod": {
            "replicas": 3,
            "autoscaleMax": 10,
            "pdbMinAvailable": 2,
            "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}, "limits": {"memory": "4Gi"}},
        },
        # CRDs and istio-system survive a destroy, and pulumi refuses to delete them by accident.
        "retainOnDelete": True,
        "protect": True,
        # Secure by construction: istio-cni so workload namespaces can enforce Pod Security
        # "restricted"; nothing is allowed until an app opens it; NetworkPolicies fence the mesh's
        # namespaces; sidecars reach only the registry (Services and declared externalServices).
        "cni": True,
        "podSecurity": "restricted",
        "defaultDeny": True,
        "networkPolicies": True,
        "outboundTrafficPolicy": "REGISTRY_ONLY",
        # An app calling out as it starts would race its sidecar: apps start once their proxy is ready.
        "proxy": {"holdApplicationUntilProxyStarts": True},
    },
    # The ingress survives a node drain: 2..6 replicas behind an HPA, at most one evicted at a time.
    "gateways": {
        "ingress": {
            "replicas": 2,
            "autoscaleMax": 6,
            "pdbMinAvailable": 1,
            "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"cpu": "2", "memory": "1Gi"}},
        },
    },
    "addons": {
        # 15 days of metrics on a persistent volume (not an emptyDir that a reschedule wipes).
        "prometheus": {"enabled": True, "retention": "15d", "storage": {"persistent": True, "size": "50Gi"}},
        # Generated admin password (a Pulumi secret) and service-account tokens: no anonymous access.
        "grafana": {"enabled": True, "auth": "login"},
        "jaeger": {"enabled": True},
        # Two stateless replicas behind a PodDisruptionBudget.
        "kiali": {"enabled": True, "auth": "login", "replicas": 2},
    },
}

#: The defaults layer of each environment (config form).
ENVIRONMENT_DEFAULTS: Final[dict[Environment, dict[str, Any]]] = {Environment.DEV: DEV, Environment.PROD: PROD}


def environment_defaults(value: object) -> dict[str, Any]:
    """The defaults layer of ``value`` (an Environment or its name); empty for anything else (the
    field's own validation reports a bad name)."""
    try:
        return ENVIRONMENT_DEFAULTS[Environment(str(value))]
    except ValueError:
        return {}
