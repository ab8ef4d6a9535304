"""meshstack as a component provider: the built pulumi CLI reads a schema naming MeshPlatform and
MeshApp with their typed inputs and outputs (the YAML program runs in the e2e tier)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from meshstack.tools.engine import bootstrap_env


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    env = bootstrap_env()
    env["PULUMI_HOME"] = str(tmp_path_factory.mktemp("pulumi-home"))  # nothing written to the shared home
    pulumi = Path(env["PATH"].split(":")[0]) / "pulumi"
    done = subprocess.run(
        [str(pulumi), "package", "get-schema", str(Path(sys.executable).parent / "pulumi-resource-meshstack")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_schema_names_both_components(schema: dict[str, Any]) -> None:
    assert schema["name"] == "meshstack"
    assert {k: v.get("isComponent") for k, v in schema["resources"].items()} == {
        "meshstack:index:MeshApp": True,
        "meshstack:index:MeshPlatform": True,
    }


def test_platform_inputs_and_outputs_are_typed(schema: dict[str, Any]) -> None:
    platform = schema["resources"]["meshstack:index:MeshPlatform"]
    inputs = platform["inputProperties"]
    assert platform["requiredInputs"] == ["environment"]
    assert inputs["environment"]["type"] == "string"
    assert inputs["namespaces"]["items"]["type"] == "string" and inputs["namespaces"]["type"] == "array"
    assert inputs["kubeconfig"] == {**inputs["kubeconfig"], "type": "string"} and "plain" not in inputs["kubeconfig"]
    assert inputs["mesh"]["type"] == "object"
    assert platform["properties"]["addonUrls"]["additionalProperties"] == {"type": "string"}
    assert set(platform["properties"]) == {"addonUrls", "controlPlaneNamespace", "ingressGateway", "injectionLabels"}


def test_app_inputs_and_outputs_are_typed(schema: dict[str, Any]) -> None:
    app = schema["resources"]["meshstack:index:MeshApp"]
    inputs = app["inputProperties"]
    assert sorted(app["requiredInputs"]) == ["namespace", "versions"]
    assert inputs["versions"]["additionalProperties"]["$ref"] == "#/types/meshstack:index:AppVersionArgs"
    assert inputs["weights"]["additionalProperties"]["type"] == "integer"
    # Version names shape the resources, so they are plain; an image may be any Input (an Output).
    assert inputs["versions"].get("plain") is True
    image = schema["types"]["meshstack:index:AppVersionArgs"]["properties"]["image"]
    assert image["type"] == "string" and "plain" not in image
    assert set(app["properties"]) == {"url", "versions"}


def test_the_provider_components_under_mocks_take_wire_numbers_and_name_config_paths() -> None:
    from meshstack import provider
    from meshstack.errors import ConfigError
    from meshstack.testing import run

    def program() -> None:
        # Every number crosses the wire as a double, as it does from a YAML or TypeScript program.
        provider.MeshApp(
            "catalog",
            {  # type: ignore[typeddict-item]
                "namespace": "shop",
                "versions": {"v1": {"image": "x/catalog:1"}, "v2": {"image": "x/catalog:2", "replicas": 2.0}},
                "weights": {"v2": 10.0, "v1": 90.0},  # maps arrive in any order
                "spec": {"circuitBreaker": {"consecutive5xxErrors": 5.0}},
            },
        )

    rec = run(program)
    vs = rec.one(kind="VirtualService", k8s_name="catalog")
    assert [(r["destination"]["subset"], r["weight"]) for r in vs.inputs["spec"]["http"][0]["route"]] == [
        ("v1", 90),
        ("v2", 10),
    ]
    assert rec.one(type="Deployment", k8s_name="catalog-v2").inputs["spec"]["replicas"] == 2
    assert rec.parent_of(rec.parent_of(vs)).type == "meshstack:index:MeshApp"  # type: ignore[union-attr]

    def bad() -> None:
        provider.MeshPlatform("mesh", {"environment": "prod", "mesh": {"mtls": "PERMISSIVE"}})  # type: ignore[typeddict-item]

    with pytest.raises(ConfigError) as exc:
        run(bad)
    assert exc.value.paths == ["mesh.mtls"]
