"""The ``meshstack:apps`` config section: the apps of a namespace, their policies and the render target.

A section validates itself when it is built: each app's own rules (see
:mod:`meshstack.model.app`), what the chosen render target can express and that every version
has an image (:func:`meshstack.model.checks.target_problems`, :func:`~meshstack.model.checks.image_problems`),
and the rules that need the whole section (one app per ServiceAccount, the namespace
PeerAuthentication vs an app's ``tls: DISABLE``). What it may be in a given mesh (prod's rules,
exposure, the analysis against Prometheus) is checked where the mesh is known
(:func:`meshstack.model.checks.section_problems`).

Samples (Bookinfo) are expanded into the section while it is validated: the stack path passes
them in the validation context (``{"samples": …}``, :mod:`meshstack.stacks.samples`); their apps
are built once, typed, and a problem of one is reported at the sample's own key.

In Python the apps are ``AppsConfig(apps={"web": AppSpec(...)})``; in stack config the same
mapping is ``services``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Self

from pydantic import Field, PrivateAttr, ValidationInfo, model_validator

from meshstack.errors import ConfigError, Loc, fail_all, split_path
from meshstack.model import checks
from meshstack.model.app import AppSpec
from meshstack.model.base import DNS_LABEL, Model, Name
from meshstack.model.policy.peer_authentication import PeerAuthentication
from meshstack.model.target import RenderTarget
from meshstack.model.tls import TlsMode


def is_dns_label(value: str) -> bool:
    return len(value) <= 63 and re.fullmatch(DNS_LABEL, value) is not None


@dataclass(frozen=True)
class Sample:
    """An app generator a stack file can switch on under ``apps.<key>``, outside the core schema."""

    #: The model of ``apps.<key>``.
    config: type[Model]
    #: Its apps.
    expand: Callable[[Any], dict[str, AppSpec]]
    #: The key a problem of a generated app is reported at when it is not a key of ``config``.
    blame: str

    def origin(self, key: str, app: str, loc: Loc) -> tuple[Loc, str]:
        """Where a problem at ``loc`` of generated app ``app`` is reported (relative to the section),
        and the prefix of its message: the sample's own key the problem comes from, else its
        :attr:`blame` key."""
        fields = {f.alias or n for n, f in self.config.model_fields.items()}
        first = loc[0] if loc else None
        return [key, first if isinstance(first, str) and first in fields else self.blame], f"{app}: "


#: The validation context's key for the generated apps' origins (set while a section validates).
_ORIGINS = "meshstack.apps.origins"


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

    #: Generated app → the sample key that made it (empty without samples).
    _origins: dict[str, str] = PrivateAttr(default_factory=dict)
    #: The samples in use, by key.
    _samples: dict[str, Sample] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _expand_samples(cls, data: Any, handler: Any, info: ValidationInfo) -> Any:
        """Samples named in the validation context, expanded into typed apps (once) beside the
        section's own ``services``; their own config problems reported at their keys."""
        samples: Mapping[str, Sample] = (info.context or {}).get("samples") or {}
        if not samples or not isinstance(data, Mapping) or not any(key in data for key in samples):
            return handler(data)
        data = dict(data)
        problems: list[tuple[Loc, str]] = []
        generated: dict[str, AppSpec] = {}
        origins: dict[str, str] = {}
        for key, sample in samples.items():
            raw = data.pop(key, None)
            if raw is None:
                continue
            try:
                config = sample.config.parse(raw)
            except ConfigError as refused:
                problems += [([key, *split_path(p.path)], p.message) for p in refused.problems]
                continue
            for name, app in sample.expand(config).items():
                generated[name] = app
                origins[name] = key
        services = data.get("services", {})
        if isinstance(services, Mapping):
            problems += [
                (
                    ["services", name],
                    f"the {origins[name]} sample already defines the mesh host {name!r}; one VirtualService per host",
                )
                for name in services
                if name in generated
            ]
            data["services"] = {**generated, **{k: v for k, v in services.items() if k not in generated}}
        if err := fail_all(problems):
            raise err
        if info.context is not None:  # for the section's own rules, which run inside the handler
            info.context[_ORIGINS] = (origins, samples)
        instance = handler(data)
        instance._origins = origins
        instance._samples = {key: samples[key] for key in set(origins.values())}
        return instance

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> Self:
        if not self._origins and info.context and _ORIGINS in info.context:
            origins, samples = info.context[_ORIGINS]
            self._origins = origins
            self._samples = {key: samples[key] for key in set(origins.values())}
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
            problems += [([*loc, *sub], message) for sub, message in checks.target_problems(name, app, self.target)]
            problems += [([*loc, *sub], message) for sub, message in checks.image_problems(app)]
            if ns_strict and app.tls is not None and app.tls.mode is TlsMode.DISABLE:
                problems.append(
                    (
                        [*loc, "tls", "mode"],
                        "tls DISABLE sends plaintext but the namespace PeerAuthentication is STRICT",
                    )
                )
        if err := fail_all(self.located(problems)):
            raise err
        return self

    def located(self, problems: list[tuple[Loc, str]]) -> list[tuple[Loc, str]]:
        """``problems`` (paths relative to the section) where the user wrote what they are about:
        a generated app's at its sample's key (``bookinfo.scenario``), with the app's name first."""
        if not self._origins:
            return problems
        out: list[tuple[Loc, str]] = []
        for loc, message in problems:
            name = loc[1] if len(loc) > 1 and loc[0] == "services" else None
            key = self._origins.get(name) if isinstance(name, str) else None
            if key is None or name is None:
                out.append((loc, message))
                continue
            at, prefix = self._samples[key].origin(key, str(name), list(loc[2:]))
            out.append((at, prefix + message))
        return out

    @property
    def exposed(self) -> list[str]:
        """The apps served through an ingress gateway."""
        return [name for name, app in self.apps.items() if app.expose is not None]
