"""The Istio control plane: version, chart source, revision, mesh-wide defaults, istiod sizing."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from meshstack.errors import fail
from meshstack.model.base import Model, PositiveInt
from meshstack.model.resources import Resources
from meshstack.versions import ISTIO_CHART_REPOSITORY, ISTIO_VERSION


class MtlsMode(StrEnum):
    """Mesh-wide PeerAuthentication mode. STRICT: only mTLS accepted. PERMISSIVE: mTLS and
    plaintext (migration). DISABLE: plaintext only."""

    STRICT = "STRICT"
    PERMISSIVE = "PERMISSIVE"
    DISABLE = "DISABLE"


class OutboundTrafficPolicy(StrEnum):
    """ALLOW_ANY: sidecars pass traffic to unknown hosts. REGISTRY_ONLY: only to services in the
    registry (Kubernetes services and ServiceEntries)."""

    ALLOW_ANY = "ALLOW_ANY"
    REGISTRY_ONLY = "REGISTRY_ONLY"


class TracingConfig(Model):
    """Distributed tracing for the whole mesh (a Telemetry resource in the root namespace)."""

    enabled: bool = Field(True, description="Emit spans from every sidecar. false: no tracing at all.")
    sampling: float = Field(
        1.0,
        ge=0,
        le=100,
        description="allowed: a percentage of requests traced, between 0 and 100",
    )


class IstiodConfig(Model):
    """Sizing and availability of istiod."""

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
        default_factory=lambda: Resources.of("500m", "2Gi"), description="istiod container resources."
    )

    @model_validator(mode="after")
    def _consistent(self) -> IstiodConfig:
        if self.autoscale_max is not None and self.autoscale_max < self.replicas:
            raise fail(
                f"must be >= replicas ({self.replicas}); the HPA maximum cannot be below its minimum",
                "autoscaleMax",
            )
        if self.pdb_min_available is not None and self.pdb_min_available >= self.replicas:
            raise fail(
                f"must be < replicas ({self.replicas}); otherwise no istiod pod may ever be evicted "
                "and node drains hang",
                "pdbMinAvailable",
            )
        return self


class MeshConfig(Model):
    """The ``meshstack:mesh`` section: the Istio control plane and its mesh-wide defaults."""

    version: str = Field(
        ISTIO_VERSION,
        pattern=r"^1\.\d+\.\d+(-[0-9A-Za-z.-]+)?$",
        description="allowed: an Istio release such as 1.30.0 (the chart version of base and istiod)",
    )
    chart_repository: str = Field(
        ISTIO_CHART_REPOSITORY,
        min_length=1,
        description="Where the charts come from: an https:// Helm repository, an oci:// registry, or a local "
        "directory holding unpacked base/ and istiod/ charts (air-gapped installs).",
    )
    namespace: str = Field(
        "istio-system",
        pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
        description="allowed: a DNS label; the control-plane namespace",
    )
    revision: str | None = Field(
        None,
        pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
        description="allowed: a DNS label naming the control-plane revision (e.g. 1-30-0); unset installs the default revision",
    )
    mtls: MtlsMode = Field(
        MtlsMode.PERMISSIVE, strict=False, description="Mesh-wide mTLS mode (PeerAuthentication in the root namespace)."
    )
    access_logging: bool = Field(True, description="Envoy access logs to stdout on every sidecar.")
    tracing: TracingConfig = Field(default_factory=TracingConfig)
    outbound_traffic_policy: OutboundTrafficPolicy = Field(OutboundTrafficPolicy.ALLOW_ANY, strict=False)
    istiod: IstiodConfig = Field(default_factory=IstiodConfig)
    retain_on_delete: bool = Field(
        False,
        description="Keep CRDs and the control-plane namespace in the cluster when the stack is destroyed "
        "(deleting a CRD deletes every resource of its kind).",
    )
    protect: bool = Field(False, description="Refuse to delete CRDs and the control-plane namespace (pulumi protect).")

    @property
    def chart_version(self) -> str:
        return self.version
