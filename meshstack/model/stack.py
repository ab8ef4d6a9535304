"""The whole typed stack: every ``meshstack:*`` config key of the core schema, validated together.

``StackSpec`` is a :class:`PlatformSpec` plus the cluster to reach and the apps. Build it from
Python with :meth:`StackSpec.for_environment` (or the constructor) or from stack config with
:meth:`StackSpec.parse`: both apply the environment's and the profile's defaults the same way.
Samples such as Bookinfo are not part of this schema; the stack-config reader adds them
(:mod:`meshstack.stacks.config`).
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import Field

from meshstack.errors import Loc
from meshstack.model import checks
from meshstack.model.addons import AddonsConfig
from meshstack.model.apps import AppsConfig
from meshstack.model.environment import Environment
from meshstack.model.gateway import GatewaysConfig
from meshstack.model.kubernetes import KubernetesConfig
from meshstack.model.mesh import MeshConfig
from meshstack.model.namespace import WorkloadNamespace
from meshstack.model.platform import PlatformSpec
from meshstack.model.promotion import Promotion
from meshstack.model.secrets import SecretsConfig


class StackSpec(PlatformSpec):
    """One environment of the mesh and its apps. Keys are the stack config keys without ``meshstack:``."""

    kubernetes: KubernetesConfig = Field(default_factory=KubernetesConfig)
    apps: AppsConfig = Field(default_factory=AppsConfig)
    promotion: Promotion | None = Field(
        None, description="Where this stack's release came from (written by `meshstack promote`, docs/cd.md)."
    )

    @classmethod
    def for_environment(
        cls,
        environment: Environment | str,
        *,
        mesh: MeshConfig | None = None,
        gateways: GatewaysConfig | None = None,
        namespaces: dict[str, WorkloadNamespace] | None = None,
        addons: AddonsConfig | None = None,
        secrets: SecretsConfig | None = None,
        kubernetes: KubernetesConfig | None = None,
        apps: AppsConfig | None = None,
    ) -> Self:
        """The spec of ``environment`` with what is given set and its defaults under everything else:
        ``StackSpec.for_environment("prod", mesh=MeshConfig(version="1.29.1"))``."""
        given: dict[str, Any] = {
            "mesh": mesh,
            "gateways": gateways,
            "namespaces": namespaces,
            "addons": addons,
            "secrets": secrets,
            "kubernetes": kubernetes,
            "apps": apps,
        }
        return cls(**{"environment": environment, **{k: v for k, v in given.items() if v is not None}})

    @property
    def mesh_context(self) -> checks.MeshContext:
        """What the rules with context need to know of this stack's mesh."""
        return checks.MeshContext(
            environment=self.environment.value,
            ingress=self.gateways.ingress.serves_routes,
            scrape_interval=self.addons.prometheus.scrape_interval if self.addons.prometheus.enabled else None,
            injection_labels=self.mesh.injection_labels(),
            default_deny=self.mesh.default_deny,
            namespaces=frozenset(self.namespaces),
            reserved=frozenset(self.reserved_namespaces),
        )

    def platform_problems(self) -> list[tuple[Loc, str]]:
        problems = super().platform_problems()
        apps = self.apps
        if not apps.enabled:
            return problems
        section = checks.section_problems(
            apps.apps, apps.target, apps.peer_authentication, self.mesh_context, namespace=apps.namespace
        )
        problems += [(["apps", *loc], m) for loc, m in apps.located(section)]
        return problems
