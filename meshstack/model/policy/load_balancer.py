"""Load balancing across an app's endpoints: a simple algorithm or a consistent hash.

``LoadBalancer.round_robin()``, ``LoadBalancer.least_request()``,
``LoadBalancer.consistent_hash_header("x-user")``, ``LoadBalancer.consistent_hash_cookie("s", "1h")``.
Consistent hashing is refused on an app whose routes split traffic across several versions:
the weighted pick happens before hashing, so stickiness cannot hold.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from meshstack.errors import fail
from meshstack.model.base import Duration, Model
from meshstack.model.policy.match import HeaderName, QueryParamName


class Algorithm(StrEnum):
    ROUND_ROBIN = "ROUND_ROBIN"
    LEAST_REQUEST = "LEAST_REQUEST"
    RANDOM = "RANDOM"
    PASSTHROUGH = "PASSTHROUGH"


class HashCookie(Model):
    name: str = Field(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
    ttl: Duration | None = Field(
        None,
        description="Cookie lifetime; Envoy creates the cookie when set.",
    )
    path: str | None = Field(None, pattern=r"^/", description="Cookie path. Unset: none.")


class ConsistentHash(Model):
    """Exactly one hash key."""

    http_header_name: HeaderName | None = None
    http_cookie: HashCookie | None = None
    use_source_ip: bool | None = None
    http_query_parameter_name: QueryParamName | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        given = (self.http_header_name, self.http_cookie, self.use_source_ip or None, self.http_query_parameter_name)
        if sum(key is not None for key in given) != 1:
            raise fail("set exactly one of httpHeaderName, httpCookie, useSourceIp (true), httpQueryParameterName")
        return self


class LoadBalancer(Model):
    """Exactly one of ``simple`` and ``consistentHash``."""

    simple: Algorithm | None = Field(None, strict=False, description="A simple algorithm.")
    consistent_hash: ConsistentHash | None = Field(None, description="Session affinity by a hash key.")

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.simple is None) == (self.consistent_hash is None):
            raise fail("set exactly one of simple, consistentHash")
        return self

    @classmethod
    def round_robin(cls) -> LoadBalancer:
        return cls(simple=Algorithm.ROUND_ROBIN)

    @classmethod
    def least_request(cls) -> LoadBalancer:
        return cls(simple=Algorithm.LEAST_REQUEST)

    @classmethod
    def random(cls) -> LoadBalancer:
        return cls(simple=Algorithm.RANDOM)

    @classmethod
    def consistent_hash_header(cls, header: str) -> LoadBalancer:
        return cls(consistent_hash=ConsistentHash(http_header_name=header))

    @classmethod
    def consistent_hash_cookie(cls, name: str, ttl: str | None = None) -> LoadBalancer:
        return cls(consistent_hash=ConsistentHash(http_cookie=HashCookie(name=name, ttl=ttl)))

    @classmethod
    def consistent_hash_source_ip(cls) -> LoadBalancer:
        return cls(consistent_hash=ConsistentHash(use_source_ip=True))
