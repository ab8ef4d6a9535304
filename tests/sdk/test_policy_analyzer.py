"""meshstack._sdk.policy_analyzer against pulumi_policy itself: what the engine hands the pack
(policy/__main__.py), behind pulumi_policy's unknown-checking proxies, reaches the guardrails as
the plain data they were tested on, converted only where a rule reads it, and pulumi_policy's own
servicer answers the same with the patch as without it."""

from __future__ import annotations

import copy
import importlib.util
from types import ModuleType
from typing import Any

import pytest
from pulumi_policy import proxy

from meshstack._sdk.policy_analyzer import FastAnalyzer, LazyProps
from meshstack.guardrails import RULES, UNKNOWN, Resource, ResourceRule
from tests.harness import run_stack


@pytest.fixture(scope="module")
def pack() -> ModuleType:
    spec = importlib.util.spec_from_file_location("meshstack_policy_pack", "policy/__main__.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lazy_props_convert_a_key_when_read_unknowns_included() -> None:
    raw = {
        "kind": "VirtualService",
        "metadata": {"name": "reviews", "labels": {"app": proxy.UNKNOWN_STRING_VALUE}},
        "spec": {"http": [{"route": [{"weight": 90}]}]},
    }
    props = LazyProps(proxy.unknown_checking_proxy(copy.deepcopy(raw)), UNKNOWN)
    assert sorted(props) == ["kind", "metadata", "spec"] and len(props) == 3
    assert props["metadata"] == {"name": "reviews", "labels": {"app": UNKNOWN}}
    assert props.get("status") is None
    assert sorted(props._plain) == ["metadata"]  # spec and kind untouched until read
    assert props["spec"] == raw["spec"] and sorted(props._plain) == ["metadata", "spec"]


def test_every_rule_finds_the_same_through_the_pack_as_on_plain_data(pack: ModuleType) -> None:
    # dev breaks three rules (PERMISSIVE mTLS, anonymous dashboards, a split without a rollout).
    rec = run_stack("dev")
    plain = [Resource(r.urn, r.type, copy.deepcopy(r.inputs), r.parent) for r in rec.resources]
    lazy = [
        Resource(r.urn, r.type, LazyProps(proxy.unknown_checking_proxy(copy.deepcopy(r.inputs)), UNKNOWN), r.parent)
        for r in rec.resources
    ]
    found = 0
    for rule in RULES:
        if isinstance(rule, ResourceRule):
            for p, q in zip(plain, lazy, strict=True):
                expected: list[Any] = rule.check(p)
                assert rule.check(q) == expected, (rule.name, p.urn)
                found += len(expected)
        else:
            expected = rule.check(plain)
            assert rule.check(lazy) == expected, rule.name
            found += len(expected)
    assert found >= 4


# --- FastAnalyzer: pulumi_policy's own analyzer, driven with the requests the engine sends ---------


def _requests(rec: Any) -> list[Any]:
    from google.protobuf import struct_pb2
    from pulumi.runtime import proto

    provider = struct_pb2.Struct()
    provider.update({"kubeconfig": "/tmp/kubeconfig", "enableServerSideApply": "true"})
    out = []
    for r in rec.resources:
        props = struct_pb2.Struct()
        props.update(copy.deepcopy(r.inputs))
        out.append(
            proto.AnalyzeRequest(
                type=r.type,
                properties=props,
                urn=r.urn,
                name=r.name,
                options=proto.AnalyzerResourceOptions(parent=r.parent or ""),
                provider=proto.AnalyzerProviderResource(
                    type="pulumi:providers:kubernetes", properties=provider, urn="urn:k8s", name="k8s"
                ),
            )
        )
    return out


def _diagnostics(response: Any) -> list[tuple[str, str, str]]:
    return sorted((d.policyName, d.urn, d.message) for d in response.diagnostics)


def test_fast_analyzer_answers_as_pulumi_policy_does_converting_each_message_once(
    pack: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pulumi.runtime import proto
    from pulumi_policy import EnforcementLevel
    from pulumi_policy import policy as servicer_module

    rec = run_stack("dev")
    requests = _requests(rec)
    # A CRD as the engine hands it over from a chart: a large schema no rule reads.
    schema = {
        "type": "object",
        "properties": {f"field{i}": {"type": "string", "description": "x" * 200} for i in range(500)},
    }
    crd = proto.AnalyzeRequest(
        type="kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", urn="urn:crd", name="crd"
    )
    crd.properties.update(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "virtualservices.networking.istio.io"},
            "spec": {"versions": [{"name": "v1", "schema": {"openAPIV3Schema": schema}}]},
        }
    )
    requests.append(crd)
    stack = proto.AnalyzeStackRequest(
        resources=[
            proto.AnalyzerResource(type=q.type, properties=q.properties, urn=q.urn, name=q.name) for q in requests
        ]
    )
    cls = servicer_module._PolicyAnalyzerServicer

    def answers() -> tuple[list[Any], list[Any], list[Any]]:
        servicer = cls(pack.PACK, "0.0.1", pack.policies(), EnforcementLevel.ADVISORY)
        analyzed = [_diagnostics(servicer.Analyze(q, None)) for q in requests]
        remediated = [servicer.Remediate(q, None) for q in requests[:20]]
        return analyzed, remediated, _diagnostics(servicer.AnalyzeStack(stack, None))

    analyzed, remediated, stacked = answers()
    assert sum(map(len, analyzed)) >= 3 and stacked  # dev breaks resource and stack rules

    # Installed (and undone after the test, it patches module and class attributes).
    for name in ("json_format", "deserialize_properties", "unknown_checking_proxy"):
        monkeypatch.setattr(servicer_module, name, getattr(servicer_module, name))
    for name in ("Analyze", "AnalyzeStack", "Remediate", "_configure_runtime_settings"):
        monkeypatch.setattr(cls, name, getattr(cls, name))
    fast = FastAnalyzer()
    fast.install()
    fast_analyzed, fast_remediated, fast_stacked = answers()
    assert fast_analyzed == analyzed and fast_stacked == stacked
    assert [r.SerializeToString() for r in fast_remediated] == [r.SerializeToString() for r in remediated]
    # Each top-level key at most once per call (Analyze, then AnalyzeStack), and only those a rule
    # read: pulumi_policy alone converts every key once per policy (5 resource + 2 stack rules).
    keys = sum(len(q.properties.fields) for q in requests)
    assert 0 < fast.conversions < 2 * keys
    # … and the CRD's schema was never converted.
    assert fast.converted_bytes < crd.properties.fields["spec"].ByteSize(), (
        fast.converted_bytes,
        crd.properties.fields["spec"].ByteSize(),
    )
    assert getattr(fast._local, "caches", None) is None  # emptied when each call returned

    # A policy set to remediate is still asked (pulumi_policy's own answer: not applicable).
    servicer = cls(pack.PACK, "0.0.1", pack.policies(), EnforcementLevel.ADVISORY)
    servicer.Configure(
        proto.ConfigureAnalyzerRequest(
            policyConfig={"no-fault-injection": proto.PolicyConfig(enforcementLevel=proto.EnforcementLevel.REMEDIATE)}
        ),
        None,
    )
    asked = servicer.Remediate(requests[0], None)
    assert [n.policy_name for n in asked.not_applicable] == ["no-fault-injection"]
