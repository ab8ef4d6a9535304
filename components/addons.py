"""MeshAddons: Prometheus, Grafana, Jaeger and Kiali as typed native manifests, wired together.

Generated credentials (Grafana's admin password, Kiali's token signing key) come from
pulumi_random, are Pulumi secrets from birth, and only enter Kubernetes Secrets: the engine stores
them encrypted, the render redacts them, and no output carries them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from meshstack.components.k8s import kubernetes_object, resource_name
from meshstack.components.secret import generated_secret
from meshstack.model import arguments
from meshstack.model.addons import AddonsConfig
from meshstack.model.secrets import SecretGenerator
from meshstack.render.addons import grafana, jaeger, kiali, prometheus


@dataclass(frozen=True)
class MeshAddonsArgs:
    addons: AddonsConfig
    #: The control-plane namespace the addons live in (as Istio's samples do).
    namespace: str
    #: What the addons wait for (the control-plane namespace at least).
    after: Sequence[pulumi.Resource]
    #: Who generates the Grafana password and the Kiali signing key.
    secret_generator: SecretGenerator = SecretGenerator.RANDOM

    def __post_init__(self) -> None:
        arguments.prepare(self)


class MeshAddons(pulumi.ComponentResource):
    def __init__(self, name: str, args: MeshAddonsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        arguments.refuse(
            [
                *arguments.check_call(MeshAddons.__init__, name=name, opts=opts),
                *arguments.problems_of(args, MeshAddonsArgs),
            ]
        )
        super().__init__("meshstack:addons:MeshAddons", name, None, opts)
        addons, ns = args.addons, args.namespace
        self.objects: dict[str, list[pulumi.CustomResource]] = {}
        self._service_objects: list[pulumi.Resource] = []
        if addons.prometheus.enabled:
            self._install("prometheus", prometheus.manifests(addons.prometheus, ns), args.after)
        if addons.jaeger.enabled:
            self._install("jaeger", jaeger.manifests(addons.jaeger, ns), args.after)
        if addons.grafana.enabled:
            self.grafana_password = generated_secret(
                f"{name}-grafana-admin-password", 24, args.secret_generator, pulumi.ResourceOptions(parent=self)
            )
            secret = grafana.admin_secret(ns, addons.grafana.admin_user, self.grafana_password)
            self._install(
                "grafana",
                [secret, *grafana.manifests(addons.grafana, ns, with_jaeger=addons.jaeger.enabled)],
                args.after,
                reads=self._services("prometheus", "jaeger"),
            )
        if addons.kiali.enabled:
            self.kiali_signing_key = generated_secret(
                f"{name}-kiali-signing-key", 32, args.secret_generator, pulumi.ResourceOptions(parent=self)
            )
            secret = kiali.signing_key_secret(ns, self.kiali_signing_key)
            self._install(
                "kiali",
                [secret, *kiali.manifests(addons, ns)],
                args.after,
                reads=self._services("prometheus", "grafana", "jaeger"),
            )
        self.register_outputs({"addons": sorted(self.objects)})

    def _services(self, *addons: str) -> list[pulumi.Resource]:
        return [r for a in addons for r in self.objects.get(a, []) if r in self._service_objects]

    def _install(
        self,
        addon: str,
        manifests: list[dict[str, Any]],
        after: Sequence[pulumi.Resource],
        reads: Sequence[pulumi.Resource] = (),
    ) -> None:
        """One addon's objects; its Deployment waits for its own config, secrets and RBAC and for
        the Services of the addons it reads."""
        created: list[pulumi.CustomResource] = []
        for manifest in manifests:
            deps = [*after, *created, *reads] if manifest["kind"] == "Deployment" else list(after)
            created.append(
                kubernetes_object(
                    resource_name(addon, manifest), manifest, pulumi.ResourceOptions(parent=self, depends_on=deps)
                )
            )
            if manifest["kind"] == "Service":
                self._service_objects.append(created[-1])
        self.objects[addon] = created
