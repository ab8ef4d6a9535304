"""Where each app's rollout stands during a program run, and what the stack records of it.

The position lives with the stack: its ``rollouts`` output. A run takes, per app with a rollout,
the state the runner set for this one update (``meshstack:rolloutStates``, never committed), else
the state the stack recorded last (read back from the stack itself), else the plan's start — and
records it again. So a plain ``pulumi up`` in the middle of a rollout keeps the current weights,
and a runner on another machine with the same backend sees the same position.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshstack.errors import ConfigError
from meshstack.model.base import from_wire
from meshstack.model.rollout.policy import Rollout
from meshstack.model.rollout.state import RolloutState
from meshstack.model.stack import StackSpec

#: Stack config key the runner sets for one update (``meshstack:rolloutStates: {app: state}``).
STATE_KEY = "rolloutStates"
#: Stack output recording every rollout's position.
OUTPUT = "rollouts"


def parse_states(raw: Any) -> dict[str, RolloutState]:
    """``meshstack:rolloutStates`` (or the recorded output's ``state`` entries), validated."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError.single(STATE_KEY, "expected a mapping of app name to rollout state")
    return {str(app): RolloutState.parse(from_wire(state), path=[STATE_KEY, str(app)]) for app, state in raw.items()}


def recorded_states(outputs: Mapping[str, Any]) -> dict[str, RolloutState]:
    """The states a stack's ``rollouts`` output recorded (ignores what it cannot read: a new plan starts over)."""
    recorded = outputs.get(OUTPUT)
    if not isinstance(recorded, Mapping):
        return {}
    out: dict[str, RolloutState] = {}
    for app, entry in recorded.items():
        try:
            out[str(app)] = RolloutState.parse(from_wire((entry or {}).get("state")))
        except (ConfigError, AttributeError):
            continue
    return out


def rollouts_of(spec: StackSpec) -> dict[str, Rollout]:
    return {name: app.rollout for name, app in spec.apps.apps.items() if spec.apps.enabled and app.rollout is not None}


def current_states(
    spec: StackSpec, explicit: Mapping[str, RolloutState], recorded: Mapping[str, RolloutState]
) -> dict[str, RolloutState]:
    """Per app with a rollout: the runner's state for this update, else the recorded one of the same
    plan, else the plan's start."""
    out: dict[str, RolloutState] = {}
    for name, rollout in rollouts_of(spec).items():
        state = explicit.get(name) or recorded.get(name)
        out[name] = rollout.state_of(state)
    return out


def route_urn(outputs: Mapping[str, Any], app: str) -> str | None:
    """The URN of ``app``'s route as the stack recorded it (what a rollout step targets)."""
    entry = (outputs.get(OUTPUT) or {}).get(app) if isinstance(outputs.get(OUTPUT), Mapping) else None
    urn = entry.get("routeUrn") if isinstance(entry, Mapping) else None
    return urn if isinstance(urn, str) else None


def record(
    spec: StackSpec, states: Mapping[str, RolloutState], route_urns: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The ``rollouts`` output: each state, the URN of its route, and, for people, its plan and
    where it stands."""
    out: dict[str, Any] = {}
    for name, rollout in rollouts_of(spec).items():
        state = states[name]
        plan = rollout.plan()
        out[name] = {
            "state": state.to_config(),
            "stable": rollout.stable,
            "canary": rollout.canary,
            "plan": [s.label for s in plan],
            "at": plan[state.step].label if 0 <= state.step < len(plan) else state.phase.value,
            "weights": rollout.weights_at(state),
        }
        if route_urns and name in route_urns:
            out[name]["routeUrn"] = route_urns[name]
    return out
