"""The mesh as a graph, read from what the stack renders — not a second reading of its config.

:func:`build` takes the objects of a recording (the manifests the stack would apply, its Helm chart
installs, its outputs, the warnings its program logged) and gives a :class:`Graph`:

nodes
    ``gateway`` (an Istio or Gateway API Gateway), ``host`` (a host a gateway serves), ``service``
    (a Service whose pods join the mesh), ``version`` (a DestinationRule subset, else a
    Deployment's ``version`` label), ``caller`` (what an authorization rule names when no workload
    of the stack answers to it: any caller, any mesh identity, a namespace, a JWT principal).
edges
    ``serves`` gateway → host (port, protocol, TLS); ``routes`` host → service (the matched
    paths, the versions the gateway sends to); ``traffic`` service → version (weight, match,
    fault, timeout, retries) and ``mirror`` service → version (percentage); ``allows`` and
    ``denies`` caller → service (the AuthorizationPolicy, its rule's operations). Every edge into
    a service or a version carries its ``mtls``: the server side's mode (the workload's, the
    namespace's or the mesh-wide PeerAuthentication, port-level included) with the client side's
    (the DestinationRule's ``tls``, else Istio's auto mTLS).

A service's rollout comes from the stack's ``rollouts`` output (phase, step, weights). The
authorization rules applied are Istio's: a workload no ALLOW policy applies to admits every caller;
with one, only what some ALLOW rule matches; an ALLOW policy without rules (the root namespace's
``allow-nothing``: the mesh's default deny) matches nothing. Callers are matched by identity: a
rule's principal (``*/sa/bookinfo-productpage``) → the ServiceAccount of a workload → its service.

Pure: plain data in, plain data out (no Pulumi, no cluster); :func:`of_recording` reads a recording.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from meshstack.tools.recording import Recording

#: The kinds of node and edge, in the order a graph lists them.
NODE_KINDS = ("gateway", "caller", "host", "service", "version")
EDGE_KINDS = ("serves", "routes", "traffic", "mirror", "allows", "denies")

Manifest = Mapping[str, Any]


@dataclass(frozen=True)
class Node:
    id: str
    kind: str
    label: str
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Edge:
    kind: str
    source: str
    target: str
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Graph:
    """Nodes by id and edges, each in a stable order (:meth:`sorted`)."""

    stack: str
    #: The mesh as a whole: environment, rootNamespace, trustDomain, mtls (mesh-wide), defaultDeny.
    mesh: dict[str, Any]
    nodes: dict[str, Node]
    edges: list[Edge]
    #: What the stack's program warned about (``pulumi.log.warn``): an app nothing may call, …
    warnings: list[str] = field(default_factory=list)

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]

    def of_kind(self, kind: str) -> list[Node]:
        return [n for n in self.nodes.values() if n.kind == kind]

    def find(self, kind: str | None = None, source: str | None = None, target: str | None = None) -> list[Edge]:
        """The edges matching every given criterion."""
        return [
            e
            for e in self.edges
            if (kind is None or e.kind == kind)
            and (source is None or e.source == source)
            and (target is None or e.target == target)
        ]

    def sorted(self) -> Graph:
        """The same graph with nodes by (kind, id) and edges by (kind, source, target, attributes)."""
        nodes = sorted(self.nodes.values(), key=lambda n: (NODE_KINDS.index(n.kind), n.id))
        edges = sorted(self.edges, key=lambda e: (EDGE_KINDS.index(e.kind), e.source, e.target, _key(e.attrs)))
        return Graph(self.stack, self.mesh, {n.id: n for n in nodes}, edges, list(self.warnings))

    def to_json(self) -> dict[str, Any]:
        """Plain JSON: ``{stack, mesh, nodes: [{id, kind, label, attrs}], edges: [{kind, source, target, attrs}], warnings}``."""
        graph = self.sorted()
        return {
            "stack": graph.stack,
            "mesh": graph.mesh,
            "nodes": [{"id": n.id, "kind": n.kind, "label": n.label, "attrs": n.attrs} for n in graph.nodes.values()],
            "edges": [{"kind": e.kind, "source": e.source, "target": e.target, "attrs": e.attrs} for e in graph.edges],
            "warnings": graph.warnings,
        }


def _key(attrs: Mapping[str, Any]) -> str:
    return repr(sorted(attrs.items(), key=lambda kv: kv[0]))


# --- reading manifests ---------------------------------------------------------------------------------


def _meta(m: Manifest) -> tuple[str, str]:
    meta = m.get("metadata") or {}
    return str(meta.get("namespace") or "default"), str(meta.get("name") or "")


def _spec(m: Manifest) -> Mapping[str, Any]:
    return m.get("spec") or {}


def _labels(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (value or {}).items()} if isinstance(value, Mapping) else {}


def _selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _percent(value: Any) -> float | int | None:
    """A percentage as Istio writes it (``{value: 50}``) or plainly, as an int when whole."""
    raw = value.get("value") if isinstance(value, Mapping) else value
    if raw is None:
        return None
    number = float(raw)
    return int(number) if number.is_integer() else number


@dataclass(frozen=True)
class _Workload:
    """A Deployment's pods: where they run, their labels and identity."""

    namespace: str
    name: str
    labels: dict[str, str]
    service_account: str
    replicas: int | None
    images: tuple[str, ...]
    opted_out: bool


def _workload(m: Manifest) -> _Workload:
    ns, name = _meta(m)
    spec = _spec(m)
    template = spec.get("template") or {}
    labels = _labels((template.get("metadata") or {}).get("labels"))
    pod = template.get("spec") or {}
    replicas = spec.get("replicas")
    images = tuple(str(c.get("image")) for c in pod.get("containers") or [] if isinstance(c.get("image"), str))
    return _Workload(
        namespace=ns,
        name=name,
        labels=labels,
        service_account=str(pod.get("serviceAccountName") or "default"),
        replicas=int(replicas) if isinstance(replicas, int | float) else None,
        images=images,
        opted_out=labels.get("sidecar.istio.io/inject") == "false",
    )


def _host_of(host: str, namespace: str) -> tuple[str, str]:
    """A route's or DestinationRule's host as ``(namespace, service)``: short names are the
    object's namespace's, ``name.ns[.svc[.cluster.local]]`` names its own."""
    parts = host.split(".")
    if len(parts) == 1:
        return namespace, host
    return parts[1], parts[0]


# --- descriptions (shown on edges) -----------------------------------------------------------------------


def _string_match(value: Any) -> str:
    if not isinstance(value, Mapping):
        return f"= {value}"
    for kind, op in (("exact", "="), ("prefix", "^="), ("regex", "~")):
        if kind in value:
            return f"{op} {value[kind]}"
    return "present"


def describe_match(match: Mapping[str, Any]) -> str:
    """One VirtualService match (its conditions hold together): ``header end-user = jason``."""
    parts: list[str] = []
    if "uri" in match:
        parts.append(f"path {_string_match(match['uri'])}")
    for name, value in sorted((match.get("headers") or {}).items()):
        parts.append(f"header {name} {_string_match(value)}")
    for name, value in sorted((match.get("queryParams") or {}).items()):
        parts.append(f"query {name} {_string_match(value)}")
    if "method" in match:
        parts.append(f"method {_string_match(match['method'])}")
    for name in sorted(match.get("withoutHeaders") or {}):
        parts.append(f"without header {name}")
    if match.get("sourceLabels"):
        parts.append("from " + ",".join(f"{k}={v}" for k, v in sorted(match["sourceLabels"].items())))
    if "port" in match:
        parts.append(f"port {match['port']}")
    return " & ".join(parts) or "any request"


_GATEWAY_API_OPS = {"Exact": "=", "PathPrefix": "^=", "RegularExpression": "~"}


def describe_gateway_api_match(match: Mapping[str, Any]) -> str:
    """One HTTPRoute match: ``path ^= /static``, ``header end-user = jason``."""
    parts: list[str] = []
    if "path" in match:
        path = match["path"]
        parts.append(f"path {_GATEWAY_API_OPS.get(path.get('type', 'PathPrefix'), '^=')} {path.get('value')}")
    for kind in ("headers", "queryParams"):
        for entry in sorted(match.get(kind) or [], key=lambda h: str(h.get("name"))):
            op = _GATEWAY_API_OPS.get(entry.get("type", "Exact"), "=")
            parts.append(f"{'header' if kind == 'headers' else 'query'} {entry.get('name')} {op} {entry.get('value')}")
    if "method" in match:
        parts.append(f"method = {match['method']}")
    return " & ".join(parts) or "any request"


def _fault(fault: Mapping[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if delay := fault.get("delay"):
        out.append({"type": "delay", "delay": delay.get("fixedDelay"), "percent": _percent(delay.get("percentage"))})
    if abort := fault.get("abort"):
        out.append({"type": "abort", "status": abort.get("httpStatus"), "percent": _percent(abort.get("percentage"))})
    return out


# --- mTLS ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PeerAuthentication:
    namespace: str
    name: str
    selector: dict[str, str]
    mode: str | None
    ports: dict[str, str]


def _mode_of(pa: _PeerAuthentication, port: int | None) -> str | None:
    """The policy's mode on ``port`` (a port's UNSET inherits the policy's; the policy's UNSET: None)."""
    mode = pa.ports.get(str(port)) if port is not None else None
    if mode in (None, "UNSET"):
        mode = pa.mode
    return None if mode in (None, "UNSET") else mode


def _server_mtls(
    workload: _Workload, port: int | None, pas: Sequence[_PeerAuthentication], root: str
) -> tuple[str, str]:
    """The mode the workload's sidecar accepts on ``port`` and the PeerAuthentication that says so:
    the workload's own, else its namespace's, else the mesh-wide one (Istio's default: PERMISSIVE)."""
    levels = [
        [p for p in pas if p.namespace == workload.namespace and _selects(p.selector, workload.labels)],
        [p for p in pas if p.namespace == workload.namespace and not p.selector],
        [p for p in pas if p.namespace == root and not p.selector],
    ]
    for level in levels:
        for pa in level:
            if (mode := _mode_of(pa, port)) is not None:
                return mode, f"PeerAuthentication {pa.namespace}/{pa.name}"
    return "PERMISSIVE", "Istio's default"


def mtls_of(server: str, server_source: str, client: str) -> dict[str, Any]:
    """An edge's mTLS: what the server accepts and what the client (its DestinationRule) sends."""
    sends_mtls = client in ("ISTIO_MUTUAL", "auto")
    if server == "DISABLE":
        summary, encrypted = ("plaintext" if client != "ISTIO_MUTUAL" else "refused: server DISABLE"), False
    elif server == "STRICT":
        summary, encrypted = ("mTLS STRICT", True) if sends_mtls else (f"refused: STRICT vs client {client}", False)
    else:  # PERMISSIVE: the sidecar takes both
        summary, encrypted = ("mTLS (PERMISSIVE)", True) if sends_mtls else ("plaintext", False)
    return {"mode": server, "by": server_source, "client": client, "encrypted": encrypted, "summary": summary}


# --- authorization ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Policy:
    namespace: str
    name: str
    selector: dict[str, str] | None
    action: str
    rules: list[Mapping[str, Any]]

    def applies_to(self, workload: _Workload, root: str) -> bool:
        if self.namespace not in (root, workload.namespace):
            return False
        return self.selector is None or _selects(self.selector, workload.labels)

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


def principal_matches(pattern: str, principal: str) -> bool:
    """Istio's string match of a principal: exact, ``*``, ``prefix*`` or ``*suffix``."""
    if pattern == "*":
        return True
    if pattern.startswith("*"):
        return principal.endswith(pattern[1:])
    if pattern.endswith("*"):
        return principal.startswith(pattern[:-1])
    return pattern == principal


def _operations(rule: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, list[str]] = {}
    for entry in rule.get("to") or []:
        for key, values in (entry.get("operation") or {}).items():
            out.setdefault(key, []).extend(str(v) for v in values)
    return {k: sorted(set(v)) for k, v in sorted(out.items())}


def _describe_source(source: Mapping[str, Any] | None) -> str:
    if not source:
        return "any caller"
    return "; ".join(f"{key} {', '.join(map(str, values))}" for key, values in sorted(source.items()))


# --- the builder ------------------------------------------------------------------------------------------


class _Builder:
    def __init__(self, manifests: Sequence[Manifest], charts: Sequence[Mapping[str, Any]]) -> None:
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        self.by_kind: dict[str, list[Manifest]] = {}
        for m in manifests:
            self.by_kind.setdefault(str(m.get("kind")), []).append(m)
        istiod = next((c for c in charts if c.get("chart") == "istiod"), None)
        mesh_config = ((istiod or {}).get("values") or {}).get("meshConfig") or {}
        self.root = str(mesh_config.get("rootNamespace") or (istiod or {}).get("namespace") or "istio-system")
        self.trust_domain = str(mesh_config.get("trustDomain") or "cluster.local")
        self.gateway_charts = [c for c in charts if c.get("chart") == "gateway"]
        self.namespaces = {_meta(m)[1]: _labels((m.get("metadata") or {}).get("labels")) for m in self.of("Namespace")}
        self.pas = [
            _PeerAuthentication(
                *_meta(m),
                selector=_labels((_spec(m).get("selector") or {}).get("matchLabels")),
                mode=(_spec(m).get("mtls") or {}).get("mode"),
                ports={str(p): str((v or {}).get("mode")) for p, v in (_spec(m).get("portLevelMtls") or {}).items()},
            )
            for m in self.of("PeerAuthentication")
        ]
        self.policies = [
            _Policy(
                *_meta(m),
                selector=_labels((_spec(m).get("selector") or {}).get("matchLabels")) or None,
                action=str(_spec(m).get("action") or "ALLOW"),
                rules=list(_spec(m).get("rules") or []),
            )
            for m in self.of("AuthorizationPolicy")
        ]
        #: Service node id → its workloads; version node id → its workloads.
        self.service_workloads: dict[str, list[_Workload]] = {}
        self.version_workloads: dict[str, list[_Workload]] = {}
        #: Gateway API per-version Services: (namespace, name) → version node id.
        self.version_services: dict[tuple[str, str], str] = {}
        #: Identity (SPIFFE principal) → the node of the workload that has it.
        self.identities: dict[str, str] = {}
        #: DestinationRule client TLS by (namespace, service) and by version node id.
        self.client_tls: dict[tuple[str, str], str] = {}
        self.subset_tls: dict[str, str] = {}

    def of(self, *kinds: str) -> list[Manifest]:
        return sorted((m for k in kinds for m in self.by_kind.get(k, [])), key=_meta)

    def add(self, node: Node) -> str:
        self.nodes.setdefault(node.id, node)
        return node.id

    def identity(self, namespace: str, service_account: str) -> str:
        return f"{self.trust_domain}/ns/{namespace}/sa/{service_account}"

    # --- gateways -----------------------------------------------------------------------------------

    def gateways(self) -> None:
        #: The gateway chart installs: (namespace, name, pod labels, ServiceAccount), as the chart names them.
        deployed: list[tuple[str, str, dict[str, str], str]] = []
        for chart in self.gateway_charts:
            values = chart.get("values") or {}
            name = str(values.get("name") or chart.get("release"))
            extra = _labels(values.get("labels"))
            labels = {**extra, "app": extra.get("app", name), "istio": extra.get("istio", name.removeprefix("istio-"))}
            account = str((values.get("serviceAccount") or {}).get("name") or name)
            deployed.append((str(chart.get("namespace")), name, labels, account))
        for m in self.of("Gateway"):
            ns, name = _meta(m)
            spec = _spec(m)
            node_id = f"gateway:{ns}/{name}"
            if str(m.get("apiVersion", "")).startswith("gateway.networking.k8s.io"):
                listeners = [
                    {
                        "port": li.get("port"),
                        "protocol": li.get("protocol"),
                        "hosts": [li.get("hostname") or "*"],
                        "tls": (li.get("tls") or {}).get("mode"),
                    }
                    for li in spec.get("listeners") or []
                ]
                identity = self.identity(ns, f"{name}-istio")  # Istio deploys <name>-istio for class istio
                attrs: dict[str, Any] = {
                    "api": "gatewayApi",
                    "namespace": ns,
                    "servers": listeners,
                    "identity": identity,
                }
            else:
                selector = _labels(spec.get("selector"))
                pods = next((d for d in deployed if d[0] == ns and _selects(selector, d[2])), None)
                pods = pods or next((d for d in deployed if _selects(selector, d[2])), None)
                servers = [
                    {
                        "port": (s.get("port") or {}).get("number"),
                        "protocol": (s.get("port") or {}).get("protocol"),
                        "hosts": [h.split("/", 1)[-1] for h in s.get("hosts") or []],
                        "tls": (s.get("tls") or {}).get("mode"),
                    }
                    for s in spec.get("servers") or []
                ]
                attrs = {"api": "istio", "namespace": ns, "selector": selector, "servers": servers}
                if pods is not None:
                    attrs["deployment"] = pods[1]
                    attrs["identity"] = self.identity(pods[0], pods[3])
            self.add(Node(node_id, "gateway", name, attrs))
            if "identity" in attrs:
                self.identities.setdefault(attrs["identity"], node_id)
            for server in attrs["servers"]:
                for host in server["hosts"]:
                    self.serve(node_id, host)

    def serve(self, gateway_id: str, host: str) -> str:
        """The host node of ``host`` on a gateway, with an edge from each server that serves it."""
        gateway = self.nodes[gateway_id]
        host_id = f"host:{gateway_id.removeprefix('gateway:')}/{host}"
        if host_id in self.nodes:
            return host_id
        self.add(Node(host_id, "host", host, {"gateway": gateway_id, "host": host}))
        for server in gateway.attrs["servers"]:
            if any(_host_matches(h, host) for h in server["hosts"]):
                attrs = {"port": server["port"], "protocol": server["protocol"]}
                if server.get("tls"):
                    attrs["tls"] = server["tls"]
                self.edges.append(Edge("serves", gateway_id, host_id, attrs))
        return host_id

    # --- services and versions ---------------------------------------------------------------------------

    def meshed(self, workload: _Workload) -> bool:
        labels = self.namespaces.get(workload.namespace)
        if workload.opted_out:
            return False
        if labels is None:  # a namespace the stack does not create: the routes it gets say it is meshed
            return True
        return labels.get("istio-injection") == "enabled" or "istio.io/rev" in labels

    def services(self) -> None:
        workloads = [_workload(m) for m in self.of("Deployment")]
        services = self.of("Service")
        selectors = {_meta(m): _labels(_spec(m).get("selector")) for m in services}
        for m in services:
            ns, name = _meta(m)
            selector = selectors[(ns, name)]
            if "version" in selector:
                base = {k: v for k, v in selector.items() if k != "version"}
                owner = next((key for key, sel in sorted(selectors.items()) if key[0] == ns and sel == base), None)
                if owner is not None:  # a Gateway API per-version Service: a version, not a service
                    self.version_services[(ns, name)] = f"version:{ns}/{owner[1]}/{selector['version']}"
                    continue
            pods = [w for w in workloads if w.namespace == ns and _selects(selector, w.labels) and self.meshed(w)]
            if not pods:
                continue
            node_id = f"service:{ns}/{name}"
            ports = [
                {
                    "name": p.get("name"),
                    "port": p.get("port"),
                    "targetPort": p.get("targetPort", p.get("port")),
                    **({"appProtocol": p["appProtocol"]} if p.get("appProtocol") else {}),
                }
                for p in _spec(m).get("ports") or []
            ]
            accounts = sorted({w.service_account for w in pods})
            self.add(
                Node(
                    node_id,
                    "service",
                    name,
                    {
                        "namespace": ns,
                        "selector": selector,
                        "ports": ports,
                        "serviceAccounts": accounts,
                        "identities": [self.identity(ns, a) for a in accounts],
                    },
                )
            )
            self.service_workloads[node_id] = pods
            for account in accounts:
                self.identities.setdefault(self.identity(ns, account), node_id)

    def versions(self) -> None:
        rules: dict[tuple[str, str], Manifest] = {}
        for m in self.of("DestinationRule"):
            ns, _ = _meta(m)
            spec = _spec(m)
            key = _host_of(str(spec.get("host", "")), ns)
            rules.setdefault(key, m)
            if tls := ((spec.get("trafficPolicy") or {}).get("tls") or {}).get("mode"):
                self.client_tls.setdefault(key, str(tls))
        for service_id, pods in sorted(self.service_workloads.items()):
            service = self.nodes[service_id]
            ns, name = service.attrs["namespace"], service.label
            dr = rules.get((ns, name))
            subsets = list(((dr or {}).get("spec") or {}).get("subsets") or [])
            if subsets:
                found = [
                    (
                        str(x["name"]),
                        _labels(x.get("labels")),
                        x,
                        [w for w in pods if _selects(_labels(x.get("labels")), w.labels)],
                    )
                    for x in subsets
                ]
            else:
                names = sorted({w.labels.get("version") or w.name for w in pods})
                found = [(v, {}, {}, [w for w in pods if (w.labels.get("version") or w.name) == v]) for v in names]
            for version, labels, subset, members in found:
                version_id = f"version:{ns}/{name}/{version}"
                replicas = [w.replicas for w in members if w.replicas is not None]
                attrs: dict[str, Any] = {
                    "service": service_id,
                    "labels": labels or {"version": version},
                    "deployments": sorted(w.name for w in members),
                    "replicas": sum(replicas) if replicas else None,
                    "images": sorted({i for w in members for i in w.images}),
                }
                self.add(Node(version_id, "version", version, attrs))
                self.version_workloads[version_id] = members
                if tls := ((subset.get("trafficPolicy") or {}).get("tls") or {}).get("mode"):
                    self.subset_tls[version_id] = str(tls)
            service.attrs["versions"] = [v for v, _, _, _ in found]

    def versions_of(self, service_id: str) -> list[str]:
        return sorted(
            n for n, node in self.nodes.items() if node.kind == "version" and node.attrs["service"] == service_id
        )

    # --- mTLS ----------------------------------------------------------------------------------------------

    def port_of(self, service_id: str) -> int | None:
        ports = self.nodes[service_id].attrs["ports"]
        target = ports[0].get("targetPort") if ports else None
        return int(target) if isinstance(target, int | float) else None

    def version_mtls(self, version_id: str) -> dict[str, Any]:
        node = self.nodes[version_id]
        service_id = node.attrs["service"]
        service = self.nodes[service_id]
        members = self.version_workloads.get(version_id) or self.service_workloads[service_id]
        server, source = _server_mtls(members[0], self.port_of(service_id), self.pas, self.root)
        client = self.subset_tls.get(version_id) or self.client_tls.get((service.attrs["namespace"], service.label))
        return mtls_of(server, source, client or "auto")

    def service_mtls(self, service_id: str) -> dict[str, Any]:
        """The service's mTLS when its versions agree (else the first version's, ``mixed`` set)."""
        modes = [self.version_mtls(v) for v in self.versions_of(service_id)]
        if not modes:
            return mtls_of("PERMISSIVE", "Istio's default", "auto")
        first = dict(modes[0])
        if any(m != modes[0] for m in modes[1:]):
            first["mixed"] = True
        return first

    # --- routes ---------------------------------------------------------------------------------------------

    def service_id(self, host: str, namespace: str) -> str | None:
        ns, name = _host_of(host, namespace)
        node_id = f"service:{ns}/{name}"
        return node_id if node_id in self.nodes else None

    def traffic(self, service_id: str, targets: list[tuple[str, int | None]], attrs: dict[str, Any]) -> None:
        balanced = len(targets) > 1 and all(w is None for _, w in targets)
        for version_id, weight in targets:
            edge = {**attrs, "weight": 100 if weight is None and len(targets) == 1 else weight}
            if balanced:
                edge["balanced"] = True
            edge["mtls"] = self.version_mtls(version_id)
            self.edges.append(Edge("traffic", service_id, version_id, edge))

    def mirror(self, service_id: str, version_id: str, route: str, rule: int, percent: Any) -> None:
        attrs = {"route": route, "rule": rule, "percent": percent, "mtls": self.version_mtls(version_id)}
        self.edges.append(Edge("mirror", service_id, version_id, attrs))

    def destinations(self, route: Sequence[Mapping[str, Any]], namespace: str) -> list[tuple[str, int | None]]:
        """An Istio route's destinations as (version node, weight); a destination without subset
        spreads over every version of its service."""
        out: list[tuple[str, int | None]] = []
        for entry in route:
            dest = entry.get("destination") or {}
            service_id = self.service_id(str(dest.get("host", "")), namespace)
            if service_id is None:
                continue
            if subset := dest.get("subset"):
                version_id = f"{service_id.replace('service:', 'version:', 1)}/{subset}"
                if version_id in self.nodes:
                    out.append((version_id, _int(entry.get("weight"))))
            else:
                out += [(v, None) for v in self.versions_of(service_id)]
        return out

    def istio_routes(self) -> set[str]:
        """Traffic and ingress edges of the VirtualServices; returns the services with a mesh route."""
        routed: set[str] = set()
        for m in self.of("VirtualService"):
            ns, name = _meta(m)
            spec = _spec(m)
            gateways = [str(g) for g in spec.get("gateways") or []]
            mesh = not gateways or "mesh" in gateways
            hosts = [str(h) for h in spec.get("hosts") or []]
            for i, http in enumerate(spec.get("http") or []):
                matches = [describe_match(x) for x in http.get("match") or []]
                targets = self.destinations(http.get("route") or [], ns)
                if mesh:
                    for host in hosts:
                        if (service_id := self.service_id(host, ns)) is None:
                            continue
                        routed.add(service_id)
                        attrs: dict[str, Any] = {"route": f"{ns}/{name}", "rule": i}
                        if http.get("name"):
                            attrs["name"] = http["name"]
                        if matches:
                            attrs["match"] = matches
                        if fault := _fault(http.get("fault") or {}):
                            attrs["fault"] = fault
                        if http.get("timeout"):
                            attrs["timeout"] = http["timeout"]
                        if retries := http.get("retries"):
                            attrs["retries"] = dict(retries)
                        self.traffic(service_id, targets, attrs)
                        if mirror := http.get("mirror"):
                            [(version_id, _)] = self.destinations([{"destination": mirror}], ns) or [("", None)]
                            if version_id in self.nodes:
                                percent = _percent(http.get("mirrorPercentage")) or 100
                                self.mirror(service_id, version_id, f"{ns}/{name}", i, percent)
                for gateway in (g for g in gateways if g != "mesh"):
                    gw_ns, gw_name = gateway.split("/", 1) if "/" in gateway else (ns, gateway)
                    gateway_id = f"gateway:{gw_ns}/{gw_name}"
                    if gateway_id in self.nodes:
                        self.ingress(gateway_id, hosts, matches, targets, f"{ns}/{name}", i)
        return routed

    def ingress(
        self,
        gateway_id: str,
        hosts: list[str],
        matches: list[str],
        targets: list[tuple[str, int | None]],
        route: str,
        rule: int,
    ) -> None:
        by_service: dict[str, list[dict[str, Any]]] = {}
        for version_id, weight in targets:
            service_id = self.nodes[version_id].attrs["service"] if version_id in self.nodes else None
            if service_id is not None:
                share = 100 if weight is None and len(targets) == 1 else weight
                by_service.setdefault(service_id, []).append({"version": self.nodes[version_id].label, "weight": share})
        for host in hosts:
            host_id = self.serve(gateway_id, host)
            for service_id, to in sorted(by_service.items()):
                attrs = {
                    "route": route,
                    "rule": rule,
                    "match": matches or ["any request"],
                    "to": to,
                    "mtls": self.service_mtls(service_id),
                }
                self.edges.append(Edge("routes", host_id, service_id, attrs))

    def gateway_api_routes(self) -> set[str]:
        """Traffic and ingress edges of the HTTPRoutes; returns the services with a mesh route."""
        routed: set[str] = set()
        for m in self.of("HTTPRoute"):
            ns, name = _meta(m)
            spec = _spec(m)
            for i, rule in enumerate(spec.get("rules") or []):
                matches = [describe_gateway_api_match(x) for x in rule.get("matches") or []]
                refs = list(rule.get("backendRefs") or [])
                total = sum(int(r.get("weight", 1)) for r in refs) or 1
                targets: list[tuple[str, int | None]] = []
                for ref in refs:
                    key = (str(ref.get("namespace") or ns), str(ref.get("name")))
                    share = round(100 * int(ref.get("weight", 1)) / total) if len(refs) > 1 else None
                    if key in self.version_services:
                        targets.append((self.version_services[key], share))
                    elif (service_id := self.service_id(key[1], key[0])) is not None:
                        targets += [(v, None) for v in self.versions_of(service_id)]
                for parent in spec.get("parentRefs") or []:
                    parent_ns = str(parent.get("namespace") or ns)
                    if parent.get("kind") == "Service":
                        service_id = self.service_id(str(parent.get("name")), parent_ns)
                        if service_id is None:
                            continue
                        routed.add(service_id)
                        attrs: dict[str, Any] = {"route": f"{ns}/{name}", "rule": i}
                        if matches:
                            attrs["match"] = matches
                        if timeout := (rule.get("timeouts") or {}).get("request"):
                            attrs["timeout"] = timeout
                        self.traffic(service_id, targets, attrs)
                        for f in rule.get("filters") or []:
                            mirror = (f.get("requestMirror") or {}).get("backendRef") or {}
                            version_id = self.version_services.get(
                                (str(mirror.get("namespace") or ns), str(mirror.get("name")))
                            )
                            if version_id is not None:
                                percent = (f.get("requestMirror") or {}).get("percent", 100)
                                self.mirror(service_id, version_id, f"{ns}/{name}", i, percent)
                    elif parent.get("kind", "Gateway") == "Gateway":
                        gateway_id = f"gateway:{parent_ns}/{parent.get('name')}"
                        if gateway_id in self.nodes:
                            hosts = [str(h) for h in spec.get("hostnames") or []] or ["*"]
                            self.ingress(gateway_id, hosts, matches, targets, f"{ns}/{name}", i)
        return routed

    def unrouted(self, routed: set[str]) -> None:
        """A service without a mesh route: Kubernetes spreads its traffic over every version."""
        for service_id in sorted(set(self.service_workloads) - routed):
            self.traffic(service_id, [(v, None) for v in self.versions_of(service_id)], {"route": None})

    # --- authorization ---------------------------------------------------------------------------------------

    def callers(self, source: Mapping[str, Any] | None) -> list[str]:
        """The nodes a rule's ``from.source`` admits: the workloads whose identity matches its
        principals, else a caller node for what it names (namespaces, JWT principals, negations)."""
        if not source:
            return [self.add(Node("caller:any", "caller", "any caller", {"means": "no source condition"}))]
        if principals := source.get("principals"):
            out: list[str] = []
            for pattern in map(str, principals):
                if pattern == "*":
                    out.append(self.add(Node("caller:any-identity", "caller", "any mesh identity", {"principal": "*"})))
                    continue
                found = sorted({n for p, n in self.identities.items() if principal_matches(pattern, p)})
                out += found or [
                    self.add(Node(f"caller:principal:{pattern}", "caller", pattern, {"principal": pattern}))
                ]
            return sorted(set(out))
        if namespaces := source.get("namespaces"):
            return sorted(
                self.add(Node(f"caller:namespace:{ns}", "caller", f"namespace {ns}", {"namespace": str(ns)}))
                for ns in namespaces
            )
        if request_principals := source.get("requestPrincipals"):
            return sorted(
                self.add(Node(f"caller:jwt:{p}", "caller", f"JWT {p}", {"requestPrincipal": str(p)}))
                for p in request_principals
            )
        if list(source.get("notRequestPrincipals") or []) == ["*"] and len(source) == 1:
            return [self.add(Node("caller:no-jwt", "caller", "requests without a JWT", {"source": dict(source)}))]
        text = _describe_source(source)
        return [self.add(Node(f"caller:{text}", "caller", text, {"source": dict(source)}))]

    def authorization(self) -> None:
        for service_id, pods in sorted(self.service_workloads.items()):
            applying = [p for p in self.policies if any(p.applies_to(w, self.root) for w in pods)]
            allow = [p for p in applying if p.action == "ALLOW"]
            mtls = self.service_mtls(service_id)
            service = self.nodes[service_id]
            service.attrs["mtls"] = mtls
            if not allow:
                service.attrs["authorization"] = "open"
                self.edges.append(
                    Edge(
                        "allows",
                        self.callers(None)[0],
                        service_id,
                        {"policy": None, "source": "no ALLOW policy applies", "mtls": mtls},
                    )
                )
            else:
                service.attrs["authorization"] = "restricted" if any(p.rules for p in allow) else "deny-all"
            service.attrs["policies"] = [f"{p.action} {p.ref}" for p in applying]
            for policy in (p for p in applying if p.action in ("ALLOW", "DENY")):
                kind = "allows" if policy.action == "ALLOW" else "denies"
                for i, rule in enumerate(policy.rules):
                    sources = [s.get("source") for s in rule.get("from") or []] or [None]
                    for source in sources:
                        for caller in self.callers(source):
                            attrs = {
                                "policy": policy.ref,
                                "rule": i,
                                "source": _describe_source(source),
                                **_operations(rule),
                                "mtls": mtls,
                            }
                            self.edges.append(Edge(kind, caller, service_id, attrs))

    def default_deny(self) -> bool:
        return any(
            p.namespace == self.root and p.selector is None and p.action == "ALLOW" and not p.rules
            for p in self.policies
        )

    def mesh_mtls(self) -> str:
        for pa in self.pas:
            if pa.namespace == self.root and not pa.selector and pa.mode not in (None, "UNSET"):
                return str(pa.mode)
        return "PERMISSIVE"

    # --- rollouts ---------------------------------------------------------------------------------------------

    def rollouts(self, recorded: Any) -> None:
        if not isinstance(recorded, Mapping):
            return
        for app, entry in sorted(recorded.items()):
            service_id = next((n for n in sorted(self.service_workloads) if self.nodes[n].label == app), None)
            if service_id is None or not isinstance(entry, Mapping):
                continue
            state = entry.get("state") or {}
            self.nodes[service_id].attrs["rollout"] = {
                "stable": entry.get("stable"),
                "canary": entry.get("canary"),
                "plan": list(entry.get("plan") or []),
                "at": entry.get("at"),
                "phase": state.get("phase", "idle"),
                "step": state.get("step", -1),
                "weights": dict(entry.get("weights") or {}),
            }


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def _host_matches(server_host: str, host: str) -> bool:
    """Whether a gateway server's host covers ``host``: ``*``, the same host, or a ``*.suffix`` of it."""
    if server_host in ("*", host):
        return True
    return server_host.startswith("*.") and host.endswith(server_host[1:])


def build(
    stack: str,
    manifests: Iterable[Manifest],
    charts: Iterable[Mapping[str, Any]] = (),
    outputs: Mapping[str, Any] | None = None,
    warnings: Sequence[str] = (),
) -> Graph:
    """The graph of what a stack renders (manifests as applied; charts as ``meshstack render``'s
    charts.yaml has them: ``chart``, ``release``, ``namespace``, ``values``)."""
    outputs = outputs or {}
    b = _Builder(list(manifests), list(charts))
    b.gateways()
    b.services()
    b.versions()
    b.unrouted(b.istio_routes() | b.gateway_api_routes())
    b.authorization()
    b.rollouts(outputs.get("rollouts"))
    mesh = {
        "environment": outputs.get("environment"),
        "rootNamespace": b.root,
        "trustDomain": b.trust_domain,
        "mtls": b.mesh_mtls(),
        "defaultDeny": b.default_deny(),
    }
    return Graph(stack, mesh, b.nodes, b.edges, list(warnings)).sorted()


def of_recording(rec: Recording) -> Graph:
    """The graph of a recorded program run (``meshstack render``'s evaluation)."""
    from meshstack.tools.render import chart_of, manifest_of  # noqa: PLC0415 - keeps this module free of Pulumi

    return build(
        rec.stack,
        [manifest_of(r) for r in rec.kubernetes_objects],
        [chart_of(r) for r in rec.helm_charts],
        rec.outputs,
        rec.warnings,
    )
