"""What a rollout's analysis measures: Istio's standard request metrics of the canary, or PromQL of your own.

Built-ins read Istio's standard metrics as the destination reports them for the canary workload
(``reporter="destination"``, ``destination_workload="<app>-<canary>"``):

* ``request-success-rate``: the percentage of requests answered with a non-5xx code
  (``istio_requests_total``);
* ``request-duration-p99``: the 99th percentile of request duration in milliseconds
  (``istio_request_duration_milliseconds_bucket``).

Where the proxies are upstream Envoy (``mesh.proxy.flavor: upstream-envoy``) there is no
``istio_requests_total``: the built-ins read Envoy's own statistics of the canary's inbound cluster
instead (:class:`MetricSource`), the same two questions asked of what the proxy itself counts.

A custom metric is a PromQL template; ``{{ namespace }}``, ``{{ app }}``, ``{{ workload }}`` (the
canary's Deployment) and ``{{ interval }}`` are filled in before it is sent.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from meshstack.errors import fail
from meshstack.model.base import Model, Name

#: Placeholders a custom query may use.
PLACEHOLDERS = ("namespace", "app", "workload", "interval")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_]+)\s*\}\}")


class MetricSource(StrEnum):
    """Which series the built-in metrics read.

    ``istio``: Istio's standard metrics (``istio_requests_total``,
    ``istio_request_duration_milliseconds``), reported by the canary's sidecar as destination — what
    a mesh running Istio's own proxy (``proxyv2``) exports, and the default.

    ``envoy``: Envoy's own statistics of the canary's inbound cluster (``inbound|<port>||``) in each
    canary pod's proxy: ``envoy_cluster_upstream_rq{response_code=…}`` and
    ``envoy_cluster_upstream_rq_time`` (milliseconds) — what upstream Envoy exports, which lacks
    Istio's stats extension. They count the same requests (those the canary's app answered, as its
    own proxy saw them); the pods are picked by namespace and the Deployment's pod-name prefix.
    """

    ISTIO = "istio"
    ENVOY = "envoy"


class BuiltinMetric(StrEnum):
    REQUEST_SUCCESS_RATE = "request-success-rate"
    REQUEST_DURATION_P99 = "request-duration-p99"


class Metric(Model):
    """One check of the analysis: the value must stay within ``min`` .. ``max``."""

    name: Name = Field(description="Its name in events and the progress view.")
    builtin: BuiltinMetric | None = Field(None, strict=False, description="An Istio standard metric.")
    query: str | None = Field(
        None, min_length=1, max_length=4096, description="A PromQL template (instead of builtin)."
    )
    min: float | None = Field(None, description="Lowest acceptable value. Unset: no lower bound.")
    max: float | None = Field(None, description="Highest acceptable value. Unset: no upper bound.")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if (self.builtin is None) == (self.query is None):
            raise fail("set exactly one of builtin or query", "builtin")
        if self.min is None and self.max is None:
            raise fail("a metric needs a bound: set min, max or both", "min")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise fail(f"min {self.min:g} is above max {self.max:g}: no value could ever pass", "min")
        if self.builtin is BuiltinMetric.REQUEST_SUCCESS_RATE:
            if self.min is not None and not 0 < self.min <= 100:
                raise fail(f"a success rate is a percentage; min {self.min:g} can never be met", "min")
            if self.max is not None and self.max < 0:
                raise fail(f"a success rate is a percentage; max {self.max:g} can never be met", "max")
        if self.builtin is BuiltinMetric.REQUEST_DURATION_P99 and self.max is not None and self.max <= 0:
            raise fail(f"request durations are positive; max {self.max:g}ms can never be met", "max")
        if self.query is not None:
            for name in _PLACEHOLDER.findall(self.query):
                if name not in PLACEHOLDERS:
                    raise fail(f"unknown placeholder {{{{ {name} }}}}; allowed: {', '.join(PLACEHOLDERS)}", "query")
        return self

    def passes(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    @property
    def bounds(self) -> str:
        """``≥ 99`` / ``≤ 500`` / ``0 .. 5`` for the progress view."""
        if self.min is not None and self.max is not None:
            return f"{self.min:g} .. {self.max:g}"
        return f"≥ {self.min:g}" if self.min is not None else f"≤ {self.max:g}"

    # --- factories -------------------------------------------------------------------------------

    @classmethod
    def success_rate(cls, min: float = 99.0, *, name: str = "request-success-rate") -> Metric:
        """At least ``min`` percent of the canary's requests answered without a 5xx."""
        return cls(name=name, builtin=BuiltinMetric.REQUEST_SUCCESS_RATE, min=min)

    @classmethod
    def latency_p99(cls, max_ms: float = 500.0, *, name: str = "request-duration-p99") -> Metric:
        """The canary's 99th percentile request duration at most ``max_ms`` milliseconds."""
        return cls(name=name, builtin=BuiltinMetric.REQUEST_DURATION_P99, max=max_ms)

    @classmethod
    def custom(
        cls,
        name: str,
        query: str,
        *,
        min: float | None = None,
        max: float | None = None,
    ) -> Metric:
        """A PromQL template of your own, e.g. ``Metric.custom("errors", "sum(rate(x{app='{{ app }}'}[{{ interval }}]))", max=1)``."""
        return cls(name=name, query=query, min=min, max=max)
