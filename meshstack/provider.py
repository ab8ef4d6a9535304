"""meshstack as a Pulumi component provider, for programs in other languages (TypeScript, YAML …).

Installing meshstack puts the plugin executable ``pulumi-resource-meshstack`` (it runs
:func:`serve`) beside the ``meshstack`` command; ``pulumi package add <venv>/bin/pulumi-resource-meshstack``
then gives a TypeScript program ``new meshstack.MeshPlatform(...)`` and a YAML program
``type: meshstack:MeshApp``. The schema is inferred from the annotations below, so the inputs are
the types every Pulumi language has: strings, numbers, lists, maps, and config-form sections
(``mesh``, ``gateways``, ``addons``, ``spec``) validated by the same model as stack config, with the
same path-named errors.

This module avoids ``from __future__ import annotations``: the schema analyzer reads the
annotations as types.
"""

from typing import Any, TypedDict

import pulumi
from pulumi.provider.experimental import component_provider_host

from meshstack.components.app import MeshApp as _LibraryMeshApp
from meshstack.components.app import MeshAppArgs as _LibraryMeshAppArgs
from meshstack.components.mesh_reference import MeshReference
from meshstack.components.platform import MeshPlatform as _LibraryMeshPlatform
from meshstack.components.platform import MeshPlatformArgs as _LibraryMeshPlatformArgs
from meshstack.errors import ConfigError
from meshstack.model.app import AppSpec
from meshstack.model.base import from_wire
from meshstack.model.platform import PlatformSpec
from meshstack.model.refs import GatewayKind, GatewayRef, MeshRef
from meshstack.model.target import RenderTarget

PACKAGE = "meshstack"


class MeshPlatformArgs(TypedDict):
    environment: str
    """dev or prod: the defaults under everything left unset, and the rules (prod: STRICT mTLS …)."""
    kubeconfig: pulumi.Input[str] | None
    """A kubeconfig (its contents): the platform deploys with a provider of its own."""
    mesh: dict[str, Any] | None
    """The ``meshstack:mesh`` section in config form (docs/config.md)."""
    gateways: dict[str, Any] | None
    """The ``meshstack:gateways`` section in config form."""
    addons: dict[str, Any] | None
    """The ``meshstack:addons`` section in config form."""
    namespaces: list[str] | None
    """Workload namespaces to create, labelled for injection."""
    secrets_generator: str | None
    """random (pulumi-random) or builtin (no provider plugin)."""


class MeshPlatform(pulumi.ComponentResource):
    """The Istio control plane (official charts), workload namespaces, gateways and addons."""

    control_plane_namespace: pulumi.Output[str]
    """The control-plane namespace."""
    injection_labels: pulumi.Output[dict[str, str]]
    """The label of workload namespaces (for namespaces created elsewhere)."""
    ingress_gateway: pulumi.Output[str]
    """The ingress Gateway apps attach to, ``namespace/name`` (empty when there is none)."""
    addon_urls: pulumi.Output[dict[str, str]]
    """In-cluster URL of every enabled addon."""

    def __init__(self, name: str, args: MeshPlatformArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = from_wire(args)
        config: dict[str, Any] = {"environment": args.get("environment")}
        for key in ("mesh", "gateways", "addons"):
            if args.get(key) is not None:
                config[key] = args.get(key)
        if args.get("namespaces"):
            config["namespaces"] = {ns: {} for ns in args.get("namespaces") or []}
        if args.get("secrets_generator"):
            config["secrets"] = {"generator": args.get("secrets_generator")}
        spec = PlatformSpec.parse(config)  # config-form input, config-path errors
        super().__init__(f"{PACKAGE}:index:MeshPlatform", name, None, opts)
        platform = _LibraryMeshPlatform(
            name,
            _LibraryMeshPlatformArgs.from_spec(spec, kubeconfig=args.get("kubeconfig")),
            pulumi.ResourceOptions(parent=self),
        )
        ingress = platform.mesh.ingress
        self.control_plane_namespace = platform.control_plane_namespace
        self.injection_labels = pulumi.Output.from_input(dict(platform.mesh.ref.injection_labels))
        self.ingress_gateway = pulumi.Output.from_input(ingress.qualified if ingress is not None else "")
        self.addon_urls = platform.addon_urls
        self.register_outputs(
            {
                "controlPlaneNamespace": self.control_plane_namespace,
                "injectionLabels": self.injection_labels,
                "ingressGateway": self.ingress_gateway,
                "addonUrls": self.addon_urls,
            }
        )


class AppVersionArgs(TypedDict):
    image: pulumi.Input[str]
    """The container image (may come from another resource)."""
    replicas: int | None
    """Pods. Default: 1."""


class MeshAppArgs(TypedDict):
    namespace: str
    """The app's namespace (a workload namespace of the mesh)."""
    versions: dict[str, AppVersionArgs]
    """Deployments by version name (v1, v2 …)."""
    port: int | None
    """The Service port. Default: 8080."""
    weights: dict[str, int] | None
    """A weighted split between versions (summing to 100), e.g. a canary {v1: 90, v2: 10}."""
    expose_paths: list[str] | None
    """Path prefixes the ingress gateway serves the app on."""
    ingress_gateway: str | None
    """The Istio Gateway to expose through, ``namespace/name`` (MeshPlatform.ingressGateway)."""
    spec: dict[str, Any] | None
    """Any other app setting in config form (routes, circuitBreaker, authorization …; docs/apps.md)."""


class MeshApp(pulumi.ComponentResource):
    """A service of the mesh: Deployments per version, Service, DestinationRule, routes, policies."""

    url: pulumi.Output[str]
    """In-cluster URL of the app."""
    versions: pulumi.Output[list[str]]
    """The app's versions."""

    def __init__(self, name: str, args: MeshAppArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = from_wire(args)
        # Maps cross the wire unordered: order by name, or every preview would reorder routes.
        versions = dict(sorted((args.get("versions") or {}).items()))
        config: dict[str, Any] = dict(args.get("spec") or {})
        config["ports"] = [{"port": args.get("port") or 8080}]
        config["versions"] = {v: {"replicas": a.get("replicas") or 1} for v, a in versions.items()}
        if args.get("weights"):
            weights = sorted((args.get("weights") or {}).items())
            config["routes"] = [{"to": [{"version": v, "weight": w} for v, w in weights]}]
        if args.get("expose_paths"):
            config["expose"] = {"paths": [{"prefix": p} for p in args.get("expose_paths") or []]}
        app = AppSpec.parse(config)
        mesh = MeshReference(MeshRef(ingress=_gateway(args.get("ingress_gateway"))))
        super().__init__(f"{PACKAGE}:index:MeshApp", name, None, opts)
        inner = _LibraryMeshApp(
            name,
            _LibraryMeshAppArgs(
                app=app,
                mesh=mesh,
                namespace=args["namespace"],
                target=RenderTarget.ISTIO,
                images={v: a["image"] for v, a in versions.items()},
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.url = pulumi.Output.from_input(inner.url)
        self.versions = pulumi.Output.from_input(inner.versions)
        self.register_outputs({"url": self.url, "versions": self.versions})


def _gateway(qualified: str | None) -> GatewayRef | None:
    if not qualified:
        return None
    namespace, _, name = qualified.partition("/")
    if not name:
        raise ConfigError.single("ingressGateway", f"expected namespace/name, got {qualified!r}")
    return GatewayRef(name=name, namespace=namespace, kind=GatewayKind.ISTIO)


def serve() -> None:
    """Host the components as the ``meshstack`` provider (the ``pulumi-resource-meshstack`` executable)."""
    component_provider_host(name=PACKAGE, components=[MeshPlatform, MeshApp])
