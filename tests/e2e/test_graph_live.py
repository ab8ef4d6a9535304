"""``meshstack graph --live`` against the embedded API server (scripts/cluster.py): the endpoints are
the EndpointSlices the controller-manager writes for the pods kwok reports Ready, the proxies the
``istio-proxy`` containers the pods carry, and a version the cluster runs beyond the stack's is drawn."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from meshstack.cli import app as cli
from meshstack.tools.render import manifest_of
from tests.e2e.conftest import Cluster
from tests.harness import run_stack

pytestmark = pytest.mark.e2e

#: What an injected pod carries beside the app (the injector's container, by its name).
SIDECAR = {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.29.1"}


def bookinfo_workloads() -> list[dict[str, Any]]:
    """The dev stack's Bookinfo namespace, ServiceAccounts, Services and Deployments as rendered;
    reviews-v2 as the injector leaves it (with a sidecar), and a reviews-v4 the stack does not declare."""
    objects = [manifest_of(r) for r in run_stack("dev").kubernetes_objects]
    keep = [
        o
        for o in objects
        if (o["kind"] == "Namespace" and o["metadata"]["name"] == "bookinfo")
        or (o["kind"] in ("ServiceAccount", "Service", "Deployment") and o["metadata"].get("namespace") == "bookinfo")
    ]
    v2 = next(o for o in keep if o["kind"] == "Deployment" and o["metadata"]["name"] == "reviews-v2")
    v2["spec"]["template"]["spec"]["containers"].append(SIDECAR)
    v4 = copy.deepcopy(next(o for o in keep if o["kind"] == "Deployment" and o["metadata"]["name"] == "reviews-v3"))
    v4["metadata"]["name"] = "reviews-v4"
    for labels in (
        v4["metadata"]["labels"],
        v4["spec"]["selector"]["matchLabels"],
        v4["spec"]["template"]["metadata"]["labels"],
    ):
        labels["version"] = "v4"
    return [*keep, v4]


def ready_endpoints(cluster: Cluster, service: str) -> int:
    slices = cluster.get("endpointslices", "-n", "bookinfo", "-l", f"kubernetes.io/service-name={service}")
    return sum(1 for s in slices["items"] for e in s.get("endpoints") or [] if (e.get("conditions") or {}).get("ready"))


def test_live_graph_draws_endpoints_proxies_and_undeclared_versions(cluster: Cluster, tmp_path: Path) -> None:
    manifest = tmp_path / "bookinfo.yaml"
    manifest.write_text(yaml.safe_dump_all(bookinfo_workloads()))
    cluster.kubectl("apply", "--server-side", "-f", str(manifest))
    deadline = time.monotonic() + 180
    while ready_endpoints(cluster, "reviews") < 4 or ready_endpoints(cluster, "ratings") < 1:
        assert time.monotonic() < deadline, cluster.kubectl(
            "get", "pods,endpointslices", "-n", "bookinfo", "-o", "wide"
        )
        time.sleep(1)
    svg = tmp_path / "live.svg"
    done = CliRunner().invoke(
        cli,
        ["graph", "--stack", "dev", "--live", "--kubeconfig", str(cluster.kubeconfig), "--out", str(svg), "--json"],
    )
    assert done.exit_code == 0, done.stderr
    g = json.loads(done.stdout)
    nodes = {n["id"]: n["attrs"] for n in g["nodes"]}
    assert g["mesh"]["live"].startswith("https://127.0.0.1:")
    assert nodes["service:bookinfo/reviews"]["live"] == {"endpoints": 4, "ready": 4}
    v1, v2 = nodes["version:bookinfo/reviews/v1"]["live"], nodes["version:bookinfo/reviews/v2"]["live"]
    assert (v1["pods"], v1["ready"], v1["proxies"], v1["endpoints"]) == (1, 1, 0, 1)
    assert (v2["pods"], v2["ready"], v2["proxies"], v2["endpoints"]) == (1, 1, 1, 1)
    v4 = nodes["version:bookinfo/reviews/v4"]
    assert v4["liveOnly"] is True and v4["live"]["pods"] == 1 and v4["live"]["endpoints"] == 1
    # Nothing of the stack's routing changed: reviews v4 gets no route (the VirtualService never names it).
    assert not [e for e in g["edges"] if e["target"] == "version:bookinfo/reviews/v4"]
    text = svg.read_text()
    assert "proxies 1/1" in text and "endpoints 4/4 ready" in text and "not in the stack" in text
