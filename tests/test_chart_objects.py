"""The objects the provider renders itself, rendered offline (meshstack/tools/charts.py): a Chart's
templated objects as pulumi-kubernetes' helm.v4.Chart registers them, a ConfigGroup's objects.

The helm binary is the one ``scripts/istio_charts.sh --with-helm`` builds (cached after the first
run); a missing go toolchain fails these tests, nothing is skipped.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from meshstack.components.k8s import SERVICE_WAIT_FOR, helm_chart
from meshstack.render.helm import chart_source
from meshstack.testing import REDACTED, run
from meshstack.tools.charts import ChartTools, ExpansionError, chart_directory, expand
from meshstack.versions import ISTIO_CHART_REPOSITORY, ISTIO_VERSION
from tests.harness import ROOT


@pytest.fixture(scope="module")
def tools() -> ChartTools:
    done = subprocess.run(
        [str(ROOT / "scripts" / "istio_charts.sh"), "--with-helm"],
        check=False,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert done.returncode == 0, done.stderr
    return ChartTools.locate(Path(done.stdout.split()[1]))


CHART = {
    "Chart.yaml": "apiVersion: v2\nname: shop\nversion: 0.1.0\n",
    "values.yaml": "password: changeme\n",
    "crds/widgets.yaml": """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets}
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
""",
    "templates/objects.yaml": """apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: {{ .Values.password | quote }}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: {{ .Release.Namespace }}}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: List
items:
- {apiVersion: example.com/v1, kind: Widget, metadata: {name: gadget}}
- {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: {{ .Release.Name }}-reader}}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations: {helm.sh/hook: pre-install}
spec: {template: {spec: {restartPolicy: Never, containers: [{name: m, image: busybox}]}}}
""",
}


def _chart(tmp_path: Path) -> Path:
    for name, text in CHART.items():
        (tmp_path / "charts" / "shop" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "charts" / "shop" / name).write_text(text)
    return tmp_path / "charts"


class Team(pulumi.ComponentResource):
    """A component whose transform labels everything below it (a parent's transform)."""

    def __init__(self, charts: Path) -> None:
        super().__init__("team:index:Team", "team", None, pulumi.ResourceOptions(transforms=[self.label]))
        helm_chart("shop", chart_source(str(charts), "shop", "0.1.0"), "team", {"password": pulumi.Output.secret("hunter2")},
                   pulumi.ResourceOptions(parent=self), release_name="shop-release")  # fmt: skip

    @staticmethod
    def label(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult:
        meta = args.props.get("metadata") or {}
        props = {**args.props, "metadata": {**meta, "labels": {**(meta.get("labels") or {}), "team": "shop"}}}
        return pulumi.ResourceTransformResult(props=props, opts=args.opts)


def _by_name(objects: list[Any]) -> dict[str, dict[str, Any]]:
    return {o.name: o.manifest for o in objects}


def test_a_chart_renders_as_the_provider_registers_it(tmp_path: Path, tools: ChartTools) -> None:
    charts = _chart(tmp_path)
    rec = run(lambda: Team(charts))
    objs = _by_name(expand(rec, tools, tmp_path))
    # CRDs included, hooks left out (the provider disables them), a List expanded into its items.
    assert set(objs) == {"shop:widgets.example.com", "shop:team/creds", "shop:team/web", "shop:team/gadget",
                         "shop:shop-release-reader"}  # fmt: skip
    # Namespaced objects without a namespace get the chart's (a CRD of the render says Widget is namespaced).
    assert objs["shop:team/creds"]["metadata"]["namespace"] == "team"
    assert "namespace" not in objs["shop:shop-release-reader"]["metadata"]
    # A Secret's data is secret: the values (a Pulumi secret here) never appear.
    assert objs["shop:team/creds"]["stringData"] == {"password": REDACTED}
    # The chart's transforms (helm_chart's Service readiness) and its parent's run on each object.
    assert objs["shop:team/web"]["metadata"]["annotations"] == SERVICE_WAIT_FOR
    assert all(o["metadata"]["labels"] == {"team": "shop"} for o in objs.values())


def test_istio_charts_come_from_the_offline_copy_of_their_release(tools: ChartTools) -> None:
    inputs = {"chart": "istiod", "version": ISTIO_VERSION, "repositoryOpts": {"repo": ISTIO_CHART_REPOSITORY}}
    found = chart_directory(inputs, tools, ROOT)
    assert (found.parent.name, found.name) == (f"istio-charts-{ISTIO_VERSION}", "istiod")
    with pytest.raises(ExpansionError, match=r"scripts/istio_charts.sh --version 1\.0\.0 for that release"):
        chart_directory({**inputs, "version": "1.0.0"}, tools, ROOT)


def test_a_chart_of_another_repository_needs_a_local_copy_of_the_same_version(
    tmp_path: Path, tools: ChartTools
) -> None:
    inputs = {"chart": "shop", "version": "0.1.0", "repositoryOpts": {"repo": "https://charts.example.com"}}
    with pytest.raises(
        ExpansionError, match=r"chart shop 0\.1\.0 from https://charts.example.com: no local copy; pass --charts DIR"
    ):
        chart_directory(inputs, tools, tmp_path)
    charts = _chart(tmp_path)
    assert chart_directory(inputs, ChartTools(tools.helm, str(charts)), tmp_path) == charts / "shop"
    with pytest.raises(ExpansionError, match=r"Chart.yaml is shop 0\.1\.0, not shop 0\.2\.0"):
        chart_directory({**inputs, "version": "0.2.0"}, ChartTools(tools.helm, str(charts)), tmp_path)


def test_a_missing_helm_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(ExpansionError, match=r"no helm binary at .*; run `make engine` .*--no-charts"):
        ChartTools.locate(tmp_path / "helm")


def test_config_groups_render_their_local_files_and_objects(tmp_path: Path) -> None:
    (tmp_path / "crds").mkdir()
    for kind in ("Gateway", "HTTPRoute"):
        (tmp_path / "crds" / f"{kind}.yaml").write_text(
            f"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {{name: {kind.lower()}s.gateway.networking.k8s.io}}\n"
        )

    def program() -> None:
        k8s.yaml.v2.ConfigGroup(
            "gateway-api",
            files=["crds/*.yaml"],
            objs=[{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}],
        )

    names = set(_by_name(expand(run(program), None, tmp_path)))
    assert names == {"gateway-api:gateways.gateway.networking.k8s.io", "gateway-api:httproutes.gateway.networking.k8s.io",
                     "gateway-api:default/c"}  # fmt: skip

    def remote() -> None:
        k8s.yaml.v2.ConfigGroup("crds", files=["https://example.com/standard-install.yaml"])

    with pytest.raises(ExpansionError, match=r"fetches https://example.com/standard-install.yaml at apply time"):
        expand(run(remote), None, tmp_path)
