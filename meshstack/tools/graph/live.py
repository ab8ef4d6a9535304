"""What the cluster has of a graph (``meshstack graph --live``): endpoints and sidecar proxies.

:func:`read_cluster` lists, with the Kubernetes API, the pods and EndpointSlices of the namespaces
the graph's services and gateways live in; :func:`with_live` (pure) puts on each node what the
cluster has of it:

* a service: its EndpointSlices' endpoints, and how many are ready;
* a version: its pods (the service's selector and the version's labels), how many are ready, how
  many carry a sidecar proxy (an ``istio-proxy`` container, or a native sidecar init container of
  that name), how many endpoints of the service they back;
* a gateway: its pods (the Gateway's selector) and their proxies.

A version the cluster runs but the stack does not declare (pods of the service with another
``version`` label) becomes a node of its own, marked ``liveOnly``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from meshstack.tools.graph.model import Graph, Node

PROXY = "istio-proxy"


class ClusterUnreadable(RuntimeError):
    """The cluster could not be read (unreachable, refused, not authorized)."""


def _labels(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})


def _selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _ready(pod: Mapping[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def has_proxy(pod: Mapping[str, Any]) -> bool:
    """Whether the pod runs Istio's sidecar: an ``istio-proxy`` container, or the native sidecar
    (an init container of that name that keeps running)."""
    spec = pod.get("spec") or {}
    return any(c.get("name") == PROXY for c in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])])


def _pods_summary(pods: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "pods": len(pods),
        "ready": sum(1 for p in pods if _ready(p)),
        "proxies": sum(1 for p in pods if has_proxy(p)),
        "names": sorted(str((p.get("metadata") or {}).get("name")) for p in pods),
    }


def with_live(
    graph: Graph, pods: Sequence[Mapping[str, Any]], slices: Sequence[Mapping[str, Any]], cluster: str
) -> Graph:
    """``graph`` with what the cluster has of each node (pods and EndpointSlices as the API serves
    them, JSON-shaped); ``cluster`` names the cluster in the picture."""
    nodes = dict(graph.nodes)

    def pods_in(namespace: str, selector: Mapping[str, str]) -> list[Mapping[str, Any]]:
        return [
            p
            for p in pods
            if (p.get("metadata") or {}).get("namespace") == namespace and _selects(selector, _labels(p))
        ]

    for node in graph.of_kind("gateway"):
        selector = node.attrs.get("selector") or {}
        if selector:
            nodes[node.id] = replace(
                node, attrs={**node.attrs, "live": _pods_summary(pods_in(node.attrs["namespace"], selector))}
            )
    for service in graph.of_kind("service"):
        ns, selector = service.attrs["namespace"], service.attrs.get("selector") or {}
        endpoints = [
            e
            for s in slices
            if (s.get("metadata") or {}).get("namespace") == ns
            and _labels(s).get("kubernetes.io/service-name") == service.label
            for e in s.get("endpoints") or []
        ]
        backed = [str((e.get("targetRef") or {}).get("name")) for e in endpoints]
        ready = sum(1 for e in endpoints if (e.get("conditions") or {}).get("ready") is not False)
        nodes[service.id] = replace(
            service, attrs={**service.attrs, "live": {"endpoints": len(endpoints), "ready": ready}}
        )
        members = pods_in(ns, selector)
        declared = [n for n in graph.of_kind("version") if n.attrs["service"] == service.id]
        claimed: set[str] = set()
        for version in declared:
            mine = [p for p in members if _selects(version.attrs.get("labels") or {}, _labels(p))]
            claimed |= {str(p["metadata"]["name"]) for p in mine}
            summary = _pods_summary(mine)
            summary["endpoints"] = sum(1 for name in backed if name in summary["names"])
            nodes[version.id] = replace(version, attrs={**version.attrs, "live": summary})
        for label in sorted(
            {_labels(p).get("version", "") for p in members if p["metadata"]["name"] not in claimed} - {""}
        ):
            mine = [p for p in members if _labels(p).get("version") == label]
            summary = _pods_summary(mine)
            summary["endpoints"] = sum(1 for name in backed if name in summary["names"])
            version_id = f"version:{ns}/{service.label}/{label}"
            attrs = {"service": service.id, "labels": {"version": label}, "liveOnly": True, "live": summary}
            nodes[version_id] = Node(version_id, "version", label, attrs)
    return Graph(graph.stack, {**graph.mesh, "live": cluster}, nodes, list(graph.edges), list(graph.warnings)).sorted()


def read_cluster(kubeconfig: Path, namespaces: Sequence[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """The pods and EndpointSlices of ``namespaces`` (JSON-shaped, as ``kubectl get -o json``) and
    the API server's address."""
    try:
        api = config.new_client_from_config(str(kubeconfig))
    except (config.ConfigException, OSError) as err:
        raise ClusterUnreadable(f"cannot use the kubeconfig {kubeconfig}: {err}") from None
    server = str(api.configuration.host)
    core, discovery = client.CoreV1Api(api), client.DiscoveryV1Api(api)
    pods: list[dict[str, Any]] = []
    slices: list[dict[str, Any]] = []
    try:
        for ns in sorted(set(namespaces)):
            pods += api.sanitize_for_serialization(core.list_namespaced_pod(ns, _request_timeout=30).items)
            slices += api.sanitize_for_serialization(
                discovery.list_namespaced_endpoint_slice(ns, _request_timeout=30).items
            )
    except ApiException as err:
        raise ClusterUnreadable(
            f"the cluster at {server} refused to list pods and EndpointSlices: {err.status} {err.reason}"
        ) from None
    except HTTPError as err:
        raise ClusterUnreadable(f"cannot reach the cluster at {server}: {err}") from None
    finally:
        api.close()
    return pods, slices, server


def live_graph(graph: Graph, kubeconfig: Path) -> Graph:
    """``graph`` with what the cluster of ``kubeconfig`` has of it."""
    namespaces = [str(n.attrs["namespace"]) for n in graph.nodes.values() if n.kind in ("service", "gateway")]
    pods, slices, server = read_cluster(kubeconfig, namespaces)
    return with_live(graph, pods, slices, server)
