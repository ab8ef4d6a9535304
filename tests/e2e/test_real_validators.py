"""Parity with the real validators (issue 11): what meshstack renders, istioctl and the API server accept.

Every Kubernetes object meshstack creates itself (Helm chart contents are Istio's own) for

* the committed stacks (``Pulumi.dev.yaml``, ``Pulumi.prod.yaml``),
* every Bookinfo scenario on both stacks, for each render target the scenario is accepted with
  (``apps.target`` istio / gatewayApi, with ``gateways.api`` istio and gatewayApi), and
* a sample of accepted fuzz examples (``valid_apps_case`` placed in the dev stack, and accepted
  whole-stack-file mutations from ``tests/properties/stack_strategies.py``)

passes ``istioctl validate``, ``istioctl analyze --use-kube=false -A`` with no Error message and no
warning outside :data:`ALLOWED_WARNINGS` (each with its reason, and a test that reproduces it from
that reason), and ``kubectl apply --server-side --dry-run=server`` against the embedded API server
holding the Istio (with their CEL rules) and Gateway API CRDs. A missing tool is a failure.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from pulumi.errors import RunError

from meshstack.apps.bookinfo import BookinfoScenario
from meshstack.errors import ConfigError
from meshstack.model.refs import GatewayKind, GatewayRef
from meshstack.tools.render import manifest_of
from tests.e2e.conftest import Cluster
from tests.harness import run_stack, stack_values
from tests.properties import stack_strategies
from tests.properties.strategies import valid_apps_case
from tests.validators import (
    Finding,
    analyze_errors,
    install_crds,
    istioctl_analyze,
    istioctl_validate_report,
    non_errors,
    server_dry_run,
    tool,
)

pytestmark = pytest.mark.e2e

STACKS = ("dev", "prod")
#: (apps.target, gateways.api)
TARGETS = [("istio", "istio"), ("gatewayApi", "gatewayApi"), ("gatewayApi", "istio")]
#: Scenarios with fault injection, which Gateway API HTTPRoutes cannot express (docs/apps.md).
FAULT_SCENARIOS = {"ratings-delay-jason", "ratings-abort-jason", "reviews-timeout"}

_ENVOYFILTER = (
    "apps[].rateLimit renders Envoy's local rate limit as an EnvoyFilter: Istio has no first-class API "
    "for local rate limiting, and istioctl warns about every EnvoyFilter. Inherent to the feature, "
    "not a defect of the object."
)
#: (code, kind, message prefix) → why the warning is acceptable. ``validate`` is istioctl
#: validate's warning; IST… codes are istioctl analyze's.
ALLOWED_WARNINGS: dict[tuple[str, str, str], str] = {
    ("validate", "EnvoyFilter", "EnvoyFilter exposes internal implementation details"): _ENVOYFILTER,
    ("IST0133", "EnvoyFilter", "Schema validation warning: EnvoyFilter exposes internal implementation details"): (
        _ENVOYFILTER
    ),
}

FUZZ_APPS_EXAMPLES = 40
FUZZ_STACK_EXAMPLES = 250
FUZZ_SEED = 11


def allowed(warning: Finding) -> str | None:
    for (code, kind, prefix), reason in ALLOWED_WARNINGS.items():
        if warning.code == code and warning.kind == kind and warning.message.startswith(prefix):
            return reason
    return None


# --- cases -----------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    manifests: list[dict[str, Any]]


def render(stack: str, **overrides: Any) -> list[dict[str, Any]]:
    return [manifest_of(r) for r in run_stack(stack, **overrides).kubernetes_objects]


def render_values(stack: str, values: dict[str, Any]) -> list[dict[str, Any]]:
    return [manifest_of(r) for r in run_stack(stack, replace=values).kubernetes_objects]


@dataclass
class Checked:
    """What the validators said about a set of cases."""

    cases: int = 0
    objects: int = 0
    unique_objects: int = 0
    failures: list[str] = field(default_factory=list)
    warnings: Counter[str] = field(default_factory=Counter)
    unexplained: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self, title: str) -> str:
        lines = [
            f"{title}: {self.cases} renders, {self.objects} objects ({self.unique_objects} distinct); "
            f"failures={len(self.failures)} warnings={sum(self.warnings.values())} "
            f"unexplained-warnings={len(self.unexplained)}; "
            + ", ".join(f"{k} {v:.1f}s" for k, v in self.seconds.items())
        ]
        lines += [f"  warning x{n}: {w}" for w, n in sorted(self.warnings.items())]
        return "\n".join(lines)


def check_cases(cases: list[Case], cluster: Cluster) -> Checked:
    """istioctl validate and analyze per render (analyze needs the whole set for references); the
    server dry-run once over every distinct object (re-run per render to attribute a rejection)."""
    out = Checked(cases=len(cases))
    timer = time.monotonic()
    for case in cases:
        out.objects += len(case.manifests)
        report = istioctl_validate_report(case.manifests)
        out.failures += [f"{case.name}: istioctl validate: {e}" for e in report.errors]
        messages = istioctl_analyze(case.manifests)
        out.failures += [f"{case.name}: istioctl analyze: {e}" for e in analyze_errors(messages)]
        for warning in non_errors(report, messages):
            message = warning.message.replace(warning.obj, "<obj>")[:100]
            if warning.level == "Info":
                out.warnings[f"(info) {warning.code} {warning.kind}: {message}"] += 1
                continue
            reason = allowed(warning)
            out.warnings[f"{warning.code} {warning.kind}: {message}"] += 1
            if reason is None:
                out.unexplained.append(f"{case.name}: {warning}")
    out.seconds["istioctl"] = time.monotonic() - timer

    timer = time.monotonic()
    distinct = {json.dumps(m, sort_keys=True): m for case in cases for m in case.manifests}
    out.unique_objects = len(distinct)
    rejected = server_dry_run(list(distinct.values()), cluster.kubeconfig, cluster.kubectl_bin)
    if rejected:
        for case in cases:
            out.failures += [f"{case.name}: server dry-run: {e}" for e in _dry_run(case.manifests, cluster)]
        if not any("server dry-run" in f for f in out.failures):  # pragma: no cover - attribution failed
            out.failures += [f"server dry-run: {e}" for e in rejected]
    out.seconds["server dry-run"] = time.monotonic() - timer
    return out


def _dry_run(manifests: list[dict[str, Any]], cluster: Cluster) -> list[str]:
    return server_dry_run(manifests, cluster.kubeconfig, cluster.kubectl_bin)


def assert_clean(checked: Checked, title: str) -> None:
    print("\n" + checked.summary(title))
    problems = [f"rejected: {f}" for f in checked.failures[:40]]
    problems += [f"warning without a documented reason (ALLOWED_WARNINGS): {w}" for w in checked.unexplained[:40]]
    assert not (checked.failures or checked.unexplained), (
        f"{len(checked.failures)} rejections, {len(checked.unexplained)} unexplained warnings:\n" + "\n".join(problems)
    )


# --- the cluster ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crd_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The embedded API server (scripts/cluster.py) with the Istio and Gateway API CRDs Established."""
    tool("istioctl")  # a missing tool fails here, before a cluster is started
    c = Cluster(tmp_path_factory.mktemp("validators") / "c")
    c.start()
    try:
        crds = install_crds(c.kubeconfig, c.kubectl_bin)
        assert len(crds) >= 14 + 5, crds
        yield c
    finally:
        c.stop()


# --- the validators are live ---------------------------------------------------------------------


def test_each_validator_rejects_a_known_bad_object(crd_cluster: Cluster) -> None:
    """Silence proves nothing unless the validators can speak: one known-bad edit of a real
    render for each, and each objects as it should."""
    dev = render("dev")
    vs = next(m for m in dev if m["kind"] == "VirtualService" and m["metadata"]["name"] == "reviews")
    bad_host = [*[m for m in dev if m is not vs], {**vs, "spec": {**vs["spec"], "hosts": ["-bad.example.com"]}}]
    assert any('"-bad.example.com"' in e for e in istioctl_validate_report(bad_host).errors)
    assert any(m["code"] == "IST0106" for m in istioctl_analyze(bad_host))

    dangling = [m for m in dev if not (m["kind"] == "Gateway" and m["apiVersion"].startswith("networking.istio.io"))]
    assert any(m["code"] == "IST0101" and m["level"] == "Error" for m in istioctl_analyze(dangling))

    dr = next(m for m in dev if m["kind"] == "DestinationRule")
    slow = {**dr, "spec": {**dr["spec"], "trafficPolicy": {"connectionPool": {"tcp": {"connectTimeout": "٣s"}}}}}
    rejected = _dry_run([slow], crd_cluster)
    assert len(rejected) == 1 and "connectTimeout" in rejected[0], rejected

    gw = render("dev", apps={"target": "gatewayApi"}, gateways={"api": "gatewayApi"})
    route = next(m for m in gw if m["kind"] == "HTTPRoute")
    rejected = _dry_run([{**route, "spec": {**route["spec"], "hostnames": ["*/"]}}], crd_cluster)
    assert len(rejected) == 1 and "hostnames" in rejected[0], rejected
    assert _dry_run(dev, crd_cluster) == []


# --- committed stacks and Bookinfo scenarios -----------------------------------------------------


def test_committed_stacks_pass_every_validator(crd_cluster: Cluster) -> None:
    cases = [Case(stack, render(stack)) for stack in STACKS]
    assert all(case.manifests for case in cases)
    assert_clean(check_cases(cases, crd_cluster), "committed stacks")


def test_every_bookinfo_scenario_passes_every_validator(crd_cluster: Cluster) -> None:
    cases: list[Case] = []
    refused: list[str] = []
    for stack in STACKS:
        for scenario in BookinfoScenario:
            for target, api in TARGETS:
                name = f"{stack} {scenario.value} apps.target={target} gateways.api={api}"
                try:
                    manifests = render(stack, apps={"target": target, "bookinfo": {"scenario": scenario.value}},
                                       gateways={"api": api})  # fmt: skip
                except RunError as err:
                    # Only what the target cannot express may be refused, and with the scenario's path.
                    assert target == "gatewayApi" and scenario.value in FAULT_SCENARIOS, (name, str(err))
                    assert "meshstack:apps.bookinfo.scenario: " in str(err), str(err)
                    refused.append(name)
                    continue
                cases.append(Case(name, manifests))
    assert len(refused) == len(STACKS) * len(FAULT_SCENARIOS) * 2, refused
    print(f"\nBookinfo: {len(cases)} accepted renders, {len(refused)} refused (fault injection on gatewayApi)")
    assert_clean(check_cases(cases, crd_cluster), "Bookinfo scenarios")


# --- fuzz samples ----------------------------------------------------------------------------------


def _apps_fuzz_cases() -> tuple[list[Case], Counter[str]]:
    """Accepted ``valid_apps_case`` sections, each as the apps of the dev stack (so the gateway and
    namespaces they refer to exist)."""
    drawn: list[tuple[dict[str, Any], GatewayRef | None]] = []

    @hypothesis_seed(FUZZ_SEED)
    @settings(max_examples=FUZZ_APPS_EXAMPLES, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=valid_apps_case)
    def draw(case: tuple[dict[str, Any], GatewayRef | None]) -> None:
        drawn.append(case)

    draw()
    cases: list[Case] = []
    outcomes: Counter[str] = Counter()
    for i, (section, ingress) in enumerate(drawn):
        values = stack_values("dev")
        values["apps"] = section
        gateway_api = ingress is not None and ingress.kind is GatewayKind.GATEWAY_API
        values["gateways"] = {**values["gateways"], "api": "gatewayApi" if gateway_api else "istio"}
        try:
            manifests = render_values("dev", values)
        except (RunError, ConfigError):
            outcomes["rejected by the stack"] += 1
            continue
        outcomes["accepted"] += 1
        cases.append(Case(f"apps fuzz #{i}: {json.dumps(section)[:200]}", manifests))
    return cases, outcomes


def _stack_fuzz_cases() -> tuple[list[Case], Counter[str]]:
    cases: list[Case] = []

    def keep(mutation: stack_strategies.Mutation, result: stack_strategies.Result) -> None:
        if result.outcome is stack_strategies.Outcome.ACCEPTED:
            cases.append(Case(f"stack fuzz: {mutation}", result.manifests))

    tally = stack_strategies.fuzz(FUZZ_STACK_EXAMPLES, seed=FUZZ_SEED, validate=False, on_example=keep)
    return cases, Counter({k: v for k, v in tally.outcomes.items()})


def test_accepted_apps_fuzz_examples_pass_every_validator(crd_cluster: Cluster) -> None:
    cases, outcomes = _apps_fuzz_cases()
    print(f"\napps fuzz (valid_apps_case as the dev stack's apps): {dict(outcomes)}")
    assert len(cases) >= FUZZ_APPS_EXAMPLES // 2, outcomes
    assert_clean(check_cases(cases, crd_cluster), "accepted apps fuzz examples")


def test_accepted_stack_fuzz_examples_pass_every_validator(crd_cluster: Cluster) -> None:
    cases, outcomes = _stack_fuzz_cases()
    print(f"\nstack fuzz (whole stack files): {dict(outcomes)}")
    assert cases, outcomes
    assert_clean(check_cases(cases, crd_cluster), "accepted stack fuzz examples")


# --- the allowed warnings, reproduced from their reasons -----------------------------------------------


def test_every_allowed_warning_comes_from_its_documented_cause() -> None:
    """A rate-limited app is what makes the EnvoyFilter warnings, and nothing else warns about it."""
    web = stack_strategies.WEB
    without = render("dev", apps={"services": {"web": {k: v for k, v in web.items() if k != "rateLimit"}}})
    with_limit = render("dev", apps={"services": {"web": web}})

    def warnings(manifests: list[dict[str, Any]]) -> list[Finding]:
        return non_errors(istioctl_validate_report(manifests), istioctl_analyze(manifests))

    assert [w for w in warnings(without) if w.level != "Info"] == []
    found = [w for w in warnings(with_limit) if w.level != "Info"]
    assert found and all(w.kind == "EnvoyFilter" and w.obj.endswith("-local-ratelimit") for w in found), found
    assert {allowed(w) for w in found} == {_ENVOYFILTER}, found
    reproduced = {key for key in ALLOWED_WARNINGS for w in found if allowed(w) and (w.code, w.kind) == key[:2]}
    assert reproduced == set(ALLOWED_WARNINGS), reproduced
