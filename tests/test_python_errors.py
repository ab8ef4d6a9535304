"""The errors a platform team meets composing meshstack in its own Python program (issue 23):
every wrong type or value at a component's boundary is a ConfigError naming the Python path, keys
are suggested in the spelling of the path (Python field names, config keys), messages never carry
a field's description, the docstring examples run, separately built apps learn of each other
through the mesh they join, and every problem comes at once."""

from __future__ import annotations

import doctest
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

import meshstack.model
from meshstack.apps.bookinfo import bookinfo_apps
from meshstack.components import (
    MeshAddons,
    MeshApp,
    MeshAppArgs,
    MeshApps,
    MeshAppsArgs,
    MeshControlPlane,
    MeshGateways,
    MeshPlatform,
    MeshPlatformArgs,
    MeshReference,
    WorkloadNamespaces,
)
from meshstack.errors import ConfigError
from meshstack.model import (
    AppSpec,
    HttpRoute,
    MeshConfig,
    MeshRef,
    RenderTarget,
    Retries,
    ServicePort,
    Version,
    WorkloadNamespace,
)
from meshstack.model.base import Model
from meshstack.testing import Recording, run
from tests.harness import config_error

ROOT = Path(__file__).resolve().parent.parent
MODEL = {name: getattr(meshstack.model, name) for name in meshstack.model.__all__}


# --- spelling, descriptions, docstrings --------------------------------------------------------------


def test_a_python_typo_is_answered_with_python_field_names() -> None:
    with pytest.raises(ConfigError) as exc:
        Retries(attempts=2, per_try_timout="1s")  # type: ignore[call-arg]
    assert exc.value.paths == ["per_try_timout"]
    [problem] = exc.value.problems
    assert problem.message == (
        "unknown key; allowed keys are attempts, per_try_timeout, retry_on; did you mean per_try_timeout?"
    )
    # The same typo in stack config is answered with config keys.
    with pytest.raises(ConfigError) as exc:
        Retries.parse({"attempts": 2, "perTryTimout": "1s"}, path=["routes", 0, "retries"])
    assert exc.value.paths == ["routes[0].retries.perTryTimout"]
    assert exc.value.problems[0].message.endswith("attempts, perTryTimeout, retryOn; did you mean perTryTimeout?")
    # ... and from a stack file, below an optional section.
    route = {"to": [{"version": "v1"}], "retries": {"attempts": 2, "perTryTimout": "1s"}}
    web = {"versions": {"v1": {"image": "x/web:1"}}, "routes": [route]}
    message, _ = config_error("dev", apps={"enabled": True, "services": {"web": web}})
    assert message.splitlines()[1:] == [
        "  meshstack:apps.services.web.routes[0].retries.perTryTimout: unknown key; allowed keys are attempts, "
        "perTryTimeout, retryOn; did you mean perTryTimeout?"
    ]


def test_a_message_says_what_is_allowed_never_what_the_field_is_for() -> None:
    with pytest.raises(ConfigError) as exc:
        HttpRoute.to_version("v1", timeout="-1s")
    assert exc.value.paths == ["timeout"]
    assert exc.value.problems[0].message == 'expected a duration such as 100ms, 2s, 1.5s or 1m30s, got "-1s"'
    assert "Whole-request timeout" not in str(exc.value)


def _models() -> list[type[Model]]:
    seen: list[type[Model]] = []
    todo = [Model]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.append(sub)
                todo.append(sub)
    return seen


def test_no_field_description_is_worded_as_an_allowed_value() -> None:
    """Allowed values in words live in their own schema key (``errors.allowing``): a description
    starting with ``allowed:`` would be the old way of putting it into messages."""
    worded = [
        f"{model.__name__}.{name}"
        for model in _models()
        for name, field in model.model_fields.items()
        if (field.description or "").lstrip().startswith("allowed")
    ]
    assert worded == []


#: The modules whose docstring examples are doctests (run with meshstack.model's names).
DOCTESTED = ("meshstack.model.policy.route", "meshstack.model.base")


@pytest.mark.parametrize("module", DOCTESTED)
def test_docstring_examples_run(module: str) -> None:
    mod: ModuleType = __import__(module, fromlist=["_"])
    result = doctest.testmod(mod, extraglobs=MODEL, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted > 0 and result.failed == 0


def test_the_documented_canary_factory_exists_and_inline_examples_call_real_factories() -> None:
    """``HttpRoute.weighted({...})`` was recommended and is a property; the factory is
    ``weighted_split``. Every inline ``Name.factory(...)`` example in a model module's docstring
    (without ``...`` placeholders) must run."""
    assert HttpRoute.weighted_split({"v1": 90, "v2": 10}).weighted == [("v1", 90), ("v2", 10)]
    failures = []
    for path in sorted((ROOT / "meshstack" / "model").rglob("*.py")):
        doc = re.match(r'\s*(?:from __future__[^\n]*\n)?\s*"""(.*?)"""', path.read_text(), re.S)
        for example in re.findall(r"``([A-Z]\w*\.\w+\(.*?\))``", doc.group(1) if doc else ""):
            if "..." in example or example.split(".")[0] not in MODEL:
                continue
            try:
                eval(example, dict(MODEL))  # our own docstrings
            except Exception as err:  # noqa: BLE001 - report every broken example
                failures.append(f"{path.relative_to(ROOT)}: {example}: {type(err).__name__}: {err}")
    assert failures == []


# --- every problem at once ------------------------------------------------------------------------


def test_the_readme_example_lists_all_three_problems_from_a_stack_file() -> None:
    readme = (ROOT / "README.md").read_text()
    documented = readme.split("```text\n3 configuration problems:")[1].split("```")[0]
    message, registered = config_error(
        "prod", colour="blue", mesh={"istiod": {"replicas": "two"}, "mtls": "PERMISSIVE"}
    )
    assert message == "3 configuration problems:" + documented.rstrip("\n")
    assert "meshstack:mesh.mtls: prod requires STRICT mTLS, got PERMISSIVE" in message.splitlines()[3]
    assert registered == []


def test_prod_rules_on_apps_come_with_the_field_errors() -> None:
    web = {
        "versions": {"v1": {"image": "x/web:latest", "replicas": "two"}, "v2": {"image": "x/web:2"}},
        "routes": [{"to": [{"version": "v1", "weight": 90}, {"version": "v2", "weight": 20}]}],
    }
    message, registered = config_error("prod", apps={"enabled": True, "namespace": "web", "services": {"web": web}})
    lines = message.splitlines()
    assert lines[0] == "3 configuration problems:"
    assert (
        '  meshstack:apps.services.web.versions.v1.replicas: expected an integer >= 0 and <= 1000, got "two"' in lines
    )
    assert "  meshstack:apps.services.web.routes[0].to: Istio route weights must sum to 100, got 110" in lines
    assert any(line.startswith("  meshstack:apps.services.web.versions.v1.image: prod pins images") for line in lines)
    assert registered == []


def test_a_value_set_aside_is_unknown_not_its_default() -> None:
    """A rule that reads a refused value is not run on its default: a namespace naming a revision
    whose definition is broken is not also told that the revision does not exist."""
    message, _ = config_error(
        "dev", mesh={"revisions": [{"name": "Canary!"}]}, namespaces={"shop": {"revision": "canary"}}
    )
    assert message.splitlines()[0] == "1 configuration problem:"
    assert "meshstack:mesh.revisions[0].name: expected a DNS label" in message


# --- component boundaries ---------------------------------------------------------------------------


def checkout(**fields: object) -> AppSpec:
    versions = {"v1": Version(image="registry.example.com/shop/checkout:1.4.2")}
    return AppSpec(ports=[ServicePort(port=8080)], versions=versions, **fields)  # type: ignore[arg-type]


def shop_platform(environment: str = "dev") -> MeshPlatform:
    return MeshPlatform("mesh", MeshPlatformArgs(environment=environment, namespaces={"shop": WorkloadNamespace()}))


def refused(body: Callable[[], object]) -> tuple[ConfigError, Recording]:
    """The ConfigError ``body`` stops with under mocks, and what was registered before it."""
    with pytest.raises(ConfigError) as exc:
        run(body)
    return exc.value, getattr(exc.value, "recording")  # noqa: B009 - attached by the mock run


def apps_registered(rec: Recording) -> list[str]:
    return [r.name for r in rec.find(type="meshstack:apps:MeshApp")]


def test_an_app_given_as_a_dict_is_a_config_error_at_app() -> None:
    def body() -> None:
        platform = shop_platform()
        app = {"ports": [{"port": 8080}], "versions": {"v1": {"image": "x/checkout:1"}}}
        MeshApp("checkout", MeshAppArgs(app=app, mesh=platform.mesh, namespace="shop"))  # type: ignore[arg-type]

    err, rec = refused(body)
    assert err.paths == ["app"]
    assert err.problems[0].message == (
        "expected an AppSpec, got a dict; build it with AppSpec(...), or AppSpec.parse(data) for config-form data"
    )
    assert apps_registered(rec) == []


def test_an_unknown_environment_is_a_config_error_at_environment() -> None:
    err, rec = refused(lambda: MeshPlatform("mesh", MeshPlatformArgs(environment="production")))
    assert err.paths == ["environment"]
    assert err.problems[0].message == 'expected one of dev, prod, got "production"'
    assert rec.resources == []


def test_the_platform_instead_of_its_mesh_is_a_config_error_at_mesh() -> None:
    def body() -> None:
        platform = shop_platform()
        MeshApp("checkout", MeshAppArgs(app=checkout(), mesh=platform, namespace="shop"))  # type: ignore[arg-type]

    err, rec = refused(body)
    assert err.paths == ["mesh"]
    assert err.problems[0].message == "expected a MeshReference, got a MeshPlatform; pass its .mesh"
    assert apps_registered(rec) == []


def test_two_apps_of_one_name_are_refused_before_the_second_registers() -> None:
    def body() -> None:
        platform = shop_platform()
        MeshApp("checkout", MeshAppArgs(app=checkout(), mesh=platform.mesh, namespace="shop"))
        MeshApp("checkout", MeshAppArgs(app=checkout(), mesh=platform.mesh, namespace="shop"))

    err, rec = refused(body)
    assert err.paths == ["name"]
    assert err.problems[0].message.startswith('another MeshApp of this mesh is named "checkout" (in namespace shop)')
    assert apps_registered(rec) == ["checkout"]


def test_an_app_in_a_namespace_the_platform_does_not_manage_is_refused() -> None:
    def body() -> None:
        platform = shop_platform()
        MeshApp("checkout", MeshAppArgs(app=checkout(), mesh=platform.mesh, namespace="payments"))

    err, rec = refused(body)
    assert err.paths == ["namespace"]
    assert err.problems[0].message.startswith("payments is not a namespace of this mesh; allowed: shop")
    assert apps_registered(rec) == []


def test_a_section_s_namespace_is_the_mesh_s_and_its_services_are_taken() -> None:
    def body() -> None:
        platform = shop_platform()
        MeshApps("team", MeshAppsArgs(mesh=platform.mesh, apps={"web": checkout()}, namespace="team"))
        MeshApp("api", MeshAppArgs(app=checkout(), mesh=platform.mesh, namespace="team"))  # joins the section's
        MeshApp("web", MeshAppArgs(app=checkout(), mesh=platform.mesh, namespace="team"))

    err, rec = refused(body)
    assert err.paths == ["name"]
    assert err.problems[0].message == 'MeshApps("team") already defines Service web in namespace team'
    assert sorted(apps_registered(rec)) == ["api", "team-web"]

    def shop_again() -> None:
        platform = shop_platform()
        MeshApps("apps", MeshAppsArgs(mesh=platform.mesh, apps={"web": checkout()}, namespace="shop"))

    err, _ = refused(shop_again)
    assert err.paths == ["namespace"]
    assert err.problems[0].message.startswith("is a workload namespace of the platform, which creates it")


def test_a_component_reports_every_problem_of_its_arguments_at_once() -> None:
    """Types, the app's rules, prod's rules and the mesh's membership in one error."""

    def body() -> None:
        platform = shop_platform("prod")
        app = AppSpec(
            versions={"v1": Version(image="x/checkout:latest"), "v2": Version()},
            routes=[HttpRoute.weighted_split({"v1": 90, "v2": 20})],
        )
        images = {"v2": 2}  # an image reference, not a number
        MeshApp("checkout", MeshAppArgs(app=app, mesh=platform.mesh, namespace="payments", images=images))  # type: ignore[dict-item]

    err, rec = refused(body)
    assert err.paths == ["app.routes[0].to", 'app.versions["v1"].image', 'images["v2"]', "namespace"]
    messages = dict((p.path, p.message) for p in err.problems)
    assert messages["app.routes[0].to"] == "Istio route weights must sum to 100, got 110"
    assert messages['app.versions["v1"].image'].startswith("prod pins images")
    assert messages['images["v2"]'] == "expected a string or an Output, got 2"
    assert messages["namespace"].startswith("payments is not a namespace of this mesh")
    assert apps_registered(rec) == []


def test_the_platform_reports_wrong_types_with_its_rules() -> None:
    args = MeshPlatformArgs(
        environment="prod",
        mesh=MeshConfig(mtls="PERMISSIVE"),
        gateways={"ingress": {}},  # type: ignore[arg-type]
        namespaces={"shop": {}},  # type: ignore[dict-item]
    )
    with pytest.raises(ConfigError) as exc:
        args.spec()
    assert exc.value.paths == ["gateways", "mesh.mtls", 'namespaces["shop"]']
    messages = [p.message for p in exc.value.problems]
    assert messages[0].startswith("expected a GatewaysConfig or None, got a dict; build it with GatewaysConfig(...)")
    assert messages[1] == "prod requires STRICT mTLS, got PERMISSIVE"
    assert messages[2].startswith("expected a WorkloadNamespace, got a dict; build it with")


COMPONENTS = [
    (MeshPlatform, "MeshPlatformArgs"),
    (MeshApp, "MeshAppArgs"),
    (MeshApps, "MeshAppsArgs"),
    (MeshControlPlane, "MeshControlPlaneArgs"),
    (MeshGateways, "MeshGatewaysArgs"),
    (MeshAddons, "MeshAddonsArgs"),
    (WorkloadNamespaces, "WorkloadNamespacesArgs"),
]


@pytest.mark.parametrize(("component", "args_name"), COMPONENTS, ids=[c.__name__ for c, _ in COMPONENTS])
def test_every_public_component_refuses_arguments_of_the_wrong_type(component: type, args_name: str) -> None:
    err, rec = refused(lambda: component("x", {"mesh": {}}, opts={"parent": None}))
    assert err.paths == ["args", "opts"]
    assert err.problems[0].message == f"expected {_a(args_name)}, got a dict; build it with {args_name}(...)"
    assert err.problems[1].message == "expected a ResourceOptions or None, got a dict"
    assert rec.resources == []


def _a(name: str) -> str:
    return ("an " if name[0] in "AEIOU" else "a ") + name


def test_the_mesh_reference_and_bookinfo_check_their_arguments() -> None:
    with pytest.raises(ConfigError) as exc:
        MeshReference(MeshRef(), ready=["istiod"])  # type: ignore[list-item]
    assert exc.value.paths == ["ready[0]"]
    assert exc.value.problems[0].message == 'expected a Resource, got "istiod"'
    with pytest.raises(ConfigError) as exc:
        bookinfo_apps({"scenario": "jason-v2"})  # type: ignore[arg-type]
    assert exc.value.paths == ["config"]
    assert "expected a BookinfoConfig, got a dict; build it with BookinfoConfig(...)" in str(exc.value)
    with pytest.raises(ConfigError) as exc:
        AppSpec({"versions": {}})  # type: ignore[misc]
    assert exc.value.paths == ["AppSpec(...)"]
    assert "use AppSpec.parse(data)" in str(exc.value)


def test_enum_arguments_take_their_values_as_model_fields_do() -> None:
    args = MeshAppArgs(app=checkout(), mesh=MeshReference(), namespace="shop", target="gatewayApi")  # type: ignore[arg-type]
    assert args.target is RenderTarget.GATEWAY_API
