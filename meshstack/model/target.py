"""The render targets of an app's routes, and what each accepts.

``istio``: VirtualService + DestinationRule subsets (the default). ``gatewayApi``: HTTPRoute with
weighted backendRefs to per-version Services (DestinationRules only for traffic policies). Which
routes each target can express is a rule with context (:mod:`meshstack.model.checks`); rendering
is :mod:`meshstack.render.gateway_api` and :mod:`meshstack.render.istio_networking`.
"""

from __future__ import annotations

from enum import StrEnum

from meshstack.model.base import duration_seconds

#: Gateway API's duration bounds (``^([0-9]{1,5}(h|m|s|ms)){1,4}$``): whole milliseconds, at least 1.
GATEWAY_API_MAX_COUNT = 99_999


class RenderTarget(StrEnum):
    """``istio``: VirtualService + DestinationRule subsets (default). ``gatewayApi``: HTTPRoute with
    weighted backendRefs to per-version Services (DestinationRules only for traffic policies)."""

    ISTIO = "istio"
    GATEWAY_API = "gatewayApi"


def gateway_api_duration_ok(value: str) -> bool:
    """Whether a duration can be written in Gateway API's form: a whole number of milliseconds, at
    least 1, in one unit (ms, s, m or h) with at most five digits."""
    ms = duration_seconds(value) * 1000
    if ms < 1 or abs(ms - round(ms)) > 1e-6:
        return False
    whole = round(ms)
    return any(whole % size == 0 and whole // size <= GATEWAY_API_MAX_COUNT for size in (1, 1000, 60_000, 3_600_000))
