"""A rollout policy as Argo Rollouts objects — a ``Rollout`` and an ``AnalysisTemplate``
(``argoproj.io/v1alpha1``, Argo Rollouts v1.8) — for teams whose controller runs the rollout instead
of ``meshstack rollout run``.

How Argo Rollouts works, and what the mapping makes of it:

* **One pod template.** A Rollout has one pod template (here borrowed with ``workloadRef`` from a
  Deployment); a change of it starts a rollout, and the first template it sees becomes stable
  without analysis. The rendered ``workloadRef`` names the canary version's Deployment
  (``<app>-<canary>``): create the Rollout naming the stable version's Deployment first (``workload=``),
  then render it again. Argo scales the referenced Deployment down once the Rollout is healthy.
* **Traffic.** Istio subset-level routing: Argo rewrites the weights of one HTTP route of the
  VirtualService (``virtual_service``, by default the app's name) between the ``stable`` and
  ``canary`` subsets of the DestinationRule (``destination_rule``, by default the app's name), whose
  subsets select the app's pods by ``app`` and the pod-template hash Argo adds. A VirtualService with
  several HTTP routes needs the name of the route (``route``); A/B, preview and mirror steps are
  routes Argo manages itself (``managedRoutes``), placed before it.
* **Plan.** Every step of meshstack's plan becomes Argo steps: ``setWeight`` and a ``pause`` of its
  analysis intervals; an A/B or preview step one ``setHeaderRoute`` per match (a match's headers
  all hold: one route; several matches: several routes) and the pause; a mirror step
  ``setMirrorRoute`` (every path) and the pause. The promotion is the end of the steps. The canary
  keeps its declared replicas throughout (``setCanaryScale``), as under meshstack's runner.
* **Gates.** ``pauseBefore`` is an indefinite ``pause: {}`` before the step
  (``kubectl argo rollouts promote`` goes on).
* **Analysis.** One background analysis over the whole rollout, one metric per check, measured at the
  end of every interval (``initialDelay`` = interval). Argo moves to the next step when the pause
  ends, passed checks or not, and counts failed measurements per metric, so only a ``failureLimit``
  of 0 means the same: any failed check rolls back. ``minRequests`` is folded into every query (the
  query is empty below it), and ``onNoData`` into the conditions: ``fail`` fails an empty result,
  ``pass`` passes it, ``hold`` leaves it inconclusive, which pauses the Rollout
  (``inconclusiveLimit: 0``). A query error fails the check (``consecutiveErrorLimit: 0``).
* **Deadline.** ``progressDeadlineSeconds`` (with ``progressDeadlineAbort``) aborts a rollout whose
  pods make no progress for that long; meshstack's ``progressDeadline`` bounds the whole rollout,
  which Argo cannot: the rendered value bounds stalls only.
* **After promotion** Argo scales the old ReplicaSet down (``scaleToZero``); ``remove`` also deletes
  it (``revisionHistoryLimit: 0``); it cannot keep the old version running.
"""

from __future__ import annotations

import math
from typing import Any

from meshstack.errors import ConfigError, Loc, Problem, join_path
from meshstack.model.app import AppSpec
from meshstack.model.base import duration_seconds
from meshstack.model.policy.match import Match
from meshstack.model.rollout.analysis import NoData
from meshstack.model.rollout.metric import Metric
from meshstack.model.rollout.policy import AfterPromotion, Rollout
from meshstack.model.rollout.step import Step, StepKind
from meshstack.render import fields
from meshstack.render.addons import prometheus
from meshstack.render.kube import Manifest, meta
from meshstack.render.promql import metric_query, request_count

__all__ = ["ARGO", "argo_objects", "argo_problems"]

ARGO = "argoproj.io/v1alpha1"
#: The subsets of the DestinationRule Argo moves between.
STABLE_SUBSET = "stable"
CANARY_SUBSET = "canary"
#: The request count check when the analysis has no metrics of its own.
MIN_REQUESTS = "min-requests"
_INT32 = 2**31 - 1

Problems = list[tuple[Loc, str]]


def argo_problems(app: AppSpec, *, route: str | None = None) -> Problems:
    """What Argo Rollouts cannot express of ``app``'s rollout (paths relative to the app), with what is allowed."""
    rollout = app.rollout
    if rollout is None:
        return [(["rollout"], "there is no rollout to render as an Argo Rollout")]
    problems: Problems = []
    analysis = rollout.analysis
    if not analysis.interval_seconds.is_integer():
        problems.append((["analysis", "interval"], f"Argo Rollouts pauses in whole seconds, got {analysis.interval}"))
    if analysis.failure_limit > 0 and _metrics_of(rollout):
        problems.append(
            (
                ["analysis", "failureLimit"],
                "Argo Rollouts moves to the next step when its pause ends, passed checks or not, and counts "
                "failures per metric, so a failed check would not hold the weight back; allowed: 0 "
                "(any failed check rolls back)",
            )
        )
    for i, metric in enumerate(analysis.metrics):
        for key, bound in (("min", metric.min), ("max", metric.max)):
            if bound is not None and not math.isfinite(bound):
                problems.append((["analysis", "metrics", i, key], "allowed: a finite number"))
        if metric.query is not None and "{{" in metric_query(metric, "ns", "app", "app", 60):
            problems.append(
                (
                    ["analysis", "metrics", i, "query"],
                    "Argo Rollouts reads {{ … }} in a query as its own argument; allowed: the placeholders "
                    "namespace, app, workload, interval and no other {{",
                )
            )
    for step in rollout.plan():
        if step.kind is StepKind.MIRROR and step.percentage != int(step.percentage):
            problems.append(
                (["mirror", "percentage"], f"Argo's setMirrorRoute takes a whole percentage, got {step.percentage:g}")
            )
        if step.kind in (StepKind.AB, StepKind.PREVIEW):
            at: Loc = ["ab", "match"] if step.kind is StepKind.AB else ["preview"]
            problems += _match_problems(list(step.match), at)
    if _deadline(rollout) > _INT32:
        problems.append((["progressDeadline"], f"Argo's progressDeadlineSeconds is at most {_INT32} seconds"))
    if rollout.after_promotion is AfterPromotion.KEEP:
        problems.append(
            (
                ["afterPromotion"],
                "Argo Rollouts scales the old ReplicaSet down after promotion and cannot keep it running; "
                "allowed: scaleToZero or remove",
            )
        )
    problems = [(["rollout", *loc], message) for loc, message in problems]
    if app.routes and route is None:
        problems.append(
            (
                ["routes"],
                "Argo Rollouts weights one named HTTP route of the VirtualService and the app has routes of its own; "
                "allowed: name the catch-all route (route=…) or no routes besides the rollout's",
            )
        )
    return problems


def _match_problems(matches: list[Match], at: Loc) -> Problems:
    problems: Problems = []
    for i, match in enumerate(matches):
        if not match.headers:
            problems.append(
                ([*at, i, "headers"], "Argo's setHeaderRoute matches headers; allowed: one or more headers")
            )
        for key, given in (
            ("uri", match.uri is not None),
            ("queryParams", bool(match.query_params)),
            ("method", match.method is not None),
            ("withoutHeaders", bool(match.without_headers)),
            ("sourceLabels", bool(match.source_labels)),
            ("port", match.port is not None),
        ):
            if given:
                problems.append(([*at, i, key], f"Argo's setHeaderRoute matches headers only, not {key}"))
    return problems


def argo_objects(
    name: str,
    app: AppSpec,
    namespace: str,
    *,
    path: Loc | None = None,
    virtual_service: str | None = None,
    route: str | None = None,
    destination_rule: str | None = None,
    workload: str | None = None,
    prometheus_url: str | None = None,
) -> list[Manifest]:
    """The AnalysisTemplate (when the analysis checks anything), then the Rollout, of app ``name``'s rollout.

    ``path`` is the app's config path (default ``apps.<name>``): problems are reported below it.
    Raises :class:`ConfigError` listing everything Argo Rollouts cannot express.
    """
    head = ["apps", name] if path is None else list(path)
    if problems := argo_problems(app, route=route):
        raise ConfigError(Problem(join_path([*head, *loc]), message) for loc, message in problems)
    rollout = app.rollout
    assert rollout is not None
    url = prometheus_url or prometheus.endpoint("istio-system").url
    interval = int(rollout.analysis.interval_seconds)
    replicas = app.versions[rollout.canary].replicas

    out: list[Manifest] = []
    metrics = _metrics(name, namespace, rollout, url)
    canary: dict[str, Any] = {}
    if metrics:
        template = f"{name}-rollout"
        out.append(
            {
                "apiVersion": ARGO,
                "kind": "AnalysisTemplate",
                "metadata": meta(template, namespace, {"app": name}),
                "spec": {"metrics": metrics},
            }
        )
        canary["analysis"] = {"templates": [{"templateName": template}]}

    steps: list[dict[str, Any]] = [{"setCanaryScale": {"replicas": replicas}}]
    managed: list[str] = []
    for step in rollout.plan():
        if step.kind in (StepKind.WEIGHT, StepKind.PROMOTE) and step.weight in rollout.pause_before:
            steps.append({"pause": {}})
        steps += _steps(step, interval, managed)

    virtual: dict[str, Any] = {"name": virtual_service or name}
    if route is not None:
        virtual["routes"] = [route]
    routing: dict[str, Any] = {
        "istio": {
            "virtualService": virtual,
            "destinationRule": {
                "name": destination_rule or name,
                "stableSubsetName": STABLE_SUBSET,
                "canarySubsetName": CANARY_SUBSET,
            },
        }
    }
    if managed:
        routing["managedRoutes"] = [{"name": m} for m in managed]
    canary = {"trafficRouting": routing, **canary, "steps": steps}
    spec: dict[str, Any] = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": name}},
        "workloadRef": {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": workload or f"{name}-{rollout.canary}",
            "scaleDown": "onsuccess",
        },
        "progressDeadlineSeconds": _deadline(rollout),
        "progressDeadlineAbort": True,
        "strategy": {"canary": canary},
    }
    if rollout.after_promotion is AfterPromotion.REMOVE:
        spec["revisionHistoryLimit"] = 0
    out.append({"apiVersion": ARGO, "kind": "Rollout", "metadata": meta(name, namespace, {"app": name}), "spec": spec})
    return out


def _deadline(rollout: Rollout) -> int:
    return math.ceil(duration_seconds(rollout.progress_deadline))


def _steps(step: Step, interval: int, managed: list[str]) -> list[dict[str, Any]]:
    wait = {"pause": {"duration": f"{interval * step.iterations}s"}}
    if step.kind is StepKind.WEIGHT:
        return [{"setWeight": step.weight}, wait]
    if step.kind is StepKind.MIRROR:
        managed.append("mirror")
        mirror = {"name": "mirror", "percentage": int(step.percentage), "match": [{"path": {"prefix": "/"}}]}
        return [{"setMirrorRoute": mirror}, wait, {"setMirrorRoute": {"name": "mirror"}}]
    if step.kind in (StepKind.AB, StepKind.PREVIEW):
        names = [f"{step.kind.value}-{i}" for i in range(len(step.match))]
        managed += names
        on = [
            {
                "setHeaderRoute": {
                    "name": route,
                    "match": [
                        {"headerName": h, "headerValue": fields.string_match(v)} for h, v in sorted(m.headers.items())
                    ],
                }
            }
            for route, m in zip(names, step.match, strict=True)
        ]
        return [*on, wait, *({"setHeaderRoute": {"name": route}} for route in names)]
    return []  # the promotion: the end of the steps


# --- the analysis ----------------------------------------------------------------------------------


def _metrics_of(rollout: Rollout) -> list[Metric | None]:
    """The checks (None: the request count alone, when there are no metrics and onNoData is not pass)."""
    analysis = rollout.analysis
    if analysis.metrics:
        return list(analysis.metrics)
    if analysis.min_requests > 0 and analysis.no_data is not NoData.PASS:
        return [None]
    return []


def _num(value: float) -> str:
    """A number as Argo's expression language reads it (no exponent)."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)
    return text if "e" not in text else f"{value:.20f}".rstrip("0").rstrip(".")


def _metrics(app: str, namespace: str, rollout: Rollout, url: str) -> list[dict[str, Any]]:
    analysis = rollout.analysis
    seconds = analysis.interval_seconds
    workload = f"{app}-{rollout.canary}"
    count = request_count(namespace, workload, seconds)
    enough = f"({count} >= {analysis.min_requests})"
    out: list[dict[str, Any]] = []
    for metric in _metrics_of(rollout):
        if metric is None:
            name, query, cond = MIN_REQUESTS, f"{count} >= {analysis.min_requests}", "true"
        else:
            name = metric.name
            query = metric_query(metric, namespace, app, workload, seconds)
            if analysis.min_requests > 0:
                query = f"({query}) and on() {enough}"
            bounds = [f"result[0] >= {_num(metric.min)}"] if metric.min is not None else []
            bounds += [f"result[0] <= {_num(metric.max)}"] if metric.max is not None else []
            cond = " && ".join(bounds)
        value = f"!isNaN(result[0]) && {cond}"
        entry: dict[str, Any] = {"name": name, "interval": f"{int(seconds)}s", "initialDelay": f"{int(seconds)}s"}
        if analysis.min_requests == 0 or analysis.no_data is NoData.FAIL:
            entry["successCondition"] = f"len(result) > 0 && {value}"
        elif analysis.no_data is NoData.PASS:
            entry["successCondition"] = f"len(result) == 0 || ({value})"
        else:  # hold: an empty result is neither success nor failure, which pauses the Rollout
            entry["successCondition"] = f"len(result) > 0 && {value}"
            entry["failureCondition"] = f"len(result) > 0 && !({value})"
        entry |= {
            "failureLimit": 0,
            "inconclusiveLimit": 0,
            "consecutiveErrorLimit": 0,
            "provider": {"prometheus": {"address": url, "query": query}},
        }
        out.append(entry)
    return out
