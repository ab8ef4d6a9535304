"""Addons: each optional, pinned, wired together; generated credentials stay Pulumi secrets."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from meshstack._sdk.mocks import is_secret, unwrap_secret
from meshstack.model.addons import AddonsConfig, GrafanaAddon, PrometheusAddon
from meshstack.render.addons import grafana, jaeger, kiali, prometheus
from meshstack.render.addons.dashboards import DASHBOARDS, dashboard_files
from meshstack.testing import contains_secret, redact
from tests.harness import Recording, config_error, run_stack
from tests.schemas import validate_manifests

NS = "istio-system"
#: What the mocks generate for RandomPassword(length=24) and (length=32).
GRAFANA_PASSWORD = "x" * 24
SIGNING_KEY = "x" * 32


def config_yaml(rec: Recording, name: str, key: str) -> Any:
    return yaml.safe_load(rec.one(kind="ConfigMap", k8s_name=name).inputs["data"][key])


def env_of(rec: Recording, deployment: str) -> dict[str, Any]:
    [container] = rec.one(kind="Deployment", k8s_name=deployment).inputs["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


# --- secrets stay secret ---------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_generated_credentials_never_appear_in_plaintext(stack: str, request: pytest.FixtureRequest) -> None:
    rec: Recording = request.getfixturevalue(stack)
    for res in rec.resources:
        text = json.dumps(redact(res.inputs), default=str)
        assert GRAFANA_PASSWORD not in text, f"plaintext credential in the inputs of {res.urn}"
    assert GRAFANA_PASSWORD not in json.dumps(rec.outputs, default=str)
    for name, key in (("grafana-admin", grafana.PASSWORD_KEY), ("kiali-signing-key", kiali.SIGNING_KEY_KEY)):
        secret = rec.one(kind="Secret", k8s_name=name)
        assert is_secret(secret.inputs["stringData"]), f"{name} must reach the engine as a secret"
        assert key in unwrap_secret(secret.inputs["stringData"])
    passwords = rec.find(type="random:index/randomPassword:RandomPassword")
    assert {p.name for p in passwords} == {"addons-grafana-admin-password", "addons-kiali-signing-key"}


def mounts_of(rec: Recording, deployment: str) -> dict[str, Any]:
    """Mounted Secrets of a Deployment: mount path → (secret name, items)."""
    spec = rec.one(kind="Deployment", k8s_name=deployment).inputs["spec"]["template"]["spec"]
    secrets = {v["name"]: v["secret"] for v in spec.get("volumes", []) if "secret" in v}
    return {
        m["mountPath"]: secrets[m["name"]]
        for m in spec["containers"][0].get("volumeMounts", [])
        if m["name"] in secrets
    }


def test_deployments_read_credentials_from_mounted_secrets_only(prod: Recording) -> None:
    # Files, not environment variables (an env var leaks into process listings, crash dumps, child processes).
    for name in ("grafana", "kiali"):
        env = env_of(prod, name)
        assert not any(isinstance(v, dict) and "secretKeyRef" in v for v in env.values()), env
    env = env_of(prod, "grafana")
    assert env["GF_SECURITY_ADMIN_PASSWORD__FILE"] == "/etc/grafana/admin/admin-password"
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert mounts_of(prod, "grafana")["/etc/grafana/admin"] == {"secretName": "grafana-admin"}
    assert mounts_of(prod, "kiali")["/kiali-override-secrets/login-token-signing-key"] == {
        "secretName": "kiali-signing-key",
        "items": [{"key": "key", "path": "value.txt"}],
    }
    assert not contains_secret(prod.one(kind="ConfigMap", k8s_name="kiali").inputs)


# --- dashboards: anonymous only where the stack allows it ---------------------------------------


def test_prod_dashboards_require_login_and_dev_may_be_anonymous(dev: Recording, prod: Recording) -> None:
    assert config_yaml(prod, "kiali", "config.yaml")["auth"] == {"strategy": "token"}
    assert config_yaml(dev, "kiali", "config.yaml")["auth"] == {"strategy": "anonymous"}
    assert env_of(dev, "grafana")["GF_AUTH_ANONYMOUS_ENABLED"] == "true"


def test_prod_refuses_anonymous_dashboards_by_path() -> None:
    message, registered = config_error(
        "prod", addons={"grafana": {"auth": "anonymous"}, "kiali": {"auth": "anonymous"}}
    )
    assert registered == []
    assert "meshstack:addons.grafana.auth: anonymous dashboards are refused in prod; use login" in message
    assert "meshstack:addons.kiali.auth: anonymous dashboards are refused in prod; use login" in message


# --- wiring ----------------------------------------------------------------------------------------


def test_prometheus_scrapes_istiod_and_merged_sidecar_stats(prod: Recording) -> None:
    cfg = config_yaml(prod, "prometheus", "prometheus.yml")
    jobs = {j["job_name"]: j for j in cfg["scrape_configs"]}
    keep = jobs["istiod"]["relabel_configs"][0]
    assert keep["regex"] == "istiod(-.+)?;http-monitoring" and keep["action"] == "keep"
    assert jobs["istiod"]["kubernetes_sd_configs"] == [{"role": "endpoints", "namespaces": {"names": [NS]}}]
    pods = jobs["kubernetes-pods"]["relabel_configs"]
    assert pods[0]["source_labels"] == ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"]
    assert cfg["global"]["scrape_interval"] == "15s"
    # Sidecars expose merged stats only when istiod merges them.
    istiod = redact(prod.one(type="kubernetes:helm.sh/v4:Chart", name="mesh-istiod").inputs["values"])
    assert istiod["meshConfig"]["enablePrometheusMerge"] is True


def test_grafana_has_the_prometheus_datasource_and_istio_dashboards(prod: Recording) -> None:
    sources = config_yaml(prod, "grafana-datasources", "datasources.yaml")["datasources"]
    assert sources[0] == {
        "name": "Prometheus",
        "uid": "prometheus",
        "type": "prometheus",
        "access": "proxy",
        "url": "http://prometheus.istio-system:9090",
        "isDefault": True,
        "editable": False,
    }
    assert sources[1]["type"] == "jaeger"
    files = prod.one(kind="ConfigMap", k8s_name="istio-grafana-dashboards").inputs["data"]
    assert set(files) == {"istio-mesh.json", "istio-service.json", "istio-workload.json", "istio-control-plane.json"}
    mesh = json.loads(files["istio-mesh.json"])
    assert all(p["datasource"]["uid"] == "prometheus" for p in mesh["panels"])
    assert any("istio_requests_total" in p["targets"][0]["expr"] for p in mesh["panels"])


def test_jaeger_is_the_mesh_tracing_provider_with_stack_sampling(prod: Recording) -> None:
    istiod = redact(prod.one(type="kubernetes:helm.sh/v4:Chart", name="mesh-istiod").inputs["values"])
    assert istiod["meshConfig"]["extensionProviders"] == [
        {
            "name": "jaeger",
            "opentelemetry": {"service": "jaeger-collector.istio-system.svc.cluster.local", "port": 4317},
        }
    ]
    tracing = prod.one(kind="Telemetry").inputs["spec"]["tracing"][0]
    assert tracing == {"randomSamplingPercentage": 1.0, "providers": [{"name": "jaeger"}]}
    sampled = run_stack("prod", mesh={"tracing": {"sampling": 7.5}})
    assert sampled.one(kind="Telemetry").inputs["spec"]["tracing"][0]["randomSamplingPercentage"] == 7.5
    collector = prod.one(kind="Service", k8s_name="jaeger-collector").inputs["spec"]["ports"]
    assert {"name": "grpc-otlp", "port": 4317, "targetPort": 4317, "protocol": "TCP"} in collector


def test_kiali_points_at_prometheus_grafana_and_jaeger(prod: Recording) -> None:
    ext = config_yaml(prod, "kiali", "config.yaml")["external_services"]
    assert ext["prometheus"]["url"] == "http://prometheus.istio-system:9090"
    assert ext["grafana"]["internal_url"] == "http://grafana.istio-system:3000"
    assert ext["grafana"]["auth"]["type"] == "basic"
    assert ext["tracing"]["internal_url"] == "http://tracing.istio-system:16685" and ext["tracing"]["use_grpc"]
    kiali_dep = prod.one(kind="Deployment", k8s_name="kiali")
    for svc in ("prometheus", "grafana", "tracing"):
        assert prod.depends_on(kiali_dep, prod.one(kind="Service", k8s_name=svc)), svc


def test_addon_pods_are_never_injected_and_run_unprivileged(prod: Recording) -> None:
    for name in ("prometheus", "grafana", "jaeger", "kiali"):
        tpl = prod.one(kind="Deployment", k8s_name=name).inputs["spec"]["template"]
        assert tpl["metadata"]["labels"]["sidecar.istio.io/inject"] == "false"
        assert tpl["spec"]["securityContext"]["runAsNonRoot"] is True
        assert tpl["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] is False


def test_addon_images_are_pinned(prod: Recording) -> None:
    images = {
        name: prod.one(kind="Deployment", k8s_name=name).inputs["spec"]["template"]["spec"]["containers"][0]["image"]
        for name in ("prometheus", "grafana", "jaeger", "kiali")
    }
    assert all(":" in image and not image.endswith(":latest") for image in images.values()), images
    bumped = run_stack("prod", addons={"grafana": {"version": "12.4.0"}})
    image = bumped.one(kind="Deployment", k8s_name="grafana").inputs["spec"]["template"]["spec"]["containers"][0][
        "image"
    ]
    assert image == "docker.io/grafana/grafana:12.4.0"


# --- optional ----------------------------------------------------------------------------------


def test_each_addon_is_optional() -> None:
    rec = run_stack("dev", addons={"kiali": {"enabled": False}, "jaeger": {"enabled": False}})
    assert not rec.find(kind="Deployment", k8s_name="kiali") and not rec.find(kind="Deployment", k8s_name="jaeger")
    istiod = redact(rec.one(type="kubernetes:helm.sh/v4:Chart", name="mesh-istiod").inputs["values"])
    assert "extensionProviders" not in istiod["meshConfig"]
    assert "providers" not in rec.one(kind="Telemetry").inputs["spec"]["tracing"][0]
    assert set(rec.outputs["addonUrls"]) == {"prometheus", "grafana"}
    none = run_stack("dev", addons={k: {"enabled": False} for k in ("prometheus", "grafana", "jaeger", "kiali")})
    assert not none.find(type="random:index/randomPassword:RandomPassword") and none.outputs["addonUrls"] == {}


def test_dashboards_need_prometheus() -> None:
    message, _ = config_error("dev", addons={"prometheus": {"enabled": False}})
    assert "meshstack:addons.grafana.enabled: grafana reads Prometheus" in message
    assert "meshstack:addons.kiali.enabled: kiali reads Prometheus" in message


# --- pure render, validated against the Kubernetes OpenAPI schemas ---------------------------------


def test_rendered_addon_manifests_pass_the_kubernetes_schemas() -> None:
    addons = AddonsConfig()
    docs = [
        *prometheus.manifests(addons.prometheus, NS),
        *grafana.manifests(addons.grafana, NS, with_jaeger=True),
        grafana.admin_secret(NS, "admin", "placeholder"),
        *jaeger.manifests(addons.jaeger, NS),
        *kiali.manifests(addons, NS),
        kiali.signing_key_secret(NS, "placeholder"),
    ]
    assert validate_manifests(docs) == []
    assert len({(d["kind"], d["metadata"]["name"]) for d in docs}) == len(docs)


def test_bad_addon_values_name_paths() -> None:
    message, _ = config_error("dev", addons={"prometheus": {"retention": "forever"}, "grafana": {"version": "a b"}})
    assert "meshstack:addons.prometheus.retention: expected a retention such as 6h, 15d or 2w" in message
    assert "meshstack:addons.grafana.version:" in message


def test_dashboard_builder_is_deterministic() -> None:
    assert dashboard_files() == dashboard_files()
    assert len(DASHBOARDS) == 4 and PrometheusAddon().retention == "15d" and GrafanaAddon().admin_user == "admin"


# --- the builtin secret generator (no pulumi-random plugin) -------------------------------------


def test_builtin_generator_makes_secret_dynamic_tokens_instead_of_random_passwords() -> None:
    from meshstack.testing import contains_secret
    from tests.harness import run_stack

    rec = run_stack("prod", secrets={"generator": "builtin"})
    assert not rec.find(type="random:index/randomPassword:RandomPassword")
    tokens = rec.find(type="pulumi-python:dynamic:Resource")
    assert sorted(t.name for t in tokens) == ["addons-grafana-admin-password", "addons-kiali-signing-key"]
    for secret in rec.find(kind="Secret", namespace="istio-system"):
        assert contains_secret(secret.inputs.get("stringData")), secret.name
    assert "x" * 24 not in repr(rec.outputs)


def test_token_provider_draws_a_fresh_alphanumeric_value_and_replaces_on_new_length() -> None:
    from meshstack.components.secret import _TokenProvider

    provider = _TokenProvider()
    a, b = provider.create({"length": 32}), provider.create({"length": 32})
    assert a.outs["value"] != b.outs["value"] and len(a.outs["value"]) == 32 and a.outs["value"].isalnum()
    assert provider.diff("id", {"length": 32}, {"length": 32}).changes is False
    assert provider.diff("id", {"length": 32}, {"length": 40}).replaces == ["length"]
