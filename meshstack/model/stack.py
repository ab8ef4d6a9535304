"""The whole typed stack: every ``meshstack:*`` config key, validated together."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from meshstack.errors import fail_all
from meshstack.model.addons import AddonsConfig, DashboardAuth
from meshstack.model.apps import AppsConfig
from meshstack.model.base import Model, Name
from meshstack.model.environment import Environment
from meshstack.model.gateway import GatewaysConfig, gateway_problems
from meshstack.model.kubernetes import KubernetesConfig
from meshstack.model.mesh import MeshConfig, MtlsMode
from meshstack.model.namespace import WorkloadNamespace
from meshstack.model.profile import Profile, ProfileName
from meshstack.model.secrets import SecretsConfig


class StackSpec(Model):
    """One environment of the mesh. Keys are the stack config keys without ``meshstack:``."""

    environment: Environment = Field(
        strict=False, description="dev or prod; selects the defaults (stacks/defaults.py)."
    )
    kubernetes: KubernetesConfig = Field(default_factory=KubernetesConfig)
    mesh: MeshConfig = Field(default_factory=MeshConfig)
    gateways: GatewaysConfig = Field(default_factory=GatewaysConfig)
    namespaces: dict[Name, WorkloadNamespace] = Field(
        default_factory=dict, description="Workload namespaces, each labelled for exactly one revision."
    )
    addons: AddonsConfig = Field(default_factory=AddonsConfig)
    apps: AppsConfig = Field(default_factory=AppsConfig)
    secrets: SecretsConfig = Field(default_factory=SecretsConfig)

    @model_validator(mode="before")
    @classmethod
    def _profile_picks_gateways(cls, data: Any) -> Any:
        """``gateways.<name>.enabled`` left unset: the mesh profile decides (demo adds egress)."""
        if not isinstance(data, dict):
            return data
        mesh = data.get("mesh")
        name = mesh.get("profile", ProfileName.DEFAULT) if isinstance(mesh, dict) else getattr(mesh, "profile", None)
        try:
            profile = Profile.named(name or ProfileName.DEFAULT)
        except ValueError:
            return data
        gateways = data.get("gateways", {})
        if not isinstance(gateways, dict):
            return data
        gateways = dict(gateways)
        for key, on in (("ingress", profile.ingress_gateway), ("egress", profile.egress_gateway)):
            section = gateways.get(key, {})
            if isinstance(section, dict) and "enabled" not in section:
                gateways[key] = {**section, "enabled": on}
        return {**data, "gateways": gateways}

    @model_validator(mode="after")
    def _cross_checks(self) -> StackSpec:
        problems: list[tuple[str, str]] = []
        targets = self.mesh.injection_targets
        allowed = ", ".join(targets) or "none: set mesh.revisions (and mesh.tags) first"
        for ns, spec in self.namespaces.items():
            if spec.revision is not None and spec.revision not in targets:
                problems.append(
                    (
                        f"namespaces.{ns}.revision",
                        f"{spec.revision} is neither a revision nor a tag; allowed: {allowed}",
                    )
                )
            if ns in self.reserved_namespaces:
                problems.append((f"namespaces.{ns}", "is a control-plane or gateway namespace; pick another name"))
        for name, gw in self.gateways.enabled().items():
            if gw.revision is not None and gw.revision not in targets:
                problems.append(
                    (f"gateways.{name}.revision", f"{gw.revision} is neither a revision nor a tag; allowed: {allowed}")
                )
        if self.apps.enabled:
            if self.apps.namespace in self.namespaces:
                problems.append(
                    (
                        f"namespaces.{self.apps.namespace}",
                        "is the apps namespace (apps.namespace), which the apps create and label themselves; "
                        "remove it here or give the apps another namespace",
                    )
                )
            if self.apps.namespace in self.reserved_namespaces:
                problems.append(("apps.namespace", "is a control-plane or gateway namespace; pick another name"))
        problems += [(f"gateways.{p}", m) for p, m in gateway_problems(self.gateways)]
        problems += [(f"addons.{p}", m) for p, m in self.addons.problems()]
        if self.environment is Environment.PROD:
            if self.mesh.mtls is not MtlsMode.STRICT:
                problems.append(("mesh.mtls", f"prod requires STRICT mTLS, got {self.mesh.mtls.value}"))
            for name in ("grafana", "kiali"):
                addon = getattr(self.addons, name)
                if addon.enabled and addon.auth is DashboardAuth.ANONYMOUS:
                    problems.append((f"addons.{name}.auth", "anonymous dashboards are refused in prod; use login"))
        if err := fail_all(problems):
            raise err
        return self

    @property
    def reserved_namespaces(self) -> set[str]:
        return {self.mesh.namespace} | {gw.namespace for gw in self.gateways.enabled().values()}
