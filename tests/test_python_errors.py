"""The errors a platform team meets composing meshstack in its own Python program (issue 23):
every wrong type or value at a component's boundary is a ConfigError naming the Python path, keys
are suggested in the spelling of the path (Python field names, config keys), messages never carry
a field's description, the docstring examples run, separately built apps learn of each other
through the mesh they join, and every problem comes at once."""

from __future__ import annotations

import doctest
import re
from pathlib import Path
from types import ModuleType

import pytest

import meshstack.model
from meshstack.errors import ConfigError
from meshstack.model import HttpRoute, Retries
from meshstack.model.base import Model
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
