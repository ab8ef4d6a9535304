"""What every guardrail works on: resources as the engine registers them, and what a rule reports.

A :class:`Resource` is one registered resource — its type token, URN, parent URN and inputs as
plain data (the policy pack converts the engine's view, the tests convert a mock recording). A
value the engine cannot know yet during a preview is :data:`UNKNOWN`; rules decide only on
values they can see.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final


class Unknown:
    """A value not known during a preview (an Output of a resource not created yet)."""

    _instance: Unknown | None = None

    def __new__(cls) -> Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN: Final = Unknown()

#: The type of a Helm chart component; its children's URNs carry it in their type chain.
CHART_TYPES: Final = ("kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Chart")
#: Kinds whose objects carry a pod template, and where its pod spec is.
POD_SPEC_PATHS: Final[Mapping[str, tuple[str, ...]]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
CONTAINER_LISTS: Final = ("initContainers", "containers")


@dataclass(frozen=True)
class Resource:
    """One registered resource: ``type`` is the Pulumi type token (``kubernetes:apps/v1:Deployment``)."""

    urn: str
    type: str
    props: Mapping[str, Any]
    parent: str | None = None

    @property
    def kind(self) -> str:
        """The Kubernetes kind (``props.kind``, else the last part of the type token)."""
        kind = self.props.get("kind")
        return kind if isinstance(kind, str) else self.type.rsplit(":", 1)[-1]

    @property
    def is_kubernetes(self) -> bool:
        return self.type.startswith("kubernetes:") and self.type not in CHART_TYPES

    @property
    def metadata(self) -> Mapping[str, Any]:
        return mapping(self.props.get("metadata"))

    @property
    def name(self) -> str:
        name = self.metadata.get("name")
        return name if isinstance(name, str) else self.urn.rsplit("::", 1)[-1]

    @property
    def namespace(self) -> str | None:
        ns = self.metadata.get("namespace")
        return ns if isinstance(ns, str) else None

    @property
    def labels(self) -> Mapping[str, Any]:
        return mapping(self.metadata.get("labels"))

    @property
    def annotations(self) -> Mapping[str, Any]:
        return mapping(self.metadata.get("annotations"))

    @property
    def ref(self) -> str:
        """``Kind namespace/name`` (``Kind name`` when cluster-scoped): how messages name the object."""
        ns = self.namespace
        return f"{self.kind} {ns}/{self.name}" if ns else f"{self.kind} {self.name}"

    @property
    def spec(self) -> Mapping[str, Any]:
        return mapping(self.props.get("spec"))

    @property
    def chart(self) -> str | None:
        """For an object a Helm chart rendered (a child of a chart component): the chart's name from
        its ``helm.sh/chart`` label (``istiod-1.29.1`` → ``istiod``), ``""`` when unlabelled; None
        for anything the program registered itself."""
        chain = self.urn.split("::")[2].split("$") if self.urn.count("::") >= 3 else []
        if not any(t in CHART_TYPES for t in chain[:-1]):
            return None
        label = self.labels.get("helm.sh/chart")
        return label.rsplit("-", 1)[0] if isinstance(label, str) and "-" in label else ""


@dataclass(frozen=True)
class Violation:
    """What a rule found: the message, and the resource it is about (None: the stack as a whole)."""

    message: str
    urn: str | None = None


# --- plain-data helpers ----------------------------------------------------------------------------


def mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def sequence(value: object) -> Sequence[Any]:
    return value if isinstance(value, Sequence) and not isinstance(value, str | bytes) else ()


def text(value: object) -> str | None:
    """A string value (None for anything else, including :data:`UNKNOWN`)."""
    return value if isinstance(value, str) else None


def dig(value: object, *path: str | int) -> Any:
    """``value[path[0]][path[1]]…``; None where the path leaves the data."""
    for key in path:
        if isinstance(key, int):
            items = sequence(value)
            value = items[key] if -len(items) <= key < len(items) else None
        else:
            value = mapping(value).get(key)
    return value


@dataclass(frozen=True)
class Container:
    """One container of a pod spec and where it sits (``spec.template.spec.containers[0]``)."""

    path: str
    spec: Mapping[str, Any]
    pod: Mapping[str, Any]

    @property
    def name(self) -> str:
        return text(self.spec.get("name")) or "?"

    @property
    def at(self) -> str:
        """``spec.template.spec.containers[0] (name)``."""
        return f"{self.path} ({self.name})"


def pod_spec_path(res: Resource) -> tuple[str, ...] | None:
    return POD_SPEC_PATHS.get(res.kind) if res.is_kubernetes else None


def containers(res: Resource) -> Iterator[Container]:
    """Every init and app container of a workload's pod spec (nothing for other kinds)."""
    path = pod_spec_path(res)
    if path is None:
        return
    pod = mapping(dig(res.props, *path))
    for key in CONTAINER_LISTS:
        for i, container in enumerate(sequence(pod.get(key))):
            yield Container(f"{'.'.join(path)}.{key}[{i}]", mapping(container), pod)


def pod_template_metadata(res: Resource) -> Mapping[str, Any]:
    """The pod template's metadata (a Pod's own metadata)."""
    path = pod_spec_path(res)
    if path is None:
        return {}
    return res.metadata if len(path) == 1 else mapping(dig(res.props, *path[:-1], "metadata"))


# --- hosts -----------------------------------------------------------------------------------------

CLUSTER_DOMAIN: Final = "svc.cluster.local"


def qualify(host: str, namespace: str | None) -> str:
    """A host as Istio reads it in an object of ``namespace``: a short name (no dot) is that
    namespace's Service; ``name.ns.svc`` gets the cluster domain; anything else is as written."""
    if "." not in host and host != "*":
        return f"{host}.{namespace or 'default'}.{CLUSTER_DOMAIN}"
    if host.endswith(".svc"):
        return f"{host}.cluster.local"
    return host


def host_matches(pattern: str, host: str) -> bool:
    """Whether ``pattern`` (``*``, ``*.example.com`` or exact) covers ``host`` (may be a wildcard too)."""
    if pattern in ("*", host):
        return True
    if pattern.startswith("*."):
        suffix = pattern[1:]
        return host.endswith(suffix) and len(host) > len(suffix)
    return False


def service_hosts(resources: Sequence[Resource]) -> set[str]:
    """``name.namespace.svc.cluster.local`` of every Kubernetes Service the stack registers."""
    return {
        f"{r.name}.{r.namespace or 'default'}.{CLUSTER_DOMAIN}"
        for r in resources
        if r.is_kubernetes and r.kind == "Service" and r.props.get("apiVersion", "v1") == "v1"
    }


def service_entry_hosts(resources: Sequence[Resource], *, external_only: bool = False) -> set[str]:
    """Hosts of every ServiceEntry (only ``MESH_EXTERNAL`` ones with ``external_only``; unset is external)."""
    out: set[str] = set()
    for r in resources:
        if not (r.is_kubernetes and r.kind == "ServiceEntry"):
            continue
        if external_only and text(r.spec.get("location")) not in (None, "MESH_EXTERNAL"):
            continue
        out.update(h for h in sequence(r.spec.get("hosts")) if isinstance(h, str))
    return out


def quoted(value: object) -> str:
    """A value as messages show it: strings in double quotes."""
    return f'"{value}"' if isinstance(value, str) else repr(value)


#: The ConfigMap of Istio's sidecar injector (``istio-sidecar-injector[-<revision>]``).
INJECTOR_CONFIGMAP = "istio-sidecar-injector"


def injector_values(res: Resource) -> Mapping[str, Any] | None:
    """What Istio's sidecar injector gives every meshed pod: the values (``data.values``, JSON) of
    its ConfigMap; None for any other resource, or when they are not known or not JSON."""
    if not (res.is_kubernetes and res.kind == "ConfigMap" and res.name.startswith(INJECTOR_CONFIGMAP)):
        return None
    raw = text(dig(res.props, "data", "values"))
    if raw is None:
        return None
    try:
        values = json.loads(raw)
    except ValueError:
        return None
    return values if isinstance(values, Mapping) else None
