"""One step of a rollout plan: what the canary receives while the analysis watches it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from meshstack.model.policy.match import Match


class StepKind(StrEnum):
    #: The stable version serves everything; the canary gets a copy of ``percentage`` of it.
    MIRROR = "mirror"
    #: Only requests matching ``match`` go to the canary (a header or a cookie).
    AB = "ab"
    #: ``weight`` percent of the traffic goes to the canary.
    WEIGHT = "weight"
    #: Blue/green: the canary serves the preview route (``match``) only.
    PREVIEW = "preview"
    #: All traffic to the canary.
    PROMOTE = "promote"


@dataclass(frozen=True)
class Step:
    kind: StepKind
    #: The canary's share of live traffic (mirror, A/B and preview steps: 0).
    weight: int = 0
    #: Mirror: the share of requests copied to the canary.
    percentage: float = 0.0
    #: A/B and preview: the requests the canary serves.
    match: tuple[Match, ...] = field(default_factory=tuple)
    #: Analysis intervals spent on this step (the promotion step: 0).
    iterations: int = 1

    @property
    def label(self) -> str:
        """How the step reads in events and the progress view."""
        if self.kind is StepKind.WEIGHT:
            return f"{self.weight}%"
        if self.kind is StepKind.MIRROR:
            return f"mirror {self.percentage:g}%"
        return self.kind.value
