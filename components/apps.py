"""App components: ``MeshApps`` for the ``meshstack:apps`` section, ``MeshApp`` per service.

Resource choice: core kinds (Namespace, ServiceAccount, Service, Deployment) are typed
``pulumi_kubernetes`` resources built from the rendered dicts, so each object gets its own diff,
Deployment await logic (rollout complete) and shows up individually in previews and mock tests;
``yaml.v2.ConfigGroup`` would hide them in one provider-side component. Istio and Gateway API
kinds are ``apiextensions.CustomResource`` (their CRDs come from the platform).

Apply order, wired with explicit ``depends_on`` (children do not inherit it from a parent):
Namespace (+ namespace PeerAuthentication, own Gateway) → ServiceAccount/Services/Deployments →
DestinationRules (subsets exist before a route names them) → VirtualServices/HTTPRoutes →
security policies. All validation and rendering happens before the first resource is registered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.k8s import custom_resource
from meshstack.errors import ConfigError
from meshstack.model.app import AppSpec
from meshstack.model.apps import AppsConfig, RenderTarget
from meshstack.model.refs import GatewayRef
from meshstack.render.app import AppManifests, RenderContext, render_apps

__all__ = ["IngressRef", "MeshApp", "MeshAppArgs", "MeshApps", "MeshAppsArgs"]

#: The platform's ingress gateway as the apps see it (the lead's GatewayRef).
IngressRef = GatewayRef


def create_object(name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """One Kubernetes object from a rendered manifest: typed class for core kinds, else a CR."""
    kind = manifest["kind"]
    meta = manifest["metadata"]
    if kind == "Namespace":
        return k8s.core.v1.Namespace(name, metadata=meta, opts=opts)
    if kind == "ServiceAccount":
        return k8s.core.v1.ServiceAccount(name, metadata=meta, opts=opts)
    if kind == "Service":
        return k8s.core.v1.Service(name, metadata=meta, spec=manifest["spec"], opts=opts)
    if kind == "Deployment":
        return k8s.apps.v1.Deployment(name, metadata=meta, spec=manifest["spec"], opts=opts)
    return custom_resource(name, manifest, opts)


def _key(manifest: dict[str, Any]) -> str:
    meta = manifest["metadata"]
    return f"{meta.get('namespace', '_')}/{meta['name']}"


@dataclass
class MeshAppArgs:
    """One app, already validated and rendered (``manifests`` from ``render_app``)."""

    spec: AppSpec
    manifests: AppManifests
    #: Resources every workload object waits for (the namespace and section-wide objects).
    after: Sequence[pulumi.Resource] = ()


class MeshApp(pulumi.ComponentResource):
    """A service of the mesh: workloads → DestinationRules → routes → security policies."""

    def __init__(self, name: str, args: MeshAppArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("meshstack:apps:MeshApp", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        previous: list[pulumi.Resource] = list(args.after)
        self.resources: dict[str, list[pulumi.CustomResource]] = {}
        for group in ("workload", "destination", "routes", "security"):
            manifests: list[dict[str, Any]] = getattr(args.manifests, group)
            created = [
                create_object(
                    _key(m), m, pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=previous))
                )
                for m in manifests
            ]
            self.resources[group] = created
            if created:
                previous = list(created)
        self.versions = list(args.spec.versions)
        self.register_outputs({"versions": self.versions, "objects": len(args.manifests.all())})


@dataclass
class MeshAppsArgs:
    """Inputs of the apps section.

    ``config``: the parsed ``meshstack:apps`` section. ``environment``: "dev" or "prod" (labels
    only today). ``injection_labels``: the namespace labels selecting the control-plane revision
    (exactly one of ``istio-injection`` / ``istio.io/rev``). ``ingress``: the platform's ingress
    gateway (an Istio Gateway is bound by VirtualService ``gateways``; a Gateway API Gateway by
    HTTPRoute ``parentRefs``); None when the stack has none (exposed apps then fail for the
    Istio target; the Gateway API target renders its own ``<namespace>-gateway``).
    """

    config: AppsConfig
    environment: str = "dev"
    injection_labels: dict[str, str] = field(default_factory=lambda: {"istio-injection": "enabled"})
    ingress: IngressRef | None = None


class MeshApps(pulumi.ComponentResource):
    """Every app of the stack in one namespace (Bookinfo and ``services``)."""

    def __init__(self, name: str, args: MeshAppsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        ctx = RenderContext(
            injection_labels=dict(args.injection_labels), ingress=args.ingress, environment=args.environment
        )
        try:
            rendered = render_apps(args.config, ctx)  # validate everything before registering anything
        except ConfigError as err:
            raise pulumi.RunError(str(ConfigError(err.problems, "meshstack:"))) from None
        super().__init__("meshstack:apps:MeshApps", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.namespace_resources = [create_object(_key(m), m, child) for m in rendered.namespace]
        shared = [
            create_object(
                _key(m),
                m,
                pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=self.namespace_resources)),
            )
            for m in rendered.shared
        ]
        self.apps: dict[str, MeshApp] = {}
        specs = args.config.apps()
        for app_name, manifests in rendered.apps.items():
            self.apps[app_name] = MeshApp(
                f"{name}-{app_name}",
                MeshAppArgs(spec=specs[app_name], manifests=manifests, after=[*self.namespace_resources, *shared]),
                opts=child,
            )
        self.namespace = args.config.namespace if args.config.enabled else None
        self.target = args.config.target if args.config.enabled else RenderTarget.ISTIO
        self.register_outputs({"namespace": self.namespace, "apps": sorted(self.apps)})
