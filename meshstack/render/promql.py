"""The PromQL a rollout's analysis sends to Prometheus, over one analysis interval: Istio's standard
metrics of the canary as the destination reports them, or, where the proxies are upstream Envoy,
Envoy's own statistics of the canary pods' inbound cluster (:class:`MetricSource`)."""

from __future__ import annotations

import re

from meshstack.model.rollout.metric import BuiltinMetric, Metric, MetricSource

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_]+)\s*\}\}")


def selector(namespace: str, workload: str, source: MetricSource = MetricSource.ISTIO) -> str:
    """The canary's requests as its own sidecar reports them."""
    if source is MetricSource.ENVOY:
        # A Deployment's pods are <deployment>-<replicaset hash>-<suffix> (a workload name is a DNS
        # label: nothing in it needs escaping); the inbound cluster is the proxy's way to the app in
        # the same pod.
        return f'namespace="{namespace}",pod=~"{workload}-[a-z0-9]+-[a-z0-9]+",cluster_name=~"inbound\\\\|.*"'
    return f'reporter="destination",destination_workload_namespace="{namespace}",destination_workload="{workload}"'


def window(interval_seconds: float) -> str:
    return f"{max(1, round(interval_seconds))}s"


def request_count(
    namespace: str, workload: str, interval_seconds: float, source: MetricSource = MetricSource.ISTIO
) -> str:
    """Requests the canary served in the window (the no-data test)."""
    sel, win = selector(namespace, workload, source), window(interval_seconds)
    if source is MetricSource.ENVOY:
        return f"sum(increase(envoy_cluster_upstream_rq_total{{{sel}}}[{win}]))"
    return f"sum(increase(istio_requests_total{{{sel}}}[{win}]))"


def metric_query(
    metric: Metric,
    namespace: str,
    app: str,
    workload: str,
    interval_seconds: float,
    source: MetricSource = MetricSource.ISTIO,
) -> str:
    sel, win = selector(namespace, workload, source), window(interval_seconds)
    requests, code, duration = (
        ("envoy_cluster_upstream_rq", "response_code", "envoy_cluster_upstream_rq_time_bucket")
        if source is MetricSource.ENVOY
        else ("istio_requests_total", "response_code", "istio_request_duration_milliseconds_bucket")
    )
    if metric.builtin is BuiltinMetric.REQUEST_SUCCESS_RATE:
        ok = f'sum(rate({requests}{{{sel},{code}!~"5.."}}[{win}]))'
        return f"100 * {ok} / sum(rate({requests}{{{sel}}}[{win}]))"
    if metric.builtin is BuiltinMetric.REQUEST_DURATION_P99:
        return f"histogram_quantile(0.99, sum by (le) (rate({duration}{{{sel}}}[{win}])))"
    assert metric.query is not None
    values = {"namespace": namespace, "app": app, "workload": workload, "interval": win}
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], metric.query)
