"""HTTP routing of an app: ordered routes, each a match → weighted versions (+ per-route resilience).

Routes are tried in order; the first whose ``match`` fits wins, and a route without ``match``
catches everything, so it must come last. A canary, and a route for one user:

    >>> canary = HttpRoute.weighted_split({"v1": 90, "v2": 10})
    >>> canary.weighted
    [('v1', 90), ('v2', 10)]
    >>> jason = HttpRoute.to_version("v2", match=[Match.header("end-user", exact="jason")])
    >>> jason.versions
    ['v2']

Weights: with the Istio target the weights of a multi-destination route must sum to exactly 100;
with the Gateway API target they are proportional (any non-negative integers, not all 0).
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from meshstack.errors import fail
from meshstack.model.base import Duration, Model, Name, duration_seconds
from meshstack.model.policy.fault import Fault
from meshstack.model.policy.match import Match
from meshstack.model.policy.mirror import Mirror
from meshstack.model.policy.retries import Retries


class Destination(Model):
    """A version of the app and its share of the route's traffic."""

    version: Name = Field(description="A version of the app (a DestinationRule subset / per-version Service).")
    weight: int | None = Field(
        None,
        ge=0,
        le=1_000_000,
        description="Share of traffic. Unset on a single destination: all of it. Required with several.",
    )


class HttpRoute(Model):
    name: Name | None = Field(None, description="Route name (shows in Envoy stats). Unset: unnamed.")
    match: list[Match] = Field(
        default_factory=list, description="Any of these selects the route. Empty: every request (must be last)."
    )
    to: list[Destination] = Field(min_length=1, description="Versions receiving the traffic.")
    timeout: Duration | None = Field(
        None,
        description="Whole-request timeout. Unset: none (Istio default).",
    )
    retries: Retries | None = Field(None, description="Retry policy. Unset: Istio's default retries.")
    fault: Fault | None = Field(None, description="Fault injection for matched requests (Istio only).")
    mirror: Mirror | None = Field(None, description="Copy requests to another version. Unset: no mirroring.")

    @model_validator(mode="after")
    def _check(self) -> Self:
        seen: set[str] = set()
        for i, dest in enumerate(self.to):
            if dest.version in seen:
                raise fail(f"version {dest.version!r} appears twice; merge the weights", ["to", i, "version"])
            seen.add(dest.version)
        if len(self.to) > 1:
            for i, dest in enumerate(self.to):
                if dest.weight is None:
                    raise fail("a weight is required when a route has several destinations", ["to", i, "weight"])
            if sum(d.weight or 0 for d in self.to) == 0:
                raise fail("all weights are 0; at least one destination must receive traffic", "to")
        if self.timeout is not None:
            timeout = duration_seconds(self.timeout)
            if timeout < 0.001:
                raise fail("timeout must be at least 1ms", "timeout")
            total = self.retries.total_seconds() if self.retries is not None else None
            if total is not None and self.retries is not None and total > timeout + 1e-9:
                raise fail(
                    f"(attempts + 1) × perTryTimeout = {self.retries.attempts + 1} × "
                    f"{self.retries.per_try_timeout} = {total:g}s exceeds the route timeout {self.timeout}; "
                    "the later retries could never run. Raise timeout, or lower attempts or perTryTimeout",
                    ["retries", "perTryTimeout"],
                )
        return self

    @property
    def weighted(self) -> list[tuple[str, int]]:
        """(version, weight) pairs; a lone destination without weight gets 100."""
        if len(self.to) == 1:
            return [(self.to[0].version, self.to[0].weight if self.to[0].weight is not None else 100)]
        return [(d.version, d.weight or 0) for d in self.to]

    @property
    def splits_traffic(self) -> bool:
        """True when more than one destination receives traffic (consistent hash can't hold)."""
        return sum(1 for _, w in self.weighted if w > 0) > 1

    @property
    def versions(self) -> list[str]:
        out = [d.version for d in self.to]
        if self.mirror is not None:
            out.append(self.mirror.version)
        return out

    # --- factories ---------------------------------------------------------------------------

    @classmethod
    def to_version(
        cls,
        version: str,
        *,
        match: list[Match] | None = None,
        name: str | None = None,
        timeout: str | None = None,
        retries: Retries | None = None,
        fault: Fault | None = None,
        mirror: Mirror | None = None,
    ) -> HttpRoute:
        """Everything the route matches to one version: ``HttpRoute.to_version("v2", match=[Match.header(...)])``."""
        return cls(
            name=name,
            match=match or [],
            to=[Destination(version=version)],
            timeout=timeout,
            retries=retries,
            fault=fault,
            mirror=mirror,
        )

    @classmethod
    def weighted_split(
        cls,
        weights: dict[str, int],
        *,
        match: list[Match] | None = None,
        name: str | None = None,
        timeout: str | None = None,
        retries: Retries | None = None,
    ) -> HttpRoute:
        """A canary split: ``HttpRoute.weighted_split({"v1": 80, "v2": 20})``."""
        return cls(
            name=name,
            match=match or [],
            to=[Destination(version=v, weight=w) for v, w in weights.items()],
            timeout=timeout,
            retries=retries,
        )
