"""The environment a stack stands for; it selects the defaults in ``stacks/defaults.py``."""

from __future__ import annotations

from enum import StrEnum


class Environment(StrEnum):
    """``dev``: one replica, PERMISSIVE mTLS, 100% tracing, anonymous dashboards allowed.
    ``prod``: HA control plane, STRICT mTLS, 1% tracing, authenticated dashboards, retained CRDs."""

    DEV = "dev"
    PROD = "prod"
