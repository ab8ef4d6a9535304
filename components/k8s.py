"""The one way a component turns a rendered manifest (a plain dict) into a Pulumi resource, and a
Helm chart into a ``helm.v4.Chart``.

Core kinds become typed ``pulumi_kubernetes`` classes (not ``yaml.v2.ConfigGroup``), so every
object is a first-class resource: its own diff, await logic (Deployments are awaited until
available), ``depends_on`` edges, and secret Outputs inside the manifest stay secret. Every other
kind (Istio, Gateway API …) is an ``apiextensions.CustomResource``.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from meshstack.render.helm import ChartSource

#: Core kinds and their typed ``pulumi_kubernetes`` class (module under ``pulumi_kubernetes``, class
#: name), imported on first use: a route-only rollout step registers one VirtualService and need
#: not import the typed core modules (about 0.2 s of the step, docs/benchmarks.md).
_TYPED: dict[tuple[str, str], tuple[str, str]] = {
    ("v1", "Namespace"): ("core.v1", "Namespace"),
    ("v1", "ConfigMap"): ("core.v1", "ConfigMap"),
    ("v1", "Secret"): ("core.v1", "Secret"),
    ("v1", "Service"): ("core.v1", "Service"),
    ("v1", "ServiceAccount"): ("core.v1", "ServiceAccount"),
    ("v1", "PersistentVolumeClaim"): ("core.v1", "PersistentVolumeClaim"),
    ("apps/v1", "Deployment"): ("apps.v1", "Deployment"),
    ("policy/v1", "PodDisruptionBudget"): ("policy.v1", "PodDisruptionBudget"),
    ("networking.k8s.io/v1", "NetworkPolicy"): ("networking.v1", "NetworkPolicy"),
    ("rbac.authorization.k8s.io/v1", "Role"): ("rbac.v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): ("rbac.v1", "RoleBinding"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): ("rbac.v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): ("rbac.v1", "ClusterRoleBinding"),
    ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"): (
        "admissionregistration.v1",
        "MutatingWebhookConfiguration",
    ),
}


def typed_class(api_version: str, kind: str) -> Any:
    """The typed ``pulumi_kubernetes`` class of a core kind (None for any other kind)."""
    where = _TYPED.get((api_version, kind))
    if where is None:
        return None
    module, name = where
    return getattr(importlib.import_module(f"pulumi_kubernetes.{module}"), name)


#: pulumi-kubernetes' readiness condition for a Service (its documented ``pulumi.com/waitFor``
#: annotation). Without it a Service is awaited until its endpoints have been stable for a fixed 10 s
#: after their last change, which put two such waits on every ``up``'s critical path (istiod's,
#: then the gateways' and apps') although nothing waits on a Service's endpoints: what must be
#: ready is the Deployment behind it, and that is awaited until available. A ClusterIP or headless
#: Service is ready once the API server has given it its address (``kubectl`` does not wait for
#: Services at all); a LoadBalancer Service keeps the provider's wait for its external address,
#: which is its real readiness, and an ExternalName Service has no address to wait for.
SERVICE_WAIT_FOR = {"pulumi.com/waitFor": "jsonpath={.spec.clusterIP}"}
_OWN_READINESS = ("LoadBalancer", "ExternalName")


def with_service_readiness(manifest: dict[str, Any]) -> dict[str, Any]:
    """``manifest`` with :data:`SERVICE_WAIT_FOR` if it is a Service whose readiness is its cluster IP."""
    if manifest.get("kind") != "Service" or (manifest.get("spec") or {}).get("type") in _OWN_READINESS:
        return manifest
    metadata = manifest.get("metadata") or {}
    annotations = {**(metadata.get("annotations") or {}), **SERVICE_WAIT_FOR}
    return {**manifest, "metadata": {**metadata, "annotations": annotations}}


def service_readiness(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """A chart transform: the chart's Services get :func:`with_service_readiness`."""
    if args.type_ != "kubernetes:core/v1:Service":
        return None
    props = with_service_readiness({**args.props, "kind": "Service"})
    if "kind" not in args.props:
        props.pop("kind")
    return pulumi.ResourceTransformResult(props=props, opts=args.opts)


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def kubernetes_object(name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """The resource for a rendered manifest: a typed class for core kinds, a CustomResource otherwise."""
    cls = typed_class(manifest["apiVersion"], manifest["kind"])
    manifest = with_service_readiness(manifest)
    if cls is None:
        extra = {k: v for k, v in manifest.items() if k not in {"apiVersion", "kind", "metadata"}}
        return k8s.apiextensions.CustomResource(
            name,
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            metadata=manifest["metadata"],
            opts=opts,
            **extra,
        )
    fields = {_snake(k): v for k, v in manifest.items() if k not in {"apiVersion", "kind"}}
    resource: pulumi.CustomResource = cls(name, opts=opts, **fields)
    return resource


def resource_name(prefix: str, manifest: dict[str, Any]) -> str:
    """A readable, unique Pulumi name: ``<prefix>-<kind>-<name>`` in lowercase."""
    return f"{prefix}-{manifest['kind'].lower()}-{manifest['metadata']['name']}"


def object_key(manifest: dict[str, Any]) -> str:
    """``<namespace>/<name>`` (``_/<name>`` for cluster-scoped objects): the Pulumi name of an app object."""
    meta = manifest["metadata"]
    return f"{meta.get('namespace', '_')}/{meta['name']}"


def helm_chart(
    name: str,
    source: ChartSource,
    namespace: str,
    values: dict[str, Any] | pulumi.Input[dict[str, Any]],
    opts: pulumi.ResourceOptions,
    release_name: str | None = None,
) -> k8s.helm.v4.Chart:
    """A Helm chart rendered client-side (helm.v4.Chart): one Pulumi resource per object, so
    previews and refresh diff each object and transforms can tune single objects."""
    return k8s.helm.v4.Chart(
        name,
        chart=source.chart,
        version=source.version,
        repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=source.repository) if source.repository else None,
        namespace=namespace,
        name=release_name or name,
        values=values,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(transforms=[service_readiness])),
    )
