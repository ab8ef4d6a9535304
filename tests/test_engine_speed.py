"""What keeps a real ``up`` fast without giving up a gate that matters (docs/benchmarks.md):
Services ready on their cluster IP, and the state written once (``--checkpoints final``, the default)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from benchmarks.generate import stack_config
from meshstack.components.k8s import SERVICE_WAIT_FOR, service_readiness, with_service_readiness
from meshstack.stacks.program import main as program
from meshstack.testing import run
from meshstack.tools.engine import Engine, EngineError


def _service(kind: str | None = None, **annotations: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"selector": {"app": "a"}, "ports": [{"port": 80}]}
    if kind:
        spec["type"] = kind
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "annotations": annotations}, "spec": spec}


def test_a_cluster_ip_service_is_ready_on_its_address_and_keeps_its_own_annotations() -> None:
    done = with_service_readiness(_service(**{"team": "x"}))
    assert done["metadata"]["annotations"] == {"team": "x", **SERVICE_WAIT_FOR}
    assert with_service_readiness(_service("NodePort"))["metadata"]["annotations"] == SERVICE_WAIT_FOR
    # A LoadBalancer keeps the provider's wait for its external address; ExternalName has no address.
    for kind in ("LoadBalancer", "ExternalName"):
        assert with_service_readiness(_service(kind))["metadata"]["annotations"] == {}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"}}
    assert with_service_readiness(deployment) is deployment


def test_every_service_the_program_registers_has_the_readiness_and_nothing_else_does() -> None:
    rec = run(program, config=stack_config(3), stack="dev")
    services = [r for r in rec.kubernetes_objects if r.type == "kubernetes:core/v1:Service"]
    assert len(services) >= 3 + 4  # the generated apps' and Bookinfo's at least
    for r in services:
        annotations = (r.inputs.get("metadata") or {}).get("annotations") or {}
        assert annotations.get("pulumi.com/waitFor") == "jsonpath={.spec.clusterIP}", r.name
    others = [r for r in rec.kubernetes_objects if r.type != "kubernetes:core/v1:Service"]
    assert not any("pulumi.com/waitFor" in str(r.inputs.get("metadata") or {}) for r in others)


def test_the_chart_transform_gives_chart_services_the_same_readiness() -> None:
    opts = pulumi.ResourceOptions()

    def args(type_: str, props: dict[str, Any]) -> pulumi.ResourceTransformArgs:
        return pulumi.ResourceTransformArgs(custom=True, type_=type_, name="x", props=props, opts=opts)

    svc = _service()
    result = service_readiness(args("kubernetes:core/v1:Service", {k: v for k, v in svc.items() if k != "kind"}))
    assert result is not None and result.props["metadata"]["annotations"] == SERVICE_WAIT_FOR
    assert "kind" not in result.props and result.opts is opts
    kept = service_readiness(args("kubernetes:core/v1:Service", svc))
    assert kept is not None and kept.props["kind"] == "Service"
    lb = service_readiness(args("kubernetes:core/v1:Service", _service("LoadBalancer")))
    assert lb is not None and lb.props["metadata"]["annotations"] == {}
    assert service_readiness(args("kubernetes:apps/v1:Deployment", {"metadata": {}})) is None


@pytest.mark.parametrize(("mode", "final"), [("every", False), ("final", True)])
def test_checkpoints_every_step_unless_final_is_asked_for(tmp_path: Path, mode: str, final: bool) -> None:
    engine = Engine("dev", None, None, tmp_path, on_output=None, checkpoints=mode)
    assert engine.checkpoint_env() == ({"PULUMI_SKIP_CHECKPOINTS": "true"} if final else {})


def test_checkpoints_default_to_final_come_from_the_environment_and_are_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MESHSTACK_CHECKPOINTS", raising=False)
    assert Engine("dev", None, None, tmp_path, on_output=None).checkpoint_env() == {"PULUMI_SKIP_CHECKPOINTS": "true"}
    monkeypatch.setenv("MESHSTACK_CHECKPOINTS", "every")
    assert Engine("dev", None, None, tmp_path, on_output=None).checkpoint_env() == {}
    with pytest.raises(EngineError, match="checkpoints: 'auto' is not one of every, final"):
        Engine("dev", None, None, tmp_path, on_output=None, checkpoints="auto").checkpoint_env()
