"""Fault injection: delay and/or abort a percentage of the requests a route matches.

Scope a fault to a user by putting it on a route with a match (Bookinfo's "ratings delay for
jason"). Istio only: Gateway API HTTPRoute has no fault injection.
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from meshstack.errors import allowing, fail
from meshstack.model.base import Duration, Model, Percent, duration_seconds


class Delay(Model):
    """Hold ``percentage`` % of requests for ``fixedDelay`` before forwarding them."""

    fixed_delay: Duration = Field(description="How long to delay (at least 1ms).")
    percentage: Percent = Field(100.0, description="Share of matched requests delayed. Default: 100.")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if duration_seconds(self.fixed_delay) < 0.001:
            raise fail("fixedDelay must be at least 1ms", "fixedDelay")
        return self


class Abort(Model):
    """Answer ``percentage`` % of requests with ``httpStatus`` instead of forwarding them."""

    http_status: int = Field(ge=200, le=599, json_schema_extra=allowing("an HTTP status between 200 and 599"))
    percentage: Percent = Field(100.0, description="Share of matched requests aborted. Default: 100.")


class Fault(Model):
    """At least one of ``delay`` and ``abort``."""

    delay: Delay | None = Field(None, description="Delay injection. Unset: none.")
    abort: Abort | None = Field(None, description="Abort injection. Unset: none.")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.delay is None and self.abort is None:
            raise fail("set delay, abort or both")
        return self

    @classmethod
    def delayed(cls, fixed_delay: str, percentage: float = 100.0) -> Fault:
        return cls(delay=Delay(fixed_delay=fixed_delay, percentage=percentage))

    @classmethod
    def aborted(cls, http_status: int, percentage: float = 100.0) -> Fault:
        return cls(abort=Abort(http_status=http_status, percentage=percentage))
