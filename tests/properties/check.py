"""The property shared by the tests and the fuzz script: validate → (ConfigError with paths) or
render → manifests that pass real schema validation."""

from __future__ import annotations

from enum import Enum
from typing import Any

from meshstack.errors import ConfigError, Problem, join_path
from meshstack.model import checks
from meshstack.model.checks import MeshContext
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
    mesh = MeshRef(ingress=ingress)
    try:
        config = parse_apps(section)
        # What the components check against the mesh before they render (render assumes it passed).
        problems = checks.section_problems(config.apps, config.target, config.peer_authentication, MeshContext.of(mesh))
        if problems := config.located(problems):
            raise ConfigError(Problem(join_path(["apps", *loc]), m) for loc, m in problems)
        manifests = render_apps(config, mesh).all()
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
