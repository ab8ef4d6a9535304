"""The mesh platform of one environment: control plane, gateways, workload namespaces, addons.

``PlatformSpec`` is what :class:`meshstack.components.MeshPlatform` installs, validated as a whole:
its environment's defaults fill what the caller leaves unset (:mod:`meshstack.model.environment`),
the profile decides which gateways exist, and the cross-section rules (revisions named by
namespaces and gateways exist, Gateway selectors match a deployment, addons have what they read,
prod's rules) hold before anything is registered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, model_validator

from meshstack.errors import Loc, fail_all, split_path
from meshstack.model.addons import AddonsConfig, DashboardAuth
from meshstack.model.base import Model, Name, merge_defaults
from meshstack.model.environment import Environment, environment_defaults
from meshstack.model.gateway import GatewaysConfig, gateway_problems
from meshstack.model.mesh import MeshConfig, ProxyFlavor
from meshstack.model.namespace import WorkloadNamespace
from meshstack.model.profile import Profile, ProfileName
from meshstack.model.secrets import SecretsConfig
from meshstack.model.tls import MtlsMode


def _given(value: Any, key: str) -> Any:
    """``key`` as the caller set it in ``value`` (a config mapping or a model instance), else None."""
    if isinstance(value, Model):
        return value.given().get(key)
    if isinstance(value, Mapping):
        return value.get(key)
    return None


class PlatformSpec(Model):
    """One environment of the mesh platform. Keys are the stack config keys without ``meshstack:``."""

    environment: Environment = Field(strict=False, description="dev or prod; selects the defaults and rules.")
    mesh: MeshConfig = Field(default_factory=MeshConfig)
    gateways: GatewaysConfig = Field(default_factory=GatewaysConfig)
    namespaces: dict[Name, WorkloadNamespace] = Field(
        default_factory=dict, description="Workload namespaces, each labelled for exactly one revision."
    )
    addons: AddonsConfig = Field(default_factory=AddonsConfig)
    secrets: SecretsConfig = Field(default_factory=SecretsConfig)

    @classmethod
    def layered_defaults(cls, given: Mapping[str, Any]) -> dict[str, Any]:
        """The environment's defaults, then the profile's choice of gateways (``gateways.<name>.enabled``)."""
        env = environment_defaults(given.get("environment"))
        profile_name = _given(given.get("mesh"), "profile") or env.get("mesh", {}).get("profile")
        try:
            profile = Profile.named(profile_name or ProfileName.DEFAULT)
        except ValueError:
            return env  # the field validator reports the bad profile name
        gateways = {"ingress": {"enabled": profile.ingress_gateway}, "egress": {"enabled": profile.egress_gateway}}
        return merge_defaults({"gateways": gateways}, env)

    @model_validator(mode="after")
    def _platform_rules(self) -> PlatformSpec:
        if err := fail_all(self.platform_problems()):
            raise err
        return self

    def platform_problems(self) -> list[tuple[Loc, str]]:
        problems: list[tuple[Loc, str]] = []
        system = "is a Kubernetes system namespace (kube-*); pick a namespace of the mesh's own"
        if self.mesh.namespace.startswith("kube-"):
            problems.append((["mesh", "namespace"], system))
        for name, gw in self.gateways.enabled().items():
            if gw.namespace.startswith("kube-"):
                problems.append((["gateways", name, "namespace"], system))
        problems += [(["namespaces", ns], system) for ns in self.namespaces if ns.startswith("kube-")]
        targets = self.mesh.injection_targets
        allowed = ", ".join(targets) or "none: set mesh.revisions (and mesh.tags) first"
        for ns, spec in self.namespaces.items():
            if spec.revision is not None and spec.revision not in targets:
                problems.append(
                    (
                        ["namespaces", ns, "revision"],
                        f"{spec.revision} is neither a revision nor a tag; allowed: {allowed}",
                    )
                )
            if ns in self.reserved_namespaces:
                problems.append((["namespaces", ns], "is a control-plane or gateway namespace; pick another name"))
        for name, gw in self.gateways.enabled().items():
            if gw.revision is not None and gw.revision not in targets:
                problems.append(
                    (
                        ["gateways", name, "revision"],
                        f"{gw.revision} is neither a revision nor a tag; allowed: {allowed}",
                    )
                )
        problems += [(["mesh", *split_path(p)], m) for p, m in self.mesh.layered_problems()]
        problems += [(["gateways", *split_path(p)], m) for p, m in gateway_problems(self.gateways)]
        problems += [(["addons", *split_path(p)], m) for p, m in self.addons.problems()]
        if self.environment is Environment.PROD:
            if self.mesh.proxy.flavor is not ProxyFlavor.ISTIO:
                problems.append(
                    (
                        ["mesh", "proxy", "flavor"],
                        f"prod runs Istio's own proxy (istio), got {self.mesh.proxy.flavor.value}: upstream Envoy lacks "
                        "Istio's ALPN and metadata exchange, and its standard metrics",
                    )
                )
            if self.mesh.mtls is not MtlsMode.STRICT:
                problems.append((["mesh", "mtls"], f"prod requires STRICT mTLS, got {self.mesh.mtls.value}"))
            if self.mesh.chart_repository.startswith("http://"):
                problems.append(
                    (
                        ["mesh", "chartRepository"],
                        "prod fetches charts over https:// (or oci://, or a local directory), not http://",
                    )
                )
            for name in ("prometheus", "grafana", "jaeger", "kiali"):
                if getattr(self.addons, name).version == "latest":
                    problems.append((["addons", name, "version"], "prod pins images: a release tag, not latest"))
            for name in ("grafana", "kiali"):
                addon = getattr(self.addons, name)
                if addon.enabled and addon.auth is DashboardAuth.ANONYMOUS:
                    problems.append((["addons", name, "auth"], "anonymous dashboards are refused in prod; use login"))
        return problems

    @property
    def reserved_namespaces(self) -> set[str]:
        """The control-plane and gateway namespaces (no workload namespace may take their names)."""
        return {self.mesh.namespace} | {gw.namespace for gw in self.gateways.enabled().values()}

    @property
    def is_prod(self) -> bool:
        return self.environment is Environment.PROD
