"""Gateways: chart values, Istio Gateway and Gateway API Gateway, the pre-apply checks (the
Bookinfo 8080 / ``istio: ingressgateway`` trap) and the refs handed to the apps."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from meshstack.errors import ConfigError
from meshstack.model.gateway import GatewayDeployment, GatewaysConfig, Server
from meshstack.model.mesh import MeshConfig
from meshstack.model.refs import GatewayKind
from meshstack.render import gateways as render
from meshstack.render.platform import mesh_ref
from meshstack.stacks.config import load_stack_spec
from meshstack.testing import redact
from tests.harness import Recording, config_error, run_stack
from tests.schemas import validate_manifests

TLS = {"port": 443, "protocol": "HTTPS", "hosts": ["shop.example.com"], "tls": {"credentialName": "shop-cert"}}


def spec_error(**sections: Any) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        load_stack_spec({"environment": "dev", **sections})
    return err.value


# --- the Bookinfo trap and friends -----------------------------------------------------------------


def test_port_not_on_the_gateway_service_is_rejected_before_apply() -> None:
    message, registered = config_error("dev", gateways={"ingress": {"servers": [{"port": 8080}]}})
    assert registered == []
    assert "meshstack:gateways.ingress.servers[0].port: port 8080 is not a port of the gateway Service" in message
    assert "istio-ingressgateway.istio-ingress (ports 80, 443, 15021)" in message and "IST0162" in message


def test_selector_matching_no_gateway_labels_is_rejected() -> None:
    # The chart installed under another release name labels its pods istio=ingress, not ingressgateway.
    err = spec_error(gateways={"ingress": {"releaseName": "ingress", "selector": {"istio": "ingressgateway"}}})
    assert err.paths == ["gateways.ingress.selector"]
    assert "selector {istio: ingressgateway} matches no gateway deployment's labels" in str(err)
    assert "ingress has {app: ingress, istio: ingress}" in str(err)


def test_explicit_labels_make_the_selector_match() -> None:
    spec = load_stack_spec(
        {
            "environment": "dev",
            "gateways": {
                "ingress": {
                    "releaseName": "ingress",
                    "labels": {"istio": "ingressgateway"},
                    "selector": {"istio": "ingressgateway"},
                }
            },
        }
    )
    assert spec.gateways.ingress.pod_labels["istio"] == "ingressgateway"


def test_adding_the_port_to_the_service_fixes_the_8080_trap() -> None:
    ports = [{"name": "status-port", "port": 15021}, {"name": "http2", "port": 8080, "targetPort": 8080}]
    spec = load_stack_spec(
        {"environment": "dev", "gateways": {"ingress": {"ports": ports, "servers": [{"port": 8080}]}}}
    )
    assert spec.gateways.ingress.service_ports == [15021, 8080]


def test_a_gateway_may_select_another_deployment_and_ports_are_checked_against_it() -> None:
    err = spec_error(
        gateways={"egress": {"enabled": True, "selector": {"istio": "ingressgateway"}, "servers": [{"port": 15443}]}}
    )
    assert err.paths == ["gateways.egress.servers[0].port"]
    assert "istio-ingressgateway.istio-ingress" in str(err)


@pytest.mark.parametrize(
    ("server", "path", "words"),
    [
        ({"port": 443, "protocol": "HTTPS"}, "tls", "needs tls"),
        ({"port": 443, "protocol": "HTTPS", "tls": {"mode": "SIMPLE"}}, "tls.credentialName", "certificate Secret"),
        ({"port": 80, "tls": {"mode": "PASSTHROUGH"}}, "tls", "plaintext"),
        ({"port": 70000}, "port", "between 1 and 65535, got 70000"),
        ({"port": 80, "hosts": []}, "hosts", "at least 1"),
    ],
)
def test_server_errors_name_their_path(server: dict[str, Any], path: str, words: str) -> None:
    err = spec_error(gateways={"ingress": {"servers": [server]}})
    assert f"gateways.ingress.servers[0].{path}" in err.paths
    assert words in str(err)


def test_duplicate_service_ports_and_bad_port_names_are_rejected() -> None:
    err = spec_error(gateways={"ingress": {"ports": [{"name": "http2", "port": 80}, {"name": "web", "port": 80}]}})
    assert "gateways.ingress.ports[1].name" in err.paths
    err = spec_error(gateways={"ingress": {"ports": [{"name": "http2", "port": 80}, {"name": "https", "port": 80}]}})
    assert err.paths == ["gateways.ingress.ports[1].port"]


def test_gateway_revision_must_exist() -> None:
    err = spec_error(gateways={"ingress": {"revision": "canary"}})
    assert err.paths == ["gateways.ingress.revision"]


def test_disabled_gateway_is_not_checked() -> None:
    spec = load_stack_spec({"environment": "dev", "gateways": {"egress": {"enabled": False, "servers": [{"port": 1}]}}})
    assert "egress" not in spec.gateways.enabled()


# --- render ------------------------------------------------------------------------------------


def test_istio_gateway_renders_hosts_ports_and_tls() -> None:
    gw = GatewayDeployment.parse({"servers": [{"port": 80, "hosts": ["shop.example.com"]}, TLS]})
    doc = render.istio_gateway(gw)
    assert doc["spec"]["selector"] == {"istio": "ingressgateway"}
    assert doc["spec"]["servers"][1] == {
        "port": {"number": 443, "name": "https-443", "protocol": "HTTPS"},
        "hosts": ["shop.example.com"],
        "tls": {"mode": "SIMPLE", "credentialName": "shop-cert"},
    }
    assert validate_manifests([doc]) == []


def test_gateway_api_gateway_renders_listeners() -> None:
    gw = GatewayDeployment.parse({"servers": [{"port": 80, "hosts": ["a.example.com", "b.example.com"]}, TLS]})
    doc = render.gateway_api_gateway(gw, MeshConfig())
    assert doc["spec"]["gatewayClassName"] == "istio"
    listeners = doc["spec"]["listeners"]
    assert [li["name"] for li in listeners] == ["http-80-0", "http-80-1", "https-443"]
    assert listeners[2]["tls"] == {"mode": "Terminate", "certificateRefs": [{"name": "shop-cert"}]}
    assert all(li["allowedRoutes"] == {"namespaces": {"from": "All"}} for li in listeners)
    assert validate_manifests([doc]) == []


def test_gateway_chart_values_name_release_and_ports(prod: Recording) -> None:
    chart = prod.one(type="kubernetes:helm.sh/v4:Chart", name="gateways-ingress")
    assert chart.inputs["name"] == "istio-ingressgateway" and chart.inputs["namespace"] == "istio-ingress"
    assert chart.inputs["chart"] == "gateway"
    v = redact(chart.inputs["values"])
    assert v["service"]["type"] == "LoadBalancer"
    assert [p["port"] for p in v["service"]["ports"]] == [15021, 80, 443]
    gw_ns = prod.one(kind="Namespace", k8s_name="istio-ingress")
    assert "istio-injection" not in gw_ns.inputs["metadata"]["labels"], "image: auto needs an injectable namespace"
    assert prod.depends_on(chart, gw_ns)


def test_egress_gateway_is_cluster_ip_without_a_gateway_object(dev: Recording) -> None:
    chart = dev.one(type="kubernetes:helm.sh/v4:Chart", name="gateways-egress")
    assert redact(chart.inputs["values"])["service"]["type"] == "ClusterIP"
    assert not dev.find(kind="Gateway", k8s_name="egress")


# --- Gateway API choice: pinned CRDs ---------------------------------------------------------------


def test_gateway_api_installs_the_pinned_upstream_crds_before_the_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    # No toolchain at deploy time: the program must not start any process to get the CRDs.
    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the program started a process: {args}")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    monkeypatch.setattr(subprocess, "Popen", no_subprocess)
    rec = run_stack("prod", gateways={"api": "gatewayApi"})
    crds = rec.one(type="kubernetes:yaml/v2:ConfigGroup")
    assert crds.name == "gateways-gateway-api-crds-v1.4.0"
    assert crds.inputs["files"] == [
        "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.4.0/standard-install.yaml"
    ]
    assert (crds.retain_on_delete, crds.protect) == (True, True)
    gw = rec.one(kind="Gateway", k8s_name="ingress")
    assert gw.type == "kubernetes:gateway.networking.k8s.io/v1:Gateway"
    assert rec.depends_on(gw, crds) and rec.depends_on(
        gw, rec.one(type="kubernetes:helm.sh/v4:Chart", name="mesh-istiod")
    )
    # Istio deploys the ingress proxy itself: no gateway chart for it.
    assert not rec.find(type="kubernetes:helm.sh/v4:Chart", name="gateways-ingress")
    assert rec.outputs["ingress"]["service"] == "ingress-istio.istio-ingress.svc.cluster.local"


@pytest.mark.parametrize(
    ("source", "files"),
    [
        ("/srv/mirror/gateway-api/v1.4.0", ["/srv/mirror/gateway-api/v1.4.0/*.yaml"]),
        ("file:///srv/mirror/gateway-api/", ["/srv/mirror/gateway-api/*.yaml"]),
        ("/srv/mirror/standard-install.yaml", ["/srv/mirror/standard-install.yaml"]),
        (
            "https://mirror.example.com/gw/standard-install.yaml",
            ["https://mirror.example.com/gw/standard-install.yaml"],
        ),
    ],
)
def test_gateway_api_crds_from_a_local_mirror(source: str, files: list[str]) -> None:
    rec = run_stack("dev", gateways={"api": "gatewayApi", "gatewayApiCrds": source})
    assert rec.one(type="kubernetes:yaml/v2:ConfigGroup").inputs["files"] == files


# --- refs for the apps ---------------------------------------------------------------------------


def test_mesh_ref_hands_the_apps_the_gateways() -> None:
    spec = load_stack_spec({"environment": "dev", "gateways": {"ingress": {"servers": [{"port": 80}, TLS]}}})
    ref = mesh_ref(spec)
    assert ref.ingress is not None and ref.ingress.qualified == "istio-ingress/ingress"
    assert ref.ingress.kind is GatewayKind.ISTIO and ref.ingress.selector == {"istio": "ingressgateway"}
    assert ref.ingress.hosts == ("*", "shop.example.com") and ref.ingress.port == 80
    assert ref.egress is None  # dev's egress has no Gateway object
    api = load_stack_spec({"environment": "dev", "gateways": {"api": "gatewayApi"}})
    assert mesh_ref(api).ingress is not None and mesh_ref(api).ingress.kind is GatewayKind.GATEWAY_API  # type: ignore[union-attr]


def test_gateways_config_defaults_are_the_chart_defaults() -> None:
    gws = GatewaysConfig()
    assert gws.ingress.service_ports == [15021, 80, 443] and gws.ingress.servers == [Server(port=80)]
    assert gws.egress.pod_labels == {"app": "istio-egressgateway", "istio": "egressgateway"}


# --- the ingress address output --------------------------------------------------------------------


def test_ingress_address_prefers_the_load_balancer_and_falls_back_to_the_service(prod: Recording) -> None:
    from types import SimpleNamespace as NS

    from meshstack.components.gateways import _ingress_of

    assert _ingress_of(NS(load_balancer=NS(ingress=[NS(ip=None, hostname="lb.example.com")]))) == "lb.example.com"
    assert _ingress_of(NS(load_balancer=NS(ingress=[NS(ip="203.0.113.7", hostname=None)]))) == "203.0.113.7"
    assert _ingress_of(NS(load_balancer=NS(ingress=None))) is None
    assert _ingress_of(None) is None
    # Under mocks no load balancer is ever assigned: the in-cluster name.
    assert prod.outputs["ingressAddress"] == "istio-ingressgateway.istio-ingress.svc.cluster.local"
