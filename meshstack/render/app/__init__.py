"""Render the ``apps`` section: model → plain manifests, grouped in apply order.

Per app the groups are applied in this order (the component wires ``depends_on`` between them):
``workload`` (ServiceAccount, Services, Deployments) → ``destination`` (DestinationRules: subsets
must exist before a route names them) → ``routes`` (VirtualServices / HTTPRoutes) →
``security`` (PeerAuthentication, AuthorizationPolicies, RequestAuthentication, EnvoyFilter).
Section-wide objects (Namespace, namespace PeerAuthentication, an own Gateway) come first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from meshstack.errors import ConfigError, Problem
from meshstack.model.app import AppSpec
from meshstack.model.apps import AppsConfig, RenderTarget
from meshstack.model.refs import GatewayKind, GatewayRef
from meshstack.render import gateway_api, istio_networking, istio_security, workload
from meshstack.render.workload import Manifest

INJECTION_KEYS = ("istio-injection", "istio.io/rev")


@dataclass(frozen=True)
class RenderContext:
    """What the platform tells the apps: namespace injection labels and the ingress gateway."""

    injection_labels: dict[str, str] = field(default_factory=lambda: {"istio-injection": "enabled"})
    ingress: GatewayRef | None = None
    environment: str = "dev"


@dataclass
class AppManifests:
    workload: list[Manifest] = field(default_factory=list)
    destination: list[Manifest] = field(default_factory=list)
    routes: list[Manifest] = field(default_factory=list)
    security: list[Manifest] = field(default_factory=list)

    def all(self) -> list[Manifest]:
        return [*self.workload, *self.destination, *self.routes, *self.security]


@dataclass
class AppsManifests:
    namespace: list[Manifest] = field(default_factory=list)
    shared: list[Manifest] = field(default_factory=list)
    apps: dict[str, AppManifests] = field(default_factory=dict)

    def all(self) -> list[Manifest]:
        out = [*self.namespace, *self.shared]
        for app in self.apps.values():
            out.extend(app.all())
        return out


def render_app(
    name: str, spec: AppSpec, ns: str, target: RenderTarget, ingress_parent: object | None = None
) -> AppManifests:
    """One app's manifests. ``ingress_parent`` is the VirtualService gateway name (Istio) or the
    HTTPRoute parentRef (Gateway API) to expose through; required when the app has ``expose``."""
    out = AppManifests()
    out.workload.append(workload.service_account(name, spec, ns))
    out.workload.append(workload.service(name, spec, ns))
    if target is RenderTarget.GATEWAY_API:
        out.workload.extend(workload.service(name, spec, ns, v) for v in spec.versions)
    out.workload.extend(workload.deployment(name, v, spec, ns) for v in spec.versions)

    if target is RenderTarget.ISTIO:
        out.destination.append(istio_networking.destination_rule(name, spec, ns))
        if (vs := istio_networking.mesh_virtual_service(name, spec, ns)) is not None:
            out.routes.append(vs)
        if spec.expose is not None:
            assert isinstance(ingress_parent, str)
            out.routes.append(istio_networking.ingress_virtual_service(name, spec, ns, ingress_parent))
    else:
        if spec.has_destination_policy:
            out.destination.append(istio_networking.destination_rule(name, spec, ns, subsets=False))
            out.destination.extend(
                istio_networking.destination_rule(name, spec, ns, host=f"{name}-{v}", subsets=False)
                for v in spec.versions
            )
        if (route := gateway_api.mesh_http_route(name, spec, ns)) is not None:
            out.routes.append(route)
        if spec.expose is not None:
            assert isinstance(ingress_parent, dict)
            out.routes.append(gateway_api.ingress_http_route(name, spec, ns, ingress_parent))

    if spec.peer_authentication is not None:
        out.security.append(istio_security.peer_authentication(name, ns, spec.peer_authentication, app=name))
    out.security.extend(istio_security.authorization_policies(name, spec, ns))
    if (ra := istio_security.request_authentication(name, spec, ns)) is not None:
        out.security.append(ra)
    if spec.rate_limit is not None:
        out.security.append(istio_security.local_rate_limit(name, spec.rate_limit, ns))
    return out


def render_apps(config: AppsConfig, ctx: RenderContext | None = None) -> AppsManifests:
    """Every manifest of the section; raises ConfigError (paths under ``apps``) when the platform
    cannot serve the config (e.g. an exposed app on a stack without an ingress gateway)."""
    ctx = ctx or RenderContext()
    out = AppsManifests()
    if not config.enabled:
        return out
    ns = config.namespace
    injection = {k: v for k, v in ctx.injection_labels.items() if k in INJECTION_KEYS}
    if len(injection) != 1:
        raise ConfigError(
            [Problem("apps.namespace", f"the namespace needs exactly one injection label, got {sorted(injection)}")]
        )
    out.namespace.append(workload.namespace(ns, ctx.injection_labels))
    if config.peer_authentication is not None:
        out.shared.append(istio_security.peer_authentication("default", ns, config.peer_authentication))

    apps = config.apps()
    exposed = [name for name, spec in apps.items() if spec.expose is not None]
    parent: object | None = None
    if exposed:
        parent = _ingress_parent(config, ctx, out, apps, exposed)
    for name, spec in apps.items():
        out.apps[name] = render_app(name, spec, ns, config.target, parent)
    return out


def _ingress_parent(
    config: AppsConfig, ctx: RenderContext, out: AppsManifests, apps: dict[str, AppSpec], exposed: list[str]
) -> object:
    ns = config.namespace
    ingress = ctx.ingress
    own = f"{ns}-gateway"
    if config.target is RenderTarget.ISTIO:
        if ingress is None:
            raise ConfigError(
                [
                    Problem(_expose_path(config, n), "this stack has no ingress gateway to expose the app through")
                    for n in exposed
                ]
            )
        if ingress.kind is GatewayKind.ISTIO:
            return ingress.qualified
        # The platform runs a Gateway API gateway: bind an Istio Gateway to its pods.
        hosts = sorted({h for n in exposed for h in apps[n].expose.hosts})  # type: ignore[union-attr]
        selector = ingress.selector or {"gateway.networking.k8s.io/gateway-name": ingress.name}
        out.shared.append(istio_networking.istio_gateway(own, ns, selector, ingress.port, hosts))
        return own
    if ingress is not None and ingress.kind is GatewayKind.GATEWAY_API:
        return {
            "group": "gateway.networking.k8s.io",
            "kind": "Gateway",
            "name": ingress.name,
            "namespace": ingress.namespace,
        }
    # No Gateway API gateway on the platform: an own one of class istio in the apps namespace.
    out.shared.append(gateway_api.gateway(own, ns))
    return {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": own}


def _expose_path(config: AppsConfig, name: str) -> str:
    if name in config.services:
        return f"apps.services.{name}.expose"
    return "apps.bookinfo.expose"


__all__ = ["AppManifests", "AppsManifests", "RenderContext", "render_app", "render_apps"]
