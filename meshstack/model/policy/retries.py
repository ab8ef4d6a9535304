"""Retries of a route: how often, how long each try may take, and on which failures."""

from __future__ import annotations

import re
from typing import Annotated, Self

from pydantic import Field, model_validator

from meshstack.errors import fail
from meshstack.model.base import Duration, Model, duration_seconds

#: Envoy retry conditions Istio accepts in ``retryOn`` (besides 3-digit status codes).
RETRY_CONDITIONS = frozenset(
    {
        "5xx",
        "gateway-error",
        "reset",
        "reset-before-request",
        "connect-failure",
        "envoy-ratelimited",
        "retriable-4xx",
        "refused-stream",
        "retriable-status-codes",
        "retriable-headers",
        "http3-post-connect-failure",
        "cancelled",
        "deadline-exceeded",
        "internal",
        "resource-exhausted",
        "unavailable",
    }
)

#: The status codes Go's net/http knows (http.StatusText): Istio accepts a numeric retryOn entry
#: only when it is one of these.
HTTP_STATUS_CODES = frozenset(
    (100, 101, 102, 103, *range(200, 209), 226, *range(300, 309), *range(400, 419), 421, 422, 423, 424, 425, 426)
) | frozenset((428, 429, 431, 451, *range(500, 509), 510, 511))

RetryCondition = Annotated[str, Field(min_length=1, max_length=64)]


class Retries(Model):
    """``attempts`` retries (on top of the first try), each bounded by ``perTryTimeout``.

    Rule checked with the route's ``timeout`` (see :class:`~meshstack.model.policy.route.HttpRoute`):
    when both are set, ``(attempts + 1) × perTryTimeout`` must fit in the timeout, so every
    configured retry can actually run; otherwise the config is rejected.
    """

    attempts: int = Field(ge=0, le=100, description="Retries after the first try (0 disables retries).")
    per_try_timeout: Duration | None = Field(
        None, description="Timeout of each try. Unset: Istio's default (the route timeout, if any)."
    )
    retry_on: list[RetryCondition] | None = Field(
        None,
        description=(
            "Envoy retry conditions or 3-digit status codes. Unset: Istio's default "
            "(connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes)."
        ),
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.attempts == 0 and (self.per_try_timeout is not None or self.retry_on):
            raise fail("attempts 0 disables retries; drop perTryTimeout and retryOn, or set attempts", "attempts")
        if self.per_try_timeout is not None and duration_seconds(self.per_try_timeout) < 0.001:
            raise fail("perTryTimeout must be at least 1ms", "perTryTimeout")
        for i, cond in enumerate(self.retry_on or []):
            known_code = re.fullmatch(r"[1-5][0-9][0-9]", cond) is not None and int(cond) in HTTP_STATUS_CODES
            if cond not in RETRY_CONDITIONS and not known_code:
                raise fail(
                    f"unknown retry condition {cond!r}; allowed: an HTTP status code (such as 503) or one of "
                    + ", ".join(sorted(RETRY_CONDITIONS)),
                    ["retryOn", i],
                )
        return self

    def total_seconds(self) -> float | None:
        """Worst-case time of all tries, or None when perTryTimeout is unset."""
        if self.per_try_timeout is None:
            return None
        return (self.attempts + 1) * duration_seconds(self.per_try_timeout)
