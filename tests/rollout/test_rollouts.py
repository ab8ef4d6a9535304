"""Real canaries from a pipeline: the runner drives the real engine (a targeted update of one route per
step, read back from the API server) and decides on a real Prometheus's answers.

Each scenario is its own app of the rollout stack (conftest.SCENARIOS)."""

from __future__ import annotations

import signal

import pytest

from meshstack.tools.runner.machine import Outcome
from tests.processes import communicate, read_until
from tests.rollout.conftest import RolloutStack, events_of

pytestmark = pytest.mark.rollout


def applied(stack: RolloutStack, app: str) -> list[dict[str, object]]:
    return [
        e.detail for e in stack.events if e.app == app and e.type in ("started", "applied", "resumed", "rolled-back")
    ]


def test_a_healthy_canary_goes_5_25_50_100_and_is_promoted(stack: RolloutStack) -> None:
    runner, _ = stack.runner("healthy")
    assert runner.run() is Outcome.PROMOTED
    steps = [(e.step, e.weights) for e in stack.events if e.app == "healthy" and e.type in ("started", "applied")]
    assert steps == [
        ("5%", {"v1": 95, "v2": 5}),
        ("25%", {"v1": 75, "v2": 25}),
        ("50%", {"v1": 50, "v2": 50}),
        ("promote", {"v2": 100}),
    ]
    # Each step changed one resource (the route) and the API server read it back.
    assert all(d["changes"] == {"update": 1} for d in applied(stack, "healthy"))
    read_backs = [e.detail for e in stack.events if e.app == "healthy" and e.type == "read-back"]
    assert len(read_backs) == 4 and all(d["matches"] for d in read_backs)
    timed = sorted(float(d["decision_to_read_back"]) for d in read_backs)  # type: ignore[arg-type]
    print(
        f"\nrollout step, decision to API-server read-back: median {timed[len(timed) // 2]:.2f}s, max {timed[-1]:.2f}s"
    )
    assert stack.weights("healthy") == [("v2", 100)]
    assert stack.replicas("healthy-v1") == 0  # scaleToZero, after the route moved
    checks = [e.detail for e in stack.events if e.app == "healthy" and e.type == "metric"]
    assert checks and all(c["passed"] for c in checks)


def test_a_canary_answering_5xx_is_rolled_back_after_the_failure_limit(stack: RolloutStack) -> None:
    runner, _ = stack.runner("failing")
    assert runner.run() is Outcome.ROLLED_BACK
    kinds = [e.type for e in stack.events if e.app == "failing"]
    assert kinds.count("check") == 2  # failureLimit 1: the second failed check rolls back
    # The route went back to the stable version first, then the canary was scaled down.
    assert kinds.index("rolled-back") < kinds.index("cleaned-up")
    rates = [
        e.detail["value"]
        for e in stack.events
        if e.app == "failing" and e.type == "metric" and e.detail["metric"] == "request-success-rate"
    ]
    assert rates and all(r is not None and r < 99 for r in rates)
    assert stack.weights("failing") == [("v1", 100)] and stack.replicas("failing-v2") == 0


def test_a_slow_canary_is_rolled_back(stack: RolloutStack) -> None:
    runner, _ = stack.runner("slow")
    assert runner.run() is Outcome.ROLLED_BACK
    p99 = [
        e.detail
        for e in stack.events
        if e.app == "slow" and e.type == "metric" and e.detail["metric"] == "request-duration-p99"
    ]
    assert p99 and all(not d["passed"] and d["value"] > 500 for d in p99)
    assert stack.weights("slow") == [("v1", 100)]


def test_a_silent_canary_with_on_no_data_fail_is_rolled_back(stack: RolloutStack) -> None:
    runner, _ = stack.runner("silent-fail")
    assert runner.run() is Outcome.ROLLED_BACK
    assert [e.type for e in stack.events if e.app == "silent-fail"].count("no-data") == 2
    assert stack.weights("silent-fail") == [("v1", 100)]


def test_a_silent_canary_with_on_no_data_hold_pauses_where_it_is(stack: RolloutStack) -> None:
    runner, _ = stack.runner("silent-hold")
    assert runner.run() is Outcome.PAUSED
    assert stack.weights("silent-hold") == [("v1", 95), ("v2", 5)]  # the position is kept
    again, _ = stack.runner("silent-hold")  # a fresh runner reads the recorded position
    assert again.status()["phase"] == "paused" and again.status()["reason"] == "hold: no data"


def test_a_silent_canary_with_on_no_data_pass_advances(stack: RolloutStack) -> None:
    runner, _ = stack.runner("silent-pass")
    assert runner.run() is Outcome.PROMOTED
    assert stack.weights("silent-pass") == [("v2", 100)]


def test_a_manual_gate_pauses_a_plain_up_keeps_the_weights_and_promote_goes_on(stack: RolloutStack) -> None:
    runner, _ = stack.runner("gated")
    assert runner.run() is Outcome.PAUSED  # before 50%
    assert stack.weights("gated") == [("v1", 75), ("v2", 25)]
    # The steps (each registering only the route) carried the stack's other outputs over.
    outputs = stack.engine.outputs()
    assert outputs["rollouts"]["gated"]["at"] == "25%"
    assert {"environment", "istioVersion", "release", "controlPlaneNamespace", "revisions"} <= set(outputs)
    # A plain `up` of the whole stack in the middle of the rollout (no runner) keeps the weights.
    result = stack.engine.up()
    assert {str(getattr(k, "value", k)) for k, v in (result.summary.resource_changes or {}).items() if v} == {"same"}
    assert stack.weights("gated") == [("v1", 75), ("v2", 25)]
    stack.engine.preview(expect_no_changes=True)
    # `meshstack rollout promote`, as a pipeline's approval step runs it.
    done = stack.cli("promote", app="gated")
    out, err = communicate(done, 600, "rollout promote")
    assert done.returncode == Outcome.PROMOTED, err
    assert [e["step"] for e in events_of(out) if e["type"] == "applied"] == ["50%", "promote"]
    assert stack.weights("gated") == [("v2", 100)]


def test_a_runner_killed_between_steps_resumes_and_converges(stack: RolloutStack) -> None:
    first = stack.cli("run", app="killed")
    # Kill it while it waits after its second step.
    read_until(first, lambda line: '"type": "waiting"' in line and '"step": "20%"' in line, 300, "rollout run")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=60)
    assert first.returncode == -signal.SIGKILL
    assert stack.weights("killed") == [("v1", 80), ("v2", 20)]
    resumed = stack.cli("resume", app="killed")
    out, err = communicate(resumed, 600, "rollout resume")
    assert resumed.returncode == Outcome.PROMOTED, err
    events = events_of(out)
    assert events[0]["type"] == "resumed" and events[0]["step"] == "20%"
    assert [e["step"] for e in events if e["type"] == "applied"] == ["30%", "40%", "promote"]
    # Nothing duplicated: one route, one Deployment per version, each URN once in the state.
    resources = stack.engine.stack().export_stack().deployment["resources"]
    urns = [r["urn"] for r in resources]
    assert len(urns) == len(set(urns))
    assert sum(1 for u in urns if u.endswith("VirtualService::shop/killed")) == 1
    assert not stack.engine.stack().export_stack().deployment.get("pending_operations")


def test_a_second_runner_on_the_same_app_refuses(stack: RolloutStack) -> None:
    first = stack.cli("run", app="contended")
    read_until(first, lambda line: '"type": "waiting"' in line, 300, "rollout run")
    second = stack.cli("run", app="contended")
    _, err = communicate(second, 120, "a second rollout run")
    assert (
        second.returncode == Outcome.BUSY and "another runner" in err and "is driving the rollout of contended" in err
    )
    communicate(first, 600, "the first rollout run")
    assert first.returncode == Outcome.PROMOTED
