"""Gateway exposure: which paths of an app the platform's ingress gateway serves, for which hosts.

Requests entering through the gateway go to the app's *default* destinations: the route without a
match (its weights included), the blue/green ``active`` version, or the whole Service when the app
has no routes. Matched routes (A/B, per-user, faults) apply to in-mesh traffic.
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from meshstack.errors import fail
from meshstack.model.base import Model, Port
from meshstack.model.hosts import Hostname
from meshstack.model.policy.match import StringMatch


class Exposure(Model):
    paths: list[StringMatch] = Field(
        min_length=1, description="Request paths served (exact or prefix; must start with '/')."
    )
    hosts: list[Hostname] = Field(default_factory=lambda: ["*"], description="Host names served. Default: any host.")
    port: Port | None = Field(None, description="Service port to forward to. Default: the app's first port.")

    @model_validator(mode="after")
    def _check(self) -> Self:
        for i, path in enumerate(self.paths):
            if path.regex is not None:
                raise fail("expose exact or prefix paths only", ["paths", i, "regex"])
            if not path.value.startswith("/"):
                raise fail(f"a path must start with '/', got {path.value!r}", ["paths", i, path.kind])
        for i, path in enumerate(self.paths):
            for j, earlier in enumerate(self.paths[:i]):
                if earlier.prefix is not None and path.value.startswith(earlier.prefix):
                    raise fail(
                        f"{path.value} is already served by prefix {earlier.prefix} (paths[{j}]); this match is never used",
                        ["paths", i],
                    )
                if earlier.exact is not None and path.exact == earlier.exact:
                    raise fail(f"{path.value} is listed twice", ["paths", i])
        if len(set(self.hosts)) != len(self.hosts):
            raise fail("duplicate host", "hosts")
        return self

    @classmethod
    def of(
        cls, *, exact: list[str] | None = None, prefix: list[str] | None = None, hosts: list[str] | None = None
    ) -> Exposure:
        paths = [StringMatch(exact=p) for p in exact or []] + [StringMatch(prefix=p) for p in prefix or []]
        return cls(paths=paths, hosts=hosts or ["*"])
