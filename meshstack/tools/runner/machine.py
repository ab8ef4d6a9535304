"""The rollout runner: moves an app's rollout one reviewed step at a time, gated on Prometheus.

There is no controller in the cluster. Each step is a declarative change made by the program that
owns the routes (a targeted ``pulumi up`` of the one route, the state recorded with the stack), then
the runner waits an interval, reads the canary's metrics from Prometheus, and decides:

* every metric within bounds: a passed check; enough passes on a step: the next step;
* a metric out of bounds: a failed check; more than ``failureLimit``: roll back;
* fewer than ``minRequests`` requests: ``onNoData`` decides (fail, hold, pass);
* a manual gate before the next step: pause (``promote`` goes on, ``abort`` rolls back);
* past the progress deadline: roll back.

Rolling back moves the route back to the stable version first, and only then scales the canary
down; promoting moves all traffic to the canary first, and only then keeps, scales down or
removes the old version. Everything the runner decides is recorded before it acts on the next
thing, so a runner killed at any moment and started again (``resume``) continues from the last
recorded step, or rolls back if the deadline has passed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Protocol

from meshstack.model.base import duration_seconds
from meshstack.model.rollout.analysis import NoData
from meshstack.model.rollout.metric import MetricSource
from meshstack.model.rollout.policy import Rollout
from meshstack.model.rollout.state import Phase, RolloutState
from meshstack.model.rollout.step import StepKind
from meshstack.render.promql import metric_query, request_count
from meshstack.tools.runner.events import Event, Sink
from meshstack.tools.runner.prometheus import Prometheus, PrometheusError


class Outcome(IntEnum):
    """The runner's exit codes (documented in docs/rollouts.md)."""

    PROMOTED = 0
    ERROR = 1
    BAD_INPUT = 2
    ROLLED_BACK = 3
    PAUSED = 4
    BUSY = 5


@dataclass(frozen=True)
class Applied:
    """What an update took and changed (``{"update": 1}``: one object, the route)."""

    seconds: float
    changes: dict[str, int]


class StackDriver(Protocol):
    """What the runner needs from a stack (:class:`meshstack.tools.runner.engine_stack.EngineStack` provides it)."""

    @property
    def name(self) -> str: ...

    def rollout(self, app: str) -> tuple[Rollout, str]:
        """The app's rollout policy and its namespace, as the stack's config declares them."""
        ...

    def recorded(self, app: str) -> RolloutState | None:
        """The state the stack recorded last."""
        ...

    def metric_source(self) -> MetricSource:
        """Which series the stack's proxies export (``mesh.proxy.flavor``)."""
        ...

    def apply(self, app: str, state: RolloutState, *, route_only: bool) -> Applied:
        """Apply and record ``state`` (``route_only``: a targeted update of the app's route)."""
        ...

    def route_weights(self, app: str, namespace: str) -> dict[str, int]:
        """The app's catch-all route as the API server has it."""
        ...


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class WallClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


@dataclass
class Runner:
    driver: StackDriver
    app: str
    prometheus: Prometheus
    emit: Sink
    clock: Clock = field(default_factory=WallClock)
    #: Called with the seconds left before the next check (a live view counts them down).
    on_wait: Callable[[float], None] | None = None

    def __post_init__(self) -> None:
        self.rollout, self.namespace = self.driver.rollout(self.app)
        self.plan = self.rollout.plan()
        #: When the route was last read back or a decision last recorded (the next check is due an
        #: interval later).
        self._last_action = self.clock.now()

    # --- commands -----------------------------------------------------------------------------------

    def run(self) -> Outcome:
        """Start the rollout, or go on from where it stands."""
        state = self._current()
        if state.phase is Phase.IDLE:
            return self._drive(self._start(state))
        return self._resume(state)

    def resume(self) -> Outcome:
        """After a kill or a hold: re-apply the recorded step (converging the route), then go on."""
        return self._resume(self._current())

    def promote(self) -> Outcome:
        """Past a manual gate (or a hold), to the next step, then on."""
        state = self._current()
        if state.phase is not Phase.PAUSED:
            self._event("error", state, reason=f"nothing to promote: the rollout is {state.phase.value}, not paused")
            return Outcome.BAD_INPUT
        return self._drive(self._advance(state, approved=True))

    def abort(self) -> Outcome:
        state = self._current()
        if state.done:
            return self._finish(state)
        return self._rollback(state, "aborted")

    def status(self) -> dict[str, Any]:
        state = self._current()
        return {
            "stack": self.driver.name,
            "app": self.app,
            "phase": state.phase.value,
            "step": self._label(state),
            "plan": [s.label for s in self.plan],
            "weights": self._weights(state),
            "failures": state.failures,
            "reason": state.reason,
        }

    # --- the state machine -----------------------------------------------------------------------------

    def _current(self) -> RolloutState:
        return self.rollout.state_of(self.driver.recorded(self.app))

    def _resume(self, state: RolloutState) -> Outcome:
        if state.done:
            return self._finish(state)
        if state.phase is Phase.PROGRESSING and self._past_deadline(state):
            return self._rollback(state, "progress deadline passed")
        if state.phase is Phase.PAUSED and (state.reason or "").startswith("gate"):
            self._event("paused", state, reason=state.reason)
            return Outcome.PAUSED
        if state.phase is Phase.PAUSED:  # a hold: analyse this step afresh
            state = state.model_copy(update={"phase": Phase.PROGRESSING, "reason": None, "passes": 0})
        self._apply(state, "resumed")
        return self._drive(state)

    def _start(self, state: RolloutState) -> RolloutState:
        now = self.clock.now()
        started = state.model_copy(update={"started_at": now})
        return self._advance(started, approved=False, first=True)

    def _drive(self, state: RolloutState) -> Outcome:
        while True:
            if state.done:
                return self._finish(state)
            if state.phase is Phase.PAUSED:
                return Outcome.PAUSED
            if self._past_deadline(state):
                return self._rollback(state, "progress deadline passed")
            step = self.plan[state.step]
            # A check covers the interval since the route was read back or the last check was
            # recorded, so the canary always gets a whole interval of traffic at this weight.
            wait = self._last_action + self.rollout.analysis.interval_seconds - self.clock.now()
            if wait > 0:
                self._event("waiting", state, seconds=round(wait, 1))
                if self.on_wait is not None:
                    self.on_wait(wait)
                self.clock.sleep(wait)
            state = self._check(state)
            if state.phase is Phase.PAUSED:  # onNoData: hold
                self._record(state)
                self._event("paused", state, reason=state.reason)
                return Outcome.PAUSED
            if state.failures > self.rollout.analysis.failure_limit:
                return self._rollback(
                    state, f"{state.failures} failed checks (failureLimit {self.rollout.analysis.failure_limit})"
                )
            if state.passes >= step.iterations:
                state = self._advance(state, approved=False)  # the next step's update records it
            else:
                self._record(state)

    def _check(self, state: RolloutState) -> RolloutState:
        """One analysis check of the current step (the caller records its result before acting on it)."""
        analysis = self.rollout.analysis
        workload = f"{self.app}-{self.rollout.canary}"
        interval = analysis.interval_seconds
        source = self.driver.metric_source()
        at = self.clock.now()
        failed = {"failures": state.failures + 1, "step_failures": state.step_failures + 1}
        try:
            count = self.prometheus.query(request_count(self.namespace, workload, interval, source), at) or 0.0
            values = {
                m.name: self.prometheus.query(metric_query(m, self.namespace, self.app, workload, interval, source), at)
                for m in analysis.metrics
            }
        except PrometheusError as err:
            self._event("error", state, reason=str(err))
            return state.model_copy(update=failed)
        if count < analysis.min_requests:
            self._event(
                "no-data", state, requests=count, min_requests=analysis.min_requests, on_no_data=analysis.no_data.value
            )
            if analysis.no_data is NoData.HOLD:
                return state.model_copy(update={"phase": Phase.PAUSED, "reason": "hold: no data"})
            ok = analysis.no_data is NoData.PASS
        else:
            ok = True
            for metric in analysis.metrics:
                value = values[metric.name]
                passed = value is not None and metric.passes(value)
                ok = ok and passed
                self._event(
                    "metric",
                    state,
                    metric=metric.name,
                    value=value,
                    threshold=metric.bounds,
                    passed=passed,
                    requests=count,
                )
        checked = state.model_copy(update={"passes": state.passes + 1} if ok else failed)
        self._event("check", checked, passed=ok, failures=checked.failures)
        return checked

    def _advance(self, state: RolloutState, *, approved: bool, first: bool = False) -> RolloutState:
        """To the next step (pausing first at a manual gate unless ``approved``)."""
        index = 0 if first else state.step + 1
        step = self.plan[index]
        gated = step.kind in (StepKind.WEIGHT, StepKind.PROMOTE) and step.weight in self.rollout.pause_before
        if gated and not approved:
            paused = state.model_copy(update={"phase": Phase.PAUSED, "reason": f"gate before {step.label}"})
            self._record(paused)
            self._event("paused", paused, reason=paused.reason)
            return paused
        now = self.clock.now()
        phase = Phase.PROMOTED if step.kind is StepKind.PROMOTE else Phase.PROGRESSING
        moved = state.model_copy(
            update={
                "phase": phase,
                "step": index,
                "passes": 0,
                "step_failures": 0,
                "step_started_at": now,
                "reason": None,
                "started_at": state.started_at or now,
            }
        )
        self._apply(moved, "started" if first else "applied")
        return moved

    def _rollback(self, state: RolloutState, reason: str) -> Outcome:
        """Traffic back on the stable version first (the route alone), then the canary scaled down."""
        back = state.model_copy(update={"phase": Phase.ROLLED_BACK, "reason": reason, "cleaned": False})
        self._apply(back, "rolled-back", reason=reason)
        return self._finish(back)

    def _finish(self, state: RolloutState) -> Outcome:
        """The cleanup a finished rollout still owes (a separate update, after the route moved)."""
        if not state.cleaned:
            cleaned = state.model_copy(update={"cleaned": True})
            applied = self.driver.apply(self.app, cleaned, route_only=False)
            self._event(
                "cleaned-up",
                cleaned,
                seconds=round(applied.seconds, 2),
                changes=applied.changes,
                after_promotion=self.rollout.after_promotion.value,
            )
            state = cleaned
        if state.phase is Phase.PROMOTED:
            self._event("promoted", state)
            return Outcome.PROMOTED
        self._event("rolled-back", state, reason=state.reason)
        return Outcome.ROLLED_BACK

    # --- effects -------------------------------------------------------------------------------------

    def _apply(self, state: RolloutState, event: str, **detail: Any) -> None:
        """A route change: a targeted update of the one route, then the API server read back."""
        start = self.clock.now()
        applied = self.driver.apply(self.app, state, route_only=True)
        expected = self._weights(state)
        seen = self.driver.route_weights(self.app, self.namespace)
        self._event(event, state, seconds=round(applied.seconds, 2), changes=applied.changes, **detail)
        self._event(
            "read-back",
            state,
            expected=expected,
            seen=seen,
            matches=seen == expected,
            decision_to_read_back=round(self.clock.now() - start, 2),
        )
        if seen != expected:
            raise RuntimeError(f"the API server has {seen} for {self.app}'s route, {expected} was applied")
        self._last_action = self.clock.now()

    def _record(self, state: RolloutState) -> None:
        """Record a decision (its route is unchanged: the targeted update changes no object)."""
        self.driver.apply(self.app, state, route_only=True)
        self._last_action = self.clock.now()

    def _past_deadline(self, state: RolloutState) -> bool:
        started = state.started_at
        return started is not None and self.clock.now() > started + duration_seconds(self.rollout.progress_deadline)

    def _weights(self, state: RolloutState) -> dict[str, int]:
        return self.rollout.weights_at(state)

    def _label(self, state: RolloutState) -> str:
        return self.plan[state.step].label if 0 <= state.step < len(self.plan) else state.phase.value

    def _event(self, kind: str, state: RolloutState, **detail: Any) -> None:
        self.emit(
            Event(
                type=kind,
                stack=self.driver.name,
                app=self.app,
                phase=state.phase.value,
                step=self._label(state),
                weights=self._weights(state),
                detail=detail,
                time=self.clock.now(),
            )
        )
