"""Typed traffic, resilience and security policies of an app (one concept per module)."""

from meshstack.model.policy.authorization import Action, AuthorizationPolicy, AuthorizationRule
from meshstack.model.policy.blue_green import BlueGreen
from meshstack.model.policy.circuit_breaker import CircuitBreaker
from meshstack.model.policy.client_tls import ClientTls
from meshstack.model.policy.exposure import Exposure
from meshstack.model.policy.fault import Abort, Delay, Fault
from meshstack.model.policy.load_balancer import Algorithm, ConsistentHash, HashCookie, LoadBalancer
from meshstack.model.policy.locality import Failover, LocalityFailover
from meshstack.model.policy.match import HttpMethod, Match, StringMatch
from meshstack.model.policy.mirror import Mirror
from meshstack.model.policy.peer_authentication import PeerAuthentication, PortMtls
from meshstack.model.policy.rate_limit import LocalRateLimit
from meshstack.model.policy.request_authentication import JwtRule, RequestAuthentication
from meshstack.model.policy.retries import Retries
from meshstack.model.policy.route import Destination, HttpRoute

__all__ = [
    "Abort", "Action", "Algorithm", "AuthorizationPolicy", "AuthorizationRule", "BlueGreen", "CircuitBreaker",
    "ClientTls", "ConsistentHash", "Delay", "Destination", "Exposure", "Failover", "Fault", "HashCookie",
    "HttpMethod", "HttpRoute", "JwtRule", "LoadBalancer", "LocalRateLimit", "LocalityFailover", "Match",
    "Mirror", "PeerAuthentication", "PortMtls", "RequestAuthentication", "Retries", "StringMatch",
]  # fmt: skip
