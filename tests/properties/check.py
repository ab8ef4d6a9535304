"""The property shared by the tests and the fuzz script: validate → (ConfigError with paths) or
render → manifests that pass real schema validation."""

from __future__ import annotations

from enum import Enum
from typing import Any

from meshstack.errors import ConfigError
from meshstack.model.refs import GatewayKind, GatewayRef, MeshRef
from meshstack.render.app import render_apps
from meshstack.stacks.config import parse_apps
from tests.schemas import validate_manifests


class Outcome(Enum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


INGRESSES = [
    None,
    GatewayRef("istio-ingressgateway", "istio-ingress", selector={"istio": "ingressgateway"}),
    GatewayRef("public", "gateways", kind=GatewayKind.GATEWAY_API),
]


class SchemaInvalid(AssertionError):
    pass


def check(section: dict[str, Any], ingress: GatewayRef | None) -> Outcome:
    """ACCEPTED (rendered and schema-valid) or REJECTED (ConfigError naming ``apps.*`` paths);
    raises SchemaInvalid, or any other exception as a crash."""
    try:
        config = parse_apps(section)
        manifests = render_apps(config, MeshRef(ingress=ingress)).all()
    except ConfigError as err:
        assert err.problems, "a ConfigError without problems"
        for problem in err.problems:
            assert problem.path.startswith("apps"), problem
            assert problem.message, problem
        return Outcome.REJECTED
    problems = validate_manifests(manifests)
    if problems:
        raise SchemaInvalid("\n".join(problems[:10]))
    names = [(m["kind"], m["metadata"].get("namespace"), m["metadata"]["name"]) for m in manifests]
    assert len(names) == len(set(names)), "duplicate object"
    return Outcome.ACCEPTED
