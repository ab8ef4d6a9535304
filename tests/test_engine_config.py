"""The engine driver writes the config the real engine sees (committed stack + machine keys +
overrides), runs it in a private environment, and turns the engine's failures into its own errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pulumi import automation as auto

from meshstack.tools.engine import Engine, EngineError, PolicyRefused, StackLocked
from meshstack.tools.engine.environment import lock_down, overlay, private_files, scratch_dir
from meshstack.tools.engine.errors import Outcomes
from meshstack.tools.engine.settings import DEFAULT_PASSPHRASE


def test_machine_keys_and_overrides_merge_over_the_committed_stack(tmp_path: Path) -> None:
    engine = Engine("dev", tmp_path / "kubeconfig", tmp_path / "charts", tmp_path / "state", on_output=None)
    engine.set_overrides(
        mesh={"retainOnDelete": True}, apps={"bookinfo": {"weights": {"reviews": {"v1": 90, "v2": 10}}}}
    )
    config = engine.stack_config()
    mesh = config["meshstack:mesh"]
    # A later override of the same section keeps the machine key (the local chart directory) …
    assert mesh["chartRepository"] == str(tmp_path / "charts") and mesh["retainOnDelete"] is True
    # … and the committed keys of that section.
    committed = yaml.safe_load(Path("Pulumi.dev.yaml").read_text())["config"]
    assert mesh["profile"] == committed["meshstack:mesh"]["profile"]
    assert config["meshstack:kubernetes"]["kubeconfig"] == str(tmp_path / "kubeconfig")
    assert "meshstack:secrets" not in config  # nothing forced: this kubeconfig is no embedded cluster's
    assert config["meshstack:apps"]["bookinfo"]["scenario"] == committed["meshstack:apps"]["bookinfo"]["scenario"]
    assert config["meshstack:apps"]["bookinfo"]["weights"] == {"reviews": {"v1": 90, "v2": 10}}


def test_an_embedded_clusters_stack_config_is_laid_under_the_overrides(tmp_path: Path) -> None:
    # scripts/cluster.py writes what a stack needs on it beside its kubeconfig.
    needs = {"meshstack:secrets": {"generator": "builtin"}, "meshstack:mesh": {"proxy": {"flavor": "upstream-envoy"}}}
    (tmp_path / "stack-config.json").write_text(json.dumps(needs))
    engine = Engine("dev", tmp_path / "kubeconfig", tmp_path / "charts", tmp_path / "state", on_output=None)
    engine.set_overrides(mesh={"proxy": {"holdApplicationUntilProxyStarts": True}})
    config = engine.stack_config()
    assert config["meshstack:secrets"] == {"generator": "builtin"}
    assert config["meshstack:mesh"]["proxy"] == {"flavor": "upstream-envoy", "holdApplicationUntilProxyStarts": True}
    assert config["meshstack:mesh"]["chartRepository"] == str(tmp_path / "charts")
    assert config["meshstack:mesh"]["profile"] == "demo"  # the committed section is still there


def test_prepare_writes_a_mirror_and_keeps_the_encryption_salt(tmp_path: Path) -> None:
    engine = Engine("dev", tmp_path / "kubeconfig", None, tmp_path / "state", on_output=None)
    project = engine.prepare()
    assert (project / "__main__.py").resolve() == Path("__main__.py").resolve()
    stack_file = project / "Pulumi.dev.yaml"
    doc = yaml.safe_load(stack_file.read_text())
    stack_file.write_text(yaml.safe_dump({"encryptionsalt": "v1:salt", **doc}))
    engine.prepare()
    assert yaml.safe_load(stack_file.read_text())["encryptionsalt"] == "v1:salt"
    assert "meshstack:mesh" not in yaml.safe_load(stack_file.read_text())["config"] or (
        "chartRepository" not in yaml.safe_load(stack_file.read_text())["config"]["meshstack:mesh"]
    )


def test_the_local_passphrase_is_for_the_throwaway_dev_stack_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    assert Engine("dev", tmp_path / "kubeconfig", None, tmp_path).passphrase() == DEFAULT_PASSPHRASE
    with pytest.raises(EngineError, match="stack 'prod' is prod: the local passphrase"):
        Engine("prod", tmp_path / "kubeconfig", None, tmp_path).passphrase()
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "from-the-secret-store")
    assert Engine("prod", tmp_path / "kubeconfig", None, tmp_path).passphrase() == "from-the-secret-store"


def test_state_is_written_private(tmp_path: Path) -> None:
    backend = tmp_path / "backend" / ".pulumi" / "stacks"
    backend.mkdir(parents=True)
    (backend / "dev.json").write_text("{}")
    (backend / "dev.json").chmod(0o644)
    lock_down(tmp_path / "backend")
    assert (backend / "dev.json").stat().st_mode & 0o777 == 0o600
    assert backend.stat().st_mode & 0o777 == 0o700
    with private_files():
        (tmp_path / "new.json").write_text("{}")
    assert (tmp_path / "new.json").stat().st_mode & 0o777 == 0o600


def _failed(stderr: str, kind: type[auto.CommandError] = auto.CommandError) -> auto.CommandError:
    """The Automation API's error for a failed CLI run with ``stderr``."""
    return kind(auto.CommandResult(stdout="", stderr=stderr, code=255))


def _policy_event(level: str, name: str, urn: str, message: str) -> auto.EngineEvent:
    return auto.EngineEvent.from_json(
        {
            "sequence": 1,
            "timestamp": 1,
            "policyEvent": {
                "message": message,
                "color": "never",
                "policyName": name,
                "policyPackName": "meshstack-guardrails",
                "policyPackVersion": "0.0.1",
                "policyPackVersionTag": "0.0.1",
                "enforcementLevel": level,
                "resourceUrn": urn,
            },
        }
    )


def test_mandatory_policy_violations_become_one_refusal_listing_each() -> None:
    seen: list[auto.EngineEvent] = []
    outcomes = Outcomes("prod", seen.append)
    urn = "urn:pulumi:prod::meshstack::kubernetes:networking.istio.io/v1:VirtualService::apps-ratings"
    fault = "VirtualService bookinfo/ratings: spec.http[0].fault injects a delay of 7s for 100% of requests"
    outcomes.on_event(_policy_event("mandatory", "no-fault-injection", urn, fault))
    outcomes.on_event(_policy_event("advisory", "images-pinned", urn, "not pinned"))
    with pytest.raises(PolicyRefused) as refused, outcomes.guard():
        raise _failed("error: preview failed")
    text = str(refused.value)
    assert "[mandatory] no-fault-injection (apps-ratings): " + fault in text
    assert "images-pinned" not in text and len(seen) == 2  # every event still reaches the caller
    # The same from `--json`'s event stream (a rollout step).
    streamed = Outcomes("prod")
    line = '{"sequence": 2, "timestamp": 2, "policyEvent": {"message": "m", "color": "never", "policyName": "p", '
    line += '"policyPackName": "x", "policyPackVersion": "1", "policyPackVersionTag": "1", "enforcementLevel": "mandatory"}}'
    assert streamed.on_json_line(line)["policyEvent"]["policyName"] == "p"
    assert streamed.mandatory == ["[mandatory] p: m"] and streamed.on_json_line("Updating (dev):") == {}
    # Without mandatory violations a failure stays the engine's own.
    with pytest.raises(auto.CommandError) as other, Outcomes("dev").guard():
        raise _failed("error: update failed")
    assert not isinstance(other.value, PolicyRefused)


def test_a_locked_stack_is_the_automation_apis_concurrent_update_error_turned_into_stack_locked() -> None:
    # The Automation API classifies a DIY backend's lock refusal as ConcurrentUpdateError; the cd
    # tier runs two jobs at once on one real stack and sees this message.
    locked = _failed("error: the stack is currently locked by 1 lock(s).", auto.ConcurrentUpdateError)
    with pytest.raises(StackLocked, match=r"stack dev is locked by another update.*--wait-lock.*meshstack recover"):  # noqa: SIM117
        with Outcomes("dev").guard():
            raise locked


def test_the_engines_go_collector_runs_less_often_unless_the_environment_says(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("GOGC", raising=False)
    monkeypatch.delenv("GOMEMLIMIT", raising=False)
    engine = Engine("dev", tmp_path / "kubeconfig", None, tmp_path)
    assert {k: engine.env()[k] for k in ("GOGC", "GOMEMLIMIT")} == {"GOGC": "400", "GOMEMLIMIT": "4GiB"}
    # A rollout step too (on the 3.277 CLI 400 beat 150, docs/benchmarks.md).
    step = engine.step_env({"MESHSTACK_ROUTE_ONLY": "web"}, final_checkpoint=True)
    assert {k: step[k] for k in ("GOGC", "GOMEMLIMIT")} == {"GOGC": "400", "GOMEMLIMIT": "4GiB"}
    assert step["MESHSTACK_ROUTE_ONLY"] == "web" and step["PULUMI_SKIP_CHECKPOINTS"] == "true"
    assert "PULUMI_SKIP_CHECKPOINTS" not in engine.step_env()
    monkeypatch.setenv("GOGC", "100")  # an operator's own setting wins
    assert engine.env()["GOGC"] == "100" and engine.env()["GOMEMLIMIT"] == "4GiB"
    assert engine.step_env()["GOGC"] == "100"


def test_the_engine_temp_dir_is_private_per_process_and_a_dead_runs_is_removed(tmp_path: Path) -> None:
    # A run that was killed left its directory (and the kubeconfig copies in it) behind.
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], check=True, capture_output=True, text=True
    )
    left = tmp_path / "tmp" / dead.stdout.strip()
    left.mkdir(parents=True)
    (left / "kubeconfig123").write_text("client-key-data: ...")
    mine = scratch_dir(tmp_path)
    assert mine == tmp_path / "tmp" / str(os.getpid()) and mine.stat().st_mode & 0o777 == 0o700
    assert not left.exists()
    assert scratch_dir(tmp_path) == mine  # one per process
    engine = Engine("dev", None, None, tmp_path)
    assert engine.env()["TMPDIR"] == str(mine)


def test_the_overlay_sets_the_engines_environment_and_this_process_gets_its_own_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MESHSTACK_TEST_KEPT", "mine")
    monkeypatch.delenv("MESHSTACK_TEST_ADDED", raising=False)
    seen: dict[str, str | None] = {}
    with overlay({"MESHSTACK_TEST_KEPT": "engine's", "MESHSTACK_TEST_ADDED": "engine's"}):
        seen = {k: os.environ.get(k) for k in ("MESHSTACK_TEST_KEPT", "MESHSTACK_TEST_ADDED")}
    assert seen == {"MESHSTACK_TEST_KEPT": "engine's", "MESHSTACK_TEST_ADDED": "engine's"}
    assert os.environ["MESHSTACK_TEST_KEPT"] == "mine" and "MESHSTACK_TEST_ADDED" not in os.environ
    with pytest.raises(RuntimeError), overlay({"MESHSTACK_TEST_KEPT": "engine's"}):
        raise RuntimeError("the program failed")
    assert os.environ["MESHSTACK_TEST_KEPT"] == "mine"


def test_the_clis_automatic_debug_log_is_off_unless_asked_for(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from meshstack.tools.engine.environment import quiet_debug_log

    home = tmp_path / "pulumi-home"
    (home / "logs").mkdir(parents=True)
    (home / "logs" / "pulumi-old.log").write_text("x")
    monkeypatch.delenv("MESHSTACK_PULUMI_DEBUG_LOG", raising=False)
    quiet_debug_log(home)
    assert (home / "logs").is_file() and "MESHSTACK_PULUMI_DEBUG_LOG" in (home / "logs").read_text()
    kept = tmp_path / "kept"
    (kept / "logs").mkdir(parents=True)
    monkeypatch.setenv("MESHSTACK_PULUMI_DEBUG_LOG", "1")
    quiet_debug_log(kept)
    assert (kept / "logs").is_dir()
