"""The rollout runner's state machine on a simulated stack, clock and Prometheus (fast, deterministic).
The rollout tier (tests/rollout) drives the same runner through the real engine and a real Prometheus."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from meshstack.model.rollout import Phase, Rollout, RolloutState
from meshstack.model.rollout.metric import MetricSource
from meshstack.tools.runner.events import Event
from meshstack.tools.runner.machine import Applied, Outcome, Runner
from meshstack.tools.runner.prometheus import PrometheusError


class Killed(BaseException):
    """The runner's process dying in the middle of an update (not an error it could handle)."""


@dataclass
class FakeStack:
    """A stack whose recorded state survives runners; ``kill_at``: the apply that never returns."""

    policy: Rollout
    state: RolloutState | None = None
    weights: dict[str, int] = field(default_factory=lambda: {"v1": 100})
    applies: list[tuple[RolloutState, bool]] = field(default_factory=list)
    kill_at: int | None = None
    source: MetricSource = MetricSource.ISTIO

    @property
    def name(self) -> str:
        return "dev"

    def metric_source(self) -> MetricSource:
        return self.source

    def rollout(self, app: str) -> tuple[Rollout, str]:
        return self.policy, "shop"

    def recorded(self, app: str) -> RolloutState | None:
        return self.state

    def apply(self, app: str, state: RolloutState, *, route_only: bool) -> Applied:
        if self.kill_at is not None and len(self.applies) == self.kill_at:
            raise Killed
        self.applies.append((state, route_only))
        self.state = state
        self.weights = dict(self.policy.routes_at(state)[-1].weighted)
        return Applied(0.5, {"update": 1})

    def route_weights(self, app: str, namespace: str) -> dict[str, int]:
        return self.weights


@dataclass
class FakeClock:
    t: float = 1_000.0
    slept: list[float] = field(default_factory=list)

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


@dataclass
class FakePrometheus:
    """Answers with the canary's success rate, p99 latency and request count; ``down``: unreachable."""

    success: float = 100.0
    p99: float = 50.0
    requests: float = 100.0
    down: bool = False
    queries: list[str] = field(default_factory=list)

    def query(self, promql: str, at: float | None = None) -> float | None:
        self.queries.append(promql)
        if self.down:
            raise PrometheusError("http://127.0.0.1:9: connection refused")
        if promql.startswith("sum(increase("):
            return self.requests
        if promql.startswith("100 * "):
            return self.success if self.requests else None
        return self.p99 if self.requests else None


def policy(**extra: Any) -> Rollout:
    return Rollout.parse(
        {
            "stable": "v1",
            "canary": "v2",
            "steps": [5, 25, 50, 100],
            "analysis": {"interval": "1m", "failureLimit": 1, "minRequests": 10, "onNoData": "fail"},
            **extra,
        }
    )


def runner(stack: FakeStack, prom: FakePrometheus, clock: FakeClock, events: list[Event]) -> Runner:
    return Runner(stack, "web", prom, events.append, clock=clock)  # type: ignore[arg-type]


def kinds(events: list[Event]) -> list[str]:
    return [e.type for e in events]


def test_a_healthy_canary_steps_through_the_plan_an_interval_apart_and_is_promoted() -> None:
    stack, prom, clock, events = FakeStack(policy()), FakePrometheus(), FakeClock(), []
    assert runner(stack, prom, clock, events).run() is Outcome.PROMOTED
    assert [e.weights for e in events if e.type in ("started", "applied")] == [
        {"v1": 95, "v2": 5},
        {"v1": 75, "v2": 25},
        {"v1": 50, "v2": 50},
        {"v2": 100},
    ]
    # One check a step, a whole interval after its route was read back; a passing check is not
    # recorded on its own: the next step's update records it.
    assert clock.slept == [60.0, 60.0, 60.0]
    assert kinds(events).count("check") == 3
    assert [route_only for _, route_only in stack.applies] == [True, True, True, True, False]
    assert stack.state is not None and stack.state.phase is Phase.PROMOTED and stack.state.cleaned


def test_a_mesh_of_upstream_envoy_proxies_is_analysed_from_envoys_own_inbound_cluster_stats() -> None:
    prom, events = FakePrometheus(), []
    assert runner(FakeStack(policy(), source=MetricSource.ENVOY), prom, FakeClock(), events).run() is Outcome.PROMOTED
    assert prom.queries and all("istio_" not in q for q in prom.queries)
    canary = 'namespace="shop",pod=~"web-v2-[a-z0-9]+-[a-z0-9]+",cluster_name=~"inbound\\\\|.*"'
    assert prom.queries[:3] == [
        f"sum(increase(envoy_cluster_upstream_rq_total{{{canary}}}[60s]))",
        f'100 * sum(rate(envoy_cluster_upstream_rq{{{canary},response_code!~"5.."}}[60s])) '
        f"/ sum(rate(envoy_cluster_upstream_rq{{{canary}}}[60s]))",
        f"histogram_quantile(0.99, sum by (le) (rate(envoy_cluster_upstream_rq_time_bucket{{{canary}}}[60s])))",
    ]


def test_failed_checks_beyond_the_limit_roll_back_route_first_then_cleanup() -> None:
    stack, prom, clock, events = FakeStack(policy()), FakePrometheus(success=90.0), FakeClock(), []
    assert runner(stack, prom, clock, events).run() is Outcome.ROLLED_BACK
    assert kinds(events).count("check") == 2  # failureLimit 1
    order = kinds(events)
    assert order.index("rolled-back") < order.index("cleaned-up")
    assert stack.weights == {"v1": 100}
    assert stack.state is not None and stack.state.reason == "2 failed checks (failureLimit 1)"
    # The first failure was recorded before the second check (a killed runner would not forget it).
    assert stack.applies[1][0].failures == 1


def test_a_check_within_bounds_on_one_metric_but_not_the_other_fails() -> None:
    stack, prom, clock, events = FakeStack(policy()), FakePrometheus(p99=900.0), FakeClock(), []
    assert runner(stack, prom, clock, events).run() is Outcome.ROLLED_BACK
    p99 = [e.detail for e in events if e.type == "metric" and e.detail["metric"] == "request-duration-p99"]
    assert p99 and not any(d["passed"] for d in p99)
    ok = [e.detail for e in events if e.type == "metric" and e.detail["metric"] == "request-success-rate"]
    assert ok and all(d["passed"] for d in ok)


@pytest.mark.parametrize(
    ("on_no_data", "outcome", "weights"),
    [
        ("fail", Outcome.ROLLED_BACK, {"v1": 100}),
        ("hold", Outcome.PAUSED, {"v1": 95, "v2": 5}),
        ("pass", Outcome.PROMOTED, {"v2": 100}),
    ],
)
def test_no_data_does_what_on_no_data_says(on_no_data: str, outcome: Outcome, weights: dict[str, int]) -> None:
    rollout = policy(analysis={"interval": "1m", "minRequests": 10, "onNoData": on_no_data})
    stack, prom, clock, events = FakeStack(rollout), FakePrometheus(requests=3.0), FakeClock(), []
    assert runner(stack, prom, clock, events).run() is outcome
    assert stack.weights == weights
    assert "no-data" in kinds(events)
    if on_no_data == "hold":
        assert stack.state is not None and stack.state.reason == "hold: no data"


def test_an_unreachable_prometheus_counts_as_a_failed_check() -> None:
    stack, prom, clock, events = FakeStack(policy()), FakePrometheus(down=True), FakeClock(), []
    assert runner(stack, prom, clock, events).run() is Outcome.ROLLED_BACK
    errors = [e.detail["reason"] for e in events if e.type == "error"]
    assert len(errors) == 2 and "connection refused" in errors[0]


def test_a_gate_pauses_before_its_weight_promote_goes_on_and_abort_rolls_back() -> None:
    stack, prom, clock, events = FakeStack(policy(pauseBefore=[50])), FakePrometheus(), FakeClock(), []
    assert runner(stack, prom, clock, events).run() is Outcome.PAUSED
    assert stack.weights == {"v1": 75, "v2": 25}
    # A new runner (the approval step of a pipeline) reads the recorded position.
    again: list[Event] = []
    assert runner(stack, prom, clock, again).status()["reason"] == "gate before 50%"
    assert runner(stack, prom, clock, again).run() is Outcome.PAUSED  # run does not pass a gate
    assert runner(stack, prom, clock, again).promote() is Outcome.PROMOTED
    assert [e.step for e in again if e.type == "applied"] == ["50%", "promote"]

    gated = FakeStack(policy(pauseBefore=[50]))
    assert runner(gated, prom, FakeClock(), []).run() is Outcome.PAUSED
    aborted: list[Event] = []
    assert runner(gated, prom, FakeClock(), aborted).abort() is Outcome.ROLLED_BACK
    assert gated.weights == {"v1": 100}
    assert gated.state is not None and gated.state.reason == "aborted"


def test_promote_when_not_paused_is_bad_input() -> None:
    stack, events = FakeStack(policy()), []
    assert runner(stack, FakePrometheus(), FakeClock(), events).promote() is Outcome.BAD_INPUT
    assert "nothing to promote" in events[-1].detail["reason"]


@pytest.mark.parametrize("kill_at", range(1, 5))
def test_a_runner_killed_at_any_update_resumes_from_the_recorded_step(kill_at: int) -> None:
    stack, prom, clock = FakeStack(policy(), kill_at=kill_at), FakePrometheus(), FakeClock()
    with pytest.raises(Killed):
        runner(stack, prom, clock, []).run()
    recorded = stack.state
    assert recorded is not None and not recorded.cleaned
    stack.kill_at = None
    events: list[Event] = []
    assert runner(stack, prom, clock, events).resume() is Outcome.PROMOTED
    if recorded.phase is Phase.PROGRESSING:  # killed moving to the next step: that step again
        assert events[0].type == "resumed" and events[0].weights == dict(stack.policy.routes_at(recorded)[-1].weighted)
    else:  # killed in the cleanup after promotion: the cleanup again
        assert recorded.phase is Phase.PROMOTED and kinds(events) == ["cleaned-up", "promoted"]
    assert stack.weights == {"v2": 100}
    assert stack.state is not None and stack.state.cleaned


def test_resuming_past_the_progress_deadline_rolls_back() -> None:
    stack, prom, clock = FakeStack(policy(progressDeadline="10m"), kill_at=2), FakePrometheus(), FakeClock()
    with pytest.raises(Killed):
        runner(stack, prom, clock, []).run()
    stack.kill_at = None
    clock.t += 3600
    events: list[Event] = []
    assert runner(stack, prom, clock, events).resume() is Outcome.ROLLED_BACK
    assert stack.state is not None and stack.state.reason == "progress deadline passed"
    assert stack.weights == {"v1": 100}


def test_a_finished_rollout_is_not_driven_again() -> None:
    stack, prom, clock = FakeStack(policy()), FakePrometheus(), FakeClock()
    assert runner(stack, prom, clock, []).run() is Outcome.PROMOTED
    applies = len(stack.applies)
    events: list[Event] = []
    assert runner(stack, prom, clock, events).run() is Outcome.PROMOTED
    assert len(stack.applies) == applies and kinds(events) == ["promoted"]
