"""A rollout policy as Flagger objects — a ``Canary`` and a ``MetricTemplate`` per check Flagger has no
builtin for (``flagger.app/v1beta1``, Flagger v1.41) — for teams whose controller runs the rollout
instead of ``meshstack rollout run``.

How Flagger works, and what the mapping makes of it:

* **One workload.** Flagger watches one Deployment (``targetRef``) and keeps its last promoted copy as
  ``<target>-primary``; a change of the target's pod template starts a rollout. Under Flagger the app
  is one Deployment named after the app that runs the canary version's pod template, and the
  policy's ``stable`` is Flagger's primary: it has no field. Flagger promotes whatever the Deployment
  runs when the Canary is first created (without analysis), so create it while it runs the stable
  version. Flagger generates the Services ``<app>``, ``<app>-primary`` and ``<app>-canary``, the
  VirtualService ``<app>`` and the DestinationRules; ``service`` carries the app's port and its
  DestinationRule policy, and the app's own routes cannot be kept (see :func:`flagger_problems`).
* **Checks.** Every ``interval`` Flagger runs every check once. A value out of ``thresholdRange``, no
  value (no traffic: Flagger's "no values found") or a failed query makes the interval one failed
  check, and the weight does not move: meshstack's semantics exactly. The rollout rolls back when the
  failed checks reach ``threshold``; meshstack rolls back when they exceed ``failureLimit``, so
  ``threshold = failureLimit + 1``.
* **Metrics.** The first ``request-success-rate`` builtin becomes Flagger's builtin of that name (the
  same PromQL: the share of non-5xx answers as the canary's sidecar reports them, compared as a
  float). Every other metric is a MetricTemplate carrying the PromQL of meshstack's own runner
  (:mod:`meshstack.render.promql`): Flagger's builtin ``request-duration`` truncates the
  measured p99 to whole milliseconds, which would pass 500.7ms against a 500ms bound. ``minRequests``
  becomes a ``min-requests`` check on the canary's request count, which is ``onNoData: fail`` to the
  letter; Flagger cannot hold or pass instead.
* **Plan shapes.** A Canary runs one strategy: progressive weights (``stepWeights``, optionally one
  interval of mirroring first), blue/green (``iterations``, here always with mirroring: the
  mirror-only plan), or A/B (``match`` + ``iterations``: meshstack's ``ab`` followed by the
  promotion, and meshstack's ``blueGreen``, whose preview route is a match). ``steps: [100]`` alone
  promotes without analysis (``skipAnalysis``).
* **Gates.** Flagger pauses on webhooks that answer "not yet"; ``gate_url`` is such a gate (Flagger's
  load tester serves one at ``/gate/check``, opened with ``/gate/open``). ``confirm-rollout`` gates the
  first step, ``confirm-traffic-increase`` every weight increase *and* the promotion,
  ``confirm-promotion`` the promotion.
* **Deadline.** ``progressDeadlineSeconds`` rolls back a canary whose pods make no progress for that
  long; meshstack's ``progressDeadline`` bounds the whole rollout, which Flagger cannot: the rendered
  value bounds stalls only.
* **After promotion** Flagger copies the canary's spec into the primary: the old version lives on as a
  ReplicaSet of ``<app>-primary`` scaled to zero (``scaleToZero``); it can neither be kept running nor
  removed from the Canary.
"""

from __future__ import annotations

import math
import re
from typing import Any

from meshstack.errors import ConfigError, Loc, Problem, join_path
from meshstack.model.app import AppSpec
from meshstack.model.base import duration_seconds
from meshstack.model.policy.match import Match
from meshstack.model.rollout.analysis import NoData
from meshstack.model.rollout.metric import BuiltinMetric, Metric
from meshstack.model.rollout.policy import AfterPromotion, Rollout
from meshstack.model.rollout.step import StepKind
from meshstack.render import fields
from meshstack.render.addons import prometheus
from meshstack.render.istio_networking import traffic_policy
from meshstack.render.kube import Manifest, meta
from meshstack.render.promql import metric_query, request_count

__all__ = ["FLAGGER", "flagger_objects", "flagger_problems"]

FLAGGER = "flagger.app/v1beta1"
#: The canary's request count check (``minRequests``).
MIN_REQUESTS = "min-requests"
#: Flagger runs its builtin checks by these metric names, whatever else the metric says.
_BUILTIN_NAMES = ("request-success-rate", "request-duration")
#: Flagger's shortest analysis interval (shorter ones run every 10s).
_MIN_INTERVAL = 10.0
#: Kubernetes copies progressDeadlineSeconds into the primary Deployment, an int32.
_INT32 = 2**31 - 1

Problems = list[tuple[Loc, str]]


def flagger_problems(app: AppSpec) -> Problems:
    """What Flagger cannot express of ``app``'s rollout (paths relative to the app), each with what is allowed."""
    rollout = app.rollout
    if rollout is None:
        return [(["rollout"], "there is no rollout to render as a Flagger Canary")]
    own = [*_strategy(rollout)[1], *_gates(rollout)[1], *_analysis_problems(rollout)]
    return [*((["rollout", *loc], message) for loc, message in own), *_app_problems(app)]


def flagger_objects(
    name: str,
    app: AppSpec,
    namespace: str,
    *,
    path: Loc | None = None,
    prometheus_url: str | None = None,
    gate_url: str | None = None,
) -> list[Manifest]:
    """The MetricTemplates, then the Canary, of app ``name``'s rollout.

    ``path`` is the app's config path (default ``apps.<name>``): problems are reported below it.
    ``prometheus_url`` defaults to the mesh's Prometheus addon; ``gate_url`` (used when the policy has
    manual gates) to the gate of a Flagger load tester in ``namespace``. Raises :class:`ConfigError`
    listing everything Flagger cannot express.
    """
    head = ["apps", name] if path is None else list(path)
    if problems := flagger_problems(app):
        raise ConfigError(Problem(join_path([*head, *loc]), message) for loc, message in problems)
    rollout = app.rollout
    assert rollout is not None
    url = prometheus_url or prometheus.endpoint("istio-system").url
    interval = _interval(rollout.analysis.interval)
    assert interval is not None
    templates: list[Manifest] = []
    metrics: list[dict[str, Any]] = []
    for check, query, low, high in _checks(name, namespace, rollout):
        entry: dict[str, Any] = {"name": check, "interval": interval}
        if query is not None:
            template = f"{name}-{check}"
            templates.append(_metric_template(template, name, namespace, url, query))
            entry["templateRef"] = {"name": template}
        entry["thresholdRange"] = {k: v for k, v in (("min", low), ("max", high)) if v is not None}
        metrics.append(entry)

    analysis: dict[str, Any] = {
        "interval": interval,
        "threshold": rollout.analysis.failure_limit + 1,
        **_strategy(rollout)[0],
        "metrics": metrics,
    }
    gate = gate_url or f"http://flagger-loadtester.{namespace}/gate/check"
    if hooks := _gates(rollout)[0]:
        analysis["webhooks"] = [{"name": f"gate-{kind}", "type": kind, "url": gate} for kind in hooks]
    port = app.ports[0]
    service: dict[str, Any] = {
        "name": name,
        "port": port.port,
        "targetPort": port.container_port,
        "portName": port.rendered_name,
        "appProtocol": port.protocol.value,
    }
    if policy := traffic_policy(app):
        service["trafficPolicy"] = policy
    spec: dict[str, Any] = {
        "provider": "istio",
        "metricsServer": url,
        "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
        "progressDeadlineSeconds": _deadline(rollout.progress_deadline),
        "service": service,
    }
    if _promotes_at_once(rollout):
        spec["skipAnalysis"] = True
    spec["analysis"] = analysis
    canary = {"apiVersion": FLAGGER, "kind": "Canary", "metadata": meta(name, namespace, {"app": name}), "spec": spec}
    return [*templates, canary]


# --- the strategy --------------------------------------------------------------------------------


def _promotes_at_once(rollout: Rollout) -> bool:
    return len(rollout.plan()) == 1


def _strategy(rollout: Rollout) -> tuple[dict[str, Any], Problems]:
    """The analysis fields that choose Flagger's strategy for this plan, or why none fits."""
    plan = rollout.plan()
    weights = [s.weight for s in plan if s.kind is StepKind.WEIGHT]
    problems: Problems = []
    if plan[0].kind is StepKind.PREVIEW:
        matches, problems = _matches(rollout.preview, ["preview"])
        return {"iterations": plan[0].iterations, "match": matches}, problems
    if rollout.ab is not None:
        if weights:
            problems.append(
                (
                    ["ab"],
                    "Flagger's A/B testing ends in the promotion: it cannot raise weights after the A/B step; "
                    "allowed: ab with steps [100] (A/B, then promote), or weight steps without ab",
                )
            )
        if rollout.mirror is not None:
            problems.append(
                (["mirror"], "Flagger does not mirror during A/B testing; allowed: mirror with weight steps or alone")
            )
        matches, more = _matches(rollout.ab.match, ["ab", "match"])
        return {"iterations": rollout.ab.iterations, "match": matches}, problems + more
    if rollout.mirror is not None:
        mirror: dict[str, Any] = {"mirror": True}
        percentage = rollout.mirror.percentage
        if percentage != int(percentage):
            problems.append(
                (["mirror", "percentage"], f"Flagger's mirrorWeight is a whole percentage, got {percentage:g}")
            )
        elif percentage < 100:
            mirror["mirrorWeight"] = int(percentage)
        if not weights:  # mirror, then promote: Flagger's blue/green with mirroring
            return {"iterations": rollout.mirror.iterations, **mirror}, problems
        if rollout.mirror.iterations != 1:
            problems.append(
                (
                    ["mirror", "iterations"],
                    "Flagger mirrors for exactly one analysis interval before the first weight; allowed: 1, or "
                    "steps [100] (mirror, then promote), which Flagger runs for any number of iterations",
                )
            )
        return {"stepWeights": weights, **mirror}, problems
    # Weights only; a plan without them promotes at once (skipAnalysis), stepWeights [100] says the same.
    return {"stepWeights": weights or [100]}, problems


def _matches(matches: list[Match], at: Loc) -> tuple[list[dict[str, Any]], Problems]:
    """Flagger's ``analysis.match``: headers, query parameters and source labels (its CRD prunes the rest)."""
    out: list[dict[str, Any]] = []
    problems: Problems = []
    for i, match in enumerate(matches):
        for key, given in (
            ("uri", match.uri is not None),
            ("method", match.method is not None),
            ("withoutHeaders", bool(match.without_headers)),
            ("port", match.port is not None),
        ):
            if given:
                problems.append(
                    (
                        [*at, i, key],
                        f"Flagger's analysis.match has headers, queryParams and sourceLabels only, not {key}",
                    )
                )
        istio = fields.match(match)
        out.append({k: istio[k] for k in ("headers", "queryParams", "sourceLabels") if k in istio})
    return out, problems


def _gates(rollout: Rollout) -> tuple[list[str], Problems]:
    """The webhook types that gate where ``pauseBefore`` does, or why Flagger cannot.

    Flagger has three gates: ``confirm-rollout`` (before the first step), ``confirm-traffic-increase``
    (before every weight increase and the promotion; not after a mirror step, whose first weight
    follows without it) and ``confirm-promotion``.
    """
    plan = rollout.plan()
    first = plan[0]
    weights = {s.weight for s in plan if s.kind is StepKind.WEIGHT}
    left = set(rollout.pause_before)
    hooks: list[str] = []
    if len(weights) > 1 and rollout.mirror is None and left == weights | {100}:
        return ["confirm-traffic-increase"], []
    if first.kind in (StepKind.WEIGHT, StepKind.PROMOTE) and first.weight in left:
        hooks.append("confirm-rollout")
        left.discard(first.weight)
    if 100 in left:
        hooks.append("confirm-promotion")
        left.discard(100)
    if not left:
        return hooks, []
    allowed = f"any of {[first.weight, 100] if first.kind is StepKind.WEIGHT else [100]}"
    if len(weights) > 1 and rollout.mirror is None:
        allowed += f", or all of {[*sorted(weights), 100]}"
    return hooks, [
        (
            ["pauseBefore"],
            f"Flagger cannot gate before {', '.join(f'{g}%' for g in sorted(left))} alone: it gates the first step "
            "(confirm-rollout), every weight increase and the promotion together (confirm-traffic-increase), "
            f"or the promotion (confirm-promotion); allowed: {allowed}",
        )
    ]


# --- the analysis ----------------------------------------------------------------------------------


def _interval(value: str) -> str | None:
    """The interval as Flagger's ``^[0-9]+(m|s)`` reads it (None: not in whole seconds)."""
    if re.fullmatch(r"[0-9]+(m|s)", value):
        return value
    seconds = duration_seconds(value)
    if not seconds.is_integer():
        return None
    return f"{int(seconds) // 60}m" if seconds % 60 == 0 else f"{int(seconds)}s"


def _deadline(value: str) -> int:
    return math.ceil(duration_seconds(value))


def _analysis_problems(rollout: Rollout) -> Problems:
    analysis = rollout.analysis
    problems: Problems = []
    if analysis.interval_seconds < _MIN_INTERVAL:
        problems.append(
            (
                ["analysis", "interval"],
                f"Flagger analyses at most every 10s (a shorter interval runs every 10s), got {analysis.interval}",
            )
        )
    elif _interval(analysis.interval) is None:
        problems.append(
            (["analysis", "interval"], f"Flagger reads intervals in whole seconds, got {analysis.interval}")
        )
    if analysis.min_requests > 0 and analysis.no_data is not NoData.FAIL:
        problems.append(
            (
                ["analysis", "onNoData"],
                f"Flagger cannot {analysis.no_data.value} on no data: a check without values, or on fewer than "
                "minRequests requests, is a failed check; allowed: fail (or minRequests 0)",
            )
        )
    builtin_slot = _builtin_slot(rollout)
    for i, metric in enumerate(analysis.metrics):
        if metric is builtin_slot:
            continue
        if metric.name in (*_BUILTIN_NAMES, MIN_REQUESTS):
            problems.append(
                (
                    ["analysis", "metrics", i, "name"],
                    f"Flagger reserves the metric name {metric.name} (a builtin or the minRequests check); "
                    "allowed: another name",
                )
            )
    if _deadline(rollout.progress_deadline) > _INT32:
        problems.append((["progressDeadline"], f"Flagger's deadline is at most {_INT32} seconds"))
    if rollout.after_promotion is not AfterPromotion.SCALE_TO_ZERO:
        problems.append(
            (
                ["afterPromotion"],
                f"Flagger cannot {rollout.after_promotion.value} the old version: it promotes by copying the "
                "canary's spec into <app>-primary, whose old ReplicaSet stays scaled to zero; allowed: scaleToZero",
            )
        )
    return problems


def _builtin_slot(rollout: Rollout) -> Metric | None:
    """The metric that becomes Flagger's builtin ``request-success-rate`` (the first of its kind)."""
    for metric in rollout.analysis.metrics:
        if metric.builtin is BuiltinMetric.REQUEST_SUCCESS_RATE:
            return metric
    return None


def _checks(app: str, namespace: str, rollout: Rollout) -> list[tuple[str, str | None, float | None, float | None]]:
    """``(name, query or None for Flagger's builtin, min, max)`` of every check, the request count first."""
    analysis = rollout.analysis
    seconds = analysis.interval_seconds
    out: list[tuple[str, str | None, float | None, float | None]] = []
    if analysis.min_requests > 0:
        out.append((MIN_REQUESTS, request_count(namespace, app, seconds), float(analysis.min_requests), None))
    slot = _builtin_slot(rollout)
    for metric in analysis.metrics:
        if metric is slot:
            out.append(("request-success-rate", None, metric.min, metric.max))
        else:
            out.append((metric.name, metric_query(metric, namespace, app, app, seconds), metric.min, metric.max))
    return out


def _metric_template(name: str, app: str, namespace: str, url: str, query: str) -> Manifest:
    """A MetricTemplate holding a finished query. Flagger runs every query through Go's text/template,
    so a literal ``{{`` is written as the action that prints it."""
    escaped = query.replace("{{", '{{"{{"}}')
    return {
        "apiVersion": FLAGGER,
        "kind": "MetricTemplate",
        "metadata": meta(name, namespace, {"app": app}),
        "spec": {"provider": {"type": "prometheus", "address": url}, "query": escaped},
    }


# --- the app around the rollout -------------------------------------------------------------------


def _app_problems(app: AppSpec) -> Problems:
    """App settings the Canary's generated Services, VirtualService and DestinationRules cannot carry."""
    problems: Problems = []
    if app.routes:
        problems.append(
            (
                ["routes"],
                "Flagger owns the app's VirtualService, and its routes name versions Flagger does not keep apart "
                "(primary and canary swap on promotion); allowed: no routes besides the rollout's",
            )
        )
    if app.expose is not None:
        problems.append(
            (
                ["expose"],
                "the Flagger render covers mesh traffic only (Flagger would bind the gateway through "
                "service.gateways and service.hosts); allowed: no expose",
            )
        )
    if len(app.ports) > 1:
        problems.append(
            (
                ["ports"],
                "Flagger's Canary routes one port and discovers the others from the containers under names and "
                "numbers of its own; allowed: one port",
            )
        )
    cb = app.circuit_breaker
    for key, value in (
        ("maxConnections", cb.max_connections if cb else None),
        ("connectTimeout", cb.connect_timeout if cb else None),
    ):
        if value is not None:
            problems.append(
                (["circuitBreaker", key], "Flagger's service.trafficPolicy has no TCP connection pool settings")
            )
    if app.locality_failover is not None and app.locality_failover.failover_priority:
        problems.append(
            (["localityFailover", "failoverPriority"], "Flagger's service.trafficPolicy has no failoverPriority")
        )
    if app.tls is not None and app.tls.credential_name is not None:
        problems.append((["tls", "credentialName"], "Flagger's service.trafficPolicy.tls has no credentialName"))
    return problems
