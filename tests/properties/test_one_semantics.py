"""One semantics: a spec built from Python objects and the same spec read from stack config are the
same spec, with the same defaults, and render the same manifests.

The Python side is built the way a platform team writes it: every nested section is constructed
with its class and snake_case keyword arguments (``MeshConfig(profile="demo",
istiod=IstiodConfig(replicas=2))``), bottom-up, so layered defaults meet model *instances* — the
case the stack-config path never sees.
"""

from __future__ import annotations

import enum
import typing
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshstack.errors import ConfigError
from meshstack.model import IstiodConfig, MeshConfig, StackSpec
from meshstack.model.base import Model, _model_in, _strip
from meshstack.stacks.config import load_stack_spec
from meshstack.stacks.program import deploy, main
from meshstack.testing import run
from meshstack.tools.render import chart_of, manifest_of
from tests.properties.strategies import valid_app


def build(tp: Any, value: Any) -> Any:
    """``value`` (config form) as Python objects of type ``tp``, built with constructors."""
    model = _model_in(tp)
    if model is not None and isinstance(value, dict):
        fields = {f.alias or n: n for n, f in model.model_fields.items()} | {n: n for n in model.model_fields}
        kwargs = {fields[k]: build(model.model_fields[fields[k]].annotation, v) for k, v in value.items()}
        return model(**kwargs)
    for member in _strip(tp):
        origin = typing.get_origin(member)
        if origin is list and isinstance(value, list):
            return [build(typing.get_args(member)[0], v) for v in value]
        if origin is dict and isinstance(value, dict):
            return {k: build(typing.get_args(member)[1], v) for k, v in value.items()}
        if isinstance(member, type) and issubclass(member, enum.Enum) and isinstance(value, str):
            return member(value)
    return value


def rendered(rec: Any) -> list[str]:
    docs = [manifest_of(r) for r in rec.kubernetes_objects] + [chart_of(r) for r in rec.helm_charts]
    return sorted(yaml.safe_dump(d, sort_keys=True) for d in docs)


resources = st.fixed_dictionaries(
    {"requests": st.fixed_dictionaries({"cpu": st.sampled_from(["50m", "250m"])})},
    optional={"limits": st.fixed_dictionaries({"memory": st.sampled_from(["512Mi", "1Gi"])})},
)
istiod = st.fixed_dictionaries(
    {}, optional={"replicas": st.integers(3, 4), "resources": resources, "pdbMinAvailable": st.just(1)}
)
mesh = st.fixed_dictionaries(
    {},
    optional={
        "profile": st.sampled_from(["default", "demo", "minimal"]),
        "mtls": st.sampled_from(["STRICT", "PERMISSIVE"]),
        "accessLogging": st.booleans(),
        "tracing": st.fixed_dictionaries(
            {}, optional={"sampling": st.sampled_from([0.5, 10.0]), "enabled": st.booleans()}
        ),
        "istiod": istiod,
        "proxy": st.fixed_dictionaries({"resources": resources}),
        "outboundTrafficPolicy": st.sampled_from(["ALLOW_ANY", "REGISTRY_ONLY"]),
        "retainOnDelete": st.booleans(),
    },
)
gateways = st.fixed_dictionaries(
    {},
    optional={
        "ingress": st.fixed_dictionaries(
            {}, optional={"replicas": st.integers(2, 3), "serviceType": st.sampled_from(["ClusterIP", "NodePort"])}
        ),
        "egress": st.fixed_dictionaries({}, optional={"enabled": st.booleans()}),
    },
)
addons = st.fixed_dictionaries(
    {},
    optional={
        "prometheus": st.fixed_dictionaries({}, optional={"retention": st.sampled_from(["2d", "6h"])}),
        "jaeger": st.fixed_dictionaries({}, optional={"enabled": st.booleans()}),
        "grafana": st.fixed_dictionaries({}, optional={"auth": st.just("login")}),
    },
)


@st.composite
def stack_config(draw: st.DrawFn) -> dict[str, Any]:
    config: dict[str, Any] = {"environment": draw(st.sampled_from(["dev", "prod"]))}
    for key, strategy in (("mesh", mesh), ("gateways", gateways), ("addons", addons)):
        if draw(st.booleans()):
            config[key] = draw(strategy)
    if config["environment"] == "prod":  # prod's rules hold whatever is set (tested elsewhere)
        config.setdefault("mesh", {})["mtls"] = "STRICT"
    if draw(st.booleans()):
        config["apps"] = {
            "enabled": True,
            "namespace": "shop",
            "target": "istio",
            "services": {"web": draw(valid_app("web", "istio", False).filter(lambda a: "expose" not in a))},
        }
    return config


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=stack_config())
def test_python_and_stack_config_give_the_same_spec_and_manifests(config: dict[str, Any]) -> None:
    try:
        from_config = load_stack_spec(config)
    except ConfigError as config_err:
        # Refused on one path, refused on the other, for the same reasons. Python objects are built
        # one at a time, so where sibling objects are each wrong (two routes, say) Python stops at
        # the first one built; the stack config is read whole and reports them all.
        with pytest.raises(ConfigError) as python_err:
            build(StackSpec, config)
        python_problems = {p.message for p in python_err.value.problems}
        assert python_problems and python_problems <= {p.message for p in config_err.problems}
        return
    from_python = build(StackSpec, config)
    assert isinstance(from_python, StackSpec)
    assert from_python.model_dump() == from_config.model_dump()
    by_config = run(main, config={f"meshstack:{k}": v for k, v in config.items()})
    by_python = run(lambda: deploy(from_python))
    assert rendered(by_python) == rendered(by_config)


def test_the_issues_examples() -> None:
    prod = StackSpec.for_environment("prod")
    assert prod.mesh.istiod.replicas == 3 and prod.mesh.retain_on_delete and prod.mesh.protect
    assert StackSpec(environment="prod").model_dump() == load_stack_spec({"environment": "prod"}).model_dump()  # type: ignore[arg-type]
    demo = MeshConfig(profile="demo", istiod=IstiodConfig(replicas=2))  # type: ignore[arg-type]
    assert demo == MeshConfig.parse({"profile": "demo", "istiod": {"replicas": 2}})
    assert demo.istiod.resources.requests.cpu == "10m"  # demo's, not the model default's 500m


def test_explicit_values_beat_every_layer_on_both_paths() -> None:
    python = StackSpec.for_environment("dev", mesh=MeshConfig(profile="default", access_logging=False))
    config = load_stack_spec({"environment": "dev", "mesh": {"profile": "default", "accessLogging": False}})
    assert python.model_dump() == config.model_dump()
    assert python.mesh.access_logging is False  # dev's layer says True; the caller said False
    assert python.mesh.istiod.resources.requests.cpu == "100m"  # dev's layer beats the default profile's


def test_built_objects_remember_only_what_the_caller_set() -> None:
    assert IstiodConfig(replicas=2).explicit_fields == {"replicas"}
    assert isinstance(build(MeshConfig, {"profile": "demo"}), Model)
