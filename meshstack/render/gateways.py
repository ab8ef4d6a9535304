"""Pure rendering of gateways: ``gateway`` chart values, Istio Gateway and Gateway API Gateway."""

from __future__ import annotations

from typing import Any

from meshstack.model.gateway import (
    GatewayApi,
    GatewayDeployment,
    GatewaysConfig,
    Server,
    ServerProtocol,
    ServiceType,
)
from meshstack.model.mesh import MeshConfig
from meshstack.model.refs import GatewayKind, GatewayRef
from meshstack.model.tls import TlsMode
from meshstack.render import fields, istio_security, network_policies
from meshstack.render.kube import MANAGED_BY, Manifest

#: Gateway API listener protocols for Istio server protocols (HTTP/2 and gRPC ride on HTTP listeners).
_LISTENER_PROTOCOL = {
    ServerProtocol.HTTP: "HTTP",
    ServerProtocol.HTTP2: "HTTP",
    ServerProtocol.GRPC: "HTTP",
    ServerProtocol.HTTPS: "HTTPS",
    ServerProtocol.TLS: "TLS",
    ServerProtocol.TCP: "TCP",
}


def injection_revision(gw: GatewayDeployment, mesh: MeshConfig) -> str | None:
    """The revision or tag whose injector fills the gateway's ``image: auto`` (None: the default)."""
    return gw.revision or mesh.workload_revision


def gateway_chart_values(gw: GatewayDeployment, mesh: MeshConfig) -> dict[str, Any]:
    """Values of Istio's ``gateway`` chart for one gateway deployment."""
    autoscale = gw.autoscale_max is not None
    resources = gw.resources or mesh.preset.gateway_resources
    values: dict[str, Any] = {
        "labels": dict(gw.labels),
        "service": {
            "type": gw.service_type.value,
            "ports": [
                {"name": p.name, "port": p.port, "targetPort": p.target_port or p.port, "protocol": "TCP"}
                for p in gw.ports
            ],
        },
        "replicaCount": gw.replicas,
        "autoscaling": {"enabled": autoscale},
        "resources": fields.resources(resources),
    }
    if autoscale:
        values["autoscaling"].update({"minReplicas": gw.replicas, "maxReplicas": gw.autoscale_max})
    if gw.pdb_min_available is not None:
        values["podDisruptionBudget"] = {"minAvailable": gw.pdb_min_available}
    if rev := injection_revision(gw, mesh):
        values["revision"] = rev
    return values


def _istio_server(server: Server) -> dict[str, Any]:
    out: dict[str, Any] = {
        "port": {"number": server.port, "name": server.listener_name, "protocol": server.protocol.value},
        "hosts": list(server.hosts),
    }
    if server.tls is not None:
        tls: dict[str, Any] = {"mode": server.tls.mode.value}
        if server.tls.credential_name:
            tls["credentialName"] = server.tls.credential_name
        out["tls"] = tls
    return out


def istio_gateway(gw: GatewayDeployment) -> Manifest:
    """The networking.istio.io Gateway of a gateway deployment (VirtualServices bind to it)."""
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "Gateway",
        "metadata": {"name": gw.gateway_name, "namespace": gw.namespace, "labels": dict(MANAGED_BY)},
        "spec": {"selector": dict(gw.gateway_selector), "servers": [_istio_server(s) for s in gw.servers]},
    }


def _listeners(server: Server) -> list[dict[str, Any]]:
    hosts = [h.split("/", 1)[-1] for h in server.hosts]
    out = []
    for i, host in enumerate(hosts):
        listener: dict[str, Any] = {
            "name": server.listener_name if len(hosts) == 1 else f"{server.listener_name}-{i}",
            "port": server.port,
            "protocol": _LISTENER_PROTOCOL[server.protocol],
            "allowedRoutes": {"namespaces": {"from": "All"}},
        }
        if host != "*":
            listener["hostname"] = host
        if server.tls is not None and server.protocol in (ServerProtocol.HTTPS, ServerProtocol.TLS):
            if server.tls.mode is TlsMode.PASSTHROUGH:
                listener["tls"] = {"mode": "Passthrough"}
            else:
                listener["tls"] = {"mode": "Terminate", "certificateRefs": [{"name": server.tls.credential_name}]}
        out.append(listener)
    return out


def gateway_api_gateway(gw: GatewayDeployment, mesh: MeshConfig) -> Manifest:
    """A gateway.networking.k8s.io Gateway (class ``istio``): Istio deploys ``<name>-istio`` for it."""
    labels = dict(MANAGED_BY)
    if rev := injection_revision(gw, mesh):
        labels["istio.io/rev"] = rev
    metadata: dict[str, Any] = {"name": gw.gateway_name, "namespace": gw.namespace, "labels": labels}
    if gw.service_type is not ServiceType.LOAD_BALANCER:
        metadata["annotations"] = {"networking.istio.io/service-type": gw.service_type.value}
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": metadata,
        "spec": {"gatewayClassName": "istio", "listeners": [li for s in gw.servers for li in _listeners(s)]},
    }


def gateway_service_name(name: str, gw: GatewayDeployment, gateways: GatewaysConfig) -> str:
    """The Service in front of a gateway: the chart release, or ``<gateway>-istio`` for Gateway API."""
    if name == "ingress" and gateways.api is GatewayApi.GATEWAY_API:
        return f"{gw.gateway_name}-istio"
    return gw.release_name


def gateway_ref(name: str, gw: GatewayDeployment, gateways: GatewaysConfig) -> GatewayRef | None:
    """What apps need to attach routes to this gateway (None when it has no Gateway object)."""
    if not gw.serves_routes:
        return None
    first = gw.servers[0]
    principal = f"cluster.local/ns/{gw.namespace}/sa/{gateway_service_account(name, gw, gateways)}"
    if name == "ingress" and gateways.api is GatewayApi.GATEWAY_API:
        return GatewayRef(
            name=gw.gateway_name,
            namespace=gw.namespace,
            kind=GatewayKind.GATEWAY_API,
            hosts=tuple(first.hosts),
            port=first.port,
            principal=principal,
        )
    return GatewayRef(
        name=gw.gateway_name,
        namespace=gw.namespace,
        kind=GatewayKind.ISTIO,
        hosts=tuple(dict.fromkeys(h for s in gw.servers for h in s.hosts)),
        port=first.port,
        selector=dict(gw.gateway_selector),
        principal=principal,
    )


def gateway_service_account(name: str, gw: GatewayDeployment, gateways: GatewaysConfig) -> str:
    """The gateway pods' ServiceAccount: the chart's (the release name), or ``<gateway>-istio`` for a
    Gateway API gateway Istio deploys itself."""
    return gateway_service_name(name, gw, gateways)


def gateway_pod_selector(name: str, gw: GatewayDeployment, gateways: GatewaysConfig) -> dict[str, str]:
    """Labels selecting the gateway's pods (for policies)."""
    if name == "ingress" and gateways.api is GatewayApi.GATEWAY_API:
        return {"gateway.networking.k8s.io/gateway-name": gw.gateway_name}
    return {"istio": gw.pod_labels["istio"]}


def gateway_api_crd_files(source: str) -> list[str]:
    """The ``files`` of the ConfigGroup installing the Gateway API CRDs from ``source``: a URL as
    is (the Kubernetes provider fetches it), a local ``.yaml`` file, or every YAML file of a directory."""
    if source.startswith(("https://", "http://")):
        return [source]
    path = source.removeprefix("file://").rstrip("/")
    if path.endswith((".yaml", ".yml")):
        return [path]
    return [f"{path}/*.yaml"]


def gateway_policies(gateways: GatewaysConfig, mesh: MeshConfig) -> list[Manifest]:
    """Authorization (under ``mesh.defaultDeny``) and NetworkPolicies (``mesh.networkPolicies``) of the gateways."""
    out: list[Manifest] = []
    by_namespace: dict[str, list[tuple[str, dict[str, str], bool]]] = {}
    for name, gw in gateways.enabled().items():
        selector = gateway_pod_selector(name, gw, gateways)
        public = name == "ingress"
        if mesh.default_deny:
            out.append(istio_security.gateway_allow(f"{name}-gateway", gw.namespace, selector, public))
        by_namespace.setdefault(gw.namespace, []).append((f"{name}-gateway", selector, public))
    if mesh.network_policies:
        for ns, gws in sorted(by_namespace.items()):
            out.extend(network_policies.gateway_namespace(ns, gws))
    return out
