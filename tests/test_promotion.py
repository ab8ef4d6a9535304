"""The release/environment split (declared in the model) and a promotion's target config, offline."""

from __future__ import annotations

import copy
import difflib
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from meshstack.errors import ConfigError
from meshstack.model.app import AppSpec, Version
from meshstack.model.promotion import Promotion
from meshstack.model.release import promote, release_of, split_table
from meshstack.model.stack import StackSpec
from meshstack.stacks.config import load_stack_spec
from meshstack.stacks.program import main
from meshstack.stacks.release import digest, promoted_config, record
from meshstack.stacks.stack_file import update_config
from meshstack.testing import run
from meshstack.tools.engine import ROOT


def committed(stack: str) -> dict[str, Any]:
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {k.removeprefix("meshstack:"): v for k, v in config.items()}


def web(image: str, **version: Any) -> dict[str, Any]:
    return {"versions": {"v1": {"image": image, **version}}}


PROVENANCE = Promotion(
    source="dev", update=7, commit="0123abc", digest="sha256:" + "0" * 64, at="2026-11-21T10:00:00Z"
).to_config()


def test_the_split_is_declared_in_the_model() -> None:
    table = dict(split_table(StackSpec))
    release = {path for path, part in table.items() if part == "release"}
    assert {
        "apps.services.<name>.versions.<name>.image",
        "apps.services.<name>.routes",
        "apps.services.<name>.rollout",
        "apps.services.<name>.authorization",
    } <= release
    environment = {path for path, part in table.items() if part == "environment"}
    assert {
        "apps.services.<name>.versions.<name>.replicas",
        "apps.services.<name>.versions.<name>.resources",
        "apps.services.<name>.expose",
        "apps.services.<name>.peerAuthentication",
        "mesh.mtls",
        "mesh.istiod",
        "addons",
        "secrets",
        "kubernetes",
        "gateways",
    } <= environment
    assert table["mesh.version"] == "mesh"


def test_dev_to_prod_takes_devs_release_and_keeps_prods_environment() -> None:
    dev, prod = committed("dev"), committed("prod")
    promoted = promoted_config(prod, record(dev)["config"])
    # The Bookinfo release (its scenario) is dev's; how prod runs it (mTLS, replicas) is prod's.
    assert promoted["apps"]["bookinfo"] == {"scenario": "reviews-v1-v2-80-20", "mtls": True, "replicas": 2}
    # Everything environment is prod's, untouched.
    for key in ("environment", "mesh", "gateways", "addons"):
        assert promoted[key] == prod[key]
    spec = load_stack_spec(promoted)
    assert spec.is_prod and spec.apps.apps["reviews"].versions.keys() == {"v1", "v2", "v3"}


def test_apps_and_versions_exist_in_the_target_iff_they_exist_in_the_release() -> None:
    target = {"apps": {"enabled": True, "services": {"web": web("x/web:1", replicas=4), "legacy": web("x/legacy:9")}}}
    source = {
        "apps": {
            "enabled": False,  # environment: the target keeps its own
            "services": {
                "web": {"versions": {"v1": {"image": "x/web:2", "replicas": 1}, "v2": {"image": "x/web:3"}}},
                "api": web("x/api:1"),
            },
        }
    }
    out = promoted_config(target, source)
    services = out["apps"]["services"]
    assert out["apps"]["enabled"] is True
    assert set(services) == {"web", "api"}  # legacy left with the release that dropped it
    assert services["web"]["versions"]["v1"] == {"image": "x/web:2", "replicas": 4}  # image dev's, replicas prod's
    assert services["web"]["versions"]["v2"] == {"image": "x/web:3"}  # a new version: defaults for its sizes
    assert services["api"] == web("x/api:1")


def test_the_mesh_version_moves_only_when_asked() -> None:
    target = {"mesh": {"version": "1.28.0", "profile": "default"}}
    source = {"mesh": {"version": "1.29.1", "profile": "demo"}}
    assert promoted_config(target, source)["mesh"] == {"version": "1.28.0", "profile": "default"}
    assert promoted_config(target, source, mesh_version=True)["mesh"] == {"version": "1.29.1", "profile": "default"}


def test_a_sample_follows_the_release() -> None:
    prod = {"apps": {"enabled": True, "bookinfo": {"scenario": "all-v1", "replicas": 2}}}
    without = promoted_config(prod, {"apps": {"services": {"web": web("x/web:1")}}})
    assert "bookinfo" not in without["apps"] and set(without["apps"]["services"]) == {"web"}


def test_a_dev_release_breaking_a_prod_rule_fails_as_prod() -> None:
    rollout = {"stable": "v1", "canary": "v2", "steps": [10, 100], "analysis": {"interval": "1m"}}
    dev_app = {"versions": {"v1": {"image": "x/web:1"}, "v2": {"image": "x/web:2"}}, "rollout": rollout}
    dev = {"environment": "dev", "apps": {"enabled": True, "namespace": "shop", "services": {"web": dev_app}}}
    load_stack_spec(dev)  # fine in dev: onNoData defaults to fail
    promoted = promoted_config(committed("prod"), release_of(StackSpec, dev))
    with pytest.raises(ConfigError) as err:
        load_stack_spec(promoted)
    assert "apps.services.web.rollout.analysis.onNoData" in str(err.value)


def test_every_run_records_its_release_and_a_promotion_its_provenance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESHSTACK_COMMIT", "0123abcdef")
    config = {f"meshstack:{k}": v for k, v in committed("dev").items()}
    outputs = run(main, config=config, stack="dev").outputs
    recorded = outputs["release"]
    assert recorded["config"] == {
        "mesh": {"version": "1.29.1"},
        "apps": {"bookinfo": {"scenario": "reviews-v1-v2-80-20"}},
    }
    assert recorded["digest"] == digest(recorded["config"]) and recorded["commit"] == "0123abcdef"
    assert "promotion" not in outputs
    prod = {f"meshstack:{k}": v for k, v in committed("prod").items()} | {"meshstack:promotion": PROVENANCE}
    assert run(main, config=prod, stack="prod").outputs["promotion"] == PROVENANCE


def test_the_provenance_record_is_validated() -> None:
    with pytest.raises(ConfigError) as err:
        load_stack_spec({**committed("prod"), "promotion": {**PROVENANCE, "update": 0, "commit": "not a sha"}})
    text = str(err.value)
    assert "promotion.update" in text and "promotion.commit" in text


def test_the_stack_file_edit_keeps_comments_and_changes_only_what_differs(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text((ROOT / "Pulumi.prod.yaml").read_text())
    config = yaml.safe_load(path.read_text())["config"]
    promoted = copy.deepcopy(config)
    promoted["meshstack:apps"]["bookinfo"]["scenario"] = "reviews-v3"
    promoted["meshstack:promotion"] = PROVENANCE
    update_config(path, promoted)
    after = path.read_text()
    assert yaml.safe_load(after)["config"] == promoted
    before_lines = (ROOT / "Pulumi.prod.yaml").read_text().splitlines()
    comments = [line for line in before_lines if line.strip().startswith("#")]
    assert comments and all(c in after.splitlines() for c in comments)
    diff = list(difflib.unified_diff(before_lines, after.splitlines(), lineterm="", n=0))
    removed = [line[1:] for line in diff if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in diff if line.startswith("+") and not line.startswith("+++")]
    assert removed == ["      scenario: all-v1"]
    assert added[0] == "      scenario: reviews-v3" and added[1].startswith("  meshstack:promotion:")


images = st.from_regex(r"x/[a-z]{1,5}:[0-9]{1,2}", fullmatch=True)
versions = st.dictionaries(
    st.sampled_from(["v1", "v2", "v3"]),
    st.fixed_dictionaries({"image": images}, optional={"replicas": st.integers(0, 5)}),
    min_size=1,
    max_size=3,
)
services = st.dictionaries(
    st.sampled_from(["web", "api", "db"]), st.builds(lambda v: {"versions": v}, versions), max_size=3
)


@settings(max_examples=60, deadline=None)
@given(target=services, source=services)
def test_promotion_takes_the_release_keeps_the_environment_and_is_idempotent(
    target: dict[str, Any], source: dict[str, Any]
) -> None:
    t = {"environment": "dev", "apps": {"enabled": True, "services": target}}
    s = {"environment": "dev", "apps": {"enabled": True, "services": source}}
    once = promoted_config(t, s)
    assert release_of(StackSpec, once) == release_of(StackSpec, s)
    assert promoted_config(once, s) == once
    for name, app in once["apps"]["services"].items():
        for version, spec in app["versions"].items():
            theirs = target.get(name, {}).get("versions", {}).get(version, {})
            assert spec.get("replicas") == theirs.get("replicas")  # sizes are the target's
            assert Version.parse(spec).image == source[name]["versions"][version]["image"]
    load_stack_spec(once)
    assert all(isinstance(AppSpec.parse(a), AppSpec) for a in once["apps"]["services"].values())
    assert promote(StackSpec, t, s) == once
