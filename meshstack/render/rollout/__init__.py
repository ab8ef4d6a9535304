"""Rendering of rollout policies: PromQL for the analysis, and other controllers' objects.

:mod:`~meshstack.render.rollout.flagger` renders a policy as a Flagger ``Canary`` (and
``MetricTemplate``\\ s), :mod:`~meshstack.render.rollout.argo` as an Argo Rollouts ``Rollout`` and
``AnalysisTemplate``, for teams whose controller runs the rollout instead of ``meshstack rollout run``.
Both raise a :class:`~meshstack.errors.ConfigError` naming the path of everything the target cannot
express (docs/rollouts.md).
"""
