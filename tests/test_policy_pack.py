"""The policy pack's adapter (policy/__main__.py): what the engine hands the pack, behind
pulumi_policy's unknown-checking proxies, reaches the guardrails as the plain data they were
tested on, converted only where a rule reads it."""

from __future__ import annotations

import copy
import importlib.util
from types import ModuleType
from typing import Any

import pytest
from pulumi_policy import proxy

from meshstack.guardrails import RULES, UNKNOWN, Resource, ResourceRule
from tests.harness import run_stack


@pytest.fixture(scope="module")
def pack() -> ModuleType:
    spec = importlib.util.spec_from_file_location("meshstack_policy_pack", "policy/__main__.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lazy_props_convert_a_key_when_read_unknowns_included(pack: ModuleType) -> None:
    raw = {
        "kind": "VirtualService",
        "metadata": {"name": "reviews", "labels": {"app": proxy.UNKNOWN_STRING_VALUE}},
        "spec": {"http": [{"route": [{"weight": 90}]}]},
    }
    props = pack.LazyProps(proxy.unknown_checking_proxy(copy.deepcopy(raw)))
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
        Resource(r.urn, r.type, pack.LazyProps(proxy.unknown_checking_proxy(copy.deepcopy(r.inputs))), r.parent)
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
