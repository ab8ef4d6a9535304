"""The rollout runner's stack, driven through the real engine (:class:`~meshstack.tools.engine.Engine`).

A step is ``pulumi up --target <the route's URN>`` with the program in its route-only mode
(:func:`~meshstack.stacks.program.step`, run in this process) and the new state as
``meshstack:rolloutStates`` for that one update: the engine changes exactly that route and records
the state in the stack's ``rollouts`` output. A cleanup (scale down, remove) is a full update. The
route is read back from the API server.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client, config

from meshstack.model.rollout.metric import MetricSource
from meshstack.model.rollout.policy import Rollout
from meshstack.model.rollout.state import RolloutState
from meshstack.render.istio_networking import catch_all_weights
from meshstack.stacks import rollout_positions
from meshstack.stacks.program import step
from meshstack.tools.engine import Engine
from meshstack.tools.runner.lease import REQUEST_TIMEOUT
from meshstack.tools.runner.machine import Applied


class NoRollout(ValueError):
    """The app has no rollout in this stack."""


@dataclass
class EngineStack:
    engine: Engine
    _outputs: dict[str, Any] | None = field(default=None, repr=False)
    #: Seconds each route-only step took (the benchmark reads them).
    step_seconds: list[float] = field(default_factory=list)
    #: What the engine changed in each update: ``{"update": 1}`` for a route step.
    changes: list[dict[str, int]] = field(default_factory=list)
    _api: Any = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.engine.stack_name

    def rollout(self, app: str) -> tuple[Rollout, str]:
        spec = self.engine.spec()
        found = spec.apps.apps.get(app) if spec.apps.enabled else None
        if found is None or found.rollout is None:
            known = sorted(n for n, a in spec.apps.apps.items() if a.rollout is not None)
            raise NoRollout(
                f"stack {self.name} has no rollout for app {app!r}; apps with a rollout: {', '.join(known) or 'none'}"
            )
        return found.rollout, spec.apps.namespace

    def metric_source(self) -> MetricSource:
        return self.engine.spec().mesh.proxy.metric_source

    def outputs(self) -> dict[str, Any]:
        if self._outputs is None:
            self._outputs = self.engine.outputs()
        return self._outputs

    def recorded(self, app: str) -> RolloutState | None:
        return rollout_positions.recorded_states(self.outputs()).get(app)

    def apply(self, app: str, state: RolloutState, *, route_only: bool) -> Applied:
        urn = rollout_positions.route_urn(self.outputs(), app) if route_only else None
        self.engine.set_overrides(**{rollout_positions.STATE_KEY: {app: state.to_config()}})
        start = time.perf_counter()
        try:
            if urn is not None:
                # A step: a targeted update of the route, straight through the CLI. The route is
                # computed from the recorded state, so a step killed mid-way is re-applied by
                # `rollout resume`: the state is written once, at the end.
                changes = self.engine.targeted_up([urn], final_checkpoint=True, program=functools.partial(step, app))
            else:
                # A cleanup (scale down, remove), or the first step of a stack that has not
                # recorded the route's URN yet: a full update.
                result = self.engine.up()
                self._outputs = {k: v.value for k, v in result.outputs.items()}
                named = {str(getattr(op, "value", op)): n for op, n in (result.summary.resource_changes or {}).items()}
                changes = {op: n for op, n in named.items() if op != "same" and n}
        finally:
            self.engine.overrides.pop(rollout_positions.STATE_KEY, None)
        seconds = time.perf_counter() - start
        if urn is not None:
            self.step_seconds.append(seconds)
            # The program recorded exactly this state (the engine would have failed otherwise).
            recorded = dict(self.outputs().get(rollout_positions.OUTPUT) or {})
            recorded[app] = {**(recorded.get(app) or {}), "state": state.to_config()}
            self._outputs = {**self.outputs(), rollout_positions.OUTPUT: recorded}
        self.changes.append(changes)
        return Applied(seconds, changes)

    def route_weights(self, app: str, namespace: str) -> dict[str, int]:
        if self._api is None:
            self._api = client.CustomObjectsApi(config.new_client_from_config(str(self.engine.cluster_kubeconfig())))
        api = self._api
        vs: Any = api.get_namespaced_custom_object(
            "networking.istio.io", "v1", namespace, "virtualservices", app, _request_timeout=REQUEST_TIMEOUT
        )
        return catch_all_weights(vs)
