"""Pure rendering of the Istio control plane: chart values and mesh-wide custom resources."""

from __future__ import annotations

from typing import Any

from meshstack.model.mesh import MeshConfig, ProxyFlavor
from meshstack.model.revision import InstalledRevision
from meshstack.model.tls import MtlsMode
from meshstack.render import fields
from meshstack.render.kube import MANAGED_BY, Manifest

#: The PeerAuthentication in the root namespace named "default" applies mesh-wide.
MESH_DEFAULT_NAME = "default"
#: The mesh-wide Telemetry (any name works in the root namespace; one per mesh).
MESH_TELEMETRY_NAME = "mesh-default"


def control_plane_namespace(mesh: MeshConfig) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": mesh.namespace,
            # The control plane itself is never injected.
            "labels": {"istio-injection": "disabled", **MANAGED_BY},
        },
    }


def base_values(mesh: MeshConfig) -> dict[str, Any]:
    """Values for the ``base`` chart: CRDs as templates so upgrades upgrade them; the default
    validator (``istiod-default-validator``) points at the default revision."""
    values: dict[str, Any] = {
        "global": {"istioNamespace": mesh.namespace},
        "base": {"enableCRDTemplates": True},
    }
    if mesh.default_revision_name:
        values["defaultRevision"] = mesh.default_revision_name
    return values


def istiod_values(
    mesh: MeshConfig, revision: InstalledRevision | None = None, extension_providers: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Values for one revision's ``istiod`` chart from the typed mesh config.

    Revision tags are *not* passed as ``revisionTags``: meshstack renders the tag webhooks itself
    (:mod:`meshstack.render.revision_tags`) so moving a tag updates one object in place.
    """
    revision = revision or mesh.installed_revisions[0]
    istiod = mesh.istiod
    autoscale = istiod.autoscale_max is not None
    pilot: dict[str, Any] = {
        "autoscaleEnabled": autoscale,
        "replicaCount": istiod.replicas,
        "resources": fields.resources(istiod.resources),
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
    if extension_providers:
        mesh_config["extensionProviders"] = extension_providers
    default_config: dict[str, Any] = {}
    if mesh.proxy.hold_application_until_proxy_starts:
        default_config["holdApplicationUntilProxyStarts"] = True
    if mesh.proxy.flavor is ProxyFlavor.UPSTREAM_ENVOY:
        # Upstream Envoy has none of Istio's extensions: istiod must not configure its ALPN and
        # metadata-exchange filters, nor the stats filter its default metrics provider adds.
        pilot["env"] = {"PILOT_ENABLE_ALPN_FILTER": "false", "PILOT_ENABLE_METADATA_EXCHANGE": "false"}
        mesh_config["defaultProviders"] = {"metrics": []}
        # What is left to measure traffic by is Envoy's own per-cluster statistics, which Istio's
        # bootstrap keeps out of the proxy's metrics unless asked (rollouts read the inbound ones).
        default_config["proxyStatsMatcher"] = {"inclusionPrefixes": ["cluster.inbound|", "cluster.outbound|"]}
    if default_config:
        mesh_config["defaultConfig"] = default_config
    if mesh.cni:
        # istio-cni sets up traffic redirection: injected pods get no istio-init (NET_ADMIN, NET_RAW).
        pilot["cni"] = {"enabled": True}
    values: dict[str, Any] = {
        "global": {"istioNamespace": mesh.namespace, "proxy": {"resources": fields.resources(mesh.proxy.resources)}},
        "pilot": pilot,
        "meshConfig": mesh_config,
    }
    if istiod.pdb_min_available is not None:
        values["pdb"] = {"minAvailable": istiod.pdb_min_available}
    if revision.name:
        values["revision"] = revision.name
    return values


def mesh_peer_authentication(mesh: MeshConfig) -> Manifest:
    """Mesh-wide mTLS default: a PeerAuthentication named ``default`` in the root namespace."""
    return {
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": {"name": MESH_DEFAULT_NAME, "namespace": mesh.namespace, "labels": dict(MANAGED_BY)},
        "spec": {"mtls": {"mode": MtlsMode(mesh.mtls).value}},
    }


def mesh_telemetry(mesh: MeshConfig, tracing_provider: str | None = None) -> Manifest:
    """Mesh-wide Telemetry: tracing sampling (to ``tracing_provider`` when set) and access logging."""
    spec: dict[str, Any] = {}
    if mesh.tracing.enabled:
        tracing: dict[str, Any] = {"randomSamplingPercentage": mesh.tracing.sampling}
        if tracing_provider:
            tracing["providers"] = [{"name": tracing_provider}]
        spec["tracing"] = [tracing]
    else:
        spec["tracing"] = [{"disableSpanReporting": True}]
    spec["accessLogging"] = [{"providers": [{"name": "envoy"}], "disabled": not mesh.access_logging}]
    return {
        "apiVersion": "telemetry.istio.io/v1",
        "kind": "Telemetry",
        "metadata": {"name": MESH_TELEMETRY_NAME, "namespace": mesh.namespace, "labels": dict(MANAGED_BY)},
        "spec": spec,
    }


def service_entries(mesh: MeshConfig) -> list[Manifest]:
    """One ServiceEntry (MESH_EXTERNAL, exported to every namespace) per ``mesh.externalServices``."""
    out = []
    for name, svc in mesh.external_services.items():
        ports = [
            {"number": p.number, "name": f"{p.protocol.value.lower()}-{p.number}", "protocol": p.protocol.value}
            for p in svc.ports
        ]
        out.append(
            {
                "apiVersion": "networking.istio.io/v1",
                "kind": "ServiceEntry",
                "metadata": {"name": name, "namespace": mesh.namespace, "labels": dict(MANAGED_BY)},
                "spec": {
                    "hosts": list(svc.hosts),
                    "ports": ports,
                    "location": "MESH_EXTERNAL",
                    "resolution": svc.resolution.value,
                    "exportTo": ["*"],
                },
            }
        )
    return out


def cni_values(mesh: MeshConfig) -> dict[str, Any]:
    """Values of the ``cni`` chart: the node agent chained into the cluster's CNI."""
    return {"global": {"istioNamespace": mesh.namespace}}
