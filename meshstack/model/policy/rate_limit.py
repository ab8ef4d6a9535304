"""Local rate limit: Envoy's token bucket on the app's inbound sidecar (an EnvoyFilter).

Istio has no rate-limit CRD; each replica gets its own bucket of ``maxTokens`` refilled with
``tokensPerFill`` every ``fillInterval`` (Envoy requires ≥ 50ms). Over-limit requests get 429.
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from meshstack.errors import fail
from meshstack.model.base import Duration, Model, duration_seconds

MIN_FILL_INTERVAL_S = 0.05


class LocalRateLimit(Model):
    max_tokens: int = Field(ge=1, le=2**32 - 1, description="Bucket size (burst).")
    tokens_per_fill: int | None = Field(None, ge=1, le=2**32 - 1, description="Refill amount. Default: maxTokens.")
    fill_interval: Duration = Field("1s", description="Refill period, at least 50ms. Default: 1s.")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if duration_seconds(self.fill_interval) < MIN_FILL_INTERVAL_S - 1e-12:
            raise fail(f"fillInterval must be at least 50ms, got {self.fill_interval}", "fillInterval")
        return self

    @property
    def refill(self) -> int:
        return self.tokens_per_fill if self.tokens_per_fill is not None else self.max_tokens

    def envoy_fill_interval(self) -> str:
        """Envoy's JSON duration form (seconds with up to 9 decimals)."""
        text = f"{duration_seconds(self.fill_interval):.9f}".rstrip("0").rstrip(".")
        return f"{text}s"
