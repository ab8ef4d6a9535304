"""no-fault-injection: no VirtualService route injects delays or aborts (``spec.http[].fault``), and no
EnvoyFilter adds Envoy's fault filter (``envoy.filters.http.fault``) behind Istio's back.

Fault injection is a test of resilience (Bookinfo's ``ratings-delay-jason``, ``ratings-abort-jason``):
dev runs it, prod refuses it.
"""

from __future__ import annotations

from typing import Any

from meshstack.guardrails.core import Resource, dig, mapping, sequence

NAME = "no-fault-injection"
DESCRIPTION = "No fault injection (VirtualService http[].fault, Envoy's fault filter)."
ENVOY_FAULT_FILTER = "envoy.filters.http.fault"


def _describe(fault: Any) -> str:
    parts = []
    delay = mapping(mapping(fault).get("delay"))
    abort = mapping(mapping(fault).get("abort"))
    if delay:
        pct = dig(delay, "percentage", "value")
        parts.append(f"a delay of {delay.get('fixedDelay', '?')}" + (f" for {pct:g}% of requests" if _num(pct) else ""))
    if abort:
        pct = dig(abort, "percentage", "value")
        what = abort.get("httpStatus") or abort.get("grpcStatus") or "?"
        parts.append(f"an abort ({what})" + (f" for {pct:g}% of requests" if _num(pct) else ""))
    return " and ".join(parts) or "faults"


def _num(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check(res: Resource) -> list[str]:
    if not res.is_kubernetes:
        return []
    out: list[str] = []
    if res.kind == "VirtualService":
        for i, route in enumerate(sequence(res.spec.get("http"))):
            fault = mapping(route).get("fault")
            if fault:
                out.append(
                    f"{res.ref}: spec.http[{i}].fault injects {_describe(fault)}; fault injection is not allowed "
                    f"(remove spec.http[{i}].fault)"
                )
    if res.kind == "EnvoyFilter":
        for i, patch in enumerate(sequence(res.spec.get("configPatches"))):
            if dig(patch, "patch", "value", "name") == ENVOY_FAULT_FILTER:
                out.append(
                    f"{res.ref}: spec.configPatches[{i}] adds {ENVOY_FAULT_FILTER}; fault injection is not allowed"
                )
    return out
