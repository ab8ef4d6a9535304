"""The platform as a whole: workload namespaces, outputs, the canary upgrade as config steps,
resource counts, and bad config stopping the program with path-named errors."""

from __future__ import annotations

from typing import Any

import pytest

from meshstack.errors import ConfigError
from meshstack.model.mesh import MeshConfig
from meshstack.model.namespace import WorkloadNamespace
from meshstack.render.namespaces import InjectionLabelError, check_injection_labels, workload_namespace
from meshstack.render.platform import mesh_ref
from meshstack.stacks.config import load_stack_spec
from tests.harness import Recording, config_error, run_stack

# --- workload namespaces: exactly one injection label --------------------------------------------


@pytest.mark.parametrize(
    ("mesh", "ns", "labels"),
    [
        ({}, {}, {"istio-injection": "enabled"}),
        (
            {"revisions": [{"name": "1-30-0"}], "tags": {"stable": "1-30-0"}},
            {"revision": "stable"},
            {"istio.io/rev": "stable"},
        ),
        ({"revisions": [{"name": "1-30-0"}], "workloadRevision": "1-30-0"}, {}, {"istio.io/rev": "1-30-0"}),
    ],
)
def test_workload_namespace_has_exactly_one_injection_label(
    mesh: dict[str, Any], ns: dict[str, Any], labels: dict[str, str]
) -> None:
    doc = workload_namespace("shop", WorkloadNamespace.parse(ns), MeshConfig.parse(mesh))
    injection = {k: v for k, v in doc["metadata"]["labels"].items() if k in ("istio-injection", "istio.io/rev")}
    assert injection == labels


@pytest.mark.parametrize(
    "labels",
    [{"istio-injection": "enabled", "istio.io/rev": "stable"}, {}, {"istio-injection": "disabled"}],
)
def test_injection_label_check_refuses_both_none_or_disabled(labels: dict[str, str]) -> None:
    with pytest.raises(InjectionLabelError):
        check_injection_labels(labels)


def test_namespace_config_errors_name_paths() -> None:
    with pytest.raises(ConfigError) as err:
        load_stack_spec(
            {
                "environment": "dev",
                "namespaces": {"shop": {"revision": "canary", "labels": {"team": "a"}}, "istio-system": {}},
            }
        )
    assert err.value.paths == ["namespaces.istio-system", "namespaces.shop.revision"]
    with pytest.raises(ConfigError) as err:
        load_stack_spec({"environment": "dev", "namespaces": {"shop": {"labels": {"istio.io/rev": "x"}}}})
    assert err.value.paths == ["namespaces.shop.labels.istio.io/rev"]


def test_namespaces_are_created_under_their_component() -> None:
    rec = run_stack("dev", namespaces={"shop": {"labels": {"team": "payments"}}})
    ns = rec.one(kind="Namespace", k8s_name="shop")
    assert ns.inputs["metadata"]["labels"] == {
        "team": "payments",
        "istio-injection": "enabled",
        "app.kubernetes.io/managed-by": "meshstack",
    }
    assert rec.parent_of(ns).type == "meshstack:namespaces:WorkloadNamespaces"  # type: ignore[union-attr]


# --- the canary control-plane upgrade, as stack-config changes alone -------------------------------

#: The runbook of docs/platform.md, step by step: each dict is the stack's meshstack:mesh and
#: meshstack:namespaces after the step.
RUNBOOK: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "0-running-1-30",
        {
            "version": "1.30.0",
            "revisions": [{"name": "1-30-0", "version": "1.30.0"}],
            "tags": {"prod-stable": "1-30-0"},
            "workloadRevision": "prod-stable",
        },
        {"shop": {}, "payments": {}},
    ),
    (
        "1-canary-installed",
        {
            "version": "1.31.0",
            "revisions": [{"name": "1-30-0", "version": "1.30.0"}, {"name": "1-31-0", "version": "1.31.0"}],
            "tags": {"prod-stable": "1-30-0", "prod-canary": "1-31-0"},
            "workloadRevision": "prod-stable",
        },
        {"shop": {}, "payments": {"revision": "prod-canary"}},
    ),
    (
        "2-tag-moved",
        {
            "version": "1.31.0",
            "revisions": [{"name": "1-30-0", "version": "1.30.0"}, {"name": "1-31-0", "version": "1.31.0"}],
            "tags": {"prod-stable": "1-31-0", "prod-canary": "1-31-0"},
            "workloadRevision": "prod-stable",
            "defaultRevision": "1-31-0",
        },
        {"shop": {}, "payments": {}},
    ),
    (
        "3-old-removed",
        {
            "version": "1.31.0",
            "revisions": [{"name": "1-31-0", "version": "1.31.0"}],
            "tags": {"prod-stable": "1-31-0"},
            "workloadRevision": "prod-stable",
        },
        {"shop": {}, "payments": {}},
    ),
]


@pytest.fixture(scope="module")
def runbook() -> dict[str, Recording]:
    return {step: run_stack("prod", mesh=mesh, namespaces=ns) for step, mesh, ns in RUNBOOK}


def _istiods(rec: Recording) -> list[str]:
    return sorted(c.inputs["name"] for c in rec.helm_charts if c.inputs["chart"] == "istiod")


def _tag(rec: Recording, tag: str) -> str:
    hook = rec.one(kind="MutatingWebhookConfiguration", k8s_name=f"istio-revision-tag-{tag}")
    return str(hook.inputs["metadata"]["labels"]["istio.io/rev"])


def _ns_label(rec: Recording, ns: str) -> dict[str, str]:
    labels = rec.one(kind="Namespace", k8s_name=ns).inputs["metadata"]["labels"]
    return {k: v for k, v in labels.items() if k in ("istio-injection", "istio.io/rev")}


def test_canary_upgrade_runbook_is_config_only(runbook: dict[str, Recording]) -> None:
    s0, s1, s2, s3 = (runbook[step] for step, _, _ in RUNBOOK)
    assert _istiods(s0) == ["istiod-1-30-0"] and _tag(s0, "prod-stable") == "1-30-0"
    # 1: both revisions side by side; one namespace relabelled onto the canary tag.
    assert _istiods(s1) == ["istiod-1-30-0", "istiod-1-31-0"] and _tag(s1, "prod-canary") == "1-31-0"
    assert _ns_label(s1, "payments") == {"istio.io/rev": "prod-canary"}
    assert _ns_label(s1, "shop") == {"istio.io/rev": "prod-stable"}
    base = s1.one(type="kubernetes:helm.sh/v4:Chart", name="mesh-base")
    assert base.inputs["version"] == "1.31.0", "CRDs come from the newest release"
    # 2: the tag moves in place; every namespace on prod-stable now gets 1-31-0 on restart.
    assert _tag(s2, "prod-stable") == "1-31-0" and _tag(s2, "default") == "1-31-0"
    assert _ns_label(s2, "payments") == {"istio.io/rev": "prod-stable"}
    # 3: the old revision is gone; nothing else moved.
    assert _istiods(s3) == ["istiod-1-31-0"] and _tag(s3, "prod-stable") == "1-31-0"
    assert s3.outputs["revisions"] == ["istiod-1-31-0"]


def test_an_old_revision_cannot_be_removed_while_a_tag_points_at_it() -> None:
    _, mesh, ns = RUNBOOK[1]
    early = {**mesh, "revisions": [{"name": "1-31-0", "version": "1.31.0"}]}
    message, registered = config_error("prod", mesh=early, namespaces=ns)
    assert registered == []
    assert (
        "meshstack:mesh.tags.prod-stable: points at revision 1-30-0, which is not installed; revisions: 1-31-0"
        in message
    )


# --- outputs ---------------------------------------------------------------------------------------


def test_outputs_give_urls_port_forwards_and_the_ingress_address(prod: Recording) -> None:
    out = prod.outputs
    assert out["addonUrls"] == {
        "prometheus": "http://prometheus.istio-system.svc.cluster.local:9090",
        "grafana": "http://grafana.istio-system.svc.cluster.local:3000",
        "jaeger": "http://tracing.istio-system.svc.cluster.local:80",
        "kiali": "http://kiali.istio-system.svc.cluster.local:20001/kiali",
    }
    assert out["portForward"]["grafana"] == {
        "command": "kubectl -n istio-system port-forward svc/grafana 3000:3000",
        "open": "http://localhost:3000",
    }
    assert out["portForward"]["jaeger"]["command"] == "kubectl -n istio-system port-forward svc/tracing 16686:80"
    assert out["portForward"]["kiali"]["open"] == "http://localhost:20001/kiali"
    assert out["ingress"]["service"] == "istio-ingressgateway.istio-ingress.svc.cluster.local"
    assert out["ingress"]["externalAddressCommand"].startswith("kubectl -n istio-ingress get svc istio-ingressgateway")
    assert out["controlPlaneNamespace"] == "istio-system"


def test_mesh_ref_for_the_apps_matches_the_stack() -> None:
    spec = load_stack_spec({"environment": "prod", "mesh": RUNBOOK[0][1]})
    ref = mesh_ref(spec)
    assert ref.injection_labels == {"istio.io/rev": "prod-stable"}
    assert ref.ingress is not None and ref.ingress.qualified == "istio-ingress/ingress" and ref.ingress.port == 80


# --- the resource graph ----------------------------------------------------------------------------


def test_platform_components_and_counts(dev: Recording, prod: Recording) -> None:
    for rec in (dev, prod):
        [platform] = rec.find(type="meshstack:platform:MeshPlatform")
        kids = {r.type for r in rec.children_of(platform)}
        assert kids == {
            "meshstack:control_plane:MeshControlPlane",
            "meshstack:namespaces:WorkloadNamespaces",
            "meshstack:gateways:MeshGateways",
            "meshstack:addons:MeshAddons",
        }
    kinds = {
        name: sorted(r.inputs.get("kind", r.type.rsplit(":", 1)[-1]) for r in platform_resources(rec))
        for name, rec in (("dev", dev), ("prod", prod))
    }
    # dev (demo profile) has the egress gateway (its namespace and chart); prod adds istio-cni, the
    # mesh-wide allow-nothing and the ingress gateway's opening, NetworkPolicies (control plane: 4,
    # ingress namespace: 2), Prometheus's claim, Kiali's PDB and namespaced Role.
    assert kinds["dev"].count("Chart") == 4 and kinds["prod"].count("Chart") == 4
    assert kinds["dev"].count("Namespace") == 3 and kinds["prod"].count("Namespace") == 2
    assert kinds["prod"].count("NetworkPolicy") == 6 and "NetworkPolicy" not in kinds["dev"]
    assert kinds["prod"].count("AuthorizationPolicy") == 2 and "AuthorizationPolicy" not in kinds["dev"]
    assert kinds["prod"].count("PersistentVolumeClaim") == 1 and kinds["prod"].count("PodDisruptionBudget") == 1
    for kind in ("Deployment", "RandomPassword"):
        assert kinds["prod"].count(kind) == kinds["dev"].count(kind) == {"Deployment": 4, "RandomPassword": 2}[kind]


def platform_resources(rec: Recording) -> list[Any]:
    """Kubernetes objects, charts (remote components) and random values inside the MeshPlatform."""
    [platform] = rec.find(type="meshstack:platform:MeshPlatform")
    out = []
    for res in rec.resources:
        if not res.type.startswith(("kubernetes:", "random:")):
            continue
        parent = rec.parent_of(res)
        while parent is not None and parent.urn != platform.urn:
            parent = rec.parent_of(parent)
        if parent is not None:
            out.append(res)
    return out


def test_bad_platform_config_stops_before_any_resource() -> None:
    message, registered = config_error(
        "prod",
        mesh={"profile": "ambient", "tags": {"stable": "x"}},
        gateways={"api": "ingress"},
    )
    assert registered == []
    assert "meshstack:mesh.profile: expected one of default, demo, minimal" in message
    assert "meshstack:gateways.api: expected one of istio, gatewayApi" in message
