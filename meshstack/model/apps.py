"""The ``meshstack:apps`` config section: the apps of a stack, their policies and the render target.

Parsed by the stack with ``AppsConfig.parse(value, path=["apps"])``. All validation happens here,
before any resource is registered: each app's own rules (see :mod:`meshstack.model.app`), plus the
rules that need the whole section — one VirtualService per mesh host (Bookinfo's names vs
``services``), one app per ServiceAccount, the namespace PeerAuthentication vs an app's
``tls: DISABLE``, and what the chosen render target can express (Istio: weights sum to 100;
Gateway API: no fault injection, no retries, no Istio-only matches, whole-millisecond durations,
per-version Service names ≤ 63).

Bookinfo presets live in :mod:`apps.bookinfo` (built on this model); this module expands them so
their routes are validated like any other app's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Self

from pydantic import Field, model_validator

from apps.bookinfo import BookinfoConfig, bookinfo_apps
from meshstack.errors import Loc, fail_all
from meshstack.model.app import AppSpec
from meshstack.model.base import DNS_LABEL, Model, Name, duration_seconds
from meshstack.model.policy.client_tls import TlsMode
from meshstack.model.policy.peer_authentication import PeerAuthentication


def is_dns_label(value: str) -> bool:
    return len(value) <= 63 and re.fullmatch(DNS_LABEL, value) is not None


class RenderTarget(StrEnum):
    """``istio``: VirtualService + DestinationRule subsets (default). ``gatewayApi``: HTTPRoute with
    weighted backendRefs to per-version Services (DestinationRules only for traffic policies)."""

    ISTIO = "istio"
    GATEWAY_API = "gatewayApi"


def gateway_api_duration(value: str) -> str | None:
    """A duration in Gateway API's form (``^([0-9]{1,5}(h|m|s|ms)){1,4}$``), or None if inexpressible."""
    ms = duration_seconds(value) * 1000
    if ms < 1 or abs(ms - round(ms)) > 1e-6:
        return None
    whole = round(ms)
    for unit, size in (("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)):
        if whole % size == 0 and whole // size <= 99_999:
            return f"{whole // size}{unit}"
    return None


class AppsConfig(Model):
    enabled: bool = Field(False, description="Deploy the workload apps of this stack. Default: false.")
    namespace: Name = Field("apps", description="Namespace of every app (injection-labelled). Default: apps.")
    target: RenderTarget = Field(
        RenderTarget.ISTIO, strict=False, description="Render target of routes: istio or gatewayApi. Default: istio."
    )
    bookinfo: BookinfoConfig | None = Field(None, description="Istio's Bookinfo sample. Unset: not deployed.")
    services: dict[str, AppSpec] = Field(
        default_factory=dict, description="Your own apps by Service name (a DNS label)."
    )
    peer_authentication: PeerAuthentication | None = Field(
        None, description="Namespace-wide PeerAuthentication ('default'). Unset: the mesh-wide mode applies."
    )

    def apps(self) -> dict[str, AppSpec]:
        """Every app of the section (Bookinfo's first), by Service name."""
        out = dict(bookinfo_apps(self.bookinfo)) if self.bookinfo is not None else {}
        out.update(self.services)
        return out

    def app_path(self, name: str) -> list[str | int]:
        """Config path of an app (Bookinfo apps point at the scenario that produced them)."""
        if name in self.services:
            return ["services", name]
        return ["bookinfo", "scenario"]

    @model_validator(mode="after")
    def _check(self) -> Self:
        problems: list[tuple[str | Loc, str]] = [
            (["services", name], "allowed: a DNS label (lowercase letters, digits and '-', at most 63 characters)")
            for name in self.services
            if not is_dns_label(name)
        ]
        if problems:
            raise fail_all(problems) or AssertionError
        bookinfo = bookinfo_apps(self.bookinfo) if self.bookinfo is not None else {}
        for name in self.services:
            if name in bookinfo:
                problems.append(
                    (
                        ["services", name],
                        f"Bookinfo already defines the mesh host {name!r}; one VirtualService per host",
                    )
                )
        apps = {**{k: (v, ["bookinfo", "scenario"]) for k, v in bookinfo.items()},
                **{k: (v, ["services", k]) for k, v in self.services.items()}}  # fmt: skip
        owners: dict[str, str] = {}
        for name, (app, loc) in apps.items():
            account = app.service_account or name
            if account in owners:
                problems.append(
                    (
                        [*loc, "serviceAccount"] if loc[0] == "services" else loc,
                        f"ServiceAccount {account!r} is already the identity of app {owners[account]!r}; "
                        "give each app its own serviceAccount",
                    )
                )
            owners.setdefault(account, name)
        for name, (app, loc) in apps.items():
            problems.extend(self._target_problems(name, app, loc))
            ns_strict = self.peer_authentication is not None and self.peer_authentication.is_strict_anywhere
            if ns_strict and app.tls is not None and app.tls.mode is TlsMode.DISABLE:
                where: Loc = [*loc, "tls", "mode"] if loc[0] == "services" else ["bookinfo", "mtls"]
                problems.append(
                    (where, f"{name}: tls DISABLE sends plaintext but the namespace PeerAuthentication is STRICT")
                )
        if err := fail_all(problems):
            raise err
        return self

    def _target_problems(self, name: str, app: AppSpec, loc: Sequence[str | int]) -> list[tuple[str | Loc, str]]:
        # Service names are already checked (as DNS labels) by _check before it calls this.
        problems: list[tuple[str | Loc, str]] = []
        bookinfo = loc[0] == "bookinfo"
        prefix = f"{name}: " if bookinfo else ""

        def at(*sub: str | int) -> Loc:
            return loc if bookinfo else [*loc, *sub]

        for i, route in enumerate(app.effective_routes() if not app.routes else app.routes):
            if self.target is RenderTarget.ISTIO:
                total = sum(w for _, w in route.weighted)
                if len(route.to) > 1 and total != 100:
                    problems.append(
                        (at("routes", i, "to"), f"{prefix}Istio route weights must sum to 100, got {total}")
                    )
                continue
            gw = "Gateway API HTTPRoute cannot express"
            if route.fault is not None:
                problems.append((at("routes", i, "fault"), f"{prefix}{gw} fault injection; use target istio"))
            if route.retries is not None:
                problems.append(
                    (at("routes", i, "retries"), f"{prefix}{gw} retries (standard channel); use target istio")
                )
            if route.timeout is not None and gateway_api_duration(route.timeout) is None:
                problems.append(
                    (at("routes", i, "timeout"), f"{prefix}{gw} {route.timeout}; use whole milliseconds (≥ 1ms)")
                )
            if route.mirror is not None and route.mirror.percentage != int(route.mirror.percentage):
                problems.append(
                    (at("routes", i, "mirror", "percentage"), f"{prefix}{gw} fractional mirror percentages")
                )
            for k, match in enumerate(route.match):
                for field in match.istio_only_fields:
                    problems.append((at("routes", i, "match", k, field), f"{prefix}{gw} {field} matches"))
        if self.target is RenderTarget.GATEWAY_API:
            for version in app.versions:
                if len(f"{name}-{version}") > 63:
                    problems.append(
                        (
                            at("versions", version),
                            f"{prefix}per-version Service {name}-{version} is longer than 63 characters",
                        )
                    )
        return problems

    def to_summary(self) -> dict[str, Any]:
        return {"namespace": self.namespace, "target": self.target.value, "apps": sorted(self.apps())}
