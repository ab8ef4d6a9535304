"""Stack config → typed model: environment defaults, overrides, and every class of bad input.

Each bad-config test checks the exact line a user sees (path + what is allowed + what they
wrote) and that the program registered nothing before stopping.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshstack.errors import ConfigError
from meshstack.model.environment import Environment
from meshstack.model.mesh import MtlsMode
from meshstack.stacks.config import collect, load_stack_spec
from tests.harness import Recording, config_error, run_stack, stack_values


def _values(stack: str) -> dict[str, Any]:
    return stack_values(stack)


def test_committed_stacks_load_with_their_environment(dev: Recording, prod: Recording) -> None:
    assert dev.outputs["environment"] == "dev"
    assert prod.outputs["environment"] == "prod"


def test_dev_and_prod_differ_as_a_platform_team_expects() -> None:
    dev = load_stack_spec(_values("dev"))
    prod = load_stack_spec(_values("prod"))
    assert (dev.mesh.mtls, prod.mesh.mtls) == (MtlsMode.PERMISSIVE, MtlsMode.STRICT)
    assert dev.mesh.istiod.replicas == 1 and dev.mesh.istiod.autoscale_max is None
    assert prod.mesh.istiod.replicas >= 2 and prod.mesh.istiod.autoscale_max is not None
    assert prod.mesh.istiod.pdb_min_available is not None
    assert dev.mesh.tracing.sampling > prod.mesh.tracing.sampling
    assert (dev.addons.kiali.auth.value, prod.addons.kiali.auth.value) == ("anonymous", "login")
    assert (dev.addons.grafana.auth.value, prod.addons.grafana.auth.value) == ("anonymous", "login")
    assert dev.mesh.istiod.resources.requests.memory != prod.mesh.istiod.resources.requests.memory
    assert (dev.mesh.protect, prod.mesh.protect) == (False, True)
    assert (dev.mesh.retain_on_delete, prod.mesh.retain_on_delete) == (False, True)


def test_stack_value_overrides_environment_default() -> None:
    spec = load_stack_spec({"environment": "dev", "mesh": {"mtls": "STRICT", "istiod": {"replicas": 2}}})
    assert spec.mesh.mtls is MtlsMode.STRICT
    assert spec.mesh.istiod.replicas == 2
    # Untouched siblings keep the dev default.
    assert spec.mesh.istiod.resources.requests.cpu == "100m"


def test_pulumi_string_encoding_is_decoded() -> None:
    flat = {"meshstack:environment": "prod", "meshstack:mesh": '{"istiod": {"replicas": 4}}', "other:key": "x"}
    values = collect(flat)
    assert values == {"environment": "prod", "mesh": {"istiod": {"replicas": 4}}}
    assert load_stack_spec(values).environment is Environment.PROD


@pytest.mark.parametrize(
    ("overrides", "expected_line"),
    [
        pytest.param(
            {"colour": "blue"},
            "meshstack:colour: unknown key; allowed keys are addons, apps, environment, gateways, kubernetes, mesh, namespaces, promotion, secrets",
            id="unknown-top-level-key",
        ),
        pytest.param(
            {"mesh": {"istiod": {"replica": 2}}},
            "meshstack:mesh.istiod.replica: unknown key; allowed keys are autoscaleMax, pdbMinAvailable, replicas, resources; did you mean replicas?",
            id="unknown-nested-key",
        ),
        pytest.param(
            {"mesh": {"istiod": {"replicas": "two"}}},
            'meshstack:mesh.istiod.replicas: expected an integer >= 1, got "two"',
            id="wrong-type",
        ),
        pytest.param(
            {"mesh": {"istiod": {"replicas": 0}}},
            "meshstack:mesh.istiod.replicas: expected an integer >= 1, got 0",
            id="out-of-range",
        ),
        pytest.param(
            {"mesh": {"tracing": {"sampling": 150}}},
            "meshstack:mesh.tracing.sampling: expected a percentage of requests traced, between 0 and 100, got 150",
            id="out-of-range-float",
        ),
        pytest.param(
            {"mesh": {"mtls": "strict"}},
            'meshstack:mesh.mtls: expected one of STRICT, PERMISSIVE, DISABLE, got "strict"',
            id="not-an-allowed-value",
        ),
        pytest.param(
            {"mesh": {"istiod": {"resources": {"requests": {"memory": "2 gigs"}}}}},
            'meshstack:mesh.istiod.resources.requests.memory: expected a memory quantity such as 128Mi, 2Gi or 1G, got "2 gigs"',
            id="malformed-quantity",
        ),
        pytest.param(
            {"mesh": {"istiod": {"replicas": 3, "autoscaleMax": 2}}},
            "meshstack:mesh.istiod.autoscaleMax: must be >= replicas (3); the HPA maximum cannot be below its minimum",
            id="cross-field",
        ),
        pytest.param(
            {"mesh": "istio"},
            'meshstack:mesh: expected a mapping, got "istio"',
            id="section-not-a-mapping",
        ),
    ],
)
def test_bad_config_names_path_and_allowed_values(overrides: dict[str, Any], expected_line: str) -> None:
    message, registered = config_error("dev", **overrides)
    assert expected_line in message.splitlines()[1:] or f"  {expected_line}" in message.splitlines()
    assert registered == [], "nothing may be registered before config is valid"


def test_missing_required_value() -> None:
    values = {k: v for k, v in _values("dev").items() if k != "environment"}
    message, registered = config_error("dev", replace=values)
    assert "  meshstack:environment: required; expected one of dev, prod" in message.splitlines()
    assert registered == []


def test_prod_refuses_insecure_settings_all_at_once() -> None:
    message, registered = config_error(
        "prod", mesh={"mtls": "PERMISSIVE"}, addons={"kiali": {"auth": "anonymous"}, "grafana": {"auth": "anonymous"}}
    )
    lines = message.splitlines()
    assert lines[0] == "3 configuration problems:"
    assert "  meshstack:mesh.mtls: prod requires STRICT mTLS, got PERMISSIVE" in lines
    assert "  meshstack:addons.kiali.auth: anonymous dashboards are refused in prod; use login" in lines
    assert "  meshstack:addons.grafana.auth: anonymous dashboards are refused in prod; use login" in lines
    assert registered == []


def test_every_problem_is_reported_in_one_error() -> None:
    message, _ = config_error(
        "dev",
        colour="blue",
        mesh={"istiod": {"replicas": "two"}, "mtls": "x", "tracing": {"sampling": -1}},
    )
    lines = message.splitlines()
    assert lines[0] == "4 configuration problems:"
    assert [line.split(":")[1] for line in lines[1:]] == [
        "colour",
        "mesh.istiod.replicas",
        "mesh.mtls",
        "mesh.tracing.sampling",
    ]


def test_dev_may_use_anonymous_dashboards_but_prod_override_cannot() -> None:
    assert load_stack_spec({"environment": "dev", "addons": {"kiali": {"auth": "anonymous"}}})
    with pytest.raises(ConfigError) as err:
        load_stack_spec({"environment": "prod", "addons": {"kiali": {"auth": "anonymous"}}})
    assert err.value.paths == ["addons.kiali.auth"]


_any_value = st.one_of(
    st.integers(min_value=-5, max_value=50),
    st.text(max_size=5),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.none(),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=150, deadline=None)
@given(value=_any_value)
def test_property_replicas_is_accepted_iff_a_positive_integer(value: Any) -> None:
    config = {"environment": "dev", "mesh": {"istiod": {"replicas": value}}}
    # An explicit null is a value, not "unset" (it is how a user clears an optional default such
    # as prod's autoscaleMax), so for a required integer it is an error too.
    valid = isinstance(value, int) and not isinstance(value, bool) and value >= 1
    if valid:
        assert load_stack_spec(config).mesh.istiod.replicas == value
    else:
        with pytest.raises(ConfigError) as err:
            load_stack_spec(config)
        assert err.value.paths == ["mesh.istiod.replicas"]
        assert "expected an integer >= 1" in str(err.value)


@settings(max_examples=100, deadline=None)
@given(keys=st.sets(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8), min_size=1, max_size=4))
def test_property_unknown_keys_are_each_named(keys: set[str]) -> None:
    known = {"version", "chartRepository", "namespace", "revision", "mtls", "accessLogging", "tracing",
             "outboundTrafficPolicy", "istiod", "retainOnDelete", "protect"}  # fmt: skip
    unknown = keys - known
    config = {"environment": "dev", "mesh": dict.fromkeys(unknown, 1)}
    if not unknown:
        load_stack_spec(config)
        return
    with pytest.raises(ConfigError) as err:
        load_stack_spec(config)
    assert sorted(err.value.paths) == sorted(f"mesh.{k}" for k in unknown)


def test_null_clears_an_optional_environment_default() -> None:
    assert (
        load_stack_spec({"environment": "prod", "mesh": {"istiod": {"autoscaleMax": None}}}).mesh.istiod.autoscale_max
        is None
    )


def test_run_stack_overrides_reach_the_program() -> None:
    rec = run_stack("dev", mesh={"mtls": "STRICT"})
    pa = rec.one(kind="PeerAuthentication", namespace="istio-system")
    assert pa.inputs["spec"]["mtls"]["mode"] == "STRICT"
