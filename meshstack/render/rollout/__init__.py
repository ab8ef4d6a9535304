"""Rendering of rollout policies: PromQL for the analysis, and other controllers' objects."""
