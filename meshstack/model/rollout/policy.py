"""A rollout policy: how an app's canary version takes over from its stable version.

    Rollout.canary("v1", "v2", steps=[5, 25, 50, 100], analysis=Analysis(interval="1m", on_no_data="hold"))
    Rollout.blue_green("v1", "v2", preview=[Match.header("x-preview", exact="1")])

The policy is declarative: the program renders the routes of the rollout's current position
(:class:`RolloutState`, kept with the stack), and ``meshstack rollout run`` moves that position one
step at a time, each step a reviewed change of one route. Validation catches here what
controllers discover at run time: steps that do not increase or do not end at 100, a canary that
is not a version of the app, thresholds that cannot be met, a deadline shorter than the analysis,
a gate at a weight the plan never reaches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from enum import StrEnum
from typing import Self

from pydantic import Field, PrivateAttr, model_validator

from meshstack.errors import fail
from meshstack.model.base import Duration, Model, Name, Percent, duration_seconds
from meshstack.model.policy.match import Match
from meshstack.model.policy.mirror import Mirror
from meshstack.model.policy.route import Destination, HttpRoute
from meshstack.model.rollout.analysis import Analysis
from meshstack.model.rollout.state import Phase, RolloutState
from meshstack.model.rollout.step import Step, StepKind


class Strategy(StrEnum):
    CANARY = "canary"
    BLUE_GREEN = "blueGreen"


class AfterPromotion(StrEnum):
    """The old stable version once the canary serves everything."""

    KEEP = "keep"
    SCALE_TO_ZERO = "scaleToZero"
    REMOVE = "remove"


class ABStep(Model):
    """Before any weight: only requests matching ``match`` (a header or a cookie) go to the canary."""

    match: list[Match] = Field(min_length=1, description="Any of these selects the canary (headers and cookies only).")
    iterations: int = Field(1, ge=1, le=100, description="Analysis intervals on this step.")

    @model_validator(mode="after")
    def _headers_only(self) -> Self:
        for i, match in enumerate(self.match):
            if (
                not match.headers
                or match.uri
                or match.query_params
                or match.method
                or match.source_labels
                or match.port
            ):
                raise fail("an A/B step matches a header or a cookie only", ["match", i])
        return self


class MirrorStep(Model):
    """Before any weight: the stable version serves everything and the canary gets a copy."""

    percentage: Percent = Field(100.0, description="Share of requests copied to the canary.")
    iterations: int = Field(1, ge=1, le=100, description="Analysis intervals on this step.")

    @model_validator(mode="after")
    def _positive(self) -> Self:
        if self.percentage <= 0:
            raise fail("mirroring 0% shows the canary nothing", "percentage")
        return self


class Rollout(Model):
    stable: Name = Field(description="The version serving traffic now.")
    canary: Name = Field(description="The version taking over.")
    strategy: Strategy = Field(Strategy.CANARY, strict=False, description="canary (weights) or blueGreen (switch).")
    steps: list[int] | None = Field(
        None, description="Canary weights in percent, increasing, ending at 100 (e.g. 5, 25, 50, 100)."
    )
    step_weight: int | None = Field(None, ge=1, le=100, description="Or: raise the weight by this much each step …")
    max_weight: int | None = Field(None, ge=1, le=100, description="… up to this weight, then promote.")
    ab: ABStep | None = Field(None, description="First route only matching requests to the canary.")
    mirror: MirrorStep | None = Field(None, description="First send the canary a copy of the traffic.")
    preview: list[Match] = Field(
        default_factory=list, description="Blue/green: the requests the canary serves before the switch."
    )
    analysis: Analysis = Field(default_factory=Analysis)
    pause_before: list[int] = Field(
        default_factory=list,
        description="Manual gates: stop before these weights until `meshstack rollout promote` (100: before promotion).",
    )
    progress_deadline: Duration = Field(
        "1h", description="The rollout must finish by then; a runner resumed after it rolls back."
    )
    after_promotion: AfterPromotion = Field(
        AfterPromotion.KEEP, strict=False, description="The old version once promoted: keep, scaleToZero or remove."
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.stable == self.canary:
            raise fail("the canary must be another version than the stable one", "canary")
        if self.strategy is Strategy.BLUE_GREEN:
            for key, value in (
                ("steps", self.steps),
                ("stepWeight", self.step_weight),
                ("ab", self.ab),
                ("mirror", self.mirror),
            ):
                if value is not None:
                    raise fail("blue/green switches at once: no weights, A/B or mirror steps", key)
            if not self.preview:
                raise fail("blue/green needs the preview route (the requests the canary serves first)", "preview")
        else:
            if self.preview:
                raise fail("preview is for blueGreen; a canary uses ab for matched requests", "preview")
            self._check_weights()
        weights = {s.weight for s in self.plan() if s.kind in (StepKind.WEIGHT, StepKind.PROMOTE)}
        for i, gate in enumerate(self.pause_before):
            if gate not in weights:
                raise fail(f"the plan never reaches {gate}%; its weights are {sorted(weights)}", ["pauseBefore", i])
        needed = self.analysis.interval_seconds * sum(s.iterations for s in self.plan())
        if duration_seconds(self.progress_deadline) < needed:
            raise fail(
                f"{self.progress_deadline} is shorter than the analysis alone ({needed:g}s: "
                f"{sum(s.iterations for s in self.plan())} intervals of {self.analysis.interval})",
                "progressDeadline",
            )
        return self

    def _check_weights(self) -> None:
        if self.steps is not None and (self.step_weight is not None or self.max_weight is not None):
            raise fail("set steps, or stepWeight and maxWeight, not both", "stepWeight")
        if self.steps is None and self.step_weight is None:
            raise fail("a canary needs steps (e.g. [5, 25, 50, 100]) or stepWeight/maxWeight", "steps")
        if self.steps is not None:
            if not self.steps:
                raise fail("at least one step", "steps")
            for i, weight in enumerate(self.steps):
                if not 1 <= weight <= 100:
                    raise fail(f"a weight is a percentage between 1 and 100, got {weight}", ["steps", i])
                if i and weight <= self.steps[i - 1]:
                    raise fail(f"steps must increase: {weight} follows {self.steps[i - 1]}", ["steps", i])
            if self.steps[-1] != 100:
                raise fail(
                    f"the last step must be 100 (the promotion), got {self.steps[-1]}", ["steps", len(self.steps) - 1]
                )
        if (self.step_weight is None) != (self.max_weight is None):
            raise fail("stepWeight and maxWeight go together", "maxWeight" if self.max_weight is None else "stepWeight")
        if self.step_weight is not None and self.max_weight is not None and self.step_weight > self.max_weight:
            raise fail(f"stepWeight {self.step_weight} exceeds maxWeight {self.max_weight}", "stepWeight")

    # --- the plan --------------------------------------------------------------------------------

    def plan(self) -> list[Step]:
        """The ordered steps; the last one promotes."""
        out: list[Step] = []
        if self.strategy is Strategy.BLUE_GREEN:
            return [Step(StepKind.PREVIEW, match=tuple(self.preview)), Step(StepKind.PROMOTE, weight=100, iterations=0)]
        if self.mirror is not None:
            out.append(Step(StepKind.MIRROR, percentage=self.mirror.percentage, iterations=self.mirror.iterations))
        if self.ab is not None:
            out.append(Step(StepKind.AB, match=tuple(self.ab.match), iterations=self.ab.iterations))
        if self.steps is not None:
            weights = [w for w in self.steps if w < 100]
        else:
            assert self.step_weight is not None and self.max_weight is not None
            weights = list(range(self.step_weight, self.max_weight + 1, self.step_weight))
            weights = [w for w in weights if w < 100]
        out += [Step(StepKind.WEIGHT, weight=w) for w in weights]
        out.append(Step(StepKind.PROMOTE, weight=100, iterations=0))
        return out

    #: What is rolled out: the app sets it from the stable and canary versions' images
    #: (:meth:`with_images`), so a new image starts the rollout over instead of inheriting a finished one.
    _images: tuple[tuple[str, str | None], ...] = PrivateAttr(default=())

    def with_images(self, images: Mapping[str, str | None]) -> Rollout:
        """This policy for these images of its stable and canary versions."""
        copy = self.model_copy()
        copy._images = ((self.stable, images.get(self.stable)), (self.canary, images.get(self.canary)))
        return copy

    @property
    def fingerprint(self) -> str:
        """Identifies what a state belongs to: the versions, their images and the steps. A release
        that changes any of them starts from the first step again."""
        doc = {
            "stable": self.stable,
            "canary": self.canary,
            "plan": [s.label for s in self.plan()],
            "images": [list(pair) for pair in self._images],
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]

    def initial_state(self) -> RolloutState:
        return RolloutState(fingerprint=self.fingerprint)

    def state_of(self, state: RolloutState | None) -> RolloutState:
        """``state`` if it belongs to this plan, else the idle start of this plan."""
        if state is None or state.fingerprint != self.fingerprint:
            return self.initial_state()
        return state

    # --- what a position renders -------------------------------------------------------------------

    def weights_at(self, state: RolloutState | None) -> dict[str, int]:
        """Each version's share of the catch-all route at ``state``: what the route carries there,
        what the stack records, and what the runner reads back from the API server."""
        return dict(self.routes_at(state)[-1].weighted)

    def routes_at(self, state: RolloutState | None) -> list[HttpRoute]:
        """The app's catch-all routing at ``state`` (matched routes of the app come before these)."""
        state = self.state_of(state)
        to_stable = HttpRoute.to_version(self.stable)
        to_canary = HttpRoute.to_version(self.canary)
        if state.phase is Phase.PROMOTED:
            return [to_canary]
        if state.phase in (Phase.IDLE, Phase.ROLLED_BACK) or state.step < 0:
            return [to_stable]
        step = self.plan()[state.step]
        if step.kind is StepKind.PROMOTE:
            return [to_canary]
        if step.kind is StepKind.WEIGHT:
            return [
                HttpRoute(
                    to=[
                        Destination(version=self.stable, weight=100 - step.weight),
                        Destination(version=self.canary, weight=step.weight),
                    ]
                )
            ]
        if step.kind is StepKind.MIRROR:
            return [
                HttpRoute(
                    to=[Destination(version=self.stable)],
                    mirror=Mirror(version=self.canary, percentage=step.percentage),
                )
            ]
        return [HttpRoute.to_version(self.canary, match=list(step.match), name="canary"), to_stable]

    def replicas_at(self, state: RolloutState | None, version: str, declared: int) -> int | None:
        """Pods of ``version`` at ``state`` (None: the version is removed)."""
        state = self.state_of(state)
        if state.phase is Phase.PROMOTED and state.cleaned and version == self.stable:
            if self.after_promotion is AfterPromotion.REMOVE:
                return None
            if self.after_promotion is AfterPromotion.SCALE_TO_ZERO:
                return 0
        if state.phase is Phase.ROLLED_BACK and state.cleaned and version == self.canary:
            return 0
        return declared

    @property
    def splits_traffic(self) -> bool:
        return any(s.kind is StepKind.WEIGHT for s in self.plan())

    # --- factories ---------------------------------------------------------------------------------

    @classmethod
    def canary_by_steps(
        cls,
        stable: str,
        canary: str,
        steps: list[int],
        *,
        analysis: Analysis | None = None,
        pause_before: list[int] | None = None,
        after_promotion: AfterPromotion = AfterPromotion.KEEP,
        progress_deadline: str = "1h",
    ) -> Rollout:
        """``Rollout.canary_by_steps("v1", "v2", [5, 25, 50, 100], analysis=Analysis(on_no_data="hold"))``."""
        return cls(
            stable=stable,
            canary=canary,
            steps=steps,
            analysis=analysis or Analysis(),
            pause_before=pause_before or [],
            after_promotion=after_promotion,
            progress_deadline=progress_deadline,
        )

    @classmethod
    def blue_green(
        cls,
        stable: str,
        canary: str,
        preview: list[Match],
        *,
        analysis: Analysis | None = None,
        progress_deadline: str = "1h",
    ) -> Rollout:
        """Serve the canary on ``preview`` requests, analyse it there, then switch everything at once."""
        return cls(
            stable=stable,
            canary=canary,
            strategy=Strategy.BLUE_GREEN,
            preview=preview,
            analysis=analysis or Analysis(),
            progress_deadline=progress_deadline,
        )


def analysis_problems(rollout: Rollout, scrape_interval: str | None) -> list[tuple[list[str | int], str]]:
    """What the mesh's Prometheus cannot give this rollout's analysis (paths relative to the rollout).
    ``scrape_interval`` None: the mesh has no Prometheus."""
    if not rollout.analysis.metrics:
        return []
    if scrape_interval is None:
        return [
            (["analysis", "metrics"], "the analysis reads Prometheus, and the mesh has none (enable addons.prometheus)")
        ]
    scrape = duration_seconds(scrape_interval)
    if rollout.analysis.interval_seconds < 2 * scrape:
        return [
            (
                ["analysis", "interval"],
                f"{rollout.analysis.interval} is shorter than twice Prometheus's scrape interval ({scrape_interval}): "
                "a window that short may hold one sample or none",
            )
        ]
    return []
