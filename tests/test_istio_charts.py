"""The offline Istio charts (scripts/istio_charts.sh, docs/offline-charts.md) render what the program needs.

The script assembles base/istiod/gateway for ``ISTIO_VERSION`` from the Go module istio.io/istio and,
with ``--with-helm``, builds helm from helm.sh/helm/v3; both are cached under ``$MESHSTACK_CACHE``
(default ``~/.cache/meshstack``), so after the first run this module takes a few seconds. A missing go
toolchain, an unserved module or a failed render fails these tests: nothing here is skipped.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshstack.versions import ISTIO_VERSION
from tests.harness import Recording

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "istio_charts.sh"

Obj = dict[str, Any]


@dataclass(frozen=True)
class Charts:
    root: Path
    helm: Path

    def template(self, release: str, chart: str, namespace: str, values: Obj | None = None) -> list[Obj]:
        cmd = [str(self.helm), "template", release, str(self.root / chart), "--namespace", namespace, "-f", "-"]
        out = subprocess.run(
            cmd, check=False, input=json.dumps(values or {}), capture_output=True, text=True, timeout=120
        )
        assert out.returncode == 0, f"helm template {release} {chart} failed:\n{out.stderr}"
        return [d for d in yaml.safe_load_all(out.stdout) if d]


@pytest.fixture(scope="session")
def charts() -> Charts:
    out = subprocess.run([str(SCRIPT), "--with-helm"], check=False, capture_output=True, text=True, timeout=3600)
    assert out.returncode == 0, f"{SCRIPT.name} --with-helm failed:\n{out.stderr}"
    root, helm = out.stdout.split()
    return Charts(Path(root), Path(helm))


def kinds(objs: list[Obj]) -> Counter[str]:
    return Counter(o["kind"] for o in objs)


def named(objs: list[Obj], kind: str) -> set[str]:
    return {o["metadata"]["name"] for o in objs if o["kind"] == kind}


def test_charts_are_the_pinned_release(charts: Charts) -> None:
    assert charts.root.name == f"istio-charts-{ISTIO_VERSION}"
    for chart in ("base", "istiod", "gateway"):
        meta = yaml.safe_load((charts.root / chart / "Chart.yaml").read_text())
        assert (meta["name"], meta["version"], meta["appVersion"]) == (chart, ISTIO_VERSION, ISTIO_VERSION)
    glob = yaml.safe_load((charts.root / "istiod" / "values.yaml").read_text())["_internal_defaults_do_not_set"]
    assert (glob["global"]["hub"], glob["global"]["tag"]) == ("docker.io/istio", ISTIO_VERSION)


def test_script_is_idempotent(charts: Charts) -> None:
    out = subprocess.run([str(SCRIPT)], capture_output=True, text=True, timeout=600, check=True)
    assert out.stdout.strip() == str(charts.root)


def test_script_fails_loudly_for_a_release_without_sources() -> None:
    out = subprocess.run([str(SCRIPT), "--version", "1.30.0"], check=False, capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "no source pin for Istio 1.30.0" in out.stderr


def test_base_renders_crds_and_default_validator(charts: Charts) -> None:
    objs = charts.template("istio-base", "base", "istio-system")
    crds = named(objs, "CustomResourceDefinition")
    assert len(crds) >= 10
    assert {"virtualservices.networking.istio.io", "destinationrules.networking.istio.io"} <= crds
    assert "istiod-default-validator" in named(objs, "ValidatingWebhookConfiguration")


def test_istiod_renders_control_plane_and_injector(charts: Charts) -> None:
    objs = charts.template("istiod", "istiod", "istio-system")
    assert "istiod" in named(objs, "Deployment")
    assert "istio-sidecar-injector" in named(objs, "MutatingWebhookConfiguration")
    (deploy,) = (o for o in objs if o["kind"] == "Deployment")
    images = {c["image"] for c in deploy["spec"]["template"]["spec"]["containers"]}
    assert images == {f"docker.io/istio/pilot:{ISTIO_VERSION}"}


def test_istiod_canary_revision(charts: Charts) -> None:
    objs = charts.template("istiod-canary", "istiod", "istio-system", {"revision": "canary"})
    assert "istiod-canary" in named(objs, "Deployment")
    assert "istio-sidecar-injector-canary" in named(objs, "MutatingWebhookConfiguration")


def test_ingress_gateway_selects_istio_ingressgateway(charts: Charts) -> None:
    objs = charts.template("istio-ingressgateway", "gateway", "istio-ingress")
    (svc,) = (o for o in objs if o["kind"] == "Service")
    assert svc["metadata"]["name"] == "istio-ingressgateway"
    assert svc["spec"]["selector"]["istio"] == "ingressgateway"
    assert kinds(objs)["Deployment"] == 1


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_chart_values_render_with_offline_charts(
    stack: str, charts: Charts, request: pytest.FixtureRequest
) -> None:
    """Every chart the program installs renders from the offline charts with the program's own values
    (the gateway chart validates them against its values.schema.json)."""
    rec: Recording = request.getfixturevalue(stack)
    assert rec.helm_charts
    for chart in rec.helm_charts:
        inputs = chart.inputs
        assert inputs["version"] == ISTIO_VERSION
        objs = charts.template(inputs["name"], inputs["chart"], inputs["namespace"], inputs.get("values"))
        assert objs, f"{chart.name} rendered nothing"
