"""Istio's Bookinfo sample, built on meshstack's public API, with every traffic-management task as a preset.

``bookinfo_apps(BookinfoConfig(scenario="jason-v2"))`` gives the four :class:`AppSpec` objects;
stack config selects the scenario with ``meshstack:apps: {enabled: true, bookinfo: {scenario: …}}``.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from pydantic import Field, model_validator

from meshstack.errors import fail_all
from meshstack.model import (
    AppSpec,
    AuthorizationPolicy,
    AuthorizationRule,
    ClientTls,
    Exposure,
    Fault,
    HttpMethod,
    HttpRoute,
    Match,
    PodSecurity,
    Probe,
    ResourceList,
    Resources,
    ServicePort,
    Version,
    arguments,
    checks,
)
from meshstack.model.base import Model
from meshstack.model.release import RELEASE
from meshstack.model.rollout import Rollout

SERVICES = ("productpage", "details", "reviews", "ratings")
VERSIONS = {"productpage": ("v1",), "details": ("v1",), "reviews": ("v1", "v2", "v3"), "ratings": ("v1",)}
#: Istio's documented ingress paths of productpage.
INGRESS_EXACT = ["/productpage", "/login", "/logout"]
INGRESS_PREFIX = ["/static", "/api/v1/products"]
JASON = Match.header("end-user", exact="jason")


class BookinfoScenario(StrEnum):
    """Istio's Bookinfo traffic-management tasks (each name maps to one preset below)."""

    DEFAULT = "default"  # no routes: round robin over reviews v1/v2/v3
    ALL_V1 = "all-v1"  # virtual-service-all-v1
    REVIEWS_V1_V2_80_20 = "reviews-v1-v2-80-20"
    REVIEWS_V1_V3_50_50 = "reviews-v1-v3-50-50"  # traffic shifting, step 1
    REVIEWS_V2_V3_50_50 = "reviews-v2-v3-50-50"
    REVIEWS_V3 = "reviews-v3"  # traffic shifting, step 2
    JASON_V2 = "jason-v2"  # request routing: end-user jason → reviews v2, others v1
    JASON_V2_DEFAULT_V3 = "jason-v2-default-v3"
    RATINGS_DELAY_JASON = "ratings-delay-jason"  # fault injection: 7s delay for jason
    RATINGS_ABORT_JASON = "ratings-abort-jason"  # fault injection: HTTP 500 for jason
    REVIEWS_TIMEOUT = "reviews-timeout"  # request timeouts: reviews 0.5s, ratings delayed 2s


class BookinfoConfig(Model):
    """``apps.bookinfo``: Bookinfo in the apps namespace, one scenario at a time."""

    scenario: BookinfoScenario = Field(
        BookinfoScenario.DEFAULT,
        strict=False,
        description="Traffic-management task preset. Default: default.",
        json_schema_extra=RELEASE,
    )
    mtls: bool = Field(False, description="DestinationRules with tls ISTIO_MUTUAL (destination-rule-all-mtls).")
    expose: bool = Field(True, description="Serve productpage's documented paths through the ingress gateway.")
    image_registry: str = Field("docker.io/istio", min_length=1, pattern=r"^[a-z0-9][a-z0-9./:-]*$")
    image_tag: str = Field("1.20.3", pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", json_schema_extra=RELEASE)
    replicas: int = Field(1, ge=0, le=100, description="Pods per version. Default: 1.")
    authorization: bool = Field(
        True,
        description="Each service admits only its callers (details and reviews: productpage; ratings: reviews), "
        "by mTLS identity: what a default-deny mesh needs. Default: true.",
        json_schema_extra=RELEASE,
    )
    weights: dict[str, dict[str, int]] = Field(
        default_factory=dict,
        description="Weighted split per service, replacing the scenario's routes for that service, "
        "e.g. {reviews: {v1: 90, v2: 10}} to move a canary one step. Default: none (the scenario decides).",
        json_schema_extra=RELEASE,
    )
    rollouts: dict[str, Rollout] = Field(
        default_factory=dict,
        description="Progressive delivery per service, e.g. {reviews: {stable: v1, canary: v2, steps: [10, 50, 100], "
        "analysis: {...}}}: the rollout's routes replace the scenario's catch-all route of that service (its "
        "matched routes stay). Default: none.",
        json_schema_extra=RELEASE,
    )

    @model_validator(mode="after")
    def _weights_are_a_split(self) -> BookinfoConfig:
        problems: list[tuple[str, str]] = []
        for svc, split in self.weights.items():
            if svc not in VERSIONS:
                problems.append((f"weights.{svc}", f"not a Bookinfo service; allowed: {', '.join(SERVICES)}"))
                continue
            for version, weight in split.items():
                if version not in VERSIONS[svc]:
                    problems.append(
                        (
                            f"weights.{svc}.{version}",
                            f"{svc} has no version {version}; allowed: {', '.join(VERSIONS[svc])}",
                        )
                    )
                elif not 0 <= weight <= 100:
                    problems.append((f"weights.{svc}.{version}", f"expected a weight between 0 and 100, got {weight}"))
            if split:
                problems += [(f"weights.{svc}", message) for message in checks.split_problems(split.values())]
            if not split:
                problems.append((f"weights.{svc}", "expected at least one version with a weight"))
        for svc, rollout in self.rollouts.items():
            if svc not in VERSIONS:
                problems.append((f"rollouts.{svc}", f"not a Bookinfo service; allowed: {', '.join(SERVICES)}"))
                continue
            for key, version in (("stable", rollout.stable), ("canary", rollout.canary)):
                if version not in VERSIONS[svc]:
                    problems.append(
                        (
                            f"rollouts.{svc}.{key}",
                            f"{svc} has no version {version}; allowed: {', '.join(VERSIONS[svc])}",
                        )
                    )
            if svc in self.weights:
                problems.append((f"rollouts.{svc}", f"{svc} has weights too; a rollout moves the weights itself"))
        if err := fail_all(problems):
            raise err
        return self


Routes = dict[str, list[HttpRoute]]


def _all_v1() -> Routes:
    return {svc: [HttpRoute.to_version("v1")] for svc in SERVICES}


def _with(**overrides: list[HttpRoute]) -> Routes:
    return {**_all_v1(), **overrides}


def _jason_v2() -> list[HttpRoute]:
    return [HttpRoute.to_version("v2", match=[JASON]), HttpRoute.to_version("v1")]


PRESETS: dict[BookinfoScenario, Callable[[], Routes]] = {
    BookinfoScenario.DEFAULT: dict,
    BookinfoScenario.ALL_V1: _all_v1,
    BookinfoScenario.REVIEWS_V1_V2_80_20: lambda: _with(reviews=[HttpRoute.weighted_split({"v1": 80, "v2": 20})]),
    BookinfoScenario.REVIEWS_V1_V3_50_50: lambda: _with(reviews=[HttpRoute.weighted_split({"v1": 50, "v3": 50})]),
    BookinfoScenario.REVIEWS_V2_V3_50_50: lambda: _with(reviews=[HttpRoute.weighted_split({"v2": 50, "v3": 50})]),
    BookinfoScenario.REVIEWS_V3: lambda: _with(reviews=[HttpRoute.to_version("v3")]),
    BookinfoScenario.JASON_V2: lambda: _with(reviews=_jason_v2()),
    BookinfoScenario.JASON_V2_DEFAULT_V3: lambda: _with(
        reviews=[HttpRoute.to_version("v2", match=[JASON]), HttpRoute.to_version("v3")]
    ),
    BookinfoScenario.RATINGS_DELAY_JASON: lambda: _with(
        reviews=_jason_v2(),
        ratings=[HttpRoute.to_version("v1", match=[JASON], fault=Fault.delayed("7s")), HttpRoute.to_version("v1")],
    ),
    BookinfoScenario.RATINGS_ABORT_JASON: lambda: _with(
        reviews=_jason_v2(),
        ratings=[HttpRoute.to_version("v1", match=[JASON], fault=Fault.aborted(500)), HttpRoute.to_version("v1")],
    ),
    BookinfoScenario.REVIEWS_TIMEOUT: lambda: _with(
        reviews=[HttpRoute.to_version("v2", timeout="0.5s")],
        ratings=[HttpRoute.to_version("v1", fault=Fault.delayed("2s"))],
    ),
}

_SMALL = Resources(requests=ResourceList(cpu="10m", memory="64Mi"), limits=ResourceList(cpu="500m", memory="512Mi"))


def _version(config: BookinfoConfig, svc: str, version: str) -> Version:
    writable = ["/tmp"] + (["/opt/ibm/wlp/output"] if svc == "reviews" else [])
    env = {"LOG_DIR": "/tmp/logs"} if svc == "reviews" else {}
    return Version(
        image=f"{config.image_registry}/examples-bookinfo-{svc}-{version}:{config.image_tag}",
        replicas=config.replicas,
        resources=_SMALL,
        security=PodSecurity(run_as_user=1000),
        writable_paths=writable,
        env=env,
    )


#: Who calls whom in Bookinfo (Istio's bookinfo authorization policies).
CALLERS = {"details": "productpage", "reviews": "productpage", "ratings": "reviews"}


def _callers(svc: str) -> list[AuthorizationPolicy]:
    """Bookinfo's identity-based policy for ``svc``: its caller's ServiceAccount, in any namespace."""
    if svc not in CALLERS:
        return []  # productpage: opened to the ingress gateway when exposed
    rule = AuthorizationRule(principals=[f"*/sa/bookinfo-{CALLERS[svc]}"], methods=[HttpMethod.GET])
    return [AuthorizationPolicy(name=f"from-{CALLERS[svc]}", rules=[rule])]


def bookinfo_apps(config: BookinfoConfig) -> dict[str, AppSpec]:
    """The four Bookinfo apps for ``config.scenario``."""
    arguments.refuse(arguments.check_call(bookinfo_apps, config=config))
    routes = PRESETS[config.scenario]()
    for svc, split in config.weights.items():
        routes[svc] = [HttpRoute.weighted_split(split)]
    for svc in config.rollouts:  # the rollout owns the catch-all route
        routes[svc] = [route for route in routes.get(svc, []) if route.match]
    out: dict[str, AppSpec] = {}
    for svc in SERVICES:
        out[svc] = AppSpec(
            ports=[ServicePort(name="http", port=9080)],
            versions={v: _version(config, svc, v) for v in VERSIONS[svc]},
            service_account=f"bookinfo-{svc}",
            probe=Probe.http("/health"),
            routes=routes.get(svc, []),
            rollout=config.rollouts.get(svc),
            authorization=_callers(svc) if config.authorization else [],
            tls=ClientTls.istio_mutual() if config.mtls else None,
            expose=Exposure.of(exact=INGRESS_EXACT, prefix=INGRESS_PREFIX)
            if svc == "productpage" and config.expose
            else None,
        )
    return out
