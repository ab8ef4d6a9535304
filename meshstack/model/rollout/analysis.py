"""How a rollout decides to go on: every ``interval`` each metric is read for the canary, and a
check fails when a value is out of bounds. More than ``failureLimit`` failed checks roll back.

No traffic is not success: when the canary served fewer than ``minRequests`` requests in the
interval (a quiet night, a broken route), the metrics say nothing, and ``onNoData`` says what to do
— ``fail`` (count a failed check), ``hold`` (stop and pause where it is) or ``pass`` (go on). Prod
requires it to be chosen explicitly.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from meshstack.errors import fail
from meshstack.model.base import Duration, Model, duration_seconds
from meshstack.model.rollout.metric import Metric


class NoData(StrEnum):
    FAIL = "fail"
    HOLD = "hold"
    PASS = "pass"


class Analysis(Model):
    interval: Duration = Field("1m", description="Time between checks, and the window each metric covers.")
    metrics: list[Metric] = Field(
        default_factory=lambda: [Metric.success_rate(99.0), Metric.latency_p99(500.0)],
        description="Checks. Default: success rate ≥ 99%, p99 latency ≤ 500ms.",
    )
    failure_limit: int = Field(1, ge=0, le=100, description="Failed checks tolerated; one more rolls back.")
    min_requests: int = Field(
        10, ge=0, le=1_000_000, description="Requests the canary must serve in an interval for its metrics to count."
    )
    on_no_data: NoData | None = Field(
        None,
        strict=False,
        description="Fewer than minRequests in an interval: fail, hold or pass. Required in prod; unset elsewhere: fail.",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if duration_seconds(self.interval) < 1:
            raise fail("at least 1s: Prometheus cannot answer for a shorter window", "interval")
        names = [m.name for m in self.metrics]
        for i, name in enumerate(names):
            if names.index(name) != i:
                raise fail(f"metric {name!r} is listed twice", ["metrics", i, "name"])
        return self

    @property
    def interval_seconds(self) -> float:
        return duration_seconds(self.interval)

    @property
    def no_data(self) -> NoData:
        """What happens without data (``fail`` when left unset outside prod)."""
        return self.on_no_data or NoData.FAIL
