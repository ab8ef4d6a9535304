"""AuthorizationPolicy: allow or deny requests to the app by caller and operation.

A rule matches when all its set fields match (principals, namespaces, requestPrincipals of the
caller; methods, paths, ports of the request). ``ALLOW`` with no rules denies everything
(``AuthorizationPolicy.deny_all()``); ``ALLOW`` with one empty rule allows everything.
Paths are exact, or have one ``*`` at the start or end (Istio's path wildcard rules).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from meshstack.errors import allowing, fail
from meshstack.model.base import Model, Name, Port
from meshstack.model.policy.match import Method

Principal = Annotated[
    str,
    Field(
        pattern=r"^(\*|\*?[A-Za-z0-9._~/:-]+\*?)$",
        max_length=512,
        json_schema_extra=allowing(
            "a SPIFFE principal such as cluster.local/ns/NS/sa/SA, optionally with a leading or trailing *"
        ),
    ),
]
NamespaceName = Annotated[
    str,
    Field(
        pattern=r"^(\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?|\*[-a-z0-9]*[a-z0-9]|[a-z0-9][-a-z0-9]*\*)$",
        max_length=63,
        json_schema_extra=allowing("a namespace name, optionally a prefix (team-*) or suffix (*-prod) match, or *"),
    ),
]
AuthzPath = Annotated[
    str,
    Field(
        pattern=r"^(\*|\*?/[^*\s]*|/[^*\s]*\*)$",
        max_length=1024,
        json_schema_extra=allowing("a path starting with '/', with at most one '*' at the start or end"),
    ),
]


class Action(StrEnum):
    ALLOW = "ALLOW"
    DENY = "DENY"
    AUDIT = "AUDIT"


class AuthorizationRule(Model):
    principals: list[Principal] = Field(default_factory=list, description="Caller identities. Empty: any.")
    namespaces: list[NamespaceName] = Field(default_factory=list, description="Caller namespaces. Empty: any.")
    request_principals: list[Principal] = Field(
        default_factory=list, description="JWT identities (issuer/subject). Empty: any."
    )
    methods: list[Method] = Field(default_factory=list, description="HTTP methods. Empty: any.")
    paths: list[AuthzPath] = Field(default_factory=list, description="Request paths. Empty: any.")
    not_paths: list[AuthzPath] = Field(default_factory=list, description="Paths excluded. Empty: none.")
    ports: list[Port] = Field(default_factory=list, description="Target ports. Empty: any.")


class AuthorizationPolicy(Model):
    name: Name | None = Field(None, description="Resource name suffix. Default: the policy's index.")
    action: Action = Field(Action.ALLOW, strict=False, description="What a matching request gets. Default: ALLOW.")
    rules: list[AuthorizationRule] = Field(
        default_factory=list, description="Rules (any may match). Empty with ALLOW: deny everything."
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.action is not Action.ALLOW and not self.rules:
            raise fail(f"a {self.action.value} policy needs at least one rule", "rules")
        return self

    @classmethod
    def deny_all(cls) -> AuthorizationPolicy:
        return cls(action=Action.ALLOW, rules=[])

    @classmethod
    def allow(cls, *rules: AuthorizationRule) -> AuthorizationPolicy:
        return cls(action=Action.ALLOW, rules=list(rules))

    @classmethod
    def deny(cls, *rules: AuthorizationRule) -> AuthorizationPolicy:
        return cls(action=Action.DENY, rules=list(rules))
