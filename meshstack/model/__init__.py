"""The typed model of a mesh: frozen, validated specs and policies (no Pulumi import).

Build specs in Python (snake_case arguments, errors naming attribute paths) or parse them from
stack config (camelCase keys, errors naming config paths); defaults are applied the same way.
Policies live in :mod:`meshstack.model.policy` and are re-exported here.
"""

from meshstack.errors import ConfigError, Problem
from meshstack.model.addons import (
    AddonsConfig,
    DashboardAuth,
    GrafanaAddon,
    JaegerAddon,
    KialiAddon,
    PrometheusAddon,
)
from meshstack.model.app import AppSpec, Protocol, ServicePort, Version
from meshstack.model.apps import AppsConfig
from meshstack.model.environment import Environment
from meshstack.model.external_service import ExternalPort, ExternalProtocol, ExternalService, Resolution
from meshstack.model.gateway import (
    EgressGatewayDeployment,
    GatewayApi,
    GatewayDeployment,
    GatewayPort,
    GatewaysConfig,
    Server,
    ServerProtocol,
    ServerTls,
    ServiceType,
)
from meshstack.model.kubernetes import KubernetesConfig
from meshstack.model.mesh import (
    IstiodConfig,
    MeshConfig,
    OutboundTrafficPolicy,
    PodSecurityLevel,
    ProxyConfig,
    TracingConfig,
)
from meshstack.model.namespace import WorkloadNamespace
from meshstack.model.platform import PlatformSpec
from meshstack.model.policy import (
    Abort,
    Action,
    Algorithm,
    AuthorizationPolicy,
    AuthorizationRule,
    BlueGreen,
    CircuitBreaker,
    ClientTls,
    ConsistentHash,
    Delay,
    Destination,
    Exposure,
    Failover,
    Fault,
    HashCookie,
    HttpMethod,
    HttpRoute,
    JwtRule,
    LoadBalancer,
    LocalityFailover,
    LocalRateLimit,
    Match,
    Mirror,
    PeerAuthentication,
    PortMtls,
    RequestAuthentication,
    Retries,
    StringMatch,
)
from meshstack.model.probe import Probe
from meshstack.model.profile import Profile, ProfileName
from meshstack.model.refs import GatewayKind, GatewayRef, MeshRef
from meshstack.model.resources import ResourceList, Resources
from meshstack.model.revision import Revision
from meshstack.model.secrets import SecretGenerator, SecretsConfig
from meshstack.model.stack import StackSpec
from meshstack.model.target import RenderTarget
from meshstack.model.tls import MtlsMode, TlsMode
from meshstack.model.workload import PodSecurity

__all__ = [
    "Abort",
    "Action",
    "AddonsConfig",
    "Algorithm",
    "AppSpec",
    "AppsConfig",
    "AuthorizationPolicy",
    "AuthorizationRule",
    "BlueGreen",
    "CircuitBreaker",
    "ClientTls",
    "ConfigError",
    "ConsistentHash",
    "DashboardAuth",
    "Delay",
    "Destination",
    "EgressGatewayDeployment",
    "Environment",
    "Exposure",
    "ExternalPort",
    "ExternalProtocol",
    "ExternalService",
    "Failover",
    "Fault",
    "GatewayApi",
    "GatewayDeployment",
    "GatewayKind",
    "GatewayPort",
    "GatewayRef",
    "GatewaysConfig",
    "GrafanaAddon",
    "HashCookie",
    "HttpMethod",
    "HttpRoute",
    "IstiodConfig",
    "JaegerAddon",
    "JwtRule",
    "KialiAddon",
    "KubernetesConfig",
    "LoadBalancer",
    "LocalRateLimit",
    "LocalityFailover",
    "Match",
    "MeshConfig",
    "MeshRef",
    "Mirror",
    "MtlsMode",
    "OutboundTrafficPolicy",
    "PeerAuthentication",
    "PlatformSpec",
    "PodSecurity",
    "PodSecurityLevel",
    "PortMtls",
    "Probe",
    "Problem",
    "Profile",
    "ProfileName",
    "PrometheusAddon",
    "Protocol",
    "ProxyConfig",
    "RenderTarget",
    "RequestAuthentication",
    "Resolution",
    "ResourceList",
    "Resources",
    "Retries",
    "Revision",
    "SecretGenerator",
    "SecretsConfig",
    "Server",
    "ServerProtocol",
    "ServerTls",
    "ServicePort",
    "ServiceType",
    "StackSpec",
    "StringMatch",
    "TlsMode",
    "TracingConfig",
    "Version",
    "WorkloadNamespace",
]  # fmt: skip
