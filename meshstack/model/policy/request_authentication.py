"""RequestAuthentication (JWT): which issuers' tokens the app accepts.

A request with an invalid token is rejected; one *without* a token is let through unless
``requireJwt`` is true, which adds an AuthorizationPolicy denying requests without a valid token.
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, model_validator

from meshstack.errors import allowing, fail
from meshstack.model.base import Model

Url = Annotated[
    str,
    Field(pattern=r"^https?://[^\s/]+(/\S*)?$", max_length=2048, json_schema_extra=allowing("an http(s) URL")),
]


class JwtRule(Model):
    issuer: str = Field(min_length=1, max_length=1024, pattern=r"^\S+$", description="Token issuer (iss).")
    jwks_uri: Url | None = Field(None, description="Where the keys are. Unset with no jwks: OIDC discovery.")
    jwks: str | None = Field(None, min_length=2, description="Inline JWKS document (JSON).")
    audiences: list[Annotated[str, Field(min_length=1, max_length=1024)]] = Field(
        default_factory=list, description="Accepted aud values. Empty: any."
    )
    forward_original_token: bool = Field(False, description="Forward the token upstream. Default: false.")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.jwks_uri is not None and self.jwks is not None:
            raise fail("set jwksUri or jwks, not both", "jwks")
        return self


class RequestAuthentication(Model):
    jwt_rules: list[JwtRule] = Field(min_length=1, description="Accepted token issuers.")
    require_jwt: bool = Field(False, description="Deny requests without a valid token. Default: false.")

    @model_validator(mode="after")
    def _check(self) -> Self:
        seen: set[str] = set()
        for i, rule in enumerate(self.jwt_rules):
            if rule.issuer in seen:
                raise fail(f"issuer {rule.issuer!r} listed twice", ["jwtRules", i, "issuer"])
            seen.add(rule.issuer)
        return self
