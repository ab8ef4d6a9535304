"""Observability addons (the ``meshstack:addons`` section): Prometheus, Grafana, Jaeger, Kiali."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from meshstack.model.base import Model


class DashboardAuth(StrEnum):
    """How users sign in to a dashboard. anonymous: nobody signs in (dev only). login: a user and a
    generated password (Grafana) or a service-account token (Kiali)."""

    ANONYMOUS = "anonymous"
    LOGIN = "login"


class AddonToggle(Model):
    enabled: bool = Field(True, description="Install this addon.")


class DashboardAddon(Model):
    enabled: bool = Field(True, description="Install this addon.")
    auth: DashboardAuth = Field(DashboardAuth.LOGIN, strict=False, description="Sign-in; anonymous is refused in prod.")


class AddonsConfig(Model):
    prometheus: AddonToggle = Field(default_factory=AddonToggle)
    grafana: DashboardAddon = Field(default_factory=DashboardAddon)
    jaeger: AddonToggle = Field(default_factory=AddonToggle)
    kiali: DashboardAddon = Field(default_factory=DashboardAddon)
