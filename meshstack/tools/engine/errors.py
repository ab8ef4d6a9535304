"""The engine driver's errors, and the engine's failures turned into them.

:class:`Outcomes` watches an operation's events and turns its failure into what it means: a stack
locked by another update (the Automation API's own ``ConcurrentUpdateError``) is
:class:`StackLocked`; an update the guardrails refused (mandatory policy events) is
:class:`PolicyRefused`, listing each violation; anything else stays the Automation API's
``CommandError``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

from pulumi import automation as auto


class EngineError(RuntimeError):
    """The engine cannot be driven as asked (a refused secret, a missing tool)."""


class StackLocked(EngineError):
    """Another update holds the stack's lock (DIY backends fail fast instead of waiting)."""


class LegacyStateLayout(EngineError):
    """The backend holds state in pulumi's legacy (non-project) layout, which the engine (pulumi
    3.275 and later) neither reads nor migrates (pulumi/pulumi#19566)."""


#: How the engine refuses a legacy-layout backend (its own words; no error type carries it).
LEGACY_LAYOUT_TEXT = "Legacy DIY state is no longer supported"


class PolicyRefused(EngineError):
    """The guardrails (the policy pack, mandatory for this stack) refused the change: nothing was
    applied. The message lists each violation as the engine reported it."""


def _violation(event: auto.PolicyEvent) -> str:
    where = f" ({event.resource_urn.rsplit('::', 1)[-1]})" if event.resource_urn else ""
    return f"[{event.enforcement_level}] {event.policy_name}{where}: {event.message.strip()}"


class Outcomes:
    """One operation's policy events, and its failure turned into :class:`StackLocked` or
    :class:`PolicyRefused` (:meth:`guard`)."""

    def __init__(self, stack: str, forward: Callable[[auto.EngineEvent], Any] | None = None) -> None:
        self.stack = stack
        self.forward = forward
        #: The mandatory violations seen so far, as lines for people.
        self.mandatory: list[str] = []

    def on_event(self, event: auto.EngineEvent) -> None:
        """The Automation API's event callback (``on_event=``)."""
        policy = event.policy_event
        if policy is not None and policy.enforcement_level == "mandatory":
            line = _violation(policy)
            if line not in self.mandatory:
                self.mandatory.append(line)
        if self.forward is not None:
            self.forward(event)

    def on_json_line(self, line: str) -> dict[str, Any]:
        """One line of ``pulumi … --json``'s event stream, as its JSON (empty when it is not an
        event); a policy event is watched as :meth:`on_event` watches it."""
        try:
            event = json.loads(line) if line.startswith("{") else {}
        except ValueError:
            return {}
        if "policyEvent" in event:
            self.on_event(auto.EngineEvent.from_json(event))
        return event

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        try:
            yield
        except auto.ConcurrentUpdateError as err:
            raise StackLocked(
                f"stack {self.stack} is locked by another update (another pipeline job, or one that was killed). "
                "Wait for it (--wait-lock SECONDS), or, once that job is known dead, run "
                f"`meshstack recover --stack {self.stack}`"
            ) from err
        except auto.CommandError as err:
            if LEGACY_LAYOUT_TEXT in str(err):
                raise LegacyStateLayout(
                    f"the backend of stack {self.stack} holds state in pulumi's legacy layout (stacks/<stack>.json, "
                    "no meta.yaml), which this engine neither reads nor migrates: migrate it once with a pulumi CLI "
                    "of v3.274.1 or earlier (`pulumi login <backend>` then `pulumi state upgrade --yes`; every stack "
                    "needs an update on record), then run again (docs/engine.md#state-layout)"
                ) from err
            if self.mandatory:
                raise PolicyRefused(
                    f"the guardrails refused this change to stack {self.stack} (mandatory; docs/cd.md#guardrails):\n  "
                    + "\n  ".join(self.mandatory)
                ) from err
            raise
