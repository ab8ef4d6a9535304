"""The PromQL a rollout's analysis sends to Prometheus: Istio's standard metrics of the canary as
the destination reports them, over one analysis interval."""

from __future__ import annotations

import re

from meshstack.model.rollout.metric import BuiltinMetric, Metric

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_]+)\s*\}\}")


def selector(namespace: str, workload: str) -> str:
    """The canary's requests as its own sidecar reports them."""
    return f'reporter="destination",destination_workload_namespace="{namespace}",destination_workload="{workload}"'


def window(interval_seconds: float) -> str:
    return f"{max(1, round(interval_seconds))}s"


def request_count(namespace: str, workload: str, interval_seconds: float) -> str:
    """Requests the canary served in the window (the no-data test)."""
    return f"sum(increase(istio_requests_total{{{selector(namespace, workload)}}}[{window(interval_seconds)}]))"


def metric_query(metric: Metric, namespace: str, app: str, workload: str, interval_seconds: float) -> str:
    sel, win = selector(namespace, workload), window(interval_seconds)
    if metric.builtin is BuiltinMetric.REQUEST_SUCCESS_RATE:
        ok = f'sum(rate(istio_requests_total{{{sel},response_code!~"5.."}}[{win}]))'
        return f"100 * {ok} / sum(rate(istio_requests_total{{{sel}}}[{win}]))"
    if metric.builtin is BuiltinMetric.REQUEST_DURATION_P99:
        return (
            f"histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket{{{sel}}}[{win}])))"
        )
    assert metric.query is not None
    values = {"namespace": namespace, "app": app, "workload": workload, "interval": win}
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], metric.query)
