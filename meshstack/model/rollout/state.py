"""Where a rollout is: durable data, kept with the stack (its ``rollouts`` output), never on the runner's disk.

The program renders the routes of this position; the runner moves it one reviewed step at a time.
A state belongs to one plan (``fingerprint``: stable, canary and steps); a changed declaration
starts over from ``idle``.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from meshstack.model.base import Model


class Phase(StrEnum):
    #: Declared, not started: the stable version serves everything (the canary is deployed, idle).
    IDLE = "idle"
    #: A step is applied and being analysed.
    PROGRESSING = "progressing"
    #: Stopped where it is: a manual gate, or onNoData hold. ``promote`` or ``resume`` go on.
    PAUSED = "paused"
    #: All traffic on the canary (then the old version is kept, scaled to zero or removed).
    PROMOTED = "promoted"
    #: All traffic back on the stable version (then the canary is scaled to zero).
    ROLLED_BACK = "rolledBack"


class RolloutState(Model):
    phase: Phase = Field(Phase.IDLE, strict=False)
    #: Index of the applied step in the plan (-1: none).
    step: int = Field(-1, ge=-1)
    #: Failed checks so far on this rollout.
    failures: int = Field(0, ge=0)
    #: Checks passed and failed on the current step (a step with several iterations needs that many passes).
    passes: int = Field(0, ge=0)
    step_failures: int = Field(0, ge=0)
    #: Unix times: the rollout's start and the current step's.
    started_at: float | None = None
    step_started_at: float | None = None
    #: Why it is paused or rolled back.
    reason: str | None = None
    #: Whether the cleanup after promotion or rollback (scale to zero, remove) has been applied.
    cleaned: bool = False
    #: The plan this state belongs to.
    fingerprint: str = ""

    @property
    def done(self) -> bool:
        return self.phase in (Phase.PROMOTED, Phase.ROLLED_BACK)
