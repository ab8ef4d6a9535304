"""Rollout policies: validation at construction (Python and stack config alike), the plan, what a
position renders, and the position's durability through the stack's own outputs (mocks)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshstack._sdk.mocks import wrap_secret
from meshstack.errors import ConfigError
from meshstack.model import AppSpec, LoadBalancer, Match, Version
from meshstack.model.rollout import Analysis, Metric, NoData, Phase, Rollout, RolloutState, StepKind
from meshstack.stacks.program import ROUTE_ONLY, main
from meshstack.testing import Recording, run
from tests.harness import config_error, stack_values

VERSIONS = {"v1": {"image": "x/web:1"}, "v2": {"image": "x/web:2"}}


def web(rollout: dict[str, Any], **app: Any) -> dict[str, Any]:
    return {"services": {"web": {"versions": VERSIONS, "rollout": rollout, **app}}}


def rollout_error(rollout: dict[str, Any], stack: str = "dev", **app: Any) -> str:
    message, registered = config_error(stack, apps=web(rollout, **app))
    assert registered == []
    return message


BASE = {"stable": "v1", "canary": "v2", "steps": [5, 25, 50, 100], "analysis": {"interval": "1m"}}


@pytest.mark.parametrize(
    ("change", "line"),
    [
        ({"steps": [5, 5, 100]}, "rollout.steps[1]: steps must increase: 5 follows 5"),
        ({"steps": [5, 50]}, "rollout.steps[1]: the last step must be 100 (the promotion), got 50"),
        ({"steps": [0, 100]}, "rollout.steps[0]: a weight is a percentage between 1 and 100, got 0"),
        ({"canary": "v9"}, "rollout.canary: unknown version 'v9'"),
        ({"canary": "v1"}, "rollout.canary: the canary must be another version"),
        ({"stepWeight": 10}, "rollout.stepWeight: set steps, or stepWeight and maxWeight, not both"),
        (
            {"analysis": {"interval": "10s"}},
            "rollout.analysis.interval: 10s is shorter than twice Prometheus's scrape interval (15s)",
        ),
        (
            {
                "analysis": {
                    "interval": "1m",
                    "metrics": [{"name": "sr", "builtin": "request-success-rate", "min": 101}],
                }
            },
            "min 101 can never be met",
        ),
        (
            {"analysis": {"interval": "1m", "metrics": [{"name": "x", "query": "up", "min": 5, "max": 1}]}},
            "min 5 is above max 1",
        ),
        (
            {
                "analysis": {
                    "interval": "1m",
                    "metrics": [{"name": "x", "query": "rate(x{a='{{ pod }}'}[1m])", "max": 1}],
                }
            },
            "unknown placeholder {{ pod }}",
        ),
        ({"pauseBefore": [30]}, "rollout.pauseBefore[0]: the plan never reaches 30%"),
        ({"progressDeadline": "2m"}, "rollout.progressDeadline: 2m is shorter than the analysis alone (180s"),
        ({"strategy": "blueGreen"}, "rollout.steps: blue/green switches at once"),
    ],
)
def test_what_controllers_find_at_run_time_is_refused_at_construction(change: dict[str, Any], line: str) -> None:
    assert line in rollout_error({**BASE, **change})


def test_consistent_hashing_cannot_hold_across_weight_steps() -> None:
    message = rollout_error(BASE, loadBalancer={"consistentHash": {"httpHeaderName": "x-user"}})
    assert "meshstack:apps.services.web.loadBalancer.consistentHash: consistent hashing cannot hold" in message


def test_with_a_rollout_the_catch_all_route_is_the_rollouts() -> None:
    message = rollout_error(BASE, routes=[{"to": [{"version": "v1"}]}])
    assert (
        "meshstack:apps.services.web.routes[0].match: with a rollout, the catch-all route is the rollout's" in message
    )


def test_prod_requires_an_explicit_on_no_data() -> None:
    apps = web(BASE)
    apps["services"]["web"]["versions"] = {v: {**spec, "image": spec["image"]} for v, spec in VERSIONS.items()}
    message, _ = config_error("prod", apps=apps)
    assert (
        "meshstack:apps.services.web.rollout.analysis.onNoData: prod says what a canary without traffic means"
        in message
    )
    ok = web({**BASE, "analysis": {"interval": "1m", "onNoData": "hold"}})
    config_error_free = stack_values("prod")
    assert ok and config_error_free  # the committed prod stack itself is valid (covered elsewhere)


def test_python_and_config_build_the_same_rollout() -> None:
    python = Rollout.canary_by_steps(
        "v1", "v2", [5, 25, 50, 100], analysis=Analysis(interval="1m", on_no_data=NoData.HOLD)
    )
    config = Rollout.parse({**BASE, "analysis": {"interval": "1m", "onNoData": "hold"}})
    assert python == config and python.fingerprint == config.fingerprint


def test_plans() -> None:
    mirrored = Rollout(
        stable="v1",
        canary="v2",
        step_weight=20,
        max_weight=60,
        mirror={"percentage": 50},
        ab={"match": [Match.cookie("tester", "yes")]},
    )  # type: ignore[arg-type]
    assert [s.label for s in mirrored.plan()] == ["mirror 50%", "ab", "20%", "40%", "60%", "promote"]
    bg = Rollout.blue_green("v1", "v2", preview=[Match.header("x-preview", exact="1")])
    assert [s.kind for s in bg.plan()] == [StepKind.PREVIEW, StepKind.PROMOTE]
    with pytest.raises(ConfigError) as exc:
        Rollout(stable="v1", canary="v2", steps=[100], ab={"match": [Match.path_prefix("/x")]})  # type: ignore[arg-type]
    assert exc.value.paths == ["ab.match[0]"]


def app(rollout: Rollout) -> AppSpec:
    return AppSpec(versions={"v1": Version(image="x/web:1"), "v2": Version(image="x/web:2")}, rollout=rollout)


def weights(spec: AppSpec) -> list[list[tuple[str, int | None]]]:
    return [[(d.version, d.weight) for d in route.to] for route in spec.routes]


def test_what_each_position_renders() -> None:
    rollout = Rollout.canary_by_steps("v1", "v2", [5, 25, 100], after_promotion="remove")  # type: ignore[arg-type]
    spec = app(rollout)
    assert spec.rollout is not None
    fp = spec.rollout.fingerprint
    assert weights(spec.at(None)) == [[("v1", None)]]
    assert weights(spec.at(RolloutState(phase=Phase.PROGRESSING, step=1, fingerprint=fp))) == [[("v1", 75), ("v2", 25)]]
    promoted = RolloutState(phase=Phase.PROMOTED, step=2, fingerprint=fp)
    assert weights(spec.at(promoted)) == [[("v2", None)]] and set(spec.at(promoted).versions) == {"v1", "v2"}
    cleaned = promoted.model_copy(update={"cleaned": True})
    assert set(spec.at(cleaned).versions) == {"v2"}  # removed only after the route moved away
    rolled_back = RolloutState(phase=Phase.ROLLED_BACK, step=1, cleaned=True, fingerprint=fp)
    assert weights(spec.at(rolled_back)) == [[("v1", None)]] and spec.at(rolled_back).versions["v2"].replicas == 0
    stale = RolloutState(phase=Phase.PROGRESSING, step=1, fingerprint="another-plan")
    assert weights(spec.at(stale)) == [[("v1", None)]]  # a changed declaration starts over
    # A new canary image is a new rollout: the finished state of the old image does not carry over.
    rebuilt = AppSpec(versions={"v1": Version(image="x/web:1"), "v2": Version(image="x/web:3")}, rollout=rollout)
    assert rebuilt.rollout is not None and rebuilt.rollout.fingerprint != fp
    assert weights(rebuilt.at(promoted)) == [[("v1", None)]]
    assert app(rollout).rollout == spec.rollout  # the same images: the same rollout


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(st.integers(1, 99), min_size=0, max_size=6, unique=True).map(lambda s: [*sorted(s), 100]),
    step=st.integers(-1, 8),
    phase=st.sampled_from(list(Phase)),
)
def test_every_position_of_a_valid_plan_renders_valid_istio_weights(steps: list[int], step: int, phase: Phase) -> None:
    rollout = Rollout.canary_by_steps("v1", "v2", steps)
    spec = app(rollout)
    assert spec.rollout is not None
    state = RolloutState(phase=phase, step=min(step, len(rollout.plan()) - 1), fingerprint=spec.rollout.fingerprint)
    at = spec.at(state)
    for route in at.routes:
        total = sum(w for _, w in route.weighted)
        assert total == 100 and all(v in at.versions for v in route.versions)


def record(stack_outputs: dict[str, Any] | None = None, **config: Any) -> Recording:
    values = stack_values("dev")
    values["apps"] = {**values["apps"], **web({**BASE, "analysis": {"interval": "1m", "onNoData": "hold"}})}
    values.update(config)
    return run(main, config={f"meshstack:{k}": v for k, v in values.items()}, stack="dev", stack_outputs=stack_outputs)


def vs_weights(rec: Recording) -> list[tuple[str, int | None]]:
    route = rec.one(kind="VirtualService", k8s_name="web").inputs["spec"]["http"][0]["route"]
    return [(r["destination"]["subset"], r.get("weight")) for r in route]


def test_the_position_lives_with_the_stack() -> None:
    first = record()
    assert vs_weights(first) == [("v1", None)]
    # The URN of the route a rollout step targets is recorded with the position.
    route = first.one(kind="VirtualService", k8s_name="web")
    assert first.outputs["rollouts"]["web"]["routeUrn"] == route.urn
    fingerprint = first.outputs["rollouts"]["web"]["state"]["fingerprint"]
    # The runner moves it for one update …
    moved = {"web": {"phase": "progressing", "step": 1, "fingerprint": fingerprint}}
    second = record(rolloutStates=moved)
    assert vs_weights(second) == [("v1", 75), ("v2", 25)] and second.outputs["rollouts"]["web"]["at"] == "25%"
    # … and a plain up afterwards (no runner, maybe another machine) reads it back from the stack.
    third = record(stack_outputs=second.outputs)
    assert vs_weights(third) == [("v1", 75), ("v2", 25)]
    # A new declaration (another canary) starts over.
    reversed_rollout = {**BASE, "canary": "v1", "stable": "v2", "analysis": {"interval": "1m"}}
    changed = record(stack_outputs=second.outputs, apps={**stack_values("dev")["apps"], **web(reversed_rollout)})
    assert vs_weights(changed) == [("v2", None)]


def test_a_route_only_step_registers_the_route_and_carries_every_recorded_output(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = record()
    fingerprint = first.outputs["rollouts"]["web"]["state"]["fingerprint"]
    # What the stack recorded last, as the engine hands it back: with a secret among the outputs.
    previous = {**first.outputs, "token": wrap_secret("s3cr3t")}
    monkeypatch.setenv(ROUTE_ONLY, "web")
    moved = {"web": {"phase": "progressing", "step": 1, "fingerprint": fingerprint}}
    step = record(stack_outputs=previous, rolloutStates=moved)
    # Only the route (and the provider, and the route's parents, which hold no objects).
    assert sorted(r.type for r in step.resources) == [
        "kubernetes:networking.istio.io/v1:VirtualService",
        "meshstack:apps:MeshApp",
        "meshstack:apps:MeshApps",
        "pulumi:providers:kubernetes",
    ]
    assert step.one(kind="VirtualService", k8s_name="web").urn == first.outputs["rollouts"]["web"]["routeUrn"]
    assert vs_weights(step) == [("v1", 75), ("v2", 25)]
    # Every output is carried over; only the position moved; a recorded secret makes the carried values secrets.
    assert set(step.outputs) == set(previous)
    assert step.outputs["rollouts"]["web"]["at"] == "25%"
    assert step.outputs["rollouts"]["web"]["state"]["step"] == 1
    assert not first.secret_outputs
    assert step.secret_outputs == set(previous) - {"rollouts"}
    assert step.outputs["token"] == "s3cr3t"
    # (A null inside a value does not survive the engine's round trip: the release's unset commit.)
    assert {k: step.outputs[k] for k in first.outputs if k not in ("rollouts", "release")} == {
        k: v for k, v in first.outputs.items() if k not in ("rollouts", "release")
    }
    assert step.outputs["release"] == {k: v for k, v in first.outputs["release"].items() if v is not None}
    # With a secret among them the recorded positions are still read: a plain `up` keeps the weights.
    after = record(stack_outputs={**step.outputs, "token": wrap_secret("s3cr3t")})
    assert vs_weights(after) == [("v1", 75), ("v2", 25)]
    assert after.outputs["rollouts"]["web"]["at"] == "25%"


def test_a_bad_runner_state_is_a_path_named_error() -> None:
    with pytest.raises(Exception, match=r"meshstack:rolloutStates\.web\.step"):
        record(rolloutStates={"web": {"phase": "progressing", "step": -5}})


def test_metrics_and_analysis_defaults() -> None:
    analysis = Analysis()
    assert [m.name for m in analysis.metrics] == ["request-success-rate", "request-duration-p99"]
    assert analysis.no_data is NoData.FAIL and analysis.on_no_data is None
    assert Metric.success_rate(99).passes(99.5) and not Metric.latency_p99(500).passes(700)
    with pytest.raises(ConfigError):
        AppSpec(
            versions={"v1": Version(image="x:1")},
            load_balancer=LoadBalancer.least_request(),
            rollout=Rollout.canary_by_steps("v1", "v2", [100]),
        )
