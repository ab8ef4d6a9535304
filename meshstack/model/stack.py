"""The whole typed stack: every ``meshstack:*`` config key, validated together."""

from __future__ import annotations

from pydantic import Field, model_validator

from meshstack.errors import fail_all
from meshstack.model.addons import AddonsConfig, DashboardAuth
from meshstack.model.apps import AppsConfig
from meshstack.model.base import Model
from meshstack.model.environment import Environment
from meshstack.model.kubernetes import KubernetesConfig
from meshstack.model.mesh import MeshConfig, MtlsMode


class StackSpec(Model):
    """One environment of the mesh. Keys are the stack config keys without ``meshstack:``."""

    environment: Environment = Field(
        strict=False, description="dev or prod; selects the defaults (stacks/defaults.py)."
    )
    kubernetes: KubernetesConfig = Field(default_factory=KubernetesConfig)
    mesh: MeshConfig = Field(default_factory=MeshConfig)
    addons: AddonsConfig = Field(default_factory=AddonsConfig)
    apps: AppsConfig = Field(default_factory=AppsConfig)

    @model_validator(mode="after")
    def _prod_is_secure(self) -> StackSpec:
        if self.environment is not Environment.PROD:
            return self
        problems: list[tuple[str, str]] = []
        if self.mesh.mtls is not MtlsMode.STRICT:
            problems.append(("mesh.mtls", f"prod requires STRICT mTLS, got {self.mesh.mtls.value}"))
        for name in ("grafana", "kiali"):
            addon = getattr(self.addons, name)
            if addon.enabled and addon.auth is DashboardAuth.ANONYMOUS:
                problems.append((f"addons.{name}.auth", "anonymous dashboards are refused in prod; use login"))
        if err := fail_all(problems):
            raise err
        return self
