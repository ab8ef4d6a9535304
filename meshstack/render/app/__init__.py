"""Render apps: model → plain manifests, grouped in apply order.

Per app the groups are applied in this order (the component wires ``depends_on`` between them):
``workload`` (ServiceAccount, Services, Deployments) → ``destination`` (DestinationRules: subsets
must exist before a route names them) → ``routes`` (VirtualServices / HTTPRoutes) →
``security`` (PeerAuthentication, AuthorizationPolicies, RequestAuthentication, EnvoyFilter).
Section-wide objects (Namespace, namespace PeerAuthentication, an own Gateway) come first.

:func:`plan_app` renders a single app, :func:`render_apps` a whole :class:`AppsConfig` section. Both
assume valid input: the app's own rules ran when it was built, the rules with context
(:mod:`meshstack.model.checks`) where the caller knew the mesh.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from meshstack.model.app import AppSpec
from meshstack.model.apps import AppsConfig
from meshstack.model.refs import GatewayKind, GatewayRef, MeshRef
from meshstack.model.rollout.policy import Rollout
from meshstack.model.rollout.state import RolloutState
from meshstack.model.target import RenderTarget
from meshstack.render import gateway_api, istio_networking, istio_security, network_policies, workload
from meshstack.render.kube import Manifest

#: On the routes of an app with a rollout: the rollout policy as JSON (:func:`rollout_summary`), the
#: machine-readable trace the guardrails check a canary split against (``canary-has-rollout``).
ROLLOUT_ANNOTATION = "meshstack.io/rollout"


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


@dataclass(frozen=True)
class IngressBinding:
    """How exposed apps attach to an ingress: the VirtualService ``gateways`` entry (Istio) or the
    HTTPRoute parentRef (Gateway API), and any Gateway the apps must bring themselves."""

    parent: str | dict[str, Any]
    own_gateway: Manifest | None = None


def ingress_binding(
    target: RenderTarget, ingress: GatewayRef | None, namespace: str, own_name: str, hosts: list[str]
) -> IngressBinding | None:
    """The binding for exposed apps, or None when ``target`` needs a platform ingress and there is none."""
    if target is RenderTarget.ISTIO:
        if ingress is None:
            return None
        if ingress.kind is GatewayKind.ISTIO:
            return IngressBinding(ingress.qualified)
        # The platform runs a Gateway API gateway: bind an Istio Gateway to its pods.
        selector = ingress.selector or {"gateway.networking.k8s.io/gateway-name": ingress.name}
        own = istio_networking.istio_gateway(own_name, namespace, selector, ingress.port, sorted(set(hosts)))
        return IngressBinding(own_name, own)
    if ingress is not None and ingress.kind is GatewayKind.GATEWAY_API:
        ref = {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": ingress.name}
        return IngressBinding({**ref, "namespace": ingress.namespace})
    # No Gateway API gateway on the platform: an own one of class istio in the apps namespace.
    own = gateway_api.gateway(own_name, namespace)
    return IngressBinding({"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": own_name}, own)


def render_app(
    name: str,
    spec: AppSpec,
    ns: str,
    target: RenderTarget,
    binding: IngressBinding | None,
    mesh: MeshRef | None = None,
) -> AppManifests:
    """One app's manifests (already validated); ``binding`` is required when the app has ``expose``."""
    out = AppManifests()
    out.workload.append(workload.service_account(name, spec, ns))
    out.workload.append(workload.service(name, spec, ns))
    if target is RenderTarget.GATEWAY_API:
        out.workload.extend(workload.service(name, spec, ns, v) for v in spec.versions)
    out.workload.extend(workload.deployment(name, v, spec, ns) for v in spec.versions)

    exposed = spec.expose is not None and binding is not None
    if target is RenderTarget.ISTIO:
        out.destination.append(istio_networking.destination_rule(name, spec, ns))
        if (vs := istio_networking.mesh_virtual_service(name, spec, ns)) is not None:
            out.routes.append(vs)
        if exposed and binding is not None and isinstance(binding.parent, str):
            out.routes.append(istio_networking.ingress_virtual_service(name, spec, ns, binding.parent))
    else:
        if spec.has_destination_policy:
            out.destination.append(istio_networking.destination_rule(name, spec, ns, subsets=False))
            out.destination.extend(
                istio_networking.destination_rule(name, spec, ns, host=f"{name}-{v}", subsets=False)
                for v in spec.versions
            )
        if (route := gateway_api.mesh_http_route(name, spec, ns)) is not None:
            out.routes.append(route)
        if exposed and binding is not None and isinstance(binding.parent, dict):
            out.routes.append(gateway_api.ingress_http_route(name, spec, ns, binding.parent))

    if spec.peer_authentication is not None:
        out.security.append(istio_security.peer_authentication(name, ns, spec.peer_authentication, app=name))
    if exposed and mesh is not None and mesh.default_deny and mesh.ingress is not None and mesh.ingress.principal:
        out.security.append(istio_security.allow_from_gateway(name, ns, mesh.ingress.principal))
    out.security.extend(istio_security.authorization_policies(name, spec, ns))
    if (ra := istio_security.request_authentication(name, spec, ns)) is not None:
        out.security.append(ra)
    if spec.rate_limit is not None:
        out.security.append(istio_security.local_rate_limit(name, spec.rate_limit, ns))
    return out


def rollout_summary(rollout: Rollout) -> str:
    """The rollout policy as its routes carry it: versions, strategy and analysis (``onNoData`` null when unset)."""
    analysis = rollout.analysis
    summary = {
        "stable": rollout.stable,
        "canary": rollout.canary,
        "strategy": rollout.strategy.value,
        "analysis": {
            "interval": analysis.interval,
            "metrics": [m.name for m in analysis.metrics],
            "failureLimit": analysis.failure_limit,
            "minRequests": analysis.min_requests,
            "onNoData": analysis.on_no_data.value if analysis.on_no_data is not None else None,
        },
    }
    return json.dumps(summary, separators=(",", ":"))


def annotate_rollout(manifests: AppManifests, rollout: Rollout | None) -> AppManifests:
    """Put :data:`ROLLOUT_ANNOTATION` on the app's routes when it has a rollout (the same at every step)."""
    if rollout is not None:
        for route in manifests.routes:
            route["metadata"].setdefault("annotations", {})[ROLLOUT_ANNOTATION] = rollout_summary(rollout)
    return manifests


@dataclass
class AppPlan:
    """A single app ready to register: its manifests and any Gateway it brings for its exposure."""

    manifests: AppManifests
    own_gateway: Manifest | None = None


def plan_app(
    name: str,
    spec: AppSpec,
    namespace: str,
    mesh: MeshRef,
    target: RenderTarget = RenderTarget.ISTIO,
    *,
    state: RolloutState | None = None,
) -> AppPlan:
    """App ``name`` rendered on its own, with any Gateway its exposure brings (valid input: the
    caller ran :func:`meshstack.model.checks.app_problems`)."""
    binding = None
    if spec.expose is not None:
        binding = ingress_binding(target, mesh.ingress, namespace, f"{name}-gateway", list(spec.expose.hosts))
    manifests = annotate_rollout(render_app(name, spec.at(state), namespace, target, binding, mesh), spec.rollout)
    return AppPlan(manifests, binding.own_gateway if binding is not None else None)


def render_apps(
    config: AppsConfig, mesh: MeshRef | None = None, states: Mapping[str, RolloutState] | None = None
) -> AppsManifests:
    """Every manifest of the section (valid input: :class:`AppsConfig` checked itself, and the caller
    ran :func:`meshstack.model.checks.section_problems` for this mesh)."""
    mesh = mesh or MeshRef()
    out = AppsManifests()
    if not config.enabled:
        return out
    ns = config.namespace
    out.namespace.append(workload.namespace(ns, mesh.injection_labels, mesh.pod_security))
    if mesh.network_policies:
        out.shared.extend(network_policies.workload_namespace(ns))
    if config.peer_authentication is not None:
        out.shared.append(istio_security.peer_authentication("default", ns, config.peer_authentication))

    binding = None
    if exposed := config.exposed:
        hosts = [h for n in exposed for h in config.apps[n].expose.hosts]  # type: ignore[union-attr]
        binding = ingress_binding(config.target, mesh.ingress, ns, f"{ns}-gateway", hosts)
        if binding is not None and binding.own_gateway is not None:
            out.shared.append(binding.own_gateway)
    for name, spec in config.apps.items():
        rendered = render_app(name, spec.at((states or {}).get(name)), ns, config.target, binding, mesh)
        out.apps[name] = annotate_rollout(rendered, spec.rollout)
    return out


__all__ = [
    "ROLLOUT_ANNOTATION",
    "AppManifests",
    "AppPlan",
    "AppsManifests",
    "IngressBinding",
    "annotate_rollout",
    "ingress_binding",
    "plan_app",
    "render_app",
    "render_apps",
    "rollout_summary",
]
