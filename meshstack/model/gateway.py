"""Ingress and egress gateways (the ``meshstack:gateways`` section).

Each gateway is a deployment (Istio's ``gateway`` chart, or Gateway API auto-deployment for the
ingress when ``api: gatewayApi``) plus the object routes attach to: an Istio ``Gateway`` (servers
with hosts, ports, TLS) or a Gateway API ``Gateway`` (listeners, gatewayClassName istio).

:func:`gateway_problems` rejects, before apply, an Istio Gateway whose selector matches no gateway
deployment's labels or whose server port is not a port of the selected gateway's Service — the
Bookinfo trap (a Gateway on 8080 selecting ``istio: ingressgateway`` against a chart installing
``80→80`` under another release name; istioctl analyze IST0162).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from meshstack.errors import allowing, fail, fail_all
from meshstack.model.base import LabelKey, LabelValue, Model, Name, Port, PositiveInt
from meshstack.model.hosts import GatewayHost
from meshstack.model.resources import Resources
from meshstack.model.tls import SERVER_TLS_MODES, TlsMode, allowed
from meshstack.versions import GATEWAY_API_CRDS_URL


class GatewayApi(StrEnum):
    """Which API the ingress is described with. ``istio``: the gateway chart + an Istio Gateway
    (VirtualServices bind to it). ``gatewayApi``: a Kubernetes Gateway API Gateway
    (gatewayClassName istio; Istio deploys the proxy itself; HTTPRoutes attach to it) and the
    pinned Gateway API CRDs."""

    ISTIO = "istio"
    GATEWAY_API = "gatewayApi"


class ServiceType(StrEnum):
    LOAD_BALANCER = "LoadBalancer"
    NODE_PORT = "NodePort"
    CLUSTER_IP = "ClusterIP"


class ServerProtocol(StrEnum):
    """A server's protocol. HTTPS and TLS need ``tls``."""

    HTTP = "HTTP"
    HTTPS = "HTTPS"
    HTTP2 = "HTTP2"
    GRPC = "GRPC"
    TCP = "TCP"
    TLS = "TLS"


class GatewayPort(Model):
    """A port of the gateway's Service."""

    name: str = Field(
        pattern=r"^(http|http2|https|grpc|tcp|tls|status)(-[a-z0-9-]+)?$",
        json_schema_extra=allowing("a port name with a protocol prefix (http2, https, tcp-db, status-port …)"),
    )
    port: Port
    target_port: Port | None = Field(None, description="The container port. Unset: the same as port.")


class ServerTls(Model):
    """TLS of a server / listener."""

    mode: TlsMode = Field(TlsMode.SIMPLE, strict=False, description="How TLS is handled.")
    credential_name: str | None = Field(
        None,
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
        description="Required for SIMPLE and MUTUAL.",
        json_schema_extra=allowing("the name of a kubernetes.io/tls Secret in the gateway's namespace"),
    )

    @model_validator(mode="after")
    def _credential(self) -> ServerTls:
        if self.mode not in SERVER_TLS_MODES:
            raise fail(f"{self.mode.value} is not a gateway-server mode; allowed: {allowed(SERVER_TLS_MODES)}", "mode")
        if self.mode in (TlsMode.SIMPLE, TlsMode.MUTUAL) and not self.credential_name:
            raise fail(
                f"{self.mode.value} TLS terminates at the gateway and needs a certificate Secret", "credentialName"
            )
        return self


class Server(Model):
    """A server of an Istio Gateway (a listener of a Gateway API Gateway)."""

    port: Port = Field(description="The gateway Service port this server listens on.")
    protocol: ServerProtocol = Field(ServerProtocol.HTTP, strict=False, description="ServerProtocol on this port.")
    name: str | None = Field(
        None, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", description="Unset: <protocol>-<port>, lowercased."
    )
    hosts: list[GatewayHost] = Field(
        default_factory=lambda: ["*"], min_length=1, description="Hosts served ('*' = any; 'ns/host' scoped)."
    )
    tls: ServerTls | None = Field(None, description="TLS settings. Required for HTTPS and TLS servers.")

    @model_validator(mode="after")
    def _tls(self) -> Server:
        if self.protocol in (ServerProtocol.HTTPS, ServerProtocol.TLS) and self.tls is None:
            raise fail(f"a {self.protocol.value} server needs tls (mode and credentialName)", "tls")
        if self.protocol in (ServerProtocol.HTTP, ServerProtocol.HTTP2, ServerProtocol.GRPC) and self.tls is not None:
            raise fail(f"a {self.protocol.value} server is plaintext; use protocol HTTPS (or TLS) for tls", "tls")
        return self

    @property
    def listener_name(self) -> str:
        return self.name or f"{self.protocol.value.lower()}-{self.port}"


class GatewayDeployment(Model):
    """A gateway: the proxy deployment, its Service and the Gateway object routes attach to."""

    enabled: bool = Field(True, description="Install this gateway. Unset: the profile decides.")
    namespace: Name = Field("istio-ingress", description="Namespace of the deployment and its Gateway.")
    release_name: Name = Field(
        "istio-ingressgateway",
        description="The gateway chart release; pods get app=<it> and istio=<it without istio- prefix>.",
    )
    labels: dict[LabelKey, LabelValue] = Field(
        default_factory=dict, description="Extra pod labels (selectable by Gateways)."
    )
    service_type: ServiceType = Field(ServiceType.LOAD_BALANCER, strict=False, description="The gateway Service type.")
    ports: list[GatewayPort] = Field(
        default_factory=lambda: [
            GatewayPort(name="status-port", port=15021),
            GatewayPort(name="http2", port=80),
            GatewayPort(name="https", port=443),
        ],
        min_length=1,
        description="The gateway Service ports (the chart's defaults: 15021 status, 80, 443).",
    )
    replicas: PositiveInt = Field(1, description="Replicas; the HPA minimum when autoscaleMax is set.")
    autoscale_max: PositiveInt | None = Field(None, description="HPA maximum. Unset: no HPA.")
    pdb_min_available: int | None = Field(None, ge=1, description="PodDisruptionBudget minAvailable. Unset: no PDB.")
    resources: Resources | None = Field(None, description="Gateway pod resources. Unset: the profile's.")
    revision: Name | None = Field(
        None, description="The revision or tag injecting the gateway pods. Unset: mesh.workloadRevision / default."
    )
    gateway_name: Name = Field("ingress", description="Name of the Gateway object routes attach to.")
    selector: dict[LabelKey, LabelValue] | None = Field(
        None, description="The Istio Gateway's workload selector. Unset: istio=<this deployment's istio label>."
    )
    servers: list[Server] = Field(
        default_factory=lambda: [Server(port=80)],
        description="Servers of the Gateway object. Empty: no Gateway object, only the deployment.",
    )

    @model_validator(mode="after")
    def _sizing(self) -> GatewayDeployment:
        problems: list[tuple[str, str]] = []
        numbers = [p.port for p in self.ports]
        for i, port in enumerate(self.ports):
            if numbers.index(port.port) != i:
                problems.append((f"ports[{i}].port", f"port {port.port} is listed twice"))
        problems += server_problems(self.servers)
        if err := fail_all(problems):
            raise err
        return self

    def sizing_problems(self) -> list[tuple[str, str]]:
        """HPA and PDB against the replica count (checked on the complete spec: an environment may set them)."""
        problems: list[tuple[str, str]] = []
        if self.autoscale_max is not None and self.autoscale_max < self.replicas:
            problems.append(("autoscaleMax", f"must be >= replicas ({self.replicas})"))
        if self.pdb_min_available is not None and self.pdb_min_available >= self.replicas:
            problems.append(("pdbMinAvailable", f"must be < replicas ({self.replicas}) or node drains hang"))
        return problems

    @property
    def serves_routes(self) -> bool:
        """Whether apps can attach routes to it: it is installed and has servers (a Gateway object)."""
        return self.enabled and bool(self.servers)

    @property
    def pod_labels(self) -> dict[str, str]:
        """The labels the gateway chart puts on the pods (and Service selector)."""
        return {"app": self.release_name, "istio": self.release_name.removeprefix("istio-"), **self.labels}

    @property
    def gateway_selector(self) -> dict[str, str]:
        return self.selector if self.selector is not None else {"istio": self.pod_labels["istio"]}

    @property
    def service_ports(self) -> list[int]:
        return [p.port for p in self.ports]


def _egress_ports() -> list[GatewayPort]:
    return [GatewayPort(name="http2", port=80), GatewayPort(name="https", port=443)]


class EgressGatewayDeployment(GatewayDeployment):
    """The egress gateway: ClusterIP, no servers unless configured (egress routes are per host)."""

    namespace: Name = Field("istio-egress", description="Namespace of the deployment and its Gateway.")
    release_name: Name = Field("istio-egressgateway", description="The gateway chart release (istio=egressgateway).")
    service_type: ServiceType = Field(ServiceType.CLUSTER_IP, strict=False, description="The gateway Service type.")
    ports: list[GatewayPort] = Field(default_factory=_egress_ports, min_length=1, description="Service ports.")
    gateway_name: Name = Field("egress", description="Name of the Istio Gateway object.")
    servers: list[Server] = Field(
        default_factory=list, description="Servers of the egress Gateway. Empty: no Gateway object."
    )


class GatewaysConfig(Model):
    """The ``meshstack:gateways`` section."""

    api: GatewayApi = Field(GatewayApi.ISTIO, strict=False, description="istio or gatewayApi (the ingress only).")
    gateway_api_crds: str = Field(
        GATEWAY_API_CRDS_URL,
        min_length=1,
        description="With api gatewayApi: where the pinned Gateway API CRDs come from. Default: the upstream release "
        "manifest (standard channel, fetched by the Kubernetes provider). A local file, or a directory of YAML files, "
        "for air-gapped sites (`make up` uses one assembled from the Go module).",
    )
    ingress: GatewayDeployment = Field(default_factory=GatewayDeployment)
    egress: EgressGatewayDeployment = Field(default_factory=EgressGatewayDeployment)

    def enabled(self) -> dict[str, GatewayDeployment]:
        return {name: gw for name, gw in (("ingress", self.ingress), ("egress", self.egress)) if gw.enabled}

    def chart_deployed(self) -> dict[str, GatewayDeployment]:
        """Gateways installed with the gateway chart (a Gateway API ingress is auto-deployed)."""
        return {
            name: gw
            for name, gw in self.enabled().items()
            if not (name == "ingress" and self.api is GatewayApi.GATEWAY_API)
        }


def server_problems(servers: list[Server]) -> list[tuple[str, str]]:
    """Servers one Gateway cannot hold: a repeated port name (Istio requires unique names), the same
    server twice, or two plaintext protocols on one port (one listener speaks one protocol)."""
    problems: list[tuple[str, str]] = []
    names: dict[str, int] = {}
    protocols: dict[int, tuple[int, ServerProtocol]] = {}
    plaintext = (ServerProtocol.HTTP, ServerProtocol.HTTP2, ServerProtocol.GRPC, ServerProtocol.TCP)
    for i, server in enumerate(servers):
        for j in range(i):
            if (servers[j].port, servers[j].protocol, sorted(servers[j].hosts)) == (
                server.port,
                server.protocol,
                sorted(server.hosts),
            ):
                problems.append((f"servers[{i}]", f"the same server as servers[{j}] (port {server.port}, same hosts)"))
                break
        else:
            name = server.listener_name
            if name in names:
                problems.append(
                    (
                        f"servers[{i}].name",
                        f"port name {name!r} is already servers[{names[name]}]'s; Istio needs unique port names: "
                        "give this server a name of its own",
                    )
                )
            names.setdefault(name, i)
        first = protocols.setdefault(server.port, (i, server.protocol))
        if first[1] != server.protocol and first[1] in plaintext and server.protocol in plaintext:
            problems.append(
                (
                    f"servers[{i}].protocol",
                    f"port {server.port} already speaks {first[1].value} (servers[{first[0]}]); one port, one protocol",
                )
            )
        if len(set(server.hosts)) != len(server.hosts):
            problems.append((f"servers[{i}].hosts", "a host is listed twice"))
    return problems


def _show_labels(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in sorted(labels.items())) + "}"


def gateway_problems(gateways: GatewaysConfig) -> list[tuple[str, str]]:
    """Istio Gateways that would select no proxy or listen on a port the proxy's Service lacks.

    Paths are relative to the ``gateways`` section. A Gateway API ingress is exempt: Istio derives
    its Service from the listeners.
    """
    problems: list[tuple[str, str]] = [
        (f"{name}.{p}", m) for name, gw in gateways.enabled().items() for p, m in gw.sizing_problems()
    ]
    deployed = gateways.chart_deployed()
    for name, gw in deployed.items():
        if not gw.servers:
            continue
        selector = gw.gateway_selector
        matched = {
            other: d for other, d in deployed.items() if all(d.pod_labels.get(k) == v for k, v in selector.items())
        }
        if not matched:
            have = "; ".join(f"{o} has {_show_labels(d.pod_labels)}" for o, d in deployed.items())
            problems.append(
                (
                    f"{name}.selector",
                    f"selector {_show_labels(selector)} matches no gateway deployment's labels ({have}); "
                    "fix the selector or the gateway's releaseName/labels",
                )
            )
            continue
        ports = sorted({p for d in matched.values() for p in d.service_ports})
        services = ", ".join(f"{d.release_name}.{d.namespace}" for d in matched.values())
        for i, server in enumerate(gw.servers):
            if server.port not in ports:
                problems.append(
                    (
                        f"{name}.servers[{i}].port",
                        f"port {server.port} is not a port of the gateway Service {services} "
                        f"(ports {', '.join(map(str, ports))}); use one of them or add it to ports (IST0162)",
                    )
                )
    return problems
