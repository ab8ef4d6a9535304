"""MeshControlPlane: namespace → base (CRDs) → istiod revisions → revision tags and mesh-wide
PeerAuthentication/Telemetry. ``ready`` is what everything needing Istio's webhooks waits for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from meshstack.components.k8s import helm_chart, kubernetes_object
from meshstack.model import arguments
from meshstack.model.mesh import MeshConfig
from meshstack.render import control_plane as render
from meshstack.render import istio_security
from meshstack.render.helm import chart_source
from meshstack.render.revision_tags import revision_tag_webhooks, tag_targets

WEBHOOK_TYPES = frozenset(
    {
        "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration",
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration",
    }
)
#: Fields istiod writes on its own webhooks after install: the CA it generated, and
#: ``failurePolicy`` (Ignore → Fail once it serves). Pulumi must not fight it on every update.
ISTIOD_OWNED_WEBHOOK_FIELDS = ("webhooks[*].clientConfig.caBundle", "webhooks[*].failurePolicy")


@dataclass(frozen=True)
class MeshControlPlaneArgs:
    """Inputs of :class:`MeshControlPlane`."""

    mesh: MeshConfig
    #: istiod ``meshConfig.extensionProviders`` (e.g. the Jaeger addon's OTLP provider).
    extension_providers: list[dict[str, Any]] = field(default_factory=list)
    #: The provider the mesh Telemetry sends spans to (None: Istio's default).
    tracing_provider: str | None = None
    #: NetworkPolicies of the control-plane namespace (rendered by the platform, which knows the addons).
    network_policies: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        arguments.prepare(self)


def retain_crds(mesh: MeshConfig) -> pulumi.ResourceTransform:
    """A transform for the base chart: CRDs get ``retain_on_delete``/``protect`` from the mesh config.

    Deleting a CRD deletes every object of its kind, so prod keeps them on destroy. The transform
    only touches CustomResourceDefinitions: the default validating webhook is always deleted.
    """

    def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if args.type_ != "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition":
            return None
        opts = pulumi.ResourceOptions.merge(
            args.opts, pulumi.ResourceOptions(retain_on_delete=mesh.retain_on_delete, protect=mesh.protect)
        )
        return pulumi.ResourceTransformResult(props=args.props, opts=opts)

    return transform


def ignore_istiod_webhook_fields(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """A chart transform: webhook configurations ignore the fields istiod mutates (no perpetual diff)."""
    if args.type_ not in WEBHOOK_TYPES:
        return None
    opts = pulumi.ResourceOptions.merge(
        args.opts, pulumi.ResourceOptions(ignore_changes=list(ISTIOD_OWNED_WEBHOOK_FIELDS))
    )
    return pulumi.ResourceTransformResult(props=args.props, opts=opts)


class MeshControlPlane(pulumi.ComponentResource):
    """The Istio control plane from the official charts, ordered and health-gated.

    helm.v4.Chart awaits every object it renders (istiod's Deployment until available, so its
    webhooks serve) before a dependent starts; ``ready`` lists what dependents should wait for.
    """

    namespace: pulumi.Output[str]

    def __init__(self, name: str, args: MeshControlPlaneArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        arguments.refuse(
            [
                *arguments.check_call(MeshControlPlane.__init__, name=name, opts=opts),
                *arguments.problems_of(args, MeshControlPlaneArgs),
            ]
        )
        super().__init__("meshstack:control_plane:MeshControlPlane", name, None, opts)
        mesh = args.mesh

        ns_manifest = render.control_plane_namespace(mesh)
        self.ns = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=ns_manifest["metadata"],
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=mesh.retain_on_delete, protect=mesh.protect),
        )
        self.base = helm_chart(
            f"{name}-base",
            chart_source(mesh.chart_repository, "base", mesh.chart_version),
            mesh.namespace,
            render.base_values(mesh),
            pulumi.ResourceOptions(
                parent=self, depends_on=[self.ns], transforms=[retain_crds(mesh), ignore_istiod_webhook_fields]
            ),
            release_name="istio-base",
        )
        self.cni: k8s.helm.v4.Chart | None = None
        if mesh.cni:
            # Before any istiod: injected pods rely on the node agent instead of istio-init.
            self.cni = helm_chart(
                f"{name}-cni",
                chart_source(mesh.chart_repository, "cni", mesh.chart_version),
                mesh.namespace,
                render.cni_values(mesh),
                pulumi.ResourceOptions(parent=self, depends_on=[self.base]),
                release_name="istio-cni",
            )
        self.istiods: dict[str, k8s.helm.v4.Chart] = {}
        for rev in mesh.installed_revisions:
            suffix = f"-{rev.name}" if rev.name else ""
            self.istiods[rev.key] = helm_chart(
                f"{name}-istiod{suffix}",
                chart_source(mesh.chart_repository, "istiod", rev.version),
                mesh.namespace,
                render.istiod_values(mesh, rev, args.extension_providers),
                pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[self.base, *([self.cni] if self.cni is not None else [])],
                    transforms=[ignore_istiod_webhook_fields],
                ),
                release_name=rev.release,
            )
        istiods = list(self.istiods.values())
        self.tags: dict[str, pulumi.CustomResource] = {}
        targets = tag_targets(mesh)
        for tag, manifest in revision_tag_webhooks(mesh).items():
            self.tags[tag] = kubernetes_object(
                f"{name}-tag-{tag}",
                manifest,
                pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[self.istiods[targets[tag]]],
                    ignore_changes=list(ISTIOD_OWNED_WEBHOOK_FIELDS),
                ),
            )
        after_istiod = pulumi.ResourceOptions(parent=self, depends_on=[self.base, *istiods])
        self.peer_authentication = kubernetes_object(
            f"{name}-mtls", render.mesh_peer_authentication(mesh), after_istiod
        )
        self.telemetry = kubernetes_object(
            f"{name}-telemetry", render.mesh_telemetry(mesh, args.tracing_provider), after_istiod
        )
        self.service_entries = [
            kubernetes_object(f"{name}-serviceentry-{m['metadata']['name']}", m, after_istiod)
            for m in render.service_entries(mesh)
        ]
        self.authorization: list[pulumi.CustomResource] = []
        if mesh.default_deny:
            deny = istio_security.mesh_allow_nothing(mesh.namespace)
            self.authorization.append(kubernetes_object(f"{name}-allow-nothing", deny, after_istiod))
        after_ns = pulumi.ResourceOptions(parent=self, depends_on=[self.ns])
        self.network_policies = [
            kubernetes_object(f"{name}-networkpolicy-{m['metadata']['name']}", m, after_ns)
            for m in args.network_policies
        ]
        #: What needs Istio's CRDs and webhooks waits for these.
        self.ready: list[pulumi.Resource] = [self.base, *istiods, *self.tags.values()]
        self.namespace = self.ns.metadata.name
        self.register_outputs({"namespace": self.namespace, "revisions": [r.release for r in mesh.installed_revisions]})
