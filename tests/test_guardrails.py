"""The guardrails (meshstack.guardrails) on what the program registers: the committed prod stack
passes every rule, dev's deliberate relaxations are exactly what the advisory run reports, and a
hand-made change that breaks a rule — as a platform team composing the components could make it,
past the stack-config validation — is found with a message that names the resource and the field.
The same rules run inside the engine as the policy pack (tests/cd)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from meshstack.guardrails import RULES, Finding, Resource, evaluate
from tests.harness import Recording, run_stack


def resources(rec: Recording) -> list[Resource]:
    return [Resource(r.urn, r.type, copy.deepcopy(r.inputs), r.parent) for r in rec.resources]


@pytest.fixture(scope="module")
def prod() -> list[Resource]:
    return resources(run_stack("prod"))


def edited(res: list[Resource], kind: str, name: str, edit: Callable[[dict[str, Any]], Any]) -> list[Resource]:
    out = []
    hits = 0
    for r in res:
        if r.kind == kind and r.name == name:
            props = copy.deepcopy(dict(r.props))
            edit(props)
            out.append(Resource(r.urn, r.type, props, r.parent))
            hits += 1
        else:
            out.append(r)
    assert hits == 1, f"{kind} {name}: {hits} resources"
    return out


def by_rule(findings: list[Finding]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in findings:
        out.setdefault(f.rule, []).append(f.message)
    return out


def test_the_prod_stack_passes_every_rule(prod: list[Resource]) -> None:
    assert len(prod) > 50
    assert evaluate(prod) == []


def test_dev_relaxations_are_what_the_advisory_run_reports() -> None:
    found = by_rule(evaluate(resources(run_stack("dev"))))
    assert sorted(found) == ["canary-has-rollout", "no-anonymous-dashboards", "strict-mtls"]
    assert any('"PERMISSIVE"' in m for m in found["strict-mtls"])
    assert len(found["no-anonymous-dashboards"]) == 2  # Grafana and Kiali
    assert "VirtualService bookinfo/reviews" in found["canary-has-rollout"][0]


def test_a_canary_under_a_rollout_policy_passes_and_one_without_on_no_data_does_not() -> None:
    rollout = {
        "stable": "v1",
        "canary": "v2",
        "steps": [20, 50, 100],
        "analysis": {"interval": "1m", "onNoData": "hold"},
    }
    apps = {"bookinfo": {"scenario": "default", "rollouts": {"reviews": rollout}}}
    first = run_stack("prod", apps=apps)
    state = {**first.outputs["rollouts"]["reviews"]["state"], "phase": "progressing", "step": 1}
    split = run_stack("prod", apps=apps, rolloutStates={"reviews": state})
    vs = split.one(kind="VirtualService", k8s_name="reviews").inputs
    assert [r.get("weight") for r in vs["spec"]["http"][-1]["route"]] == [50, 50]
    assert evaluate(resources(split)) == []
    # The same split, its rollout policy without an explicit on-no-data decision (config
    # validation refuses that in prod; a hand-composed program could still render it).
    annotation = "meshstack.io/rollout"

    def no_on_no_data(p: dict[str, Any]) -> None:
        summary = json.loads(p["metadata"]["annotations"][annotation])
        summary["analysis"]["onNoData"] = None
        p["metadata"]["annotations"][annotation] = json.dumps(summary)

    found = evaluate(edited(resources(split), "VirtualService", "reviews", no_on_no_data))
    assert [f.rule for f in found] == ["canary-has-rollout"] and "onNoData" in found[0].message


CASES: list[tuple[str, str, str, Callable[[dict[str, Any]], Any], str]] = [
    (
        "strict-mtls",
        "PeerAuthentication",
        "default",
        lambda p: p["spec"]["mtls"].update(mode="PERMISSIVE"),
        '"PERMISSIVE"',
    ),
    (
        "no-fault-injection",
        "VirtualService",
        "ratings",
        lambda p: p["spec"]["http"][0].update(fault={"abort": {"percentage": {"value": 100}, "httpStatus": 500}}),
        "fault",
    ),
    (
        "mirror-hosts-listed",
        "VirtualService",
        "reviews",
        lambda p: p["spec"]["http"][0].update(mirror={"host": "collector.attacker.example"}),
        "collector.attacker.example",
    ),
    (
        "container-limits-and-non-root",
        "Deployment",
        "details-v1",
        lambda p: p["spec"]["template"]["spec"]["containers"][0]["resources"].pop("limits"),
        "limits",
    ),
    (
        "images-pinned",
        "Deployment",
        "ratings-v1",
        lambda p: p["spec"]["template"]["spec"]["containers"][0].update(image="docker.io/istio/ratings:latest"),
        "latest",
    ),
    (
        "no-anonymous-dashboards",
        "Deployment",
        "grafana",
        lambda p: (
            [
                e.update(value="true")
                for e in p["spec"]["template"]["spec"]["containers"][0]["env"]
                if e["name"] == "GF_AUTH_ANONYMOUS_ENABLED"
            ]
            or p["spec"]["template"]["spec"]["containers"][0]["env"].append(
                {"name": "GF_AUTH_ANONYMOUS_ENABLED", "value": "true"}
            )
        ),
        "anonymous Grafana",
    ),
    (
        "canary-has-rollout",
        "VirtualService",
        "reviews",
        lambda p: p["spec"]["http"][-1].update(
            route=[
                {"destination": {"host": "reviews", "subset": "v1"}, "weight": 90},
                {"destination": {"host": "reviews", "subset": "v2"}, "weight": 10},
            ]
        ),
        "without a rollout",
    ),
]


@pytest.mark.parametrize(("rule", "kind", "name", "edit", "says"), CASES, ids=[c[0] for c in CASES])
def test_each_rule_refuses_its_violation_by_name(
    prod: list[Resource], rule: str, kind: str, name: str, edit: Callable[[dict[str, Any]], Any], says: str
) -> None:
    found = evaluate(edited(prod, kind, name, edit))
    assert found and {f.rule for f in found} == {rule}, found
    assert all(says in f.message and name in f.message for f in found)


def test_every_rule_has_a_case() -> None:
    assert {rule.name for rule in RULES} == {case[0] for case in CASES}
