"""Locality failover: keep traffic in the caller's region/zone, fail over in a given order.

Envoy only fails over when it knows endpoints are unhealthy, so an app with locality failover
must also configure outlier detection (a :class:`CircuitBreaker` with an outlier field) —
validated on the app.
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, model_validator

from meshstack.errors import allowing, fail
from meshstack.model.base import Model

Locality = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        max_length=128,
        json_schema_extra=allowing("a region name such as us-east1"),
    ),
]


class Failover(Model):
    from_region: Locality = Field(alias="from", description="Region whose traffic fails over.")
    to_region: Locality = Field(alias="to", description="Region it fails over to.")


REGION_LABEL = "topology.kubernetes.io/region"


class LocalityFailover(Model):
    failover: list[Failover] = Field(default_factory=list, description="Region → region order. Default: none.")
    failover_priority: list[Annotated[str, Field(min_length=1, max_length=253)]] = Field(
        default_factory=list, description="Label keys ranking endpoints (e.g. topology.kubernetes.io/zone)."
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not self.failover and not self.failover_priority:
            raise fail("set failover or failoverPriority")
        for i, pair in enumerate(self.failover):
            if pair.from_region == pair.to_region:
                raise fail("from and to are the same region", ["failover", i, "to"])
        if self.failover and REGION_LABEL in self.failover_priority:
            raise fail(
                f"failover already orders regions; Istio refuses {REGION_LABEL} in failoverPriority alongside it",
                ["failoverPriority", self.failover_priority.index(REGION_LABEL)],
            )
        return self
