"""Rollout policies: typed progressive delivery (canary steps, A/B, mirror, blue/green) with analysis."""

from meshstack.model.rollout.analysis import Analysis, NoData
from meshstack.model.rollout.metric import BuiltinMetric, Metric
from meshstack.model.rollout.policy import ABStep, AfterPromotion, MirrorStep, Rollout, Strategy
from meshstack.model.rollout.state import Phase, RolloutState
from meshstack.model.rollout.step import Step, StepKind

__all__ = [
    "ABStep", "AfterPromotion", "Analysis", "BuiltinMetric", "Metric", "MirrorStep", "NoData", "Phase", "Rollout",
    "RolloutState", "Step", "StepKind", "Strategy",
]  # fmt: skip
