"""Observability addons (the ``meshstack:addons`` section): Prometheus, Grafana, Jaeger, Kiali.

Each is optional and pinned (``meshstack/versions.py``; ``version`` overrides the image tag). They
are wired together: Grafana and Kiali read Prometheus, Kiali links Grafana and Jaeger, and the
mesh sends spans to Jaeger. A dashboard needing a disabled addon is a config error.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from meshstack.errors import allowing
from meshstack.model.base import MemoryQuantity, Model, Name
from meshstack.versions import GRAFANA_VERSION, JAEGER_VERSION, KIALI_VERSION, PROMETHEUS_VERSION

IMAGE_TAG = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
#: An image digest pinning the tag's content (``sha256:`` and 64 hex digits).
Digest = Annotated[
    str, Field(pattern=r"^sha256:[a-f0-9]{64}$", json_schema_extra=allowing("sha256: and 64 lowercase hex digits"))
]


class Pinned(Model):
    """An addon's image: a release tag, optionally pinned to the content by ``digest``."""

    digest: Digest | None = Field(None, description="Pin the image by digest (repo:tag@sha256:…). Unset: the tag.")

    def image(self, repository: str, tag: str) -> str:
        return f"{repository}:{tag}@{self.digest}" if self.digest else f"{repository}:{tag}"


class DashboardAuth(StrEnum):
    """How users sign in to a dashboard. anonymous: nobody signs in (dev only). login: a user and a
    generated password (Grafana) or a service-account token (Kiali)."""

    ANONYMOUS = "anonymous"
    LOGIN = "login"


class PrometheusStorage(Model):
    """Where Prometheus keeps its TSDB."""

    persistent: bool = Field(
        False, description="A PersistentVolumeClaim (survives restarts). false: an emptyDir capped at size."
    )
    size: MemoryQuantity = Field("20Gi", description="Volume size; retention by size stays below it.")
    storage_class: Name | None = Field(None, description="StorageClass of the claim. Unset: the cluster's default.")


class PrometheusAddon(Pinned):
    """Prometheus scraping istiod (:15014) and every pod's merged Istio + app stats (:15020)."""

    enabled: bool = Field(True, description="Install Prometheus.")
    version: str = Field(PROMETHEUS_VERSION, pattern=IMAGE_TAG, description="prom/prometheus image tag.")
    scrape_interval: str = Field(
        "15s", pattern=r"^[0-9]{1,5}(s|m)$", json_schema_extra=allowing("a scrape interval such as 15s or 1m")
    )
    retention: str = Field(
        "15d", pattern=r"^[0-9]{1,5}(h|d|w)$", json_schema_extra=allowing("a retention such as 6h, 15d or 2w")
    )
    storage: PrometheusStorage = Field(default_factory=PrometheusStorage)


class GrafanaAddon(Pinned):
    """Grafana with the Prometheus datasource and meshstack's Istio dashboards."""

    enabled: bool = Field(True, description="Install Grafana (needs Prometheus).")
    version: str = Field(GRAFANA_VERSION, pattern=IMAGE_TAG, description="grafana/grafana image tag.")
    auth: DashboardAuth = Field(DashboardAuth.LOGIN, strict=False, description="Sign-in; anonymous is refused in prod.")
    admin_user: str = Field("admin", min_length=1, description="The admin user; its password is generated.")
    replicas: int = Field(1, ge=1, le=5, description="Pods (its sqlite store is per pod). More than 1: a PDB.")


class JaegerAddon(Pinned):
    """Jaeger all-in-one (in-memory), the mesh's tracing extension provider ``jaeger``."""

    enabled: bool = Field(True, description="Install Jaeger and send the mesh's spans to it.")
    version: str = Field(JAEGER_VERSION, pattern=IMAGE_TAG, description="jaegertracing/jaeger image tag.")
    max_traces: int = Field(50_000, ge=1000, description="Traces kept in memory.")


class KialiAddon(Pinned):
    """Kiali, reading Prometheus and linking Grafana and Jaeger."""

    enabled: bool = Field(True, description="Install Kiali (needs Prometheus).")
    version: str = Field(KIALI_VERSION, pattern=IMAGE_TAG, description="quay.io/kiali/kiali image tag.")
    auth: DashboardAuth = Field(
        DashboardAuth.LOGIN,
        strict=False,
        description="anonymous (dev only) or login (a Kubernetes service-account token); anonymous is refused in prod.",
    )
    replicas: int = Field(1, ge=1, le=5, description="Pods. More than 1: a PodDisruptionBudget.")


class AddonsConfig(Model):
    prometheus: PrometheusAddon = Field(default_factory=PrometheusAddon)
    grafana: GrafanaAddon = Field(default_factory=GrafanaAddon)
    jaeger: JaegerAddon = Field(default_factory=JaegerAddon)
    kiali: KialiAddon = Field(default_factory=KialiAddon)

    def problems(self) -> list[tuple[str, str]]:
        """Addons enabled without the addon they read (paths relative to ``addons``)."""
        out = []
        for name in ("grafana", "kiali"):
            if getattr(self, name).enabled and not self.prometheus.enabled:
                out.append((f"{name}.enabled", f"{name} reads Prometheus; enable addons.prometheus or disable {name}"))
        return out
