"""The offline render (``meshstack render``, make render): real program under mocks → YAML a reviewer can read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kubernetes_validate
import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from typer.testing import CliRunner

from meshstack.cli import app as cli
from meshstack.testing import REDACTED, run
from meshstack.tools import render


def _cli(*args: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(cli, list(args))
    return done.exit_code, done.stdout, done.stderr


CORE_GROUPS = ("v1", "apps/v1", "policy/v1", "rbac.authorization.k8s.io/v1", "autoscaling/v2", "batch/v1",
               "networking.k8s.io/v1", "admissionregistration.k8s.io/v1", "apiextensions.k8s.io/v1")  # fmt: skip


def _render(stack: str, out: Path) -> dict[str, list[dict[str, Any]]]:
    code, _, err = _cli("render", "--stack", stack, "--out", str(out))
    assert code == 0, err
    return {
        name: [d for d in yaml.safe_load_all((out / f"{name}.yaml").read_text()) if d is not None]
        for name in ("manifests", "charts", "resources")
    }


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, list[dict[str, Any]]]]:
    base = tmp_path_factory.mktemp("render")
    return {stack: _render(stack, base / stack) for stack in ("dev", "prod")}


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


def test_summary_counts_match_the_files(rendered: dict[str, Any], tmp_path: Path) -> None:
    _render("dev", tmp_path)
    summary = (tmp_path / "summary.txt").read_text()
    assert f"kubernetes objects: {len(rendered['dev']['manifests'])}" in summary
    assert f"helm charts: {len(rendered['dev']['charts'])}" in summary


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
    render.write_render(rec, tmp_path)
    for name in ("manifests.yaml", "charts.yaml", "resources.yaml"):
        assert plaintext not in (tmp_path / name).read_text()
    [secret] = list(yaml.safe_load_all((tmp_path / "manifests.yaml").read_text()))
    # pulumi-kubernetes marks a Secret's whole stringData secret; either way no plaintext.
    assert REDACTED in (
        secret["stringData"],
        secret["stringData"].get("password") if isinstance(secret["stringData"], dict) else None,
    )
    [chart] = list(yaml.safe_load_all((tmp_path / "charts.yaml").read_text()))
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
