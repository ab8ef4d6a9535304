"""How the platform pieces connect: tracing provider, the apps' MeshRef, and the stack outputs."""

from __future__ import annotations

from typing import Any

from meshstack.model.platform import PlatformSpec
from meshstack.model.refs import MeshRef
from meshstack.render import network_policies
from meshstack.render.addons import grafana, jaeger, kiali, prometheus
from meshstack.render.addons.common import Endpoint
from meshstack.render.gateways import gateway_ref, gateway_service_name
from meshstack.render.kube import Manifest


def tracing_provider(spec: PlatformSpec) -> str | None:
    """The extension provider the mesh Telemetry sends spans to (None: Istio's default)."""
    return jaeger.PROVIDER if spec.addons.jaeger.enabled and spec.mesh.tracing.enabled else None


def extension_providers(spec: PlatformSpec) -> list[dict[str, Any]]:
    """istiod ``meshConfig.extensionProviders``."""
    return [jaeger.extension_provider(spec.mesh.namespace)] if spec.addons.jaeger.enabled else []


def control_plane_network_policies(spec: PlatformSpec) -> list[Manifest]:
    """The control-plane namespace's NetworkPolicies (none unless ``mesh.networkPolicies``)."""
    if not spec.mesh.network_policies:
        return []
    return network_policies.control_plane_namespace(spec.mesh.namespace, jaeger=spec.addons.jaeger.enabled)


def mesh_ref(spec: PlatformSpec) -> MeshRef:
    """What the apps need: the root namespace, their namespaces' injection label, the gateways."""
    gws = spec.gateways
    return MeshRef(
        namespace=spec.mesh.namespace,
        injection_labels=spec.mesh.injection_labels(),
        ingress=gateway_ref("ingress", gws.ingress, gws),
        egress=gateway_ref("egress", gws.egress, gws),
        environment=spec.environment.value,
        pod_security=spec.mesh.pod_security.value,
        network_policies=spec.mesh.network_policies,
        default_deny=spec.mesh.default_deny,
        prometheus_scrape_interval=spec.addons.prometheus.scrape_interval if spec.addons.prometheus.enabled else None,
        namespaces=tuple(sorted(spec.namespaces)),
    )


def dashboards(spec: PlatformSpec) -> dict[str, Endpoint]:
    """Enabled addons → their endpoint."""
    ns = spec.mesh.namespace
    candidates = {
        "prometheus": (spec.addons.prometheus.enabled, prometheus.endpoint(ns)),
        "grafana": (spec.addons.grafana.enabled, grafana.endpoint(ns)),
        "jaeger": (spec.addons.jaeger.enabled, jaeger.endpoint(ns)),
        "kiali": (spec.addons.kiali.enabled, kiali.endpoint(ns)),
    }
    return {name: ep for name, (on, ep) in candidates.items() if on}


def ingress_address(spec: PlatformSpec) -> dict[str, str] | None:
    """The ingress gateway's in-cluster address and the command printing its external one."""
    gws = spec.gateways
    if not gws.ingress.enabled:
        return None
    svc = gateway_service_name("ingress", gws.ingress, gws)
    ns = gws.ingress.namespace
    return {
        "service": f"{svc}.{ns}.svc.cluster.local",
        "externalAddressCommand": (
            f"kubectl -n {ns} get svc {svc} -o jsonpath='{{.status.loadBalancer.ingress[0]['ip','hostname']}}'"
        ),
        "portForward": f"kubectl -n {ns} port-forward svc/{svc} 8080:80",
    }


def platform_outputs(spec: PlatformSpec) -> dict[str, Any]:
    """Stack outputs a user needs: addon URLs, port-forward commands, the ingress address."""
    boards = dashboards(spec)
    out: dict[str, Any] = {
        "addonUrls": {name: ep.url for name, ep in boards.items()},
        "portForward": {name: {"command": ep.port_forward, "open": ep.local_url} for name, ep in boards.items()},
        "revisions": [r.release for r in spec.mesh.installed_revisions],
        "revisionTags": dict(spec.mesh.tags),
    }
    if (ingress := ingress_address(spec)) is not None:
        out["ingress"] = ingress
    return out
