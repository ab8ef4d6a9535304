"""A platform team's program through the real engine: examples/platform-team, installed from a fresh
wheel in its own virtualenv, runs `pulumi up` on the embedded cluster and previews clean; then a
Pulumi YAML program (examples/yaml-app) adds an app to that mesh through meshstack's component
provider, run by the YAML language host built from its Go module."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi import automation as auto

from meshstack.tools.engine import ROOT, bootstrap_env
from tests.e2e.conftest import Cluster
from tests.library import TeamProject

pytestmark = pytest.mark.e2e


def _changes(summary: dict[Any, int]) -> dict[str, int]:
    named = {str(getattr(op, "value", op)): n for op, n in summary.items()}
    return {op: n for op, n in named.items() if op != "same" and n}


def workspace_stack(project: Path, stack: str, state: Path, config: dict[str, str], log: Path) -> auto.Stack:
    env = bootstrap_env()
    state.mkdir(parents=True, exist_ok=True)
    # Plain Pulumi, as the team runs it, leaves the provider's kubeconfig copies in $TMPDIR
    # (docs/security.md#secrets): here that is the test's own directory, not the machine's /tmp.
    scratch = state.parent / "tmp"
    scratch.mkdir(mode=0o700, exist_ok=True)
    env.update(
        {
            "TMPDIR": str(scratch),
            "PULUMI_BACKEND_URL": f"file://{state}",
            "PULUMI_CONFIG_PASSPHRASE": "e2e-throwaway",
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
        }
    )
    env.pop("PYTHONPATH", None)
    os.environ.pop("PYTHONPATH", None)  # the team's program must use its own virtualenv only
    opts = auto.LocalWorkspaceOptions(
        work_dir=str(project),
        pulumi_home=env["PULUMI_HOME"],
        env_vars=env,
        secrets_provider="passphrase",
        pulumi_command=auto.PulumiCommand(
            root=str(Path(env["PATH"].split(os.pathsep)[0]).parent), skip_version_check=True
        ),
    )
    stack_ = auto.create_or_select_stack(stack, work_dir=str(project), opts=opts)
    stack_.set_all_config({k: auto.ConfigValue(v) for k, v in config.items()})
    return stack_


def logger(path: Path) -> Callable[[str], None]:
    def write(line: str) -> None:
        with path.open("a") as fh:
            fh.write(line if line.endswith("\n") else line + "\n")

    return write


@pytest.fixture(scope="module")
def team_stack(
    team: TeamProject, cluster: Cluster, charts: Path, tmp_path_factory: pytest.TempPathFactory
) -> auto.Stack:
    tmp = tmp_path_factory.mktemp("team-e2e")
    return workspace_stack(
        team.dir,
        "e2e",
        tmp / "state",
        {
            "kubeconfig": str(cluster.kubeconfig),
            "istioCharts": str(charts),
            "ingressServiceType": "NodePort",  # no load-balancer controller on the embedded cluster
            "secretsGenerator": "builtin",  # pulumi-resource-random cannot be built here
        },
        tmp / "pulumi.log",
    )


def test_the_team_program_installs_a_prod_mesh_and_its_app(team_stack: auto.Stack, cluster: Cluster) -> None:
    log = logger(Path(team_stack.workspace.work_dir) / "up.log")
    result = team_stack.up(on_output=log, color="never", suppress_progress=True)
    created = _changes(result.summary.resource_changes or {})
    assert set(created) == {"create"} and created["create"] > 80, created
    # The prod environment's HA default, set nowhere by the team: the chart leaves the Deployment's
    # replicas to its HorizontalPodAutoscaler, which the controller manager applies within a sync.
    hpa = cluster.get("horizontalpodautoscaler", "istiod", "-n", "istio-system")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 10)
    deadline = time.monotonic() + 90
    while cluster.get("deployment", "istiod", "-n", "istio-system")["spec"].get("replicas") != 3:
        assert time.monotonic() < deadline, "the HPA did not scale istiod to its minimum of 3 within 90 s"
        time.sleep(2)
    vs = cluster.get("virtualservice.networking.istio.io", "checkout", "-n", "shop")
    assert [(r["destination"]["subset"], r["weight"]) for r in vs["spec"]["http"][0]["route"]] == [
        ("v1", 90),
        ("v2", 10),
    ]
    dr = cluster.get("destinationrule.networking.istio.io", "checkout", "-n", "shop")
    assert dr["spec"]["trafficPolicy"]["outlierDetection"]["consecutive5xxErrors"] == 5
    assert cluster.get("authorizationpolicy.security.istio.io", "-n", "shop")["items"]
    pa = cluster.get("peerauthentication.security.istio.io", "default", "-n", "istio-system")
    assert pa["spec"]["mtls"]["mode"] == "STRICT"
    assert cluster.get("deployment", "checkout-v2", "-n", "shop")["status"].get("availableReplicas") == 1
    assert result.outputs["checkoutUrl"].value == "http://checkout.shop.svc.cluster.local:8080"


def test_the_team_program_previews_clean_after_up(team_stack: auto.Stack) -> None:
    team_stack.preview(
        expect_no_changes=True, color="never", on_output=logger(Path(team_stack.workspace.work_dir) / "up.log")
    )


def test_a_yaml_program_adds_an_app_through_the_component_provider(
    cluster: Cluster, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("yaml-e2e")
    project = tmp / "yaml-app"
    shutil.copytree(ROOT / "examples" / "yaml-app", project)
    doc = yaml.safe_load((project / "Pulumi.yaml").read_text())
    # The folder holding the plugin executable installing meshstack put beside this interpreter.
    doc["packages"]["meshstack"] = str(Path(sys.executable).parent)
    (project / "Pulumi.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    stack = workspace_stack(project, "e2e", tmp / "state", {"kubeconfig": str(cluster.kubeconfig)}, tmp / "log")
    result = stack.up(on_output=logger(tmp / "up.log"), color="never", suppress_progress=True)
    assert result.outputs["catalogUrl"].value == "http://catalog.shop.svc.cluster.local:8080"
    vs = cluster.get("virtualservice.networking.istio.io", "catalog", "-n", "shop")
    assert [(r["destination"]["subset"], r["weight"]) for r in vs["spec"]["http"][0]["route"]] == [
        ("v1", 90),
        ("v2", 10),
    ]
    deployment = cluster.get("deployment", "catalog-v2", "-n", "shop")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example.com/shop/catalog:2.1.0"
    stack.preview(expect_no_changes=True, color="never", on_output=logger(tmp / "up.log"))
