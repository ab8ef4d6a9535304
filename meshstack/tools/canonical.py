"""The canonical form of rendered Kubernetes objects: one key order, one document order and one
YAML text for the same objects, whatever order the program registered them in, whatever order
the wire format handed their fields back (it differs between protobuf releases) and whatever the
process's hash seed.

* **Keys**: every mapping's keys sorted, recursively. Kubernetes gives mapping key order no
  meaning; list order is meaningful (containers, routes, ports, webhooks …) and is kept.
* **Documents**: in the order an install applies them — CustomResourceDefinitions and Namespaces
  first, then the built-in kinds in Helm's install order (``helm.sh/helm/v3/pkg/releaseutil``
  ``InstallOrder``: ServiceAccounts and ConfigMaps before the Deployments that mount them, the
  admission webhooks last), then every other kind by API group and kind — and within a kind by
  namespace, name and API version (:func:`object_key`, :func:`apply_order`).
* **Text**: block-style YAML with sorted keys, multi-line strings as literal blocks (:func:`dump`).

Pure: no Pulumi, no processes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

#: Where each built-in (group, kind) goes in an install; every other kind comes after them.
INSTALL_ORDER: tuple[tuple[str, str], ...] = (
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("", "Namespace"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("", "ResourceQuota"),
    ("", "LimitRange"),
    ("policy", "PodDisruptionBudget"),
    ("", "ServiceAccount"),
    ("", "Secret"),
    ("", "ConfigMap"),
    ("storage.k8s.io", "StorageClass"),
    ("", "PersistentVolume"),
    ("", "PersistentVolumeClaim"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("", "Service"),
    ("apps", "DaemonSet"),
    ("", "Pod"),
    ("", "ReplicationController"),
    ("apps", "ReplicaSet"),
    ("apps", "Deployment"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("apps", "StatefulSet"),
    ("batch", "Job"),
    ("batch", "CronJob"),
    ("networking.k8s.io", "IngressClass"),
    ("networking.k8s.io", "Ingress"),
    ("apiregistration.k8s.io", "APIService"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
)
_RANK = {kind: rank for rank, kind in enumerate(INSTALL_ORDER)}

#: An object's identity in a render: (apiVersion, kind, namespace, name); "" for a cluster-scoped
#: object's namespace.
ObjectKey = tuple[str, str, str, str]


def group_of(api_version: str) -> str:
    """The API group of ``apiVersion`` (``""`` for the core group: ``v1``)."""
    return api_version.rpartition("/")[0]


def object_key(manifest: Mapping[str, Any]) -> ObjectKey:
    """(apiVersion, kind, namespace, name) of a manifest."""
    meta = manifest.get("metadata") or {}
    return (
        str(manifest.get("apiVersion", "")),
        str(manifest.get("kind", "")),
        str(meta.get("namespace") or ""),
        str(meta.get("name") or ""),
    )


def apply_order(manifest: Mapping[str, Any]) -> tuple[int, str, str, str, str, str]:
    """The sort key of a manifest in a render: install rank, then group and kind (for the kinds
    outside :data:`INSTALL_ORDER`), namespace, name, apiVersion."""
    api_version, kind, namespace, name = object_key(manifest)
    group = group_of(api_version)
    return (_RANK.get((group, kind), len(INSTALL_ORDER)), group, kind, namespace, name, api_version)


def canonical(value: Any) -> Any:
    """``value`` with every mapping's keys sorted, recursively; lists keep their order."""
    if isinstance(value, Mapping):
        return {str(k): canonical(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    return value


class _Dumper(yaml.SafeDumper):
    """Block-style YAML; multi-line strings (dashboards, configs) as literal blocks."""


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def dump(value: Any) -> str:
    """One YAML document of ``value``, keys sorted at every level."""
    return yaml.dump(value, Dumper=_Dumper, sort_keys=True, default_flow_style=False, allow_unicode=True)


def dump_all(docs: Iterable[tuple[str, Any]]) -> str:
    """``(comment, value)`` pairs as a multi-document YAML text, in the given order; a non-empty
    comment heads its document (``# chart: mesh-istiod``)."""
    parts = [f"# {comment}\n{dump(doc)}" if comment else dump(doc) for comment, doc in docs]
    return "---\n".join(parts)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML as Kubernetes reads it: a date-like scalar stays a string (the API server's JSON has no
    dates). libyaml's parser when PyYAML has it (the same documents, parsed ten times faster)."""


def _timestamp_as_string(loader: Any, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_string)


def load_all(text: str) -> list[Any]:
    """The non-empty documents of a multi-document YAML text."""
    return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc]
