"""Circuit breaking: connection-pool limits and outlier detection (ejecting failing endpoints).

Flat props; unset fields are left to Envoy's defaults. Any outlier field set turns outlier
detection on (Istio defaults for the rest: interval 10s, baseEjectionTime 30s,
maxEjectionPercent 10, consecutive5xxErrors 5). Rendered into the app's DestinationRule.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import Field, model_validator

from meshstack.errors import fail
from meshstack.model.base import Duration, Model, duration_seconds

_POOL = ("max_connections", "connect_timeout", "http1_max_pending_requests", "http2_max_requests",
         "max_requests_per_connection", "max_retries")  # fmt: skip
_OUTLIER = ("consecutive_5xx_errors", "interval", "base_ejection_time", "max_ejection_percent")


class CircuitBreaker(Model):
    max_connections: int | None = Field(None, ge=1, le=2**31 - 1, description="TCP connections per host.")
    connect_timeout: Duration | None = Field(None, description="TCP connect timeout.")
    http1_max_pending_requests: int | None = Field(None, ge=1, le=2**31 - 1, description="Queued requests.")
    http2_max_requests: int | None = Field(None, ge=1, le=2**31 - 1, description="Concurrent requests.")
    max_requests_per_connection: int | None = Field(None, ge=1, le=2**31 - 1, description="1 disables keep-alive.")
    max_retries: int | None = Field(None, ge=0, le=2**31 - 1, description="Concurrent retries to the host.")
    consecutive_5xx_errors: int | None = Field(
        None, ge=0, le=2**31 - 1, alias="consecutive5xxErrors", description="5xx in a row before ejection."
    )
    interval: Duration | None = Field(None, description="Ejection sweep interval (at least 1ms).")
    base_ejection_time: Duration | None = Field(None, description="Minimum ejection duration (at least 1ms).")
    max_ejection_percent: int | None = Field(None, ge=0, le=100, description="Max % of hosts ejected.")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if all(getattr(self, f) is None for f in (*_POOL, *_OUTLIER)):
            raise fail("set at least one connection-pool or outlier-detection field")
        for field, alias in (("interval", "interval"), ("base_ejection_time", "baseEjectionTime"),
                             ("connect_timeout", "connectTimeout")):  # fmt: skip
            value = getattr(self, field)
            if value is not None and duration_seconds(value) < 0.001:
                raise fail(f"{alias} must be at least 1ms", alias)
        return self

    @property
    def has_outlier_detection(self) -> bool:
        return any(getattr(self, f) is not None for f in _OUTLIER)

    def connection_pool(self) -> dict[str, Any]:
        tcp = {k: v for k, v in (("maxConnections", self.max_connections),
                                 ("connectTimeout", self.connect_timeout)) if v is not None}  # fmt: skip
        http = {
            k: v
            for k, v in (
                ("http1MaxPendingRequests", self.http1_max_pending_requests),
                ("http2MaxRequests", self.http2_max_requests),
                ("maxRequestsPerConnection", self.max_requests_per_connection),
                ("maxRetries", self.max_retries),
            )
            if v is not None
        }
        return {k: v for k, v in (("tcp", tcp), ("http", http)) if v}

    def outlier_detection(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in (
                ("consecutive5xxErrors", self.consecutive_5xx_errors),
                ("interval", self.interval),
                ("baseEjectionTime", self.base_ejection_time),
                ("maxEjectionPercent", self.max_ejection_percent),
            )
            if v is not None
        }
