"""Request matching: which requests a route, fault or exposure applies to.

A :class:`Match` is a conjunction (every field set must match); a list of matches on a route is a
disjunction (any match selects the route). ``Match.header("end-user", exact="jason")``,
``Match.cookie("session", "canary")``, ``Match.path_prefix("/api")``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, Strict, model_validator

from meshstack.errors import allowing, fail
from meshstack.model.base import LabelKey, LabelValue, Model, Port

#: A header name as Istio and Gateway API accept it in matches: an RFC 7230 token, lowercase.
HeaderName = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9!#$%&'*+.^_`|~-]{1,256}$",
        json_schema_extra=allowing("a lowercase HTTP header name (letters, digits and !#$%&'*+.^_`|~-)"),
    ),
]
#: A query parameter name (RFC 3986 unreserved characters and a few sub-delims).
QueryParamName = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,256}$",
        json_schema_extra=allowing("a query parameter name (letters, digits and !#$%&'*+.^_`|~-)"),
    ),
]
#: One side of a match; non-empty, no control characters.
MatchValue = Annotated[
    str,
    Field(
        min_length=1,
        max_length=1024,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        json_schema_extra=allowing("a non-empty string without control characters (at most 1024)"),
    ),
]


class HttpMethod(StrEnum):
    GET = "GET"
    HEAD = "HEAD"
    POST = "POST"
    PUT = "PUT"
    DELETE = "DELETE"
    CONNECT = "CONNECT"
    OPTIONS = "OPTIONS"
    TRACE = "TRACE"
    PATCH = "PATCH"


#: An HTTP method as config text ("GET") or the enum.
Method = Annotated[HttpMethod, Strict(False)]


class StringMatch(Model):
    """Exactly one of ``exact``, ``prefix`` (string prefix) or ``regex`` (RE2 syntax, whole value)."""

    exact: MatchValue | None = Field(None, description="The value equals this string.")
    prefix: MatchValue | None = Field(None, description="The value starts with this string.")
    regex: MatchValue | None = Field(None, description="The whole value matches this RE2 regular expression.")

    @model_validator(mode="after")
    def _one(self) -> Self:
        given = [k for k in ("exact", "prefix", "regex") if getattr(self, k) is not None]
        if len(given) != 1:
            raise fail(f"set exactly one of exact, prefix, regex (got {', '.join(given) or 'none'})")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise fail(f"not a valid regular expression: {exc}", "regex") from None
        return self

    @property
    def kind(self) -> str:
        return "exact" if self.exact is not None else "prefix" if self.prefix is not None else "regex"

    @property
    def value(self) -> str:
        return str(self.exact if self.exact is not None else self.prefix if self.prefix is not None else self.regex)

    def as_regex(self) -> str:
        """The same match as a whole-value regular expression."""
        if self.regex is not None:
            return self.regex
        escaped = re.escape(self.value)
        return escaped if self.exact is not None else escaped + ".*"


class Match(Model):
    """Conditions on a request; every condition set must hold. An empty match matches everything.

    Fields follow Istio's HTTPMatchRequest. Gateway API can express ``uri``, ``headers``,
    ``queryParams`` and ``method``; ``withoutHeaders``, ``sourceLabels`` and ``port`` are Istio-only
    (rendering them to Gateway API is an error).
    """

    uri: StringMatch | None = Field(None, description="Request path; must start with '/' (exact and prefix).")
    headers: dict[HeaderName, StringMatch] = Field(
        default_factory=dict, description="Headers that must match (lowercase names). Default: none."
    )
    query_params: dict[QueryParamName, StringMatch] = Field(
        default_factory=dict, description="Query parameters that must match. Default: none."
    )
    method: HttpMethod | None = Field(None, strict=False, description="HTTP method. Unset: any method.")
    without_headers: dict[HeaderName, StringMatch] = Field(
        default_factory=dict, description="Headers that must NOT match (Istio only). Default: none."
    )
    source_labels: dict[LabelKey, LabelValue] = Field(
        default_factory=dict, description="Labels of the calling workload (Istio only). Default: any caller."
    )
    port: Port | None = Field(None, description="Service port the request came in on (Istio only).")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.uri is not None and self.uri.regex is None and not self.uri.value.startswith("/"):
            raise fail(f"a path must start with '/', got {self.uri.value!r}", ["uri", self.uri.kind])
        both = sorted(set(self.headers) & set(self.without_headers))
        if both:
            raise fail(f"header {both[0]!r} is both required and excluded", ["withoutHeaders", both[0]])
        return self

    @property
    def is_empty(self) -> bool:
        return self == Match()

    @property
    def istio_only_fields(self) -> list[str]:
        """camelCase names of the fields set here that Gateway API HTTPRoute cannot express."""
        out = []
        if self.without_headers:
            out.append("withoutHeaders")
        if self.source_labels:
            out.append("sourceLabels")
        if self.port is not None:
            out.append("port")
        return out

    # --- factories ---------------------------------------------------------------------------

    @classmethod
    def header(
        cls, name: str, *, exact: str | None = None, prefix: str | None = None, regex: str | None = None
    ) -> Match:
        """``Match.header("end-user", exact="jason")``."""
        return cls(headers={name: StringMatch(exact=exact, prefix=prefix, regex=regex)})

    @classmethod
    def cookie(cls, name: str, value: str) -> Match:
        """Requests carrying cookie ``name=value`` (a regex on the ``cookie`` header)."""
        pattern = rf"^(.*?;\s*)?({re.escape(name)}={re.escape(value)})(;.*)?$"
        return cls(headers={"cookie": StringMatch(regex=pattern)})

    @classmethod
    def query(cls, name: str, *, exact: str | None = None, regex: str | None = None) -> Match:
        return cls(query_params={name: StringMatch(exact=exact, regex=regex)})

    @classmethod
    def path_prefix(cls, path: str) -> Match:
        return cls(uri=StringMatch(prefix=path))

    @classmethod
    def path_exact(cls, path: str) -> Match:
        return cls(uri=StringMatch(exact=path))
