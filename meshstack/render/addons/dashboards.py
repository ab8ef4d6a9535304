"""meshstack's Istio dashboards for Grafana, built from typed panels (not copied JSON).

Four dashboards mirroring what Istio's samples ship: mesh overview, service, workload and
control plane, all on Istio's standard metrics (``istio_requests_total``,
``istio_request_duration_milliseconds``, ``pilot_*``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

DATASOURCE = {"type": "prometheus", "uid": "prometheus"}


@dataclass(frozen=True)
class Panel:
    title: str
    expr: str
    legend: str = ""
    unit: str = "short"


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    panels: tuple[Panel, ...]
    variables: tuple[tuple[str, str], ...] = ()  # (name, label_values query)

    def to_json(self) -> dict[str, Any]:
        panels = []
        for i, p in enumerate(self.panels):
            panels.append(
                {
                    "id": i + 1,
                    "type": "timeseries",
                    "title": p.title,
                    "datasource": DATASOURCE,
                    "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i // 2) * 8},
                    "fieldConfig": {"defaults": {"unit": p.unit}, "overrides": []},
                    "targets": [{"refId": "A", "expr": p.expr, "legendFormat": p.legend, "datasource": DATASOURCE}],
                }
            )
        templating = [
            {
                "name": name,
                "type": "query",
                "datasource": DATASOURCE,
                "query": query,
                "refresh": 2,
                "includeAll": False,
            }
            for name, query in self.variables
        ]
        return {
            "uid": self.uid,
            "title": self.title,
            "tags": ["istio", "meshstack"],
            "schemaVersion": 39,
            "time": {"from": "now-30m", "to": "now"},
            "refresh": "30s",
            "templating": {"list": templating},
            "panels": panels,
        }


_DEST = 'reporter="destination"'
_SVC = f'{_DEST},destination_service=~"$service"'
_WL = f'{_DEST},destination_workload_namespace=~"$namespace",destination_workload=~"$workload"'


def _success(selector: str) -> str:
    return (
        f'sum(rate(istio_requests_total{{{selector},response_code!~"5.."}}[1m])) '
        f"/ sum(rate(istio_requests_total{{{selector}}}[1m]))"
    )


def _p99(selector: str, by: str = "") -> str:
    group = f"le{',' + by if by else ''}"
    return f"histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{{{selector}}}[1m])) by ({group}))"


DASHBOARDS: tuple[Dashboard, ...] = (
    Dashboard(
        "istio-mesh",
        "Istio Mesh",
        (
            Panel("Global request volume", f"sum(rate(istio_requests_total{{{_DEST}}}[1m]))", "requests/s", "reqps"),
            Panel("Global success rate (non-5xx)", _success(_DEST), "success", "percentunit"),
            Panel(
                "4xx / 5xx per service",
                f'sum(rate(istio_requests_total{{{_DEST},response_code=~"[45].."}}[1m])) by (destination_service, response_code)',
                "{{destination_service}} {{response_code}}",
                "reqps",
            ),
            Panel("P99 latency per service", _p99(_DEST, "destination_service"), "{{destination_service}}", "ms"),
        ),
    ),
    Dashboard(
        "istio-service",
        "Istio Service",
        (
            Panel("Request volume", f"sum(rate(istio_requests_total{{{_SVC}}}[1m]))", "requests/s", "reqps"),
            Panel("Success rate", _success(_SVC), "success", "percentunit"),
            Panel("P99 latency", _p99(_SVC), "p99", "ms"),
            Panel(
                "Requests by source workload",
                f"sum(rate(istio_requests_total{{{_SVC}}}[1m])) by (source_workload)",
                "{{source_workload}}",
                "reqps",
            ),
        ),
        (("service", "label_values(istio_requests_total, destination_service)"),),
    ),
    Dashboard(
        "istio-workload",
        "Istio Workload",
        (
            Panel("Incoming request volume", f"sum(rate(istio_requests_total{{{_WL}}}[1m]))", "requests/s", "reqps"),
            Panel("Incoming success rate", _success(_WL), "success", "percentunit"),
            Panel("P99 latency", _p99(_WL), "p99", "ms"),
            Panel(
                "TCP bytes received",
                f"sum(rate(istio_tcp_received_bytes_total{{{_WL}}}[1m]))",
                "bytes/s",
                "Bps",
            ),
        ),
        (
            ("namespace", "label_values(istio_requests_total, destination_workload_namespace)"),
            (
                "workload",
                'label_values(istio_requests_total{destination_workload_namespace=~"$namespace"}, destination_workload)',
            ),
        ),
    ),
    Dashboard(
        "istio-control-plane",
        "Istio Control Plane",
        (
            Panel("Connected proxies (xDS)", "sum(pilot_xds) by (version)", "{{version}}"),
            Panel("xDS pushes", "sum(rate(pilot_xds_pushes[1m])) by (type)", "{{type}}", "ops"),
            Panel(
                "Proxy convergence p99",
                "histogram_quantile(0.99, sum(rate(pilot_proxy_convergence_time_bucket[1m])) by (le))",
                "p99",
                "s",
            ),
            Panel("istiod memory", 'sum(process_resident_memory_bytes{app="istiod"}) by (pod)', "{{pod}}", "bytes"),
            Panel("Config validation failures", "sum(rate(galley_validation_failed[1m]))", "failed", "ops"),
            Panel("Sidecar injections", "sum(rate(sidecar_injection_success_total[1m]))", "injected", "ops"),
        ),
    ),
)


def dashboard_files() -> dict[str, str]:
    """ConfigMap data: one ``<uid>.json`` file per dashboard."""
    return {f"{d.uid}.json": json.dumps(d.to_json(), indent=1, sort_keys=True) for d in DASHBOARDS}
