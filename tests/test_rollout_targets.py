"""Rollout policies rendered for Flagger and Argo Rollouts, validated against those projects' own CRD
schemas (fetched from their Go modules at pinned versions by scripts/rollout_crds.sh), and the
path-named errors for what each target cannot express."""

from __future__ import annotations

import copy
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshstack.errors import ConfigError
from meshstack.model.app import AppSpec
from meshstack.render.argo_rollouts import argo_objects
from meshstack.render.flagger import flagger_objects

ROOT = Path(__file__).resolve().parent.parent
NS = "shop"
PROM = "http://prometheus.istio-system:9090"


# --- the CRD schemas ---------------------------------------------------------------------------------


@cache
def crd_dir() -> Path:
    out = subprocess.run(
        [str(ROOT / "scripts" / "rollout_crds.sh")], capture_output=True, text=True, timeout=600, check=False
    )
    assert out.returncode == 0, out.stderr
    return Path(out.stdout.strip().splitlines()[-1])


def _strict(node: Any) -> Any:
    """openAPIV3Schema as JSON Schema: x-kubernetes-* dropped, and unknown fields refused where the
    API server would prune them (an object with properties that does not preserve unknown fields)."""
    if isinstance(node, list):
        return [_strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _strict(v) for k, v in node.items() if not k.startswith("x-kubernetes-") and k != "nullable"}
    if (
        "properties" in node
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    if node.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


@cache
def schemas() -> dict[tuple[str, str], Any]:
    out: dict[tuple[str, str], Any] = {}
    for name in ("flagger-crd.yaml", "argo-rollout-crd.yaml", "argo-analysis-template-crd.yaml"):
        for doc in yaml.safe_load_all((crd_dir() / name).read_text()):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
            for version in doc["spec"]["versions"]:
                schema = _strict(version["schema"]["openAPIV3Schema"])
                out[(f"{group}/{version['name']}", kind)] = jsonschema.Draft202012Validator(schema)
    return out


def validate(obj: dict[str, Any]) -> None:
    validator = schemas()[(obj["apiVersion"], obj["kind"])]
    errors = sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{obj['kind']} {'.'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def test_script_pins_and_caches() -> None:
    d = crd_dir()
    assert (d / "SOURCES").read_text().split() == [
        "github.com/fluxcd/flagger",
        "v1.41.0",
        "github.com/argoproj/argo-rollouts",
        "v1.8.3",
    ]
    assert crd_dir.__wrapped__() == d  # a second run answers from the cache


def test_schemas_refuse_what_the_api_server_would() -> None:
    """The validation can fail: an unknown (pruned) field, a wrong type, a missing required field."""
    objs = flagger_objects("web", app(ROLLOUT_FLAGGER), NS, prometheus_url=PROM)
    canary = copy.deepcopy(by_kind(objs, "Canary")[0])
    validate(canary)
    canary["spec"]["analysis"]["stepWeightz"] = [1]
    with pytest.raises(AssertionError, match="stepWeightz"):
        validate(canary)
    rollout = copy.deepcopy(by_kind(argo_objects("web", app(ROLLOUT_ARGO), NS, prometheus_url=PROM), "Rollout")[0])
    validate(rollout)
    rollout["spec"]["strategy"]["canary"]["steps"][1]["setWeight"] = "5"
    with pytest.raises(AssertionError, match="is not of type 'integer'"):
        validate(rollout)
    del rollout["spec"]["strategy"]["canary"]["trafficRouting"]["istio"]["virtualService"]["name"]
    with pytest.raises(AssertionError, match="'name' is a required property"):
        validate(rollout)


# --- policies ---------------------------------------------------------------------------------------


def app(rollout: dict[str, Any], **extra: Any) -> AppSpec:
    """An app with versions v1 (stable, 2 pods) and v2 (canary, 3 pods), in stack-config shape."""
    return AppSpec.model_validate(
        {
            "ports": [{"port": 9080}],
            "versions": {
                "v1": {"image": "example/web:1", "replicas": 2},
                "v2": {"image": "example/web:2", "replicas": 3},
            },
            "rollout": {"stable": "v1", "canary": "v2", **rollout},
            **extra,
        }
    )


#: What Flagger and Argo both take: onNoData fail, scaleToZero.
COMMON = {"afterPromotion": "scaleToZero", "progressDeadline": "30m"}
ROLLOUT_FLAGGER = {
    **COMMON,
    "steps": [5, 25, 50, 100],
    "analysis": {"interval": "1m", "failureLimit": 2, "onNoData": "fail", "minRequests": 20},
}
ROLLOUT_ARGO = {
    **COMMON,
    "steps": [5, 25, 50, 100],
    "analysis": {"interval": "1m", "failureLimit": 0, "onNoData": "fail", "minRequests": 20},
}


def render_flagger(rollout: dict[str, Any], **extra: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    objs = flagger_objects("web", app(rollout, **extra), NS, prometheus_url=PROM)
    for obj in objs:
        validate(obj)
    (canary,) = by_kind(objs, "Canary")
    assert objs[-1] is canary
    return canary, by_kind(objs, "MetricTemplate")


def render_argo(rollout: dict[str, Any], **kw: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    objs = argo_objects("web", app(rollout), NS, prometheus_url=PROM, **kw)
    for obj in objs:
        validate(obj)
    (ro,) = by_kind(objs, "Rollout")
    return ro, [m for t in by_kind(objs, "AnalysisTemplate") for m in t["spec"]["metrics"]]


def steps_of(ro: dict[str, Any]) -> list[dict[str, Any]]:
    return list(ro["spec"]["strategy"]["canary"]["steps"])


def errors(fn: Any, *args: Any, **kw: Any) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        fn(*args, **kw)
    return {p.path: p.message for p in info.value.problems}


# --- Flagger ---------------------------------------------------------------------------------------


def test_flagger_canary_by_steps() -> None:
    canary, templates = render_flagger(ROLLOUT_FLAGGER)
    spec = canary["spec"]
    assert spec["targetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    assert spec["provider"] == "istio"
    assert spec["progressDeadlineSeconds"] == 1800
    assert spec["service"]["port"] == 9080 and spec["service"]["portName"] == "http"
    analysis = spec["analysis"]
    assert analysis["stepWeights"] == [5, 25, 50]  # Flagger promotes after the last one
    assert analysis["threshold"] == 3  # failureLimit 2: the third failed check rolls back
    assert analysis["interval"] == "1m"
    names = [m["name"] for m in analysis["metrics"]]
    assert names == ["min-requests", "request-success-rate", "request-duration-p99"]
    sr = analysis["metrics"][1]
    assert "templateRef" not in sr and sr["thresholdRange"] == {"min": 99.0}  # Flagger's builtin
    p99 = analysis["metrics"][2]
    assert p99["thresholdRange"] == {"max": 500.0} and p99["templateRef"] == {"name": "web-request-duration-p99"}
    assert analysis["metrics"][0]["thresholdRange"] == {"min": 20.0}
    by_name = {t["metadata"]["name"]: t["spec"] for t in templates}
    assert set(by_name) == {"web-min-requests", "web-request-duration-p99"}
    assert by_name["web-min-requests"]["query"] == (
        'sum(increase(istio_requests_total{reporter="destination",destination_workload_namespace="shop",'
        'destination_workload="web"}[60s]))'
    )
    assert by_name["web-request-duration-p99"]["query"].startswith("histogram_quantile(0.99,")
    assert by_name["web-request-duration-p99"]["provider"] == {"type": "prometheus", "address": PROM}
    assert "skipAnalysis" not in spec and "webhooks" not in analysis


def test_flagger_step_weight_max_weight() -> None:
    canary, _ = render_flagger({**ROLLOUT_FLAGGER, "steps": None, "stepWeight": 20, "maxWeight": 70})
    # Flagger's own stepWeight/maxWeight would go 20 … 60, 80: the explicit list keeps meshstack's plan.
    assert canary["spec"]["analysis"]["stepWeights"] == [20, 40, 60]


def test_flagger_ab_header_and_cookie() -> None:
    rollout = {
        **ROLLOUT_FLAGGER,
        "steps": [100],
        "ab": {
            "iterations": 5,
            "match": [
                {"headers": {"x-canary": {"exact": "yes"}}},
                {"headers": {"cookie": {"regex": "^(.*?;)?(c=1)(;.*)?$"}}},
            ],
        },
    }
    canary, _ = render_flagger(rollout)
    analysis = canary["spec"]["analysis"]
    assert analysis["iterations"] == 5 and "stepWeights" not in analysis
    assert analysis["match"] == [
        {"headers": {"x-canary": {"exact": "yes"}}},
        {"headers": {"cookie": {"regex": "^(.*?;)?(c=1)(;.*)?$"}}},
    ]


def test_flagger_mirror_then_weights() -> None:
    canary, _ = render_flagger({**ROLLOUT_FLAGGER, "mirror": {"percentage": 50}, "steps": [10, 100]})
    analysis = canary["spec"]["analysis"]
    assert (analysis["mirror"], analysis["mirrorWeight"], analysis["stepWeights"]) == (True, 50, [10])
    # mirror, then promote: Flagger's blue/green with mirroring, for the mirror step's iterations
    canary, _ = render_flagger({**ROLLOUT_FLAGGER, "mirror": {"iterations": 3}, "steps": [100]})
    analysis = canary["spec"]["analysis"]
    assert analysis["iterations"] == 3 and analysis["mirror"] is True and "mirrorWeight" not in analysis


def test_flagger_blue_green() -> None:
    rollout = {
        **ROLLOUT_FLAGGER,
        "steps": None,
        "strategy": "blueGreen",
        "preview": [{"headers": {"x-preview": {"exact": "1"}}, "queryParams": {"v": {"exact": "2"}}}],
    }
    canary, _ = render_flagger(rollout)
    analysis = canary["spec"]["analysis"]
    assert analysis["iterations"] == 1
    assert analysis["match"] == [{"headers": {"x-preview": {"exact": "1"}}, "queryParams": {"v": {"exact": "2"}}}]


def test_flagger_custom_metrics() -> None:
    rollout = {
        **ROLLOUT_FLAGGER,
        "analysis": {
            **ROLLOUT_FLAGGER["analysis"],
            "interval": "90s",
            "minRequests": 0,
            "metrics": [
                {
                    "name": "errors",
                    "query": 'sum(rate(app_errors{ns="{{ namespace }}",w="{{workload}}"}[{{ interval }}]))',
                    "min": 0,
                    "max": 5,
                },
                {"name": "sr", "builtin": "request-success-rate", "min": 95},
            ],
        },
    }
    canary, templates = render_flagger(rollout)
    metrics = canary["spec"]["analysis"]["metrics"]
    assert [m["name"] for m in metrics] == ["errors", "request-success-rate"]
    assert metrics[0]["thresholdRange"] == {"min": 0.0, "max": 5.0} and metrics[0]["interval"] == "90s"
    assert templates[0]["spec"]["query"] == 'sum(rate(app_errors{ns="shop",w="web"}[90s]))'


def test_flagger_gates() -> None:
    weights = [10, 40, 100]
    hooks = lambda gates: [  # noqa: E731
        w["type"]
        for w in render_flagger({**ROLLOUT_FLAGGER, "steps": weights, "pauseBefore": gates})[0]["spec"]["analysis"].get(
            "webhooks", []
        )
    ]
    assert hooks([10]) == ["confirm-rollout"]
    assert hooks([100]) == ["confirm-promotion"]
    assert hooks([10, 100]) == ["confirm-rollout", "confirm-promotion"]
    assert hooks([10, 40, 100]) == ["confirm-traffic-increase"]
    canary, _ = render_flagger({**ROLLOUT_FLAGGER, "steps": weights, "pauseBefore": [100]})
    assert canary["spec"]["analysis"]["webhooks"][0]["url"] == f"http://flagger-loadtester.{NS}/gate/check"


def test_flagger_errors_name_paths() -> None:
    def problems(rollout: dict[str, Any], **extra: Any) -> dict[str, str]:
        return errors(flagger_objects, "web", app(rollout, **extra), NS)

    got = problems({**ROLLOUT_FLAGGER, "pauseBefore": [25]})
    assert list(got) == ["apps.web.rollout.pauseBefore"]
    assert "allowed: any of [5, 100], or all of [5, 25, 50, 100]" in got["apps.web.rollout.pauseBefore"]
    got = problems({**ROLLOUT_FLAGGER, "analysis": {**ROLLOUT_FLAGGER["analysis"], "onNoData": "hold"}})
    assert "allowed: fail" in got["apps.web.rollout.analysis.onNoData"]
    got = problems({**ROLLOUT_FLAGGER, "afterPromotion": "keep", "analysis": {"interval": "5s", "onNoData": "pass"}})
    assert set(got) == {
        "apps.web.rollout.afterPromotion",
        "apps.web.rollout.analysis.interval",
        "apps.web.rollout.analysis.onNoData",
    }
    got = problems({**ROLLOUT_FLAGGER, "ab": {"match": [{"headers": {"x": {"exact": "1"}}}]}})
    assert "cannot raise weights after the A/B step" in got["apps.web.rollout.ab"]
    got = problems({**ROLLOUT_FLAGGER, "mirror": {"percentage": 12.5}})
    assert "whole percentage" in got["apps.web.rollout.mirror.percentage"]
    got = problems(
        {
            **COMMON,
            "strategy": "blueGreen",
            "preview": [{"uri": {"prefix": "/beta"}}],
            "analysis": ROLLOUT_FLAGGER["analysis"],
        }
    )
    assert list(got) == ["apps.web.rollout.preview[0].uri"]
    got = problems(ROLLOUT_FLAGGER, routes=[{"match": [{"headers": {"x": {"exact": "1"}}}], "to": [{"version": "v1"}]}])
    assert list(got) == ["apps.web.routes"]
    analysis = {
        **ROLLOUT_FLAGGER["analysis"],
        "metrics": [{"name": "request-duration", "builtin": "request-duration-p99", "max": 1}],
    }
    got = problems({**ROLLOUT_FLAGGER, "analysis": analysis})
    assert "reserves the metric name" in got["apps.web.rollout.analysis.metrics[0].name"]
    # a custom config path
    with pytest.raises(ConfigError) as info:
        flagger_objects("web", app({**ROLLOUT_FLAGGER, "afterPromotion": "remove"}), NS, path=["rollouts", "web"])
    assert info.value.paths == ["rollouts.web.rollout.afterPromotion"]


# --- Argo Rollouts ---------------------------------------------------------------------------------


def test_argo_canary_by_steps() -> None:
    ro, metrics = render_argo(ROLLOUT_ARGO)
    spec = ro["spec"]
    assert spec["replicas"] == 3 and spec["selector"] == {"matchLabels": {"app": "web"}}
    assert spec["workloadRef"]["name"] == "web-v2"
    assert spec["progressDeadlineSeconds"] == 1800 and spec["progressDeadlineAbort"] is True
    assert steps_of(ro) == [
        {"setCanaryScale": {"replicas": 3}},
        {"setWeight": 5},
        {"pause": {"duration": "60s"}},
        {"setWeight": 25},
        {"pause": {"duration": "60s"}},
        {"setWeight": 50},
        {"pause": {"duration": "60s"}},
    ]
    istio = spec["strategy"]["canary"]["trafficRouting"]["istio"]
    assert istio["virtualService"] == {"name": "web"}
    assert istio["destinationRule"] == {"name": "web", "stableSubsetName": "stable", "canarySubsetName": "canary"}
    assert spec["strategy"]["canary"]["analysis"] == {"templates": [{"templateName": "web-rollout"}]}
    assert [m["name"] for m in metrics] == ["request-success-rate", "request-duration-p99"]
    sr = metrics[0]
    assert sr["successCondition"] == "len(result) > 0 && !isNaN(result[0]) && result[0] >= 99"
    assert "failureCondition" not in sr
    assert (sr["failureLimit"], sr["inconclusiveLimit"], sr["consecutiveErrorLimit"]) == (0, 0, 0)
    assert sr["interval"] == sr["initialDelay"] == "60s"
    query = sr["provider"]["prometheus"]["query"]
    assert query.startswith("(100 * sum(rate(istio_requests_total{") and 'destination_workload="web-v2"' in query
    assert query.endswith('destination_workload="web-v2"}[60s])) >= 20)')
    assert metrics[1]["successCondition"].endswith("result[0] <= 500")


def test_argo_step_weight_and_names() -> None:
    ro, _ = render_argo(
        {**ROLLOUT_ARGO, "steps": None, "stepWeight": 25, "maxWeight": 100, "afterPromotion": "remove"},
        virtual_service="web-vs",
        destination_rule="web-dr",
    )
    assert [s["setWeight"] for s in steps_of(ro) if "setWeight" in s] == [25, 50, 75]
    assert ro["spec"]["revisionHistoryLimit"] == 0
    istio = ro["spec"]["strategy"]["canary"]["trafficRouting"]["istio"]
    assert istio["virtualService"]["name"] == "web-vs" and istio["destinationRule"]["name"] == "web-dr"


def test_argo_ab_mirror_and_gates() -> None:
    rollout = {
        **ROLLOUT_ARGO,
        "mirror": {"percentage": 30, "iterations": 2},
        "ab": {
            "match": [
                {"headers": {"x-a": {"exact": "1"}, "x-b": {"prefix": "t"}}},
                {"headers": {"cookie": {"regex": "c=1"}}},
            ]
        },
        "steps": [50, 100],
        "pauseBefore": [50, 100],
    }
    ro, _ = render_argo(rollout)
    assert steps_of(ro) == [
        {"setCanaryScale": {"replicas": 3}},
        {"setMirrorRoute": {"name": "mirror", "percentage": 30, "match": [{"path": {"prefix": "/"}}]}},
        {"pause": {"duration": "120s"}},
        {"setMirrorRoute": {"name": "mirror"}},
        {
            "setHeaderRoute": {
                "name": "ab-0",
                "match": [
                    {"headerName": "x-a", "headerValue": {"exact": "1"}},
                    {"headerName": "x-b", "headerValue": {"prefix": "t"}},
                ],
            }
        },
        {"setHeaderRoute": {"name": "ab-1", "match": [{"headerName": "cookie", "headerValue": {"regex": "c=1"}}]}},
        {"pause": {"duration": "60s"}},
        {"setHeaderRoute": {"name": "ab-0"}},
        {"setHeaderRoute": {"name": "ab-1"}},
        {"pause": {}},
        {"setWeight": 50},
        {"pause": {"duration": "60s"}},
        {"pause": {}},
    ]
    managed = ro["spec"]["strategy"]["canary"]["trafficRouting"]["managedRoutes"]
    assert managed == [{"name": "mirror"}, {"name": "ab-0"}, {"name": "ab-1"}]


def test_argo_blue_green_is_a_header_route_then_the_switch() -> None:
    ro, _ = render_argo(
        {
            **COMMON,
            "strategy": "blueGreen",
            "preview": [{"headers": {"x-preview": {"exact": "1"}}}],
            "analysis": ROLLOUT_ARGO["analysis"],
        }
    )
    steps = steps_of(ro)
    assert not [s for s in steps if "setWeight" in s]
    assert steps[1] == {
        "setHeaderRoute": {"name": "preview-0", "match": [{"headerName": "x-preview", "headerValue": {"exact": "1"}}]}
    }


def test_argo_on_no_data() -> None:
    def metric(on_no_data: str, min_requests: int = 10) -> dict[str, Any]:
        analysis = {
            "interval": "30s",
            "failureLimit": 0,
            "onNoData": on_no_data,
            "minRequests": min_requests,
            "metrics": [{"name": "errors", "query": "sum(errors)", "min": 0.5, "max": 1e-7 + 2}],
        }
        return render_argo({**ROLLOUT_ARGO, "analysis": analysis})[1][0]

    cond = "result[0] >= 0.5 && result[0] <= 2.0000001"
    hold = metric("hold")
    assert hold["successCondition"] == f"len(result) > 0 && !isNaN(result[0]) && {cond}"
    assert hold["failureCondition"] == f"len(result) > 0 && !(!isNaN(result[0]) && {cond})"
    assert hold["provider"]["prometheus"]["query"].startswith("(sum(errors)) and on() (sum(increase(")
    passing = metric("pass")
    assert passing["successCondition"] == f"len(result) == 0 || (!isNaN(result[0]) && {cond})"
    assert "failureCondition" not in passing
    # no minimum: never "no data", an empty result fails whatever onNoData says
    zero = metric("pass", 0)
    assert (
        zero["successCondition"].startswith("len(result) > 0 && ")
        and zero["provider"]["prometheus"]["query"] == "sum(errors)"
    )
    # no metrics: the request count alone
    ro, metrics = render_argo(
        {**ROLLOUT_ARGO, "analysis": {**ROLLOUT_ARGO["analysis"], "metrics": [], "onNoData": "hold"}}
    )
    assert [m["name"] for m in metrics] == ["min-requests"]
    assert metrics[0]["failureCondition"] == "len(result) > 0 && !(!isNaN(result[0]) && true)"
    ro, metrics = render_argo(
        {**ROLLOUT_ARGO, "analysis": {**ROLLOUT_ARGO["analysis"], "metrics": [], "onNoData": "pass"}}
    )
    assert metrics == [] and "analysis" not in ro["spec"]["strategy"]["canary"]


def test_argo_errors_name_paths() -> None:
    def problems(rollout: dict[str, Any], **extra: Any) -> dict[str, str]:
        return errors(argo_objects, "web", app(rollout, **extra), NS)

    got = problems({**ROLLOUT_ARGO, "analysis": {**ROLLOUT_ARGO["analysis"], "failureLimit": 1}})
    assert (
        list(got) == ["apps.web.rollout.analysis.failureLimit"]
        and "allowed: 0" in got["apps.web.rollout.analysis.failureLimit"]
    )
    got = problems({**ROLLOUT_ARGO, "afterPromotion": "keep", "mirror": {"percentage": 2.5}})
    assert set(got) == {"apps.web.rollout.afterPromotion", "apps.web.rollout.mirror.percentage"}
    got = problems({**ROLLOUT_ARGO, "analysis": {**ROLLOUT_ARGO["analysis"], "interval": "1500ms"}})
    assert "whole seconds" in got["apps.web.rollout.analysis.interval"]
    got = problems(
        {
            **COMMON,
            "strategy": "blueGreen",
            "analysis": ROLLOUT_ARGO["analysis"],
            "preview": [{"headers": {"x": {"exact": "1"}}}, {"queryParams": {"beta": {"exact": "1"}}}],
        }
    )
    assert set(got) == {"apps.web.rollout.preview[1].headers", "apps.web.rollout.preview[1].queryParams"}
    routes = [{"match": [{"headers": {"x": {"exact": "1"}}}], "to": [{"version": "v1"}]}]
    got = problems(ROLLOUT_ARGO, routes=routes)
    assert list(got) == ["apps.web.routes"] and "route=" in got["apps.web.routes"]
    ro = by_kind(argo_objects("web", app(ROLLOUT_ARGO, routes=routes), NS, route="primary"), "Rollout")[0]
    validate(ro)
    assert ro["spec"]["strategy"]["canary"]["trafficRouting"]["istio"]["virtualService"] == {
        "name": "web",
        "routes": ["primary"],
    }


# --- every valid policy renders valid objects, or names what it cannot ------------------------------

HEADER = st.sampled_from(["x-canary", "x-user", "cookie"])
VALUE = st.sampled_from([{"exact": "1"}, {"prefix": "be"}, {"regex": "^a.*$"}])
MATCH = st.dictionaries(HEADER, VALUE, min_size=1, max_size=2).map(lambda h: {"headers": h})


@st.composite
def policies(draw: st.DrawFn) -> dict[str, Any]:
    interval = draw(st.sampled_from([10, 30, 60, 90, 120]))
    out: dict[str, Any] = {
        "afterPromotion": draw(st.sampled_from(["scaleToZero", "remove", "keep"])),
        "progressDeadline": "24h",
        "analysis": {
            "interval": f"{interval}s",
            "failureLimit": draw(st.sampled_from([0, 0, 1, 3])),
            "minRequests": draw(st.sampled_from([0, 10, 100])),
            "onNoData": draw(st.sampled_from(["fail", "fail", "hold", "pass"])),
            "metrics": draw(
                st.lists(
                    st.sampled_from(
                        [
                            {"name": "sr", "builtin": "request-success-rate", "min": 99.5},
                            {"name": "p99", "builtin": "request-duration-p99", "max": 250},
                            {"name": "errors", "query": 'sum(rate(e{app="{{ app }}"}[{{ interval }}]))', "max": 1},
                            {"name": "ratio", "query": "sum(x) / sum(y)", "min": 0.1, "max": 0.9},
                        ]
                    ),
                    max_size=3,
                    unique_by=lambda m: m["name"],
                )
            ),
        },
    }
    if draw(st.booleans()):
        return {**out, "strategy": "blueGreen", "preview": draw(st.lists(MATCH, min_size=1, max_size=2))}
    if draw(st.booleans()):
        weights = sorted(draw(st.sets(st.integers(1, 99), max_size=4)))
        out["steps"] = [*weights, 100]
    else:
        step = draw(st.integers(5, 50))
        out |= {"stepWeight": step, "maxWeight": draw(st.integers(step, 100))}
    if draw(st.booleans()):
        out["mirror"] = {
            "percentage": draw(st.sampled_from([100, 50, 10, 12.5])),
            "iterations": draw(st.integers(1, 3)),
        }
    if draw(st.booleans()):
        out["ab"] = {"match": draw(st.lists(MATCH, min_size=1, max_size=2)), "iterations": draw(st.integers(1, 3))}
    return out


def _valid_app(policy: dict[str, Any]) -> AppSpec | None:
    try:
        spec = app(policy)
    except (ValueError, ConfigError):
        return None
    assert spec.rollout is not None
    gates = sorted({s.weight for s in spec.rollout.plan() if s.weight})
    policy["pauseBefore"] = gates[:1]  # a gate the plan reaches
    return app(policy)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(policies())
def test_every_policy_renders_valid_objects_or_names_paths(policy: dict[str, Any]) -> None:
    spec = _valid_app(policy)
    if spec is None:  # the model refused it: not a policy
        return
    assert spec.rollout is not None
    plan = spec.rollout.plan()
    for render in (flagger_objects, argo_objects):
        try:
            objs = render("web", spec, NS)
        except ConfigError as err:
            assert err.problems
            assert all(p.path.startswith("apps.web.rollout.") for p in err.problems), err
            continue
        for obj in objs:
            validate(obj)
        if render is argo_objects:
            weights = [s["setWeight"] for s in steps_of(objs[-1]) if "setWeight" in s]
            assert weights == [s.weight for s in plan if s.kind.value == "weight"]
            pauses = [s for s in steps_of(objs[-1]) if "pause" in s]
            assert len(pauses) == sum(1 for s in plan if s.iterations) + len(spec.rollout.pause_before)
        else:
            analysis = objs[-1]["spec"]["analysis"]
            weights = [s.weight for s in plan if s.kind.value == "weight"]
            expected = weights or ([100] if plan[0].kind.value == "promote" else None)
            assert analysis.get("stepWeights") == expected
            assert analysis["threshold"] == spec.rollout.analysis.failure_limit + 1


@settings(max_examples=60, deadline=None)
@given(policies())
def test_argo_takes_every_policy_within_its_limits(policy: dict[str, Any]) -> None:
    """With failureLimit 0, no keep and whole mirror percentages, Argo expresses every plan."""
    policy["analysis"]["failureLimit"] = 0
    if policy["afterPromotion"] == "keep":
        policy["afterPromotion"] = "remove"
    if "mirror" in policy:
        policy["mirror"]["percentage"] = 40
    spec = _valid_app(policy)
    if spec is None:
        return
    for obj in argo_objects("web", spec, NS):
        validate(obj)
