"""WorkloadNamespaces: one Namespace per ``meshstack:namespaces`` entry, exactly one injection label."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from meshstack.components.k8s import kubernetes_object
from meshstack.model import arguments
from meshstack.model.mesh import MeshConfig
from meshstack.model.namespace import WorkloadNamespace
from meshstack.render import network_policies
from meshstack.render.namespaces import workload_namespace


@dataclass(frozen=True)
class WorkloadNamespacesArgs:
    namespaces: dict[str, WorkloadNamespace]
    mesh: MeshConfig

    def __post_init__(self) -> None:
        arguments.prepare(self)


class WorkloadNamespaces(pulumi.ComponentResource):
    """Workload namespaces labelled for their control-plane revision or tag. Relabelling one
    (``revision: prod-canary``) is an in-place update; restart its workloads to re-inject."""

    def __init__(self, name: str, args: WorkloadNamespacesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        arguments.refuse(
            [
                *arguments.check_call(WorkloadNamespaces.__init__, name=name, opts=opts),
                *arguments.problems_of(args, WorkloadNamespacesArgs),
            ]
        )
        super().__init__("meshstack:namespaces:WorkloadNamespaces", name, None, opts)
        self.namespaces = {
            ns: kubernetes_object(
                f"{name}-{ns}", workload_namespace(ns, spec, args.mesh), pulumi.ResourceOptions(parent=self)
            )
            for ns, spec in sorted(args.namespaces.items())
        }
        self.network_policies = [
            kubernetes_object(
                f"{name}-{ns}-networkpolicy-{m['metadata']['name']}",
                m,
                pulumi.ResourceOptions(parent=self, depends_on=[self.namespaces[ns]]),
            )
            for ns in sorted(args.namespaces)
            if args.mesh.network_policies
            for m in network_policies.workload_namespace(ns)
        ]
        self.register_outputs({"namespaces": sorted(self.namespaces)})
