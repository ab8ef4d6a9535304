"""Prometheus: scrapes istiod (:15014 http-monitoring) and every pod that asks to be scraped —
which includes each sidecar's merged Istio + app stats (istiod's ``enablePrometheusMerge``
annotates pods with ``prometheus.io/port: 15020``, ``path: /stats/prometheus``)."""

from __future__ import annotations

from typing import Any

import yaml

from meshstack.model.addons import PrometheusAddon
from meshstack.model.resources import Resources
from meshstack.render import kube
from meshstack.render.addons.common import (
    Endpoint,
    cluster_role,
    cluster_role_binding,
    config_map,
    config_volume,
    deployment,
    labels,
    mount,
    service,
    service_account,
)
from meshstack.render.kube import Manifest

NAME = "prometheus"
PORT = 9090
ISTIOD_MONITORING_PORT_NAME = "http-monitoring"


def endpoint(namespace: str) -> Endpoint:
    return Endpoint(NAME, namespace, PORT)


def scrape_config(addon: PrometheusAddon, mesh_namespace: str) -> dict[str, Any]:
    """prometheus.yml: itself, istiod's monitoring port, and annotation-driven pod scraping."""
    pods_relabel = [
        {"source_labels": ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"], "action": "keep", "regex": "true"},
        {"source_labels": ["__meta_kubernetes_pod_phase"], "action": "drop", "regex": "Pending|Succeeded|Failed"},
        {
            "source_labels": ["__meta_kubernetes_pod_annotation_prometheus_io_path"],
            "action": "replace",
            "target_label": "__metrics_path__",
            "regex": "(.+)",
        },
        {
            "source_labels": ["__meta_kubernetes_pod_ip", "__meta_kubernetes_pod_annotation_prometheus_io_port"],
            "action": "replace",
            "regex": "(.+);(\\d+)",
            "replacement": "$1:$2",
            "target_label": "__address__",
        },
        {"action": "labelmap", "regex": "__meta_kubernetes_pod_label_(.+)"},
        {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
        {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
    ]
    return {
        "global": {"scrape_interval": addon.scrape_interval, "evaluation_interval": addon.scrape_interval},
        "scrape_configs": [
            {"job_name": "prometheus", "static_configs": [{"targets": [f"localhost:{PORT}"]}]},
            {
                "job_name": "istiod",
                "kubernetes_sd_configs": [{"role": "endpoints", "namespaces": {"names": [mesh_namespace]}}],
                "relabel_configs": [
                    {
                        "source_labels": ["__meta_kubernetes_service_name", "__meta_kubernetes_endpoint_port_name"],
                        "action": "keep",
                        "regex": f"istiod(-.+)?;{ISTIOD_MONITORING_PORT_NAME}",
                    }
                ],
            },
            {
                "job_name": "kubernetes-pods",
                "kubernetes_sd_configs": [{"role": "pod"}],
                "relabel_configs": pods_relabel,
            },
        ],
    }


_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
          "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18, "": 1}  # fmt: skip


def quantity_bytes(quantity: str) -> float:
    """Bytes in a Kubernetes quantity (``20Gi``)."""
    number = quantity.rstrip("KMGTPEikmgtpe")
    return float(number) * _UNITS[quantity[len(number) :]]


def retention_size(volume: str) -> str:
    """Prometheus's size-based retention for a volume of ``volume``: 80%, in its own units (MB)."""
    return f"{int(quantity_bytes(volume) * 0.8 / 10**6)}MB"


def data_volume(addon: PrometheusAddon) -> dict[str, Any]:
    """The TSDB volume: the claim, or an emptyDir capped at the configured size."""
    if addon.storage.persistent:
        return {"name": "data", "persistentVolumeClaim": {"claimName": NAME}}
    return {"name": "data", "emptyDir": {"sizeLimit": addon.storage.size}}


def manifests(addon: PrometheusAddon, namespace: str) -> list[Manifest]:
    config = yaml.safe_dump(scrape_config(addon, namespace), sort_keys=False)
    rules = [
        {
            "apiGroups": [""],
            "resources": ["nodes", "nodes/metrics", "services", "endpoints", "pods"],
            "verbs": ["get", "list", "watch"],
        },
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]},
        {"nonResourceURLs": ["/metrics"], "verbs": ["get"]},
    ]
    claim = []
    if addon.storage.persistent:
        claim = [
            kube.persistent_volume_claim(NAME, namespace, labels(NAME), addon.storage.size, addon.storage.storage_class)
        ]
    return [
        *claim,
        service_account(NAME, namespace),
        cluster_role(NAME, rules),
        cluster_role_binding(NAME, namespace),
        config_map(NAME, namespace, NAME, {"prometheus.yml": config}),
        deployment(
            NAME,
            namespace,
            addon.image("docker.io/prom/prometheus", addon.version),
            # No --web.enable-lifecycle: nobody in the cluster can /-/quit or /-/reload it.
            args=[
                "--config.file=/etc/prometheus/prometheus.yml",
                "--storage.tsdb.path=/prometheus",
                f"--storage.tsdb.retention.time={addon.retention}",
                f"--storage.tsdb.retention.size={retention_size(addon.storage.size)}",
            ],
            ports=[("http", PORT)],
            ready_path="/-/ready",
            ready_port=PORT,
            resources=Resources.of("100m", "512Mi", cpu_limit="2", memory_limit="2Gi"),
            mounts=[mount("config", "/etc/prometheus"), mount("data", "/prometheus", read_only=False)],
            volumes=[config_volume("config", NAME), data_volume(addon)],
            service_account_name=NAME,
            reads_kubernetes_api=True,  # service discovery
            # A ReadWriteOnce claim cannot be mounted by the old and the new pod at once.
            strategy="Recreate" if addon.storage.persistent else None,
        ),
        service(NAME, namespace, NAME, [("http", PORT, PORT)]),
    ]
