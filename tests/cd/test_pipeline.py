"""The reference pipeline (.github/workflows/meshstack.yml) end to end, then what a pipeline meets:
a job killed mid-update, two jobs at once, a guardrail, a refusal, a drifted prod. The tests build
on each other in file order, as the jobs of one pipeline do (one dev and one prod stack on S3)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from meshstack.tools.engine import ROOT
from tests.cd.conftest import NAMESPACE, Pipeline, Result, git
from tests.processes import communicate, kill_job

OUT = ROOT / "out" / "cd-figures.json"

pytestmark = pytest.mark.cd

FIGURES: dict[str, Any] = {}


@pytest.fixture(scope="module", autouse=True)
def figures() -> Iterator[dict[str, Any]]:
    """What the tier measured (durations, the lock's outcome, a guardrail's refusal), written to
    out/cd-figures.json for the docs and the closing note."""
    yield FIGURES
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(FIGURES, indent=2, default=str))


def ok(result: Result) -> Result:
    assert result.returncode == 0, (
        f"rc {result.returncode}\nstdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-6000:]}"
    )
    return result


def last_json(result: Result) -> dict[str, Any]:
    return json.loads([line for line in result.stdout.splitlines() if line.startswith("{")][-1])


def events(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def step_times(result: Result) -> list[float]:
    """Each route change's decision → API-server read-back, in seconds (the runner's events)."""
    read_backs = [e["detail"] for e in events(result) if e["type"] == "read-back"]
    assert read_backs and all(d["matches"] for d in read_backs)
    return [d["decision_to_read_back"] for d in read_backs]


def reviews_weights(pipeline: Pipeline, stack: str) -> list[tuple[str, int]]:
    cluster = pipeline.dev if stack == "dev" else pipeline.prod
    vs = cluster.get("virtualservice.networking.istio.io", "reviews", "-n", NAMESPACE)
    return [(r["destination"]["subset"], int(r.get("weight", 100))) for r in vs["spec"]["http"][-1]["route"]]


def test_the_pipeline_is_meshstack_and_make_commands_only(pipeline: Pipeline) -> None:
    jobs = pipeline.steps()
    assert list(jobs) == ["preview", "deploy-dev", "promote-prod"]
    for steps in jobs.values():
        for step in steps:
            assert step.command.split()[0] in {"make", ".venv/bin/meshstack"}, step.command


def test_pull_request_job_previews_both_stacks(pipeline: Pipeline) -> None:
    for step in pipeline.steps()["preview"]:
        result = ok(pipeline.sh(step.command, "preview", step.env))
        FIGURES.setdefault("preview", []).append((step.command, round(result.seconds, 1)))
    # Nothing was deployed by a preview; both stacks now exist on S3, under KMS.
    assert pipeline.dev.kubectl("get", "namespaces", "-o", "name").count("bookinfo") == 0
    keys = pipeline.moto.objects()
    assert any(k.endswith("dev.json") for k in keys) and any(k.endswith("prod.json") for k in keys), sorted(keys)
    for key, body in keys.items():
        if key.endswith(("dev.json", "prod.json")) and "/stacks/" in key:
            assert b"awskms://" in body, f"{key} is not under the KMS secrets provider"


def test_a_job_killed_mid_up_is_recovered_by_the_next_job(pipeline: Pipeline) -> None:
    job = pipeline.start("up", "--stack", "dev", job="killed")
    deadline = time.monotonic() + 600
    # Kill it once the update is under way: istiod's Deployment exists, Bookinfo's does not yet.
    while "deployment.apps/istiod" not in pipeline.dev.kubectl("get", "deployments", "-A", "-o", "name"):
        assert job.poll() is None, f"the update ended before it was killed: {job.communicate()}"
        assert time.monotonic() < deadline
        time.sleep(1)
    kill_job(job)  # the job and the engine's plugins, as a runner kills a cancelled job
    # The next job finds the dead job's lock and says what to do.
    locked = pipeline.meshstack("up", "--stack", "dev")
    assert locked.returncode == 5, locked
    assert "locked" in locked.stderr and "meshstack recover --stack dev" in locked.stderr
    recovered = ok(pipeline.meshstack("recover", "--stack", "dev", "--json"))
    FIGURES["recover"] = last_json(recovered)
    assert last_json(recovered)["lock"] == "released"
    # With the default `--checkpoints final` the dead job recorded nothing (no pending operations):
    # recover created everything again, adopting what the dead job had made, and removed the dead
    # job's field manager from those objects (istiod's Deployment among them).
    assert last_json(recovered)["pending"] == 0
    assert last_json(recovered)["changes"].get("create", 0) >= 1
    assert last_json(recovered)["fieldManagers"]["entries"] >= 1
    converged = ok(pipeline.meshstack("up", "--stack", "dev", "--json"))
    FIGURES["converge_seconds"] = round(converged.seconds, 1)
    ok(pipeline.meshstack("preview", "--stack", "dev", "--expect-no-changes", "--json"))
    # Nothing duplicated: one istiod, one of each Bookinfo workload.
    deployments = pipeline.dev.kubectl("get", "deployments", "-A", "-o", "name").split()
    assert len(deployments) == len(set(deployments)) and deployments.count("deployment.apps/istiod") == 1
    # A field the dead job had set (istiod's replicas) changes without a conflict.
    mesh = pipeline.config("dev")["mesh"]
    pipeline.edit("dev", mesh={**mesh, "istiod": {**(mesh.get("istiod") or {}), "replicas": 2}})
    ok(pipeline.meshstack("up", "--stack", "dev", "--json"))
    assert pipeline.dev.get("deployment", "istiod", "-n", "istio-system")["spec"]["replicas"] == 2


def test_two_jobs_at_once_one_proceeds_the_other_fails_fast_or_waits(pipeline: Pipeline) -> None:
    pipeline.edit(
        "dev",
        apps={
            **pipeline.config("dev")["apps"],
            "bookinfo": {**pipeline.config("dev")["apps"]["bookinfo"], "replicas": 2},
        },
    )
    first = pipeline.start("up", "--stack", "dev", "--json", job="first")
    deadline = time.monotonic() + 120
    while not any("/.pulumi/locks/" in k or k.startswith(".pulumi/locks/") for k in pipeline.moto.objects()):
        assert first.poll() is None and time.monotonic() < deadline, "the first update never took the lock"
        time.sleep(0.5)
    second = pipeline.meshstack("up", "--stack", "dev", "--json", job="second")
    waiting = pipeline.start("up", "--stack", "dev", "--json", "--wait-lock", "600", job="third")
    out, err = communicate(first, 900, "the first of three concurrent jobs")
    assert first.returncode == 0, err[-4000:]
    assert second.returncode == 5, second
    assert "stack dev is locked by another update" in second.stderr and "--wait-lock" in second.stderr
    w_out, w_err = communicate(waiting, 900, "the job waiting for the lock")
    assert waiting.returncode == 0, w_err[-4000:]
    FIGURES["lock"] = {
        "first": json.loads(out.splitlines()[-1])["changes"],
        "second": f"rc {second.returncode} after {second.seconds:.1f}s: {second.stderr.strip().splitlines()[-1]}",
        "waiting": json.loads(w_out.splitlines()[-1])["changes"],
    }
    # The state is intact: a clean preview follows, and each Bookinfo version runs two pods.
    ok(pipeline.meshstack("preview", "--stack", "dev", "--expect-no-changes", "--json"))
    assert pipeline.dev.get("deployment", "details-v1", "-n", NAMESPACE)["spec"]["replicas"] == 2


def test_merge_job_updates_dev_and_rolls_the_canary_out(pipeline: Pipeline) -> None:
    assert reviews_weights(pipeline, "dev") == [("v1", 100)]
    for step in pipeline.steps()["deploy-dev"]:
        result = ok(pipeline.sh(step.command, "deploy-dev", step.env))
        if "rollout run" in step.command:
            kinds = [e["type"] for e in events(result)]
            assert "promoted" in kinds and "rolled-back" not in kinds, kinds
            FIGURES["dev_rollout_seconds"] = round(result.seconds, 1)
            FIGURES["dev_step_decision_to_read_back"] = step_times(result)
    assert reviews_weights(pipeline, "dev") == [("v2", 100)]


def test_promote_job_promotes_dev_to_prod_and_rolls_out_there(pipeline: Pipeline) -> None:
    steps = pipeline.steps()["promote-prod"]
    for step in steps:
        result = ok(pipeline.sh(step.command, "promote-prod", step.env))
        if "meshstack promote" in step.command:
            report = last_json(result)
            FIGURES["promotion"] = {
                "seconds": round(result.seconds, 1),
                "preview": report["preview"].get("changes"),
                "applied": report["applied"],
            }
            assert report["source"]["stack"] == "dev" and report["applied"]
        if "rollout run" in step.command:
            assert "promoted" in [e["type"] for e in events(result)]
            FIGURES["prod_step_decision_to_read_back"] = step_times(result)
    # The release came over; the environment did not.
    prod = pipeline.config("prod")
    assert prod["apps"]["bookinfo"]["rollouts"]["reviews"]["canary"] == "v2"
    assert prod["apps"]["bookinfo"]["mtls"] is True and "mtls" not in pipeline.config("dev")["apps"]["bookinfo"]
    assert prod["addons"]["grafana"]["auth"] == "login" and prod["environment"] == "prod"
    assert prod["promotion"]["source"] == "dev" and prod["promotion"]["update"] >= 1
    # Provenance is committed to the team's repository by `make promotion-commit`.
    assert "promote" in git(pipeline.project, "log", "-1", "--format=%s")
    assert git(pipeline.project, "status", "--porcelain").strip() == ""
    assert reviews_weights(pipeline, "prod") == [("v2", 100)]
    # The recorded provenance is in prod's state too (its release output).
    ok(pipeline.meshstack("preview", "--stack", "prod", "--expect-no-changes", "--json"))


def test_the_bucket_holds_state_in_the_project_layout_current_clis_require(pipeline: Pipeline) -> None:
    # pulumi >= 3.275 refuses the legacy layout (stacks/<stack>.json, no meta.yaml): docs/engine.md#state-layout.
    keys = set(pipeline.moto.objects())
    assert ".pulumi/meta.yaml" in keys and pipeline.moto.objects()[".pulumi/meta.yaml"].strip() == b"version: 1"
    assert {".pulumi/stacks/meshstack/dev.json", ".pulumi/stacks/meshstack/prod.json"} <= keys, sorted(keys)
    assert not any(k.startswith(".pulumi/stacks/") and k.count("/") == 2 and k.endswith(".json") for k in keys)


def test_secrets_are_encrypted_in_the_bucket(pipeline: Pipeline) -> None:
    secret = pipeline.prod.get("secrets", "-n", "istio-system")
    values: dict[str, str] = {}
    for item in secret["items"]:
        if item["metadata"]["name"] in {"grafana-admin", "kiali-signing-key"}:
            for key, value in item["data"].items():
                plain = base64.b64decode(value).decode()
                if len(plain) >= 16:
                    values[f"{item['metadata']['name']}.{key}"] = plain
    assert len(values) == 2, sorted(values)
    bucket = b"".join(pipeline.moto.objects().values())
    assert len(bucket) > 100_000
    for name, plain in values.items():
        for form in (plain.encode(), base64.b64encode(plain.encode()), json.dumps(plain).encode()):
            assert form not in bucket, f"{name} appears in plaintext in the state bucket"
    assert b'"secrets_providers"' in bucket and b"awskms" in bucket


def test_a_guardrail_refuses_in_prod_what_dev_only_warns_about(pipeline: Pipeline) -> None:
    bookinfo = pipeline.config("dev")["apps"]["bookinfo"]
    pipeline.edit(
        "dev", apps={**pipeline.config("dev")["apps"], "bookinfo": {**bookinfo, "scenario": "ratings-delay-jason"}}
    )
    dev = ok(pipeline.meshstack("up", "--stack", "dev"))
    assert "no-fault-injection" in dev.stderr and "advisory" in dev.stderr
    refused = pipeline.meshstack("promote", "--from", "dev", "--to", "prod", "--yes", "--json")
    assert refused.returncode == 2, refused
    assert "no-fault-injection" in refused.stderr and "VirtualService bookinfo/ratings" in refused.stderr
    FIGURES["guardrail"] = [line.strip() for line in refused.stderr.splitlines() if "fault" in line][:3]
    ratings = pipeline.prod.get("virtualservice.networking.istio.io", "ratings", "-n", NAMESPACE)
    assert not any("fault" in route for route in ratings["spec"]["http"])
    assert "ratings-delay-jason" not in pipeline.stack_file("prod").read_text()
    pipeline.edit("dev", apps={**pipeline.config("dev")["apps"], "bookinfo": bookinfo})
    ok(pipeline.meshstack("up", "--stack", "dev"))


def test_promotion_refuses_without_yes_previews_with_dry_run_and_reports_drift(pipeline: Pipeline) -> None:
    bookinfo = pipeline.config("dev")["apps"]["bookinfo"]
    changed = {**bookinfo, "rollouts": {"reviews": {**bookinfo["rollouts"]["reviews"], "steps": [25, 50, 100]}}}
    pipeline.edit("dev", apps={**pipeline.config("dev")["apps"], "bookinfo": changed})
    ok(pipeline.meshstack("up", "--stack", "dev"))
    before = pipeline.stack_file("prod").read_text()

    refused = pipeline.meshstack("promote", "--from", "dev", "--to", "prod")
    assert refused.returncode == 2 and "without --yes" in refused.stderr, refused
    dry = ok(pipeline.meshstack("promote", "--from", "dev", "--to", "prod", "--dry-run", "--json"))
    report = last_json(dry)
    assert report["applied"] is None and report["preview"]["changes"].get("update", 0) >= 1
    assert "VirtualService" in json.dumps(report["preview"]) and pipeline.stack_file("prod").read_text() == before

    # Someone edits prod by hand: the promotion reports it and changes nothing.
    pipeline.prod.kubectl("scale", "deployment", "details-v1", "-n", NAMESPACE, "--replicas=5")
    drifted = pipeline.meshstack("promote", "--from", "dev", "--to", "prod", "--yes", "--json")
    assert drifted.returncode == 6, drifted
    assert "drifted" in drifted.stderr and "details-v1" in drifted.stderr
    assert pipeline.prod.get("deployment", "details-v1", "-n", NAMESPACE)["spec"]["replicas"] == 5
    # Told to, it replaces what drifted, and prod converges.
    ok(pipeline.meshstack("promote", "--from", "dev", "--to", "prod", "--yes", "--overwrite-drift", "--json"))
    assert pipeline.prod.get("deployment", "details-v1", "-n", NAMESPACE)["spec"]["replicas"] == 2
    ok(pipeline.meshstack("preview", "--stack", "prod", "--expect-no-changes", "--json"))
