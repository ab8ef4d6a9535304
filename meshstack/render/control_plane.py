"""Pure rendering of the Istio control plane: chart values and mesh-wide custom resources."""

from __future__ import annotations

from typing import Any

from meshstack.model.mesh import MeshConfig, MtlsMode

Manifest = dict[str, Any]

#: The PeerAuthentication/Telemetry in the root namespace named "default" apply mesh-wide.
MESH_DEFAULT_NAME = "default"


def control_plane_namespace(mesh: MeshConfig) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": mesh.namespace,
            # The control plane itself is never injected.
            "labels": {"istio-injection": "disabled", "app.kubernetes.io/managed-by": "meshstack"},
        },
    }


def base_values(mesh: MeshConfig) -> dict[str, Any]:
    """Values for the ``base`` chart: CRDs as templates so upgrades upgrade them."""
    values: dict[str, Any] = {
        "global": {"istioNamespace": mesh.namespace},
        "base": {"enableCRDTemplates": True},
    }
    if mesh.revision:
        values["defaultRevision"] = mesh.revision
    return values


def istiod_values(mesh: MeshConfig) -> dict[str, Any]:
    """Values for the ``istiod`` chart from the typed mesh config."""
    istiod = mesh.istiod
    autoscale = istiod.autoscale_max is not None
    pilot: dict[str, Any] = {
        "autoscaleEnabled": autoscale,
        "replicaCount": istiod.replicas,
        "resources": istiod.resources.to_manifest(),
        "traceSampling": mesh.tracing.sampling if mesh.tracing.enabled else 0.0,
    }
    if autoscale:
        pilot["autoscaleMin"] = istiod.replicas
        pilot["autoscaleMax"] = istiod.autoscale_max
    mesh_config: dict[str, Any] = {
        "accessLogFile": "/dev/stdout" if mesh.access_logging else "",
        "enableTracing": mesh.tracing.enabled,
        "enablePrometheusMerge": True,
        "outboundTrafficPolicy": {"mode": mesh.outbound_traffic_policy.value},
    }
    values: dict[str, Any] = {
        "global": {"istioNamespace": mesh.namespace},
        "pilot": pilot,
        "meshConfig": mesh_config,
    }
    if istiod.pdb_min_available is not None:
        values["pdb"] = {"minAvailable": istiod.pdb_min_available}
    if mesh.revision:
        values["revision"] = mesh.revision
    return values


def mesh_peer_authentication(mesh: MeshConfig) -> Manifest:
    """Mesh-wide mTLS default: a PeerAuthentication named ``default`` in the root namespace."""
    return {
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": {"name": MESH_DEFAULT_NAME, "namespace": mesh.namespace},
        "spec": {"mtls": {"mode": MtlsMode(mesh.mtls).value}},
    }


def mesh_telemetry(mesh: MeshConfig) -> Manifest:
    """Mesh-wide Telemetry: tracing sampling and access logging."""
    spec: dict[str, Any] = {}
    if mesh.tracing.enabled:
        spec["tracing"] = [{"randomSamplingPercentage": mesh.tracing.sampling}]
    else:
        spec["tracing"] = [{"disableSpanReporting": True}]
    spec["accessLogging"] = [{"providers": [{"name": "envoy"}], "disabled": not mesh.access_logging}]
    return {
        "apiVersion": "telemetry.istio.io/v1",
        "kind": "Telemetry",
        "metadata": {"name": "mesh-default", "namespace": mesh.namespace},
        "spec": spec,
    }
