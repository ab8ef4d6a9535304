"""The offline render (``meshstack render``, make render): real program under mocks → YAML a reviewer
can read, every object included (the charts' too), byte-identical for the same inputs; and
``meshstack diff`` of two renders or stacks."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import kubernetes_validate
import pulumi
import pulumi_kubernetes as k8s
import pytest
from typer.testing import CliRunner

from meshstack.cli import app as cli
from meshstack.testing import REDACTED, Recording, run
from meshstack.tools import render
from meshstack.tools.canonical import load_all
from meshstack.tools.charts import ChartTools, expand
from meshstack.versions import ISTIO_CHART_REPOSITORY, ISTIO_VERSION
from tests.harness import ROOT


def _cli(*args: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(cli, list(args))
    return done.exit_code, done.stdout, done.stderr


CORE_GROUPS = ("v1", "apps/v1", "policy/v1", "rbac.authorization.k8s.io/v1", "autoscaling/v2", "batch/v1",
               "networking.k8s.io/v1", "admissionregistration.k8s.io/v1", "apiextensions.k8s.io/v1")  # fmt: skip


def _render(stack: str, out: Path, *args: str) -> dict[str, list[dict[str, Any]]]:
    code, _, err = _cli("render", "--stack", stack, "--out", str(out), *args)
    assert code == 0, err
    return {name: load_all((out / f"{name}.yaml").read_text()) for name in ("manifests", "charts", "resources")}


@pytest.fixture(scope="module")
def offline_charts() -> None:
    """Istio's charts of the pinned release and helm, as `make engine` leaves them (cached)."""
    done = subprocess.run([str(ROOT / "scripts" / "istio_charts.sh"), "--with-helm"], check=False, capture_output=True,
                          text=True, timeout=3600)  # fmt: skip
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def render_dirs(tmp_path_factory: pytest.TempPathFactory, offline_charts: None) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("render")
    for stack in ("dev", "prod"):
        _render(stack, base / stack)
    return {stack: base / stack for stack in ("dev", "prod")}


@pytest.fixture(scope="module")
def rendered(render_dirs: dict[str, Path]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    return {
        stack: {name: load_all((out / f"{name}.yaml").read_text()) for name in ("manifests", "charts", "resources")}
        for stack, out in render_dirs.items()
    }


def _named(docs: list[dict[str, Any]], kind: str) -> set[str]:
    return {d["metadata"]["name"] for d in docs if d["kind"] == kind}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_object_is_a_complete_manifest(rendered: dict[str, Any], stack: str) -> None:
    manifests = rendered[stack]["manifests"]
    assert manifests, "a stack renders Kubernetes objects"
    for doc in manifests:
        assert {"apiVersion", "kind", "metadata"} <= set(doc), doc
        assert doc["metadata"].get("name"), doc


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_core_objects_pass_the_kubernetes_openapi_schema(rendered: dict[str, Any], stack: str) -> None:
    core = [d for d in rendered[stack]["manifests"] if d["apiVersion"] in CORE_GROUPS]
    assert core
    for doc in core:
        kubernetes_validate.validate(doc, "1.34", strict=True)


def test_prod_render_lists_the_control_plane(rendered: dict[str, Any], render_dirs: dict[str, Path]) -> None:
    """The charts' objects, templated from the pinned charts with the stack's values: istiod, the
    CRDs, the webhooks and the gateway, each marked with the chart it comes from."""
    docs = rendered["prod"]["manifests"]
    assert {"istiod"} <= _named(docs, "Deployment") and "istio-ingressgateway" in _named(docs, "Deployment")
    assert {"virtualservices.networking.istio.io", "destinationrules.networking.istio.io",
            "peerauthentications.security.istio.io"} <= _named(docs, "CustomResourceDefinition")  # fmt: skip
    assert "istio-sidecar-injector" in _named(docs, "MutatingWebhookConfiguration")
    assert {"istiod-default-validator", "istio-validator-istio-system"} <= _named(
        docs, "ValidatingWebhookConfiguration"
    )
    [istiod] = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "istiod"]
    [discovery] = istiod["spec"]["template"]["spec"]["containers"]
    assert discovery["image"] == f"docker.io/istio/pilot:{ISTIO_VERSION}"
    assert discovery["resources"]["requests"]["memory"] == "2Gi"  # prod's istiod values, templated
    assert "replicas" not in istiod["spec"]  # prod's istiod autoscales: the HPA owns the count
    text = (render_dirs["prod"] / "manifests.yaml").read_text()
    assert "# chart: mesh-istiod\napiVersion: apps/v1\nkind: Deployment\n" in text
    assert "# chart: mesh-base\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n" in text
    # In install order: the CRDs first, the webhooks after the Deployments.
    kinds = [d["kind"] for d in docs]
    assert kinds[0] == "CustomResourceDefinition"
    assert kinds.index("MutatingWebhookConfiguration") > max(i for i, k in enumerate(kinds) if k == "Deployment")


def test_chart_objects_are_namespaced_and_transformed_as_the_provider_does(rendered: dict[str, Any]) -> None:
    docs = rendered["dev"]["manifests"]
    cluster_scoped = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding",
                      "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}  # fmt: skip
    for doc in docs:
        assert bool(doc["metadata"].get("namespace")) == (doc["kind"] not in cluster_scoped), doc["metadata"]
    [ingress] = [d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == "istio-ingressgateway"]
    # helm_chart's transform on the chart's Services (a NodePort Service in dev) ran.
    assert ingress["metadata"]["annotations"]["pulumi.com/waitFor"] == "jsonpath={.spec.clusterIP}"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_charts_name_chart_repository_version_values(rendered: dict[str, Any], stack: str) -> None:
    charts = {c["chart"]: c for c in rendered[stack]["charts"]}
    assert {"base", "istiod"} <= set(charts)
    for chart in charts.values():
        assert chart["kind"] == "HelmChart"
        assert chart["repository"] and chart["version"] and isinstance(chart["values"], dict)


def test_dev_and_prod_renders_differ_where_environments_should(rendered: dict[str, Any]) -> None:
    def peer_auth(stack: str) -> str:
        [pa] = [
            d
            for d in rendered[stack]["manifests"]
            if d["kind"] == "PeerAuthentication" and d["metadata"]["name"] == "default"
        ]
        return str(pa["spec"]["mtls"]["mode"])

    def istiod(stack: str) -> dict[str, Any]:
        return next(c for c in rendered[stack]["charts"] if c["chart"] == "istiod")["values"]

    assert (peer_auth("dev"), peer_auth("prod")) == ("PERMISSIVE", "STRICT")
    assert istiod("dev")["pilot"]["replicaCount"] == 1 and istiod("dev")["pilot"]["autoscaleEnabled"] is False
    assert istiod("prod")["pilot"]["autoscaleEnabled"] is True and istiod("prod")["pdb"]["minAvailable"] >= 1
    assert istiod("dev")["pilot"]["traceSampling"] > istiod("prod")["pilot"]["traceSampling"]


def test_summary_counts_match_the_files(rendered: dict[str, Any], render_dirs: dict[str, Path]) -> None:
    summary = (render_dirs["dev"] / "summary.txt").read_text()
    assert f"kubernetes objects: {len(rendered['dev']['manifests'])}" in summary
    assert f"helm charts: {len(rendered['dev']['charts'])}" in summary


def test_renders_are_byte_identical_across_processes(render_dirs: dict[str, Path], tmp_path: Path) -> None:
    """Five renders of each stack in separate processes, each with another hash seed (set and dict
    order differ): the same bytes as the module's render, file by file."""

    def one(job: tuple[str, int]) -> subprocess.CompletedProcess[str]:
        stack, seed = job
        cmd = [
            sys.executable,
            "-m",
            "meshstack.cli",
            "render",
            "--stack",
            stack,
            "--out",
            str(tmp_path / f"{stack}-{seed}"),
        ]
        env = {**os.environ, "PYTHONHASHSEED": str(seed)}
        return subprocess.run(cmd, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)

    jobs = [(stack, seed) for stack in ("dev", "prod") for seed in range(1, 6)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for done in pool.map(one, jobs):
            assert done.returncode == 0, done.stderr
    for stack, seed in jobs:
        for name in render.FILES:
            ours, theirs = (render_dirs[stack] / name).read_bytes(), (tmp_path / f"{stack}-{seed}" / name).read_bytes()
            assert ours == theirs, f"{stack} render with PYTHONHASHSEED={seed}: {name} differs"


def _reversed_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reversed_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed_keys(v) for v in value]
    return value


def test_the_render_does_not_depend_on_registration_or_field_order(
    prod: Recording, tmp_path: Path, offline_charts: None
) -> None:
    """What differs between runs and between pulumi/protobuf releases: the order resources register
    in and the order the wire format hands back their fields (the charts' values included)."""
    render.write_render(prod, tmp_path / "a", expand(prod, ChartTools.locate(), ROOT), "meshstack")
    shuffled = [replace(r, inputs=_reversed_keys(r.inputs)) for r in prod.resources]
    random.Random(3).shuffle(shuffled)
    other = Recording(prod.stack, shuffled, prod.outputs, prod.secret_outputs)
    render.write_render(other, tmp_path / "b", expand(other, ChartTools.locate(), ROOT), "meshstack")
    for name in render.FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_no_charts_is_explicit_and_says_so(tmp_path: Path) -> None:
    docs = _render("dev", tmp_path, "--no-charts")["manifests"]
    assert "istiod" not in _named(docs, "Deployment") and "productpage-v1" in _named(docs, "Deployment")
    assert "(charts, config groups): not rendered (--no-charts)" in (tmp_path / "summary.txt").read_text()


def test_missing_helm_or_charts_fail_with_what_to_run(tmp_path: Path) -> None:
    code, _, err = _cli("render", "--stack", "dev", "--out", str(tmp_path / "a"), "--helm", str(tmp_path / "helm"))
    assert code == 2
    assert f"no helm binary at {tmp_path}/helm; run `make engine`" in err and "--no-charts" in err
    code, _, err = _cli("render", "--stack", "dev", "--out", str(tmp_path / "b"), "--charts", str(tmp_path))
    assert code == 2
    assert f"chart base {ISTIO_VERSION} from {ISTIO_CHART_REPOSITORY}: no {tmp_path}/base/Chart.yaml" in err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_team_project_renders_from_its_own_directory(tmp_path: Path, offline_charts: None) -> None:
    """examples/platform-team: its own program (Pulumi.yaml, shop_platform.py), its project's config
    keys (shop-platform:*), the Istio charts it installs with meshstack's defaults."""
    code, out, err = _cli("render", "--root", str(ROOT / "examples" / "platform-team"), "--stack", "staging",
                          "--out", str(tmp_path), "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["project"] == "shop-platform"
    docs = load_all((tmp_path / "manifests.yaml").read_text())
    [vs] = [d for d in docs if d["kind"] == "VirtualService" and d["metadata"]["name"] == "checkout"]
    assert [r["weight"] for r in vs["spec"]["http"][0]["route"]] == [90, 10]  # shop-platform:checkoutCanaryWeight
    [ingress] = [d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == "istio-ingressgateway"]
    assert ingress["spec"]["type"] == "LoadBalancer"  # shop-platform:ingressServiceType
    assert "istiod" in _named(docs, "Deployment") and "checkout-v2" in _named(docs, "Deployment")
    assert "project: shop-platform\nstack: staging\n" in (tmp_path / "summary.txt").read_text()


def test_a_project_program_with_its_own_main_and_config_defaults(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text(
        "name: tiny\nruntime: {name: python}\nmain: src/\n"
        "config:\n  greeting: {type: string, default: hello}\n  size: {type: integer}\n"
    )
    (tmp_path / "Pulumi.test.yaml").write_text("config:\n  tiny:size: 3\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "helper.py").write_text("NAME = 'tiny-config'\n")
    (tmp_path / "src" / "__main__.py").write_text(
        "import pulumi, pulumi_kubernetes as k8s\nfrom helper import NAME\n"
        "c = pulumi.Config()\n"
        "k8s.core.v1.ConfigMap('c', metadata={'name': NAME, 'namespace': 'default'},\n"
        "                      data={'greeting': c.require('greeting'), 'size': str(c.require_int('size'))})\n"
        "k8s.yaml.v2.ConfigGroup('extra', files=['extra.yaml'])\n"
    )
    # A relative path in the program starts at its directory (its working directory).
    (tmp_path / "src" / "extra.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: tiny}\n")
    _render("test", tmp_path / "out", "--root", str(tmp_path))
    text = (tmp_path / "out" / "manifests.yaml").read_text()
    assert text.startswith("# yaml: extra\napiVersion: v1\nkind: Namespace\n")
    [ns, cm] = load_all(text)
    assert ns["metadata"]["name"] == "tiny"
    assert cm["metadata"]["name"] == "tiny-config" and cm["data"] == {"greeting": "hello", "size": "3"}


def test_a_program_missing_a_dependency_says_where_to_install_it(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: team\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text("import team_only_dependency\n")
    code, _, err = _cli("render", "--root", str(tmp_path), "--stack", "dev", "--out", str(tmp_path / "out"))
    assert code == 2
    assert "No module named 'team_only_dependency'; the program runs in this Python" in err


def test_a_project_that_is_not_a_python_program_is_refused(tmp_path: Path) -> None:
    code, _, err = _cli(
        "render", "--root", str(ROOT / "examples" / "yaml-app"), "--stack", "dev", "--out", str(tmp_path)
    )
    assert code == 2
    assert "runtime 'yaml'; the offline tools evaluate Python programs (runtime: python) only" in err


def test_diff_dev_prod_names_the_environment_changes(render_dirs: dict[str, Path]) -> None:
    code, out, err = _cli("diff", str(render_dirs["dev"]), str(render_dirs["prod"]))
    assert code == 3, err
    assert (
        '~ security.istio.io/v1 PeerAuthentication istio-system/default\n    spec.mtls.mode: "PERMISSIVE" → "STRICT"\n'
        in out
    )
    assert "~ apps/v1 Deployment istio-system/istiod\n    spec.replicas: - 1\n" in out
    assert "+ autoscaling/v2 HorizontalPodAutoscaler istio-system/istiod\n" in out
    assert "- apps/v1 Deployment istio-egress/istio-egressgateway\n" in out  # dev's demo profile only
    code, out, _ = _cli("diff", str(render_dirs["dev"]), str(render_dirs["prod"]), "--json")
    changes = json.loads(out)
    assert code == 3
    [pa] = [c for c in changes["changed"] if c["kind"] == "PeerAuthentication"]
    assert pa["fields"] == [{"path": "spec.mtls.mode", "op": "changed", "old": "PERMISSIVE", "new": "STRICT"}]


def test_diff_of_a_stack_with_itself_and_with_its_render_is_empty(render_dirs: dict[str, Path]) -> None:
    code, out, err = _cli("diff", "dev", "dev")
    assert (code, out.splitlines()[-1]) == (0, "0 added, 0 removed, 0 changed"), err
    code, out, _ = _cli("diff", str(render_dirs["prod"]), "prod", "--json")
    assert code == 0 and json.loads(out) | {"a": "", "b": ""} == {
        "a": "",
        "b": "",
        "added": [],
        "removed": [],
        "changed": [],
    }


def test_diff_of_a_directory_that_is_not_a_render_exits_2(tmp_path: Path) -> None:
    code, _, err = _cli("diff", str(tmp_path), "dev")
    assert code == 2 and f"{tmp_path} is not a render: no manifests.yaml" in err


def test_secret_values_are_redacted_everywhere(tmp_path: Path) -> None:
    plaintext = "hunter2-very-secret"

    def program() -> None:
        k8s.core.v1.Secret(
            "creds",
            metadata={"name": "creds", "namespace": "default"},
            string_data={"password": pulumi.Output.secret(plaintext)},
        )
        k8s.helm.v4.Chart("c", chart="x", version="1", values={"adminPassword": pulumi.Output.secret(plaintext)})

    rec = run(program)
    render.write_render(rec, tmp_path, None, "meshstack")  # chart "x" exists nowhere: not templated
    for name in ("manifests.yaml", "charts.yaml", "resources.yaml"):
        assert plaintext not in (tmp_path / name).read_text()
    [secret] = load_all((tmp_path / "manifests.yaml").read_text())
    # pulumi-kubernetes marks a Secret's whole stringData secret; either way no plaintext.
    assert REDACTED in (
        secret["stringData"],
        secret["stringData"].get("password") if isinstance(secret["stringData"], dict) else None,
    )
    [chart] = load_all((tmp_path / "charts.yaml").read_text())
    # An Output-valued map that holds a secret is secret as a whole when it reaches the engine.
    assert chart["values"] == REDACTED or chart["values"]["adminPassword"] == REDACTED


def test_bad_config_exits_2_with_the_problems(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.broken.yaml").write_text("config:\n  meshstack:environment: staging\n")
    code, _, err = _cli("render", "--stack", "broken", "--root", str(tmp_path), "--out", str(tmp_path / "out"))
    assert code == 2
    assert 'meshstack:environment: expected one of dev, prod, got "staging"' in err
    assert not (tmp_path / "out").exists()
    # With --json: one object with the code, the message and the problems.
    code, out, _ = _cli("render", "--stack", "broken", "--root", str(tmp_path), "--out", str(tmp_path / "o"), "--json")
    error = json.loads(out)["error"]
    assert code == 2 and error["code"] == 2
    assert error["problems"] == [
        {"path": "meshstack:environment", "message": 'expected one of dev, prod, got "staging"'}
    ]


def test_unknown_stack_exits_2(tmp_path: Path) -> None:
    code, _, err = _cli("render", "--stack", "nope", "--out", str(tmp_path))
    assert code == 2 and "no stack config Pulumi.nope.yaml" in err
