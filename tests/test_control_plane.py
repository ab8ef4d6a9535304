"""The control plane under mocks and as pure render: ordering, charts per stack, revisions and
tags, profiles, HA values, the webhook-drift and CRD-retention transforms."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pulumi
import pytest

from meshstack.components.control_plane import ISTIOD_OWNED_WEBHOOK_FIELDS, ignore_istiod_webhook_fields, retain_crds
from meshstack.errors import ConfigError
from meshstack.model.mesh import MeshConfig
from meshstack.model.profile import Profile, ProfileName
from meshstack.render import control_plane as render
from meshstack.render.revision_tags import revision_tag_webhooks
from meshstack.testing import redact
from meshstack.versions import ISTIO_VERSION
from tests.harness import Recording, config_error, run_stack
from tests.schemas import KUBERNETES_VERSION, validate_manifests

CHART = "kubernetes:helm.sh/v4:Chart"
CANARY = {
    "version": "1.31.0",
    "revisions": [{"name": "1-30-0", "version": "1.30.0"}, {"name": "1-31-0", "version": "1.31.0"}],
    "tags": {"prod-stable": "1-30-0", "prod-canary": "1-31-0"},
    "workloadRevision": "prod-stable",
}


def values(chart: Any) -> dict[str, Any]:
    out: dict[str, Any] = redact(chart.inputs["values"])
    return out


# --- ordering --------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_everything_needing_webhooks_waits_for_istiod(stack: str, request: pytest.FixtureRequest) -> None:
    rec: Recording = request.getfixturevalue(stack)
    base = rec.one(type=CHART, name="mesh-base")
    istiod = rec.one(type=CHART, name="mesh-istiod")
    ingress = rec.one(type=CHART, name="gateways-ingress")
    assert rec.depends_on(ingress, istiod) and rec.depends_on(ingress, base), "gateway image: auto needs the injector"
    gateway = rec.one(kind="Gateway", k8s_name="ingress")
    assert rec.depends_on(gateway, istiod) and rec.depends_on(gateway, ingress)
    ns = rec.one(kind="Namespace", k8s_name="istio-system")
    for kind in ("Deployment", "Service", "ConfigMap"):
        for res in rec.find(kind=kind, namespace="istio-system"):
            assert rec.depends_on(res, ns), res.urn


def test_revisions_install_side_by_side_each_after_base() -> None:
    rec = run_stack("prod", mesh=CANARY)
    base = rec.one(type=CHART, name="mesh-base")
    old = rec.one(type=CHART, name="mesh-istiod-1-30-0")
    new = rec.one(type=CHART, name="mesh-istiod-1-31-0")
    assert rec.depends_on(old, base) and rec.depends_on(new, base)
    assert (old.inputs["version"], new.inputs["version"], base.inputs["version"]) == ("1.30.0", "1.31.0", "1.31.0")
    assert (old.inputs["name"], new.inputs["name"]) == ("istiod-1-30-0", "istiod-1-31-0")
    assert values(new)["revision"] == "1-31-0" and "revisionTags" not in values(new)
    assert values(base)["defaultRevision"] == "1-30-0"
    stable = rec.one(kind="MutatingWebhookConfiguration", k8s_name="istio-revision-tag-prod-stable")
    assert rec.depends_on(stable, old)
    assert stable.ignore_changes == list(ISTIOD_OWNED_WEBHOOK_FIELDS)
    # Every object that needs the webhooks waits for both revisions and the tags.
    gw_chart = rec.one(type=CHART, name="gateways-ingress")
    assert rec.depends_on(gw_chart, new) and rec.depends_on(gw_chart, stable)
    assert values(gw_chart)["revision"] == "prod-stable"


# --- chart source, version and values per stack --------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_charts_are_pinned_official_istio_charts(stack: str, request: pytest.FixtureRequest) -> None:
    rec: Recording = request.getfixturevalue(stack)
    charts = {c.name: c for c in rec.helm_charts}
    assert set(charts) >= {"mesh-base", "mesh-istiod", "gateways-ingress"}
    for chart in charts.values():
        assert chart.inputs["version"] == ISTIO_VERSION
        assert chart.inputs["repositoryOpts"]["repo"] == "https://istio-release.storage.googleapis.com/charts"
    assert {c.inputs["chart"] for c in charts.values()} <= {"base", "istiod", "gateway", "cni"}
    assert values(charts["mesh-base"])["base"]["enableCRDTemplates"] is True
    # prod installs istio-cni (Pod Security restricted needs pods without istio-init), before istiod.
    if stack == "prod":
        assert rec.depends_on(charts["mesh-istiod"], charts["mesh-cni"])
        assert values(charts["mesh-istiod"])["pilot"]["cni"] == {"enabled": True}
    else:
        assert "mesh-cni" not in charts


@pytest.mark.parametrize(
    ("repository", "chart", "repo", "version"),
    [
        ("oci://registry.example/istio", "oci://registry.example/istio/istiod", None, ISTIO_VERSION),
        ("/opt/charts", "/opt/charts/istiod", None, None),
        ("/opt/istio-charts-{version}", f"/opt/istio-charts-{ISTIO_VERSION}/istiod", None, None),
        ("https://mirror.example/charts", "istiod", "https://mirror.example/charts", ISTIO_VERSION),
    ],
)
def test_chart_repository_is_overridable(repository: str, chart: str, repo: str | None, version: str | None) -> None:
    rec = run_stack("dev", mesh={"chartRepository": repository})
    istiod = rec.one(type=CHART, name="mesh-istiod")
    assert istiod.inputs["chart"] == chart
    assert (istiod.inputs.get("repositoryOpts") or {}).get("repo") == repo
    assert istiod.inputs.get("version") == version


def test_prod_istiod_is_highly_available_and_dev_is_small(dev: Recording, prod: Recording) -> None:
    d = values(dev.one(type=CHART, name="mesh-istiod"))
    p = values(prod.one(type=CHART, name="mesh-istiod"))
    assert p["pilot"]["autoscaleEnabled"] is True
    assert (p["pilot"]["autoscaleMin"], p["pilot"]["autoscaleMax"], p["pdb"]["minAvailable"]) == (3, 10, 2)
    assert p["pilot"]["resources"]["limits"]["memory"] == "4Gi"
    assert d["pilot"]["autoscaleEnabled"] is False and d["pilot"]["replicaCount"] == 1 and "pdb" not in d
    gw = values(prod.one(type=CHART, name="gateways-ingress"))
    assert gw["autoscaling"] == {"enabled": True, "minReplicas": 2, "maxReplicas": 6}
    assert gw["podDisruptionBudget"] == {"minAvailable": 1}


def test_prod_is_strict_and_traces_little(dev: Recording, prod: Recording) -> None:
    assert prod.one(kind="PeerAuthentication", k8s_name="default").inputs["spec"]["mtls"]["mode"] == "STRICT"
    assert dev.one(kind="PeerAuthentication", k8s_name="default").inputs["spec"]["mtls"]["mode"] == "PERMISSIVE"
    tel = prod.one(kind="Telemetry").inputs["spec"]
    assert tel["tracing"] == [{"randomSamplingPercentage": 1.0, "providers": [{"name": "jaeger"}]}]
    assert dev.one(kind="Telemetry").inputs["spec"]["tracing"][0]["randomSamplingPercentage"] == 100.0


def test_mesh_config_values_are_typed_through() -> None:
    mesh = MeshConfig.parse({"outboundTrafficPolicy": "REGISTRY_ONLY", "accessLogging": False})
    v = render.istiod_values(mesh)
    assert v["meshConfig"]["outboundTrafficPolicy"] == {"mode": "REGISTRY_ONLY"}
    assert v["meshConfig"]["accessLogFile"] == ""
    assert v["meshConfig"]["enablePrometheusMerge"] is True
    off = MeshConfig.parse({"tracing": {"enabled": False}})
    assert render.mesh_telemetry(off)["spec"]["tracing"] == [{"disableSpanReporting": True}]
    assert render.istiod_values(off)["pilot"]["traceSampling"] == 0.0


def test_an_upstream_envoy_mesh_tells_istiod_to_leave_out_istios_envoy_extensions() -> None:
    istio = render.istiod_values(MeshConfig.parse({}))
    assert "env" not in istio["pilot"] and "defaultProviders" not in istio["meshConfig"]
    v = render.istiod_values(MeshConfig.parse({"proxy": {"flavor": "upstream-envoy"}}))
    # Without these, upstream Envoy rejects the listeners istiod sends (unknown filter types).
    assert v["pilot"]["env"] == {"PILOT_ENABLE_ALPN_FILTER": "false", "PILOT_ENABLE_METADATA_EXCHANGE": "false"}
    assert v["meshConfig"]["defaultProviders"] == {"metrics": []}
    # ... and its proxies export Envoy's per-cluster request statistics instead (rollouts read them).
    assert v["meshConfig"]["defaultConfig"]["proxyStatsMatcher"] == {
        "inclusionPrefixes": ["cluster.inbound|", "cluster.outbound|"]
    }


def test_prod_holds_apps_until_their_proxy_starts_and_refuses_upstream_envoy(dev: Recording, prod: Recording) -> None:
    def mesh_config(rec: Recording) -> dict[str, Any]:
        return dict(rec.one(type=CHART, name="mesh-istiod").inputs["values"]["meshConfig"])

    assert mesh_config(prod)["defaultConfig"] == {"holdApplicationUntilProxyStarts": True}
    assert "defaultConfig" not in mesh_config(dev)
    message, registered = config_error("prod", mesh={"proxy": {"flavor": "upstream-envoy"}})
    assert "mesh.proxy.flavor" in message and "prod runs Istio's own proxy (istio)" in message
    assert registered == []


# --- profiles ----------------------------------------------------------------------------------


def test_profiles_are_typed_presets() -> None:
    assert Profile.named("demo") == Profile.demo()
    assert (Profile.default().ingress_gateway, Profile.default().egress_gateway) == (True, False)
    assert (Profile.demo().egress_gateway, Profile.demo().trace_sampling) == (True, 100.0)
    assert not Profile.minimal().ingress_gateway and not Profile.minimal().egress_gateway
    with pytest.raises(ValueError):
        Profile.named("ambient")


def test_profile_fills_only_what_the_stack_leaves_unset() -> None:
    demo = MeshConfig(profile=ProfileName.DEMO)
    assert demo.access_logging is True and demo.tracing.sampling == 100.0
    assert demo.istiod.resources == Profile.demo().istiod_resources
    explicit = MeshConfig.parse({"profile": "demo", "accessLogging": False, "tracing": {"sampling": 5.0}})
    assert explicit.access_logging is False and explicit.tracing.sampling == 5.0
    assert MeshConfig().proxy.resources == Profile.default().proxy_resources


def test_minimal_profile_installs_no_gateways() -> None:
    rec = run_stack("dev", mesh={"profile": "minimal"}, apps={"bookinfo": {"expose": False}})
    assert not rec.find(type=CHART, name="gateways-ingress") and not rec.find(kind="Gateway")
    assert "ingress" not in rec.outputs


def test_exposing_apps_without_an_ingress_fails_before_anything_is_registered() -> None:
    message, registered = config_error("dev", mesh={"profile": "minimal"})
    assert (
        "  meshstack:apps.bookinfo.expose: productpage: the mesh has no ingress gateway to expose the app through"
        in message.splitlines()
    )
    assert registered == []


def test_dev_demo_profile_has_egress_and_prod_default_has_not(dev: Recording, prod: Recording) -> None:
    assert dev.find(type=CHART, name="gateways-egress") and not prod.find(type=CHART, name="gateways-egress")
    proxy = values(dev.one(type=CHART, name="mesh-istiod"))["global"]["proxy"]["resources"]
    assert proxy["requests"] == {"cpu": "10m", "memory": "40Mi"}


# --- revisions and tags: validation ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("mesh", "path", "words"),
    [
        ({"revisions": [{"name": "a"}], "tags": {"stable": "b"}}, "tags.stable", "not installed"),
        ({"revisions": [{"name": "a"}], "tags": {"a": "a"}}, "tags.a", "name of a revision"),
        ({"revisions": [{"name": "a"}], "tags": {"default": "a"}}, "tags.default", "reserved"),
        ({"tags": {"stable": "a"}}, "tags.stable", "set mesh.revisions first"),
        ({"revisions": [{"name": "a"}, {"name": "a"}]}, "revisions[1].name", "listed twice"),
        ({"revisions": [{"name": "a", "version": "1.31.0"}]}, "revisions[0].version", "newer than mesh.version"),
        ({"revisions": [{"name": "a"}], "defaultRevision": "b"}, "defaultRevision", "not installed"),
        ({"revisions": [{"name": "a"}], "workloadRevision": "b"}, "workloadRevision", "neither a revision nor a tag"),
    ],
)
def test_revision_config_errors_name_their_path(mesh: dict[str, Any], path: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        MeshConfig.parse(mesh, ("mesh",))
    assert f"mesh.{path}" in err.value.paths
    assert words in str(err.value)


def test_tag_webhooks_select_their_tag_and_call_their_revision() -> None:
    mesh = MeshConfig.parse(CANARY)
    hooks = revision_tag_webhooks(mesh)
    assert set(hooks) == {"prod-stable", "prod-canary", "default"}
    stable = hooks["prod-stable"]
    assert stable["metadata"]["labels"]["istio.io/rev"] == "1-30-0"
    assert {w["clientConfig"]["service"]["name"] for w in stable["webhooks"]} == {"istiod-1-30-0"}
    ns_sel = stable["webhooks"][0]["namespaceSelector"]["matchExpressions"]
    assert {"key": "istio.io/rev", "operator": "In", "values": ["prod-stable"]} in ns_sel
    assert {"key": "istio-injection", "operator": "DoesNotExist"} in ns_sel
    # The default tag also serves istio-injection=enabled namespaces.
    names = {w["name"] for w in hooks["default"]["webhooks"]}
    assert "namespace.sidecar-injector.istio.io" in names
    for hook in hooks.values():
        kubernetes_validate.validate(hook, KUBERNETES_VERSION, strict=True)


def test_moving_a_tag_keeps_the_resource_and_changes_the_service() -> None:
    before = run_stack("prod", mesh=CANARY)
    after = run_stack("prod", mesh={**CANARY, "tags": {"prod-stable": "1-31-0", "prod-canary": "1-31-0"}})
    b = before.one(kind="MutatingWebhookConfiguration", k8s_name="istio-revision-tag-prod-stable")
    a = after.one(kind="MutatingWebhookConfiguration", k8s_name="istio-revision-tag-prod-stable")
    assert a.urn == b.urn
    assert a.inputs["webhooks"][0]["clientConfig"]["service"]["name"] == "istiod-1-31-0"


def test_unnamed_revision_has_no_tags_and_the_plain_release(dev: Recording) -> None:
    assert not dev.find(kind="MutatingWebhookConfiguration")
    istiod = dev.one(type=CHART, name="mesh-istiod")
    assert istiod.inputs["name"] == "istiod" and "revision" not in values(istiod)
    assert "defaultRevision" not in values(dev.one(type=CHART, name="mesh-base"))


# --- transforms (mocks do not run them: call them directly) ---------------------------------------


def _transform_args(type_: str, opts: pulumi.ResourceOptions | None = None) -> pulumi.ResourceTransformArgs:
    return pulumi.ResourceTransformArgs(
        custom=True, type_=type_, name="x", props={"metadata": {"name": "x"}}, opts=opts or pulumi.ResourceOptions()
    )


@pytest.mark.parametrize("kind", ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"])
def test_webhook_transform_ignores_fields_istiod_mutates(kind: str) -> None:
    args = _transform_args(
        f"kubernetes:admissionregistration.k8s.io/v1:{kind}", pulumi.ResourceOptions(ignore_changes=["metadata.labels"])
    )
    result = ignore_istiod_webhook_fields(args)
    assert result is not None
    assert result.opts.ignore_changes == [
        "metadata.labels",
        "webhooks[*].clientConfig.caBundle",
        "webhooks[*].failurePolicy",
    ]
    assert result.props == args.props


@pytest.mark.parametrize(
    "type_",
    ["kubernetes:apps/v1:Deployment", "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"],
)
def test_webhook_transform_leaves_other_objects_alone(type_: str) -> None:
    assert ignore_istiod_webhook_fields(_transform_args(type_)) is None


@pytest.mark.parametrize(("retain", "protect"), [(True, True), (False, False)])
def test_crds_are_retained_only_when_the_stack_says_so(retain: bool, protect: bool) -> None:
    transform = retain_crds(MeshConfig(retain_on_delete=retain, protect=protect))
    result = transform(_transform_args("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"))
    assert result is not None
    assert (result.opts.retain_on_delete, result.opts.protect) == (retain, protect)
    assert (
        transform(_transform_args("kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration")) is None
    )


def test_prod_namespace_can_be_made_purgeable_by_config() -> None:
    purge = run_stack("prod", mesh={"retainOnDelete": False, "protect": False})
    ns = purge.one(kind="Namespace", k8s_name="istio-system")
    assert (ns.protect, ns.retain_on_delete) == (False, False)


def test_rendered_control_plane_objects_pass_their_schemas() -> None:
    mesh = MeshConfig.parse(CANARY)
    docs = [
        render.control_plane_namespace(mesh),
        render.mesh_peer_authentication(mesh),
        render.mesh_telemetry(mesh, "jaeger"),
    ]
    assert validate_manifests(docs) == []
