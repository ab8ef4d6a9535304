"""The Istio control plane: version, chart source, profile, revisions, mesh-wide defaults, sizing."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, Field, model_validator

from meshstack.errors import allowing, fail, fail_all
from meshstack.model.base import Model, Name, PositiveInt
from meshstack.model.external_service import ExternalService
from meshstack.model.profile import Profile, ProfileName
from meshstack.model.release import MESH_RELEASE
from meshstack.model.resources import Resources
from meshstack.model.revision import (
    DEFAULT_TAG,
    VERSION_PATTERN,
    VERSION_TEXT,
    InstalledRevision,
    Revision,
    version_tuple,
)
from meshstack.model.rollout.metric import MetricSource
from meshstack.model.tls import MtlsMode
from meshstack.versions import ISTIO_CHART_REPOSITORY, ISTIO_VERSION

_URL = re.compile(r"^(https?|oci)://[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?(:[0-9]{1,5})?(/[-A-Za-z0-9._~%/{}]*)?$")
_LOCAL = re.compile(r"^(file://)?(/|~/)[-A-Za-z0-9._~/{}+@]*$")


def _chart_repository(value: str) -> str:
    if _URL.fullmatch(value) or _LOCAL.fullmatch(value):
        return value
    raise fail(
        f"{value!r} is neither a chart repository URL (https://host/path, oci://registry/path) nor an absolute "
        "local directory (/path or ~/path, {version} allowed)"
    )


#: Where Istio's charts come from: a Helm repository (https://; http:// outside prod), an OCI
#: registry (oci://), or an absolute local directory of unpacked charts.
ChartRepository = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2048,
        json_schema_extra=allowing("https://host/path, oci://registry/path or an absolute directory"),
    ),
    AfterValidator(_chart_repository),
]


class PodSecurityLevel(StrEnum):
    """Pod Security Admission level enforced on workload namespaces. privileged: none enforced."""

    PRIVILEGED = "privileged"
    BASELINE = "baseline"
    RESTRICTED = "restricted"


class OutboundTrafficPolicy(StrEnum):
    """ALLOW_ANY: sidecars pass traffic to unknown hosts. REGISTRY_ONLY: only to services in the
    registry (Kubernetes services and ServiceEntries)."""

    ALLOW_ANY = "ALLOW_ANY"
    REGISTRY_ONLY = "REGISTRY_ONLY"


class TracingConfig(Model):
    """Distributed tracing for the whole mesh (a Telemetry resource in the root namespace). Spans go
    to Jaeger when the Jaeger addon is enabled (registered as the ``jaeger`` extension provider)."""

    enabled: bool = Field(True, description="Emit spans from every sidecar. false: no tracing at all.")
    sampling: float = Field(
        1.0,
        ge=0,
        le=100,
        json_schema_extra=allowing("a percentage of requests traced, between 0 and 100"),
    )


class IstiodConfig(Model):
    """Sizing and availability of istiod (every revision gets the same)."""

    replicas: PositiveInt = Field(1, description="Replicas when autoscaling is off; the HPA minimum when on.")
    autoscale_max: PositiveInt | None = Field(
        None, description="Maximum replicas of an HPA. Unset: no HPA, a fixed replica count."
    )
    pdb_min_available: int | None = Field(
        None,
        ge=1,
        description="PodDisruptionBudget minAvailable. Unset: no PDB (istiod's chart only makes one with >1 replica).",
    )
    resources: Resources = Field(
        default_factory=lambda: Resources.of("500m", "2Gi"),
        description="istiod container resources. Unset: the profile's (default: 500m/2048Mi, demo: 10m/100Mi).",
    )

    def sizing_problems(self) -> list[tuple[str, str]]:
        """HPA and PDB against the replica count (checked on the complete spec: an environment may
        set the replicas, so an IstiodConfig built alone cannot know them)."""
        problems: list[tuple[str, str]] = []
        if self.autoscale_max is not None and self.autoscale_max < self.replicas:
            problems.append(
                ("autoscaleMax", f"must be >= replicas ({self.replicas}); the HPA maximum cannot be below its minimum")
            )
        if self.pdb_min_available is not None and self.pdb_min_available >= self.replicas:
            problems.append(
                (
                    "pdbMinAvailable",
                    f"must be < replicas ({self.replicas}); otherwise no istiod pod may ever be evicted "
                    "and node drains hang",
                )
            )
        return problems


class ProxyFlavor(StrEnum):
    """Which Envoy the proxies run. ``istio``: Istio's own (the ``proxyv2`` image, Envoy with Istio's
    extensions: ALPN, metadata exchange, the ``istio_requests_total`` stats). ``upstream-envoy``:
    upstream Envoy without them (a cluster whose proxy image is built from upstream Envoy, such as
    meshstack's embedded one): istiod is told not to emit those extensions, and rollouts analyse
    Envoy's own per-cluster statistics instead of Istio's standard metrics (docs/rollouts.md)."""

    ISTIO = "istio"
    UPSTREAM_ENVOY = "upstream-envoy"


class ProxyConfig(Model):
    """The sidecar (istio-proxy) injected into every workload pod."""

    resources: Resources = Field(
        default_factory=lambda: Profile.default().proxy_resources,
        description="Sidecar resources. Unset: the profile's (default: 100m/128Mi, demo: 10m/40Mi).",
    )
    flavor: ProxyFlavor = Field(
        ProxyFlavor.ISTIO,
        strict=False,
        description="Which Envoy the proxies run: istio (Istio's proxyv2) or upstream-envoy (without Istio's "
        "extensions; prod refuses it). Default: istio.",
    )
    hold_application_until_proxy_starts: bool = Field(
        False,
        description="Start an injected pod's app only once its proxy is ready (an app that calls out at start-up "
        "otherwise races its proxy and fails). Default: false; prod: true.",
    )

    @property
    def metric_source(self) -> MetricSource:
        """What rollouts analyse: Istio's standard metrics, or Envoy's own where the proxy lacks them."""
        return MetricSource.ENVOY if self.flavor is ProxyFlavor.UPSTREAM_ENVOY else MetricSource.ISTIO


class MeshConfig(Model):
    """The ``meshstack:mesh`` section: the Istio control plane and its mesh-wide defaults."""

    version: str = Field(
        ISTIO_VERSION,
        pattern=VERSION_PATTERN,
        description="The chart version of base (the CRDs) and of every revision that does not name its own.",
        json_schema_extra={**MESH_RELEASE, **allowing(VERSION_TEXT)},
    )
    chart_repository: ChartRepository = Field(
        ISTIO_CHART_REPOSITORY,
        description="Where the charts come from: an https:// Helm repository, an oci:// registry, or a local "
        "directory holding unpacked base/, istiod/ and gateway/ charts (air-gapped installs; a {version} in its "
        "path is replaced by each revision's Istio version, see scripts/istio_charts.sh).",
    )
    namespace: Name = Field("istio-system", description="The control-plane (root) namespace.")
    profile: ProfileName = Field(
        ProfileName.DEFAULT,
        strict=False,
        description="The preset (mirroring istioctl's profiles) for every value the stack leaves unset: "
        "default (istiod + ingress), demo (+ egress, access logs, 100% tracing, tiny requests), minimal (istiod only).",
    )
    revisions: list[Revision] = Field(
        default_factory=list,
        description="istiod revisions installed side by side (canary upgrades). Unset: one unnamed revision "
        "(release istiod) at mesh.version.",
    )
    tags: dict[Name, Name] = Field(
        default_factory=dict,
        description="Revision tags: stable names (prod-stable) pointing at a revision; namespaces point at a tag "
        "and an upgrade moves the tag. Only with named revisions.",
    )
    default_revision: Name | None = Field(
        None,
        description="With named revisions: the revision serving istio-injection=enabled namespaces and the "
        "cluster-wide validation webhook. Unset: the first revision.",
    )
    workload_revision: Name | None = Field(
        None,
        description="The revision or tag workload namespaces (and the apps) are labelled for when they do not "
        "name one (istio.io/rev=<it>). Unset: istio-injection=enabled.",
    )
    mtls: MtlsMode = Field(
        MtlsMode.PERMISSIVE,
        strict=False,
        description="Mesh-wide mTLS mode (PeerAuthentication in the root namespace).",
        json_schema_extra={"enum": ["STRICT", "PERMISSIVE", "DISABLE"]},
    )
    access_logging: bool = Field(
        False, description="Envoy access logs to stdout on every sidecar. Unset: the profile's (on for demo)."
    )
    tracing: TracingConfig = Field(default_factory=TracingConfig)
    outbound_traffic_policy: OutboundTrafficPolicy = Field(
        OutboundTrafficPolicy.ALLOW_ANY, strict=False, description="Where sidecars may send unknown traffic."
    )
    external_services: dict[Name, ExternalService] = Field(
        default_factory=dict,
        description="Hosts outside the mesh workloads may call (ServiceEntries); what REGISTRY_ONLY lets through.",
    )
    cni: bool = Field(
        False,
        description="Install istio-cni, so injected pods need no istio-init container (NET_ADMIN, NET_RAW): "
        "required for Pod Security baseline or restricted on workload namespaces.",
    )
    pod_security: PodSecurityLevel = Field(
        PodSecurityLevel.PRIVILEGED,
        strict=False,
        description="Pod Security Admission level enforced on workload namespaces and the apps namespace.",
    )
    default_deny: bool = Field(
        False,
        description="A mesh-wide AuthorizationPolicy that allows nothing: each app opens what it serves "
        "(authorization), exposed apps are opened to the ingress gateway, the gateways to their clients.",
    )
    network_policies: bool = Field(
        False,
        description="NetworkPolicies: every meshstack namespace denies ingress except from the mesh's own "
        "namespaces (istiod's ports and the ingress gateway are open to all).",
    )
    istiod: IstiodConfig = Field(default_factory=IstiodConfig)
    proxy: ProxyConfig = Field(default_factory=ProxyConfig)
    retain_on_delete: bool = Field(
        False,
        description="Keep CRDs and the control-plane namespace in the cluster when the stack is destroyed "
        "(deleting a CRD deletes every resource of its kind). false: destroy purges them.",
    )
    protect: bool = Field(False, description="Refuse to delete CRDs and the control-plane namespace (pulumi protect).")

    @classmethod
    def layered_defaults(cls, given: Mapping[str, Any]) -> dict[str, Any]:
        """Values the caller leaves unset come from the profile (explicit values always win)."""
        try:
            profile = Profile.named(given.get("profile", ProfileName.DEFAULT))
        except ValueError:
            return {}  # the field validator reports the bad profile name
        return {
            "accessLogging": profile.access_logging,
            "tracing": {"sampling": profile.trace_sampling},
            "istiod": {"resources": profile.istiod_resources},
            "proxy": {"resources": profile.proxy_resources},
        }

    @model_validator(mode="after")
    def _revisions_consistent(self) -> MeshConfig:
        problems: list[tuple[str, str]] = []
        if self.mtls is MtlsMode.UNSET:
            problems.append(
                ("mtls", "UNSET inherits from a parent and the mesh has none; allowed: STRICT, PERMISSIVE, DISABLE")
            )
        names = [r.name for r in self.revisions]
        base = version_tuple(self.version)
        for i, rev in enumerate(self.revisions):
            if names.index(rev.name) != i:
                problems.append((f"revisions[{i}].name", f"revision {rev.name} is listed twice; names must be unique"))
            if rev.version and version_tuple(rev.version) > base:
                problems.append(
                    (
                        f"revisions[{i}].version",
                        f"{rev.version} is newer than mesh.version {self.version}, which installs the CRDs "
                        "(base chart); raise mesh.version to the newest revision first",
                    )
                )
        known = ", ".join(names) or "none (set mesh.revisions first)"
        for tag, target in self.tags.items():
            if tag == DEFAULT_TAG:
                problems.append((f"tags.{tag}", "the default tag is reserved; set mesh.defaultRevision instead"))
            elif tag in names:
                problems.append(
                    (f"tags.{tag}", f"tag {tag} has the name of a revision; tags and revisions share one namespace")
                )
            if target not in names:
                problems.append(
                    (f"tags.{tag}", f"points at revision {target}, which is not installed; revisions: {known}")
                )
        if self.default_revision is not None and self.default_revision not in names:
            problems.append(
                ("defaultRevision", f"revision {self.default_revision} is not installed; revisions: {known}")
            )
        if self.workload_revision is not None and self.workload_revision not in self.injection_targets:
            problems.append(
                (
                    "workloadRevision",
                    f"{self.workload_revision} is neither a revision nor a tag; allowed: "
                    + (", ".join(self.injection_targets) or "none (set mesh.revisions first)"),
                )
            )
        if err := fail_all(problems):
            raise err
        return self

    def layered_problems(self) -> list[tuple[str, str]]:
        """Rules over values an environment may set (checked on the complete platform spec)."""
        problems = [(f"istiod.{p}", m) for p, m in self.istiod.sizing_problems()]
        if self.pod_security is not PodSecurityLevel.PRIVILEGED and not self.cni:
            problems.append(
                (
                    "podSecurity",
                    f"{self.pod_security.value} refuses the istio-init container sidecar injection adds "
                    "(NET_ADMIN, NET_RAW); set mesh.cni: true (or podSecurity: privileged)",
                )
            )
        return problems

    # --- derived ------------------------------------------------------------------------------

    @property
    def chart_version(self) -> str:
        """The version of the base chart (CRDs and the default validator)."""
        return self.version

    @property
    def preset(self) -> Profile:
        return Profile.named(self.profile)

    @property
    def installed_revisions(self) -> list[InstalledRevision]:
        """Every istiod to install; one unnamed revision when ``revisions`` is empty."""
        if not self.revisions:
            return [InstalledRevision(None, self.version)]
        return [InstalledRevision(r.name, r.version or self.version) for r in self.revisions]

    @property
    def default_revision_name(self) -> str | None:
        """The revision owning the defaults (``istio-injection=enabled``, the default validator)."""
        if not self.revisions:
            return None
        return self.default_revision or self.revisions[0].name

    @property
    def injection_targets(self) -> list[str]:
        """Everything ``istio.io/rev`` may name: revisions and tags."""
        return [r.name for r in self.revisions] + list(self.tags)

    def injection_labels(self, target: str | None = None) -> dict[str, str]:
        """The one injection label of a workload namespace labelled for ``target`` (a revision or a
        tag; None: ``workload_revision``, and if that is unset ``istio-injection=enabled``)."""
        target = target or self.workload_revision
        if target is None:
            return {"istio-injection": "enabled"}
        return {"istio.io/rev": target}
