"""canary-has-rollout: a route that splits an app's traffic across several of its versions is a canary,
and a canary runs under a rollout policy with analysis and an explicit on-no-data decision.

Split: a VirtualService ``spec.http[i].route`` whose destinations (weight unset or above 0) reach
two or more subsets of one host, or an HTTPRoute ``spec.rules[i].backendRefs`` with two or more
backends of weight above 0 (meshstack renders one Service per version for Gateway API).

The rollout policy is what the program renders on the app's routes: the :data:`ROLLOUT_ANNOTATION`
annotation (``meshstack/render/app``), a JSON summary of the app's ``rollout`` —
``{"stable", "canary", "strategy", "analysis": {"interval", "metrics", "failureLimit",
"minRequests", "onNoData"}}``. Required: at least one analysis metric, ``onNoData`` one of
``fail``, ``hold``, ``pass`` (set, not defaulted), and the split only between the rollout's stable
and canary versions.
"""

from __future__ import annotations

import json
from typing import Any

from meshstack.guardrails.core import Resource, dig, mapping, qualify, sequence, text

NAME = "canary-has-rollout"
DESCRIPTION = "Every traffic split between versions of an app has a rollout policy with analysis and onNoData."
#: The annotation the apps render puts on an app's routes when the app has a rollout.
ROLLOUT_ANNOTATION = "meshstack.io/rollout"
NO_DATA = ("fail", "hold", "pass")
HOW = "a canary needs the app's rollout with analysis metrics and an explicit analysis.onNoData (fail, hold or pass)"


def _weight(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _splits(res: Resource) -> list[tuple[str, list[tuple[str, float | None]]]]:
    """(where, [(version, weight)]) of every split route of a VirtualService or HTTPRoute."""
    out: list[tuple[str, list[tuple[str, float | None]]]] = []
    if res.kind == "VirtualService":
        for i, http in enumerate(sequence(res.spec.get("http"))):
            by_host: dict[str, dict[str, float | None]] = {}
            for dest in sequence(mapping(http).get("route")):
                weight = _weight(mapping(dest).get("weight"))
                host = text(dig(dest, "destination", "host"))
                if host is None or (weight is not None and weight <= 0):
                    continue
                subset = text(dig(dest, "destination", "subset")) or "(no subset)"
                by_host.setdefault(qualify(host, res.namespace), {})[subset] = weight
            for host, subsets in by_host.items():
                if len(subsets) > 1:
                    out.append((f"spec.http[{i}].route splits {host} across subsets", list(subsets.items())))
    elif res.kind == "HTTPRoute":
        for i, rule in enumerate(sequence(res.spec.get("rules"))):
            backends: dict[str, float | None] = {}
            for ref in sequence(mapping(rule).get("backendRefs")):
                weight = _weight(mapping(ref).get("weight"))
                name = text(mapping(ref).get("name"))
                if name is not None and (weight is None or weight > 0):
                    backends[name] = weight
            if len(backends) > 1:
                out.append((f"spec.rules[{i}].backendRefs split traffic across", list(backends.items())))
    return out


def _shown(parts: list[tuple[str, float | None]]) -> str:
    return ", ".join(f"{name} ({weight:g}%)" if weight is not None else name for name, weight in parts)


def _of(version: str, target: str) -> bool:
    """Whether a split target (a subset, or a per-version Service ``<app>-<version>``) is ``version``."""
    return target == version or target.endswith(f"-{version}")


def check(res: Resource) -> list[str]:
    if not res.is_kubernetes or res.kind not in ("VirtualService", "HTTPRoute"):
        return []
    splits = _splits(res)
    if not splits:
        return []
    raw = res.annotations.get(ROLLOUT_ANNOTATION)
    out: list[str] = []
    for where, parts in splits:
        head = f"{res.ref}: {where} {_shown(parts)}"
        if raw is None:
            out.append(f"{head} without a rollout policy (no {ROLLOUT_ANNOTATION} annotation); {HOW}")
            continue
        problems = _policy_problems(raw, [name for name, _ in parts])
        out += [f"{head}: {p}" for p in problems]
    return out


def _policy_problems(raw: Any, targets: list[str]) -> list[str]:
    at = f"metadata.annotations[{ROLLOUT_ANNOTATION}]"
    if not isinstance(raw, str):
        return []  # not known during a preview
    try:
        policy = json.loads(raw)
    except ValueError:
        return [f"{at} is not JSON; {HOW}"]
    if not isinstance(policy, dict):
        return [f"{at} is not a JSON object; {HOW}"]
    problems: list[str] = []
    analysis = mapping(policy.get("analysis"))
    if not sequence(analysis.get("metrics")):
        problems.append(f"{at} has no analysis metrics; {HOW}")
    on_no_data = analysis.get("onNoData")
    if on_no_data not in NO_DATA:
        shown = "is not set" if on_no_data is None else f"is {json.dumps(on_no_data)}"
        problems.append(f"{at} analysis.onNoData {shown}; allowed: fail, hold or pass, set explicitly")
    versions = [v for v in (text(policy.get("stable")), text(policy.get("canary"))) if v]
    strays = [t for t in targets if not any(_of(v, t) for v in versions)]
    if strays:
        problems.append(
            f"{at} is the rollout of {' → '.join(versions) or 'no versions'}, "
            f"but the split also sends traffic to {', '.join(strays)}; allowed: the rollout's stable and canary only"
        )
    return problems
