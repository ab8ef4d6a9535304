"""Issue 11: each class of input Istio or the API server rejects is refused at the model with its
path, broken stack files get one clean file:line error, and prod is secure by construction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from meshstack.errors import ConfigError
from meshstack.image_refs import image_is_pinned
from meshstack.model import AppSpec, MeshConfig, Version
from meshstack.stacks.config import collect, load_stack_spec
from meshstack.stacks.stack_file import MAX_DEPTH, read_config
from tests.harness import Recording, config_error, run_stack


def problems_of(stack: str = "dev", **overrides: Any) -> str:
    message, registered = config_error(stack, **overrides)
    assert registered == [], "nothing may be registered before config is valid"
    return message


# --- item 2: each class closed at the model -------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "why"),
    [
        ("-bad.example.com", "label '-bad' is not a lowercase DNS label"),
        ("*/", "empty"),
        ("a/b/c", "a host has no '/'"),
        ("🦄.com", "is not a lowercase DNS label"),
        ("1.2.3.4/32", "'1.2.3.4' is not '*', '.' or a namespace name"),
        ("shop.example.com:443", "a host without a port"),
        ("http://shop.example.com", "a host, not a URL"),
        ("*foo.com", "'*' may only be the whole leftmost label"),
        ("a" * 300 + ".com", "a host name has at most 253"),
        ("x" * 64 + ".example.com", "DNS labels have at most 63"),
        ("Shop.Example.com", "is not a lowercase DNS label"),
    ],
)
def test_gateway_hosts_follow_istio_syntax(host: str, why: str) -> None:
    message = problems_of(gateways={"ingress": {"servers": [{"port": 80, "hosts": [host]}]}})
    assert "meshstack:gateways.ingress.servers[0].hosts[0]:" in message and why in message


@pytest.mark.parametrize(
    "host", ["*", "*.example.com", "shop.example.com", "istio-system/shop.example.com", "./api.example.com", "*/*"]
)
def test_gateway_hosts_istio_accepts_are_accepted(host: str) -> None:
    rec = run_stack("dev", gateways={"ingress": {"servers": [{"port": 80, "hosts": [host]}]}})
    assert rec.one(kind="Gateway", k8s_name="ingress").inputs["spec"]["servers"][0]["hosts"] == [host]


def test_exposed_app_hosts_follow_the_same_syntax() -> None:
    message = problems_of(
        apps={
            "bookinfo": None,
            "services": {
                "web": {
                    "versions": {"v1": {"image": "x/web:1"}},
                    "expose": {"paths": [{"prefix": "/"}], "hosts": ["shop.example.com:443"]},
                }
            },
        }
    )
    assert "meshstack:apps.services.web.expose.hosts[0]:" in message


def test_servers_need_unique_port_names() -> None:
    same = problems_of(gateways={"ingress": {"servers": [{"port": 80}, {"port": 80}]}})
    assert "meshstack:gateways.ingress.servers[1]: the same server as servers[0]" in same
    named = problems_of(
        gateways={
            "ingress": {"servers": [{"port": 80, "hosts": ["a.example.com"]}, {"port": 80, "hosts": ["b.example.com"]}]}
        }
    )
    assert "meshstack:gateways.ingress.servers[1].name: port name 'http-80' is already servers[0]'s" in named
    rec = run_stack(
        "dev",
        gateways={
            "ingress": {
                "servers": [
                    {"port": 80, "hosts": ["a.example.com"]},
                    {"port": 80, "name": "http-b", "hosts": ["b.example.com"]},
                ]
            }
        },
    )
    names = [s["port"]["name"] for s in rec.one(kind="Gateway", k8s_name="ingress").inputs["spec"]["servers"]]
    assert names == ["http-80", "http-b"]


def app_with_route(**route: Any) -> dict[str, Any]:
    return {
        "services": {
            "web": {"versions": {"v1": {"image": "x/web:1"}}, "routes": [{"to": [{"version": "v1"}], **route}]}
        }
    }


def test_retry_on_uses_istios_vocabulary() -> None:
    message = problems_of(apps=app_with_route(retries={"attempts": 2, "retryOn": ["599"]}))
    assert "meshstack:apps.services.web.routes[0].retries.retryOn[0]: unknown retry condition '599'" in message
    run_stack("dev", apps=app_with_route(retries={"attempts": 2, "retryOn": ["503", "5xx", "reset"]}))


@pytest.mark.parametrize(
    ("value", "why"),
    [("99999999999h", "longer than 2562047h"), ("٣s", "a duration such as"), ("1.5 s", "a duration such as")],
)
def test_durations_are_ascii_and_bounded(value: str, why: str) -> None:
    assert why in problems_of(apps=app_with_route(timeout=value))
    assert "meshstack:addons.prometheus.scrapeInterval" in problems_of(addons={"prometheus": {"scrapeInterval": "٣s"}})


def test_label_keys_and_values_follow_kubernetes_syntax() -> None:
    message = problems_of(
        namespaces={"payments": {"labels": {"bad key!": "x"}}}, gateways={"ingress": {"labels": {"istio": "-bad-"}}}
    )
    assert "meshstack:namespaces.payments.labels.bad key!" in message
    assert "meshstack:gateways.ingress.labels.istio: expected a label value" in message


def test_chart_repository_is_a_url_or_oci_reference_and_https_in_prod() -> None:
    assert "meshstack:mesh.chartRepository: 'not a url' is neither a chart repository URL" in problems_of(
        mesh={"chartRepository": "not a url"}
    )
    run_stack("dev", mesh={"chartRepository": "http://charts.example.com"})  # plain http: dev only
    assert "meshstack:mesh.chartRepository: prod fetches charts over https://" in problems_of(
        "prod", mesh={"chartRepository": "http://charts.example.com"}
    )


def test_the_rate_limit_envoy_filter_has_a_priority() -> None:
    rec = run_stack(
        "dev", apps={"services": {"web": {"versions": {"v1": {"image": "x/web:1"}}, "rateLimit": {"maxTokens": 10}}}}
    )
    spec = rec.one(kind="EnvoyFilter", k8s_name="web-local-ratelimit").inputs["spec"]
    assert spec["priority"] == 10 and spec["configPatches"][0]["patch"]["operation"] == "INSERT_BEFORE"


@pytest.mark.parametrize(
    ("text", "where", "why"),
    [
        ("config:\n  meshstack:environment: dev\n  meshstack:environment: prod\n", "Pulumi.s.yaml:3", "given twice"),
        ("config:\n  meshstack:mesh: {a: [\n", "Pulumi.s.yaml:3", "not valid YAML"),
        ("- a\n- b\n", "Pulumi.s.yaml:1", "a stack file is a mapping"),
        ("config: [1, 2]\n", "Pulumi.s.yaml:1", "config is a mapping of keys, not a list"),
        ("config: text\n", "Pulumi.s.yaml:1", "not a string"),
        ("config:\n  1: x\n", "Pulumi.s.yaml:2", "key 1 is not a string"),
        (
            "config:\n  meshstack:mesh: " + "[" * 900 + "]" * 900 + "\n",
            "Pulumi.s.yaml:2",
            f"nested more than {MAX_DEPTH}",
        ),
    ],
)
def test_broken_stack_files_get_one_error_naming_file_and_line(tmp_path: Path, text: str, where: str, why: str) -> None:
    (tmp_path / "Pulumi.s.yaml").write_text(text)
    with pytest.raises(ConfigError) as exc:
        read_config(tmp_path / "Pulumi.s.yaml")
    [problem] = exc.value.problems
    assert problem.path == where and why in problem.message


def test_deep_json_from_the_engine_is_refused_before_decoding() -> None:
    with pytest.raises(ConfigError) as exc:
        collect({"meshstack:mesh": "[" * 3000 + "]" * 3000})
    assert exc.value.paths == ["mesh"] and f"nested more than {MAX_DEPTH}" in str(exc.value)


# --- item 3: prod secure by default, on every path --------------------------------------------------


def test_prod_enforces_strict_mtls_on_every_path() -> None:
    message = problems_of(
        "prod",
        apps={
            "peerAuthentication": {"mode": "PERMISSIVE"},
            "services": {
                "web": {
                    "versions": {"v1": {"image": "x/web:1"}},
                    "tls": {"mode": "SIMPLE", "caCertificates": "/etc/certs/ca.pem"},
                    "peerAuthentication": {"mode": "STRICT", "portLevelMtls": [{"port": 8080, "mode": "DISABLE"}]},
                }
            },
        },
    )
    for line in (
        "meshstack:apps.peerAuthentication.mode: prod requires STRICT mTLS on every path, got PERMISSIVE",
        "meshstack:apps.services.web.peerAuthentication.portLevelMtls[0].mode: prod requires STRICT mTLS on every port",
        "meshstack:apps.services.web.tls.mode: prod sends mesh traffic with the mesh's certificates only",
    ):
        assert line in message
    assert "prod requires STRICT mTLS, got PERMISSIVE" in problems_of("prod", mesh={"mtls": "PERMISSIVE"})


def test_prod_refuses_unsafe_pods_and_unpinned_images() -> None:
    security = {
        "addCapabilities": ["SYS_ADMIN", "NET_RAW"],
        "runAsNonRoot": False,
        "allowPrivilegeEscalation": True,
        "readOnlyRootFilesystem": False,
    }
    message = problems_of(
        "prod", apps={"services": {"web": {"versions": {"v1": {"image": "x/web:latest", "security": security}}}}}
    )
    at = "meshstack:apps.services.web.versions.v1"
    for line in (
        f"{at}.image: prod pins images",
        f"{at}.security.addCapabilities[0]: prod adds back NET_BIND_SERVICE at most, got SYS_ADMIN",
        f"{at}.security.addCapabilities[1]: prod adds back NET_BIND_SERVICE at most, got NET_RAW",
        f"{at}.security.runAsNonRoot",
        f"{at}.security.allowPrivilegeEscalation",
        f"{at}.security.readOnlyRootFilesystem",
    ):
        assert line in message
    assert "meshstack:addons.grafana.version: prod pins images" in problems_of(
        "prod", addons={"grafana": {"version": "latest"}}
    )
    assert [image_is_pinned(i) for i in ("x/web", "x/web:latest", "x/web:1", "reg:5000/x/web", "x@sha256:ab")] == [
        False,
        False,
        True,
        False,
        True,
    ]


def test_the_same_rules_hold_for_an_app_joining_a_prod_mesh_in_python() -> None:
    from meshstack.model.checks import MeshContext, app_problems
    from meshstack.model.target import RenderTarget

    app = AppSpec(versions={"v1": Version(image="x/web:latest")})
    assert app_problems("web", app, RenderTarget.ISTIO, MeshContext(environment="dev")) == []  # dev: allowed
    problems = app_problems("web", app, RenderTarget.ISTIO, MeshContext(environment="prod"))
    assert [loc for loc, _ in problems] == [["versions", "v1", "image"]]
    assert "prod pins images" in problems[0][1]


def test_pod_security_restricted_needs_istio_cni() -> None:
    assert "meshstack:mesh.podSecurity: restricted refuses the istio-init container" in problems_of(
        mesh={"podSecurity": "restricted"}
    )
    rec = run_stack("dev", mesh={"podSecurity": "restricted", "cni": True})
    labels = rec.one(type="Namespace", k8s_name="bookinfo").inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def workload_pods(rec: Recording, namespace: str) -> list[dict[str, Any]]:
    return [d.inputs["spec"]["template"]["spec"] for d in rec.find(type="Deployment", namespace=namespace)]


def test_prod_workload_namespaces_enforce_restricted_pods(prod: Recording) -> None:
    labels = prod.one(type="Namespace", k8s_name="bookinfo").inputs["metadata"]["labels"]
    assert {k: v for k, v in labels.items() if k.startswith("pod-security")} == {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
    }
    for pod in workload_pods(prod, "bookinfo"):
        [container] = pod["containers"]
        sec = container["securityContext"]
        assert pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["seccompProfile"] == {
            "type": "RuntimeDefault"
        }
        assert (
            sec["capabilities"] == {"drop": ["ALL"]}
            and not sec["allowPrivilegeEscalation"]
            and sec["readOnlyRootFilesystem"]
        )
        assert pod["automountServiceAccountToken"] is False
        assert (
            container["readinessProbe"]["httpGet"]["path"] == "/health" == container["livenessProbe"]["httpGet"]["path"]
        )


def test_addons_run_read_only_with_probes_and_tokens_only_where_needed(prod: Recording) -> None:
    tokens = {}
    for deployment in prod.find(type="Deployment", namespace="istio-system"):
        name = deployment.inputs["metadata"]["name"]
        pod = deployment.inputs["spec"]["template"]["spec"]
        [container] = pod["containers"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert "livenessProbe" in container and "readinessProbe" in container, name
        tokens[name] = pod["automountServiceAccountToken"]
    assert tokens == {"prometheus": True, "grafana": False, "jaeger": False, "kiali": True}


def test_prometheus_has_no_lifecycle_api_and_keeps_its_data(prod: Recording, dev: Recording) -> None:
    deployment = prod.one(type="Deployment", k8s_name="prometheus").inputs["spec"]
    args = deployment["template"]["spec"]["containers"][0]["args"]
    assert "--web.enable-lifecycle" not in args and "--storage.tsdb.retention.size=42949MB" in args
    assert deployment["strategy"] == {"type": "Recreate"}
    claim = prod.one(type="PersistentVolumeClaim", k8s_name="prometheus").inputs["spec"]
    assert claim["resources"]["requests"]["storage"] == "50Gi"
    dev_volumes = dev.one(type="Deployment", k8s_name="prometheus").inputs["spec"]["template"]["spec"]["volumes"]
    assert {"name": "data", "emptyDir": {"sizeLimit": "20Gi"}} in dev_volumes


def test_replicated_addons_get_a_disruption_budget(prod: Recording) -> None:
    assert prod.one(type="Deployment", k8s_name="kiali").inputs["spec"]["replicas"] == 2
    assert prod.one(type="PodDisruptionBudget", k8s_name="kiali").inputs["spec"]["minAvailable"] == 1
    assert not prod.find(type="PodDisruptionBudget", k8s_name="grafana")  # one replica: no PDB


def test_kialis_cluster_role_reads_no_configmaps_or_logs(prod: Recording) -> None:
    rules = prod.one(type="ClusterRole", k8s_name="kiali").inputs["rules"]
    resources = {r for rule in rules for r in rule.get("resources", [])}
    assert not resources & {"configmaps", "pods/log", "secrets"}
    role = prod.one(type="Role", k8s_name="kiali").inputs
    assert role["metadata"]["namespace"] == "istio-system" and role["rules"][0]["resources"] == ["configmaps"]


def test_prod_denies_by_default_and_apps_open_explicitly(prod: Recording, dev: Recording) -> None:
    deny = prod.one(kind="AuthorizationPolicy", namespace="istio-system", k8s_name="allow-nothing").inputs
    assert deny["spec"] == {}
    ingress = prod.one(kind="AuthorizationPolicy", namespace="istio-ingress").inputs["spec"]
    assert ingress["rules"] == [{}] and ingress["selector"] == {"matchLabels": {"istio": "ingressgateway"}}
    exposed = prod.one(kind="AuthorizationPolicy", k8s_name="productpage-from-ingress").inputs["spec"]
    assert exposed["rules"][0]["from"][0]["source"]["principals"] == [
        "cluster.local/ns/istio-ingress/sa/istio-ingressgateway"
    ]
    ratings = prod.one(kind="AuthorizationPolicy", k8s_name="ratings-from-reviews").inputs["spec"]
    assert ratings["rules"][0]["from"][0]["source"]["principals"] == ["*/sa/bookinfo-reviews"]
    assert not dev.find(kind="AuthorizationPolicy", k8s_name="allow-nothing")


def test_prod_outbound_is_registry_only_with_declared_service_entries() -> None:
    rec = run_stack("prod", mesh={"externalServices": {"payments-api": {"hosts": ["api.payments.example.com"]}}})
    istiod = rec.one(type="kubernetes:helm.sh/v4:Chart", name="mesh-istiod").inputs["values"]
    assert istiod["meshConfig"]["outboundTrafficPolicy"] == {"mode": "REGISTRY_ONLY"}
    entry = rec.one(kind="ServiceEntry", k8s_name="payments-api").inputs["spec"]
    assert entry["hosts"] == ["api.payments.example.com"] and entry["location"] == "MESH_EXTERNAL"
    assert entry["ports"] == [{"number": 443, "name": "tls-443", "protocol": "TLS"}]
    assert "'*' would open every host" in problems_of("prod", mesh={"externalServices": {"all": {"hosts": ["*"]}}})


def test_prod_fences_every_meshstack_namespace(prod: Recording) -> None:
    policies = {
        (p.inputs["metadata"]["namespace"], p.inputs["metadata"]["name"]): p.inputs["spec"]
        for p in prod.find(kind="NetworkPolicy")
    }
    for ns in ("istio-system", "istio-ingress", "bookinfo"):
        assert policies[(ns, "default-deny-ingress")] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    mesh_only = policies[("bookinfo", "allow-from-mesh")]["ingress"]
    assert mesh_only == [
        {"from": [{"namespaceSelector": {"matchLabels": {"app.kubernetes.io/managed-by": "meshstack"}}}]}
    ]
    istiod = policies[("istio-system", "allow-istiod")]
    assert istiod["podSelector"] == {"matchLabels": {"app": "istiod"}} and "from" not in istiod["ingress"][0]
    assert policies[("istio-ingress", "allow-ingress-gateway")]["ingress"] == [{}]


def test_every_prod_secure_default_can_be_switched_off_explicitly_in_dev_style() -> None:
    spec = load_stack_spec({"environment": "prod", "mesh": {"defaultDeny": False, "networkPolicies": False}})
    assert not spec.mesh.default_deny and not spec.mesh.network_policies
    assert MeshConfig().default_deny is False  # the model's own default stays permissive; prod's layer sets it


def test_the_committed_stacks_carry_their_secure_defaults() -> None:
    prod = load_stack_spec(
        {k.split(":", 1)[1]: v for k, v in yaml.safe_load(Path("Pulumi.prod.yaml").read_text())["config"].items()}
    )
    mesh = prod.mesh
    assert (mesh.cni, mesh.pod_security.value, mesh.default_deny, mesh.network_policies) == (
        True,
        "restricted",
        True,
        True,
    )
    assert mesh.outbound_traffic_policy.value == "REGISTRY_ONLY"
