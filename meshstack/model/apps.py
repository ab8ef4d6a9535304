"""The ``meshstack:apps`` config section: the apps of a namespace, their policies and the render target.

All validation happens here, before any resource is registered: each app's own rules (see
:mod:`meshstack.model.app`), what the chosen render target can express (:func:`target_problems`:
Istio weights sum to 100; Gateway API has no fault injection, no retries, no Istio-only matches,
whole-millisecond durations, per-version Service names ≤ 63), and the rules that need the whole
section (one app per ServiceAccount, the namespace PeerAuthentication vs an app's ``tls: DISABLE``).

In Python the apps are ``AppsConfig(apps={"web": AppSpec(...)})``; in stack config the same
mapping is ``services``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from meshstack.errors import Loc, fail_all
from meshstack.model.app import AppSpec
from meshstack.model.base import DNS_LABEL, Model, Name, duration_seconds
from meshstack.model.policy.peer_authentication import PeerAuthentication
from meshstack.model.tls import TlsMode


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


def target_problems(name: str, app: AppSpec, target: RenderTarget) -> list[tuple[Loc, str]]:
    """What ``target`` cannot express of app ``name`` (paths relative to the app)."""
    problems: list[tuple[Loc, str]] = []
    for i, route in enumerate(app.effective_routes() if not app.routes else app.routes):
        at = ["routes", i] if app.routes else ["blueGreen"]
        if target is RenderTarget.ISTIO:
            total = sum(w for _, w in route.weighted)
            if len(route.to) > 1 and total != 100:
                problems.append(([*at, "to"], f"Istio route weights must sum to 100, got {total}"))
            continue
        gw = "Gateway API HTTPRoute cannot express"
        if route.fault is not None:
            problems.append(([*at, "fault"], f"{gw} fault injection; use target istio"))
        if route.retries is not None:
            problems.append(([*at, "retries"], f"{gw} retries (standard channel); use target istio"))
        if route.timeout is not None and gateway_api_duration(route.timeout) is None:
            problems.append(([*at, "timeout"], f"{gw} {route.timeout}; use whole milliseconds (≥ 1ms)"))
        if route.mirror is not None and route.mirror.percentage != int(route.mirror.percentage):
            problems.append(([*at, "mirror", "percentage"], f"{gw} fractional mirror percentages"))
        for k, match in enumerate(route.match):
            for field in match.istio_only_fields:
                problems.append(([*at, "match", k, field], f"{gw} {field} matches"))
    if target is RenderTarget.GATEWAY_API:
        for version in app.versions:
            if len(f"{name}-{version}") > 63:
                problems.append(
                    (["versions", version], f"per-version Service {name}-{version} is longer than 63 characters")
                )
    return problems


class AppsConfig(Model):
    """The apps of one namespace and the policies they share."""

    enabled: bool = Field(False, description="Deploy the workload apps of this stack. Default: false.")
    namespace: Name = Field("apps", description="Namespace of every app (injection-labelled). Default: apps.")
    target: RenderTarget = Field(
        RenderTarget.ISTIO, strict=False, description="Render target of routes: istio or gatewayApi. Default: istio."
    )
    apps: dict[str, AppSpec] = Field(
        default_factory=dict, alias="services", description="Your own apps by Service name (a DNS label)."
    )
    peer_authentication: PeerAuthentication | None = Field(
        None, description="Namespace-wide PeerAuthentication ('default'). Unset: the mesh-wide mode applies."
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        problems: list[tuple[Loc, str]] = [
            (["services", name], "allowed: a DNS label (lowercase letters, digits and '-', at most 63 characters)")
            for name in self.apps
            if not is_dns_label(name)
        ]
        if problems:
            raise fail_all(problems) or AssertionError
        owners: dict[str, str] = {}
        ns_strict = self.peer_authentication is not None and self.peer_authentication.is_strict_anywhere
        for name, app in self.apps.items():
            loc: Loc = ["services", name]
            account = app.service_account or name
            if account in owners:
                problems.append(
                    (
                        [*loc, "serviceAccount"],
                        f"ServiceAccount {account!r} is already the identity of app {owners[account]!r}; "
                        "give each app its own serviceAccount",
                    )
                )
            owners.setdefault(account, name)
            problems += [([*loc, *sub], message) for sub, message in target_problems(name, app, self.target)]
            problems += [([*loc, "versions", v, "image"], "required") for v in app.imageless_versions]
            if ns_strict and app.tls is not None and app.tls.mode is TlsMode.DISABLE:
                problems.append(
                    (
                        [*loc, "tls", "mode"],
                        "tls DISABLE sends plaintext but the namespace PeerAuthentication is STRICT",
                    )
                )
        if err := fail_all(problems):
            raise err
        return self

    @property
    def exposed(self) -> list[str]:
        """The apps served through an ingress gateway."""
        return [name for name, app in self.apps.items() if app.expose is not None]
