"""Health checks of an app's pods: one check used for readiness and liveness."""

from __future__ import annotations

from pydantic import Field

from meshstack.model.base import Model, Port


class Probe(Model):
    """An HTTP GET of ``path`` when set, else a TCP connect; on ``port`` (default: the app's first
    container port). The same check gates readiness (traffic) and liveness (restarts)."""

    path: str | None = Field(
        None, pattern=r"^/[-A-Za-z0-9._~/%?=&]*$", max_length=1024, description="HTTP path. Unset: a TCP connect."
    )
    port: Port | None = Field(None, description="Container port. Unset: the app's first.")
    period_seconds: int = Field(10, ge=1, le=300, description="Seconds between checks.")
    failure_threshold: int = Field(3, ge=1, le=30, description="Failures before not-ready (or a restart).")

    @classmethod
    def http(cls, path: str, port: int | None = None) -> Probe:
        return cls(path=path, port=port)
