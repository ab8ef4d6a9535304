"""Pinned upstream versions, in one place. Stack config may override the Istio version."""

#: Istio release installed when a stack does not set ``mesh.version`` (charts base/istiod/gateway).
#: 1.29.1 is the newest release whose chart sources the Go module proxy serves (istio.io/istio at the
#: tag's commit; no 1.30.x commit is served), so offline charts exist for it: scripts/istio_charts.sh,
#: docs/offline-charts.md.
ISTIO_VERSION = "1.29.1"
#: Official Istio Helm chart repository (override with ``mesh.chartRepository`` for a mirror,
#: an ``oci://`` registry or a local directory of unpacked charts).
ISTIO_CHART_REPOSITORY = "https://istio-release.storage.googleapis.com/charts"
#: Kubernetes Gateway API CRDs installed when a stack chooses Gateway API (standard channel).
GATEWAY_API_VERSION = "v1.4.0"
#: Where the Gateway API CRDs come from by default: the upstream release manifest of that version
#: (standard channel). ``gateways.gatewayApiCrds`` points at a local copy for air-gapped sites.
GATEWAY_API_CRDS_URL = (
    f"https://github.com/kubernetes-sigs/gateway-api/releases/download/{GATEWAY_API_VERSION}/standard-install.yaml"
)

# Observability addons, installed as typed native manifests (meshstack/render/addons/).
#: Prometheus server image tag.
PROMETHEUS_VERSION = "v3.7.3"
#: Grafana image tag.
GRAFANA_VERSION = "12.3.0"
#: Jaeger v2 (all-in-one, in-memory storage) image tag.
JAEGER_VERSION = "2.12.0"
#: Kiali server image tag.
KIALI_VERSION = "v2.18.0"
#: Release of the ``istio.io/api`` Go module whose CRDs (``kubernetes/customresourcedefinitions.gen.yaml``,
#: the source of Istio's ``crd-all.gen.yaml``) validate rendered Istio resources in tests. Same minor
#: as ISTIO_VERSION.
ISTIO_API_SCHEMA_VERSION = "v1.29.1"
