"""The rollout tier: the real engine on the embedded cluster, a real Prometheus scraping an exporter
of Istio's standard metrics, intervals compressed to seconds. One small stack holds one app per
scenario, so each scenario is its own app's route steps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshstack.tools.engine import ROOT, Engine
from meshstack.tools.runner.engine_stack import EngineStack
from meshstack.tools.runner.events import Event
from meshstack.tools.runner.machine import Outcome, Runner
from meshstack.tools.runner.prometheus import Prometheus
from tests.e2e.conftest import Cluster
from tests.processes import kill_job
from tests.rollout.telemetry import Behaviour, Exporter, PrometheusServer

NAMESPACE = "shop"
INTERVAL = "2s"
#: app → (canary behaviour, rollout policy extras)
SCENARIOS: dict[str, tuple[Behaviour, dict[str, Any]]] = {
    "healthy": (Behaviour.HEALTHY, {}),
    "failing": (Behaviour.FAILING, {}),
    "slow": (Behaviour.SLOW, {}),
    "silent-fail": (Behaviour.SILENT, {"analysis": {"onNoData": "fail"}}),
    "silent-hold": (Behaviour.SILENT, {"analysis": {"onNoData": "hold"}}),
    "silent-pass": (Behaviour.SILENT, {"analysis": {"onNoData": "pass"}}),
    "gated": (Behaviour.HEALTHY, {"pauseBefore": [50]}),
    "killed": (Behaviour.HEALTHY, {"steps": [10, 20, 30, 40, 100]}),
    "contended": (Behaviour.HEALTHY, {"steps": [10, 20, 30, 40, 100]}),
}


def rollout_policy(extra: dict[str, Any]) -> dict[str, Any]:
    analysis = {
        "interval": INTERVAL,
        "failureLimit": 1,
        "minRequests": 5,
        "onNoData": "fail",
        **extra.get("analysis", {}),
    }
    return {
        "stable": "v1",
        "canary": "v2",
        "steps": [5, 25, 50, 100],
        "progressDeadline": "10m",
        "afterPromotion": "scaleToZero",
        **{k: v for k, v in extra.items() if k != "analysis"},
        "analysis": analysis,
    }


def stack_file(path: Path) -> Path:
    services = {
        app: {
            "versions": {
                "v1": {"image": f"registry.example.com/{app}:1.0.0"},
                "v2": {"image": f"registry.example.com/{app}:1.1.0"},
            },
            "rollout": rollout_policy(extra),
        }
        for app, (_, extra) in SCENARIOS.items()
    }
    config = {
        "meshstack:environment": "dev",
        "meshstack:mesh": {"profile": "minimal"},
        "meshstack:addons": {
            "prometheus": {"enabled": True, "scrapeInterval": "1s"},
            "grafana": {"enabled": False},
            "jaeger": {"enabled": False},
            "kiali": {"enabled": False},
        },
        "meshstack:apps": {"enabled": True, "namespace": NAMESPACE, "services": services},
    }
    path.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    return path


@pytest.fixture(scope="package")
def telemetry() -> Iterator[tuple[Exporter, PrometheusServer]]:
    exporter = Exporter(NAMESPACE)
    for app, (behaviour, _) in SCENARIOS.items():
        exporter.set(f"{app}-v1", Behaviour.HEALTHY)
        exporter.set(f"{app}-v2", behaviour)
    exporter.start()
    prometheus = PrometheusServer(exporter.port)
    try:
        yield exporter, prometheus
    finally:
        prometheus.stop()
        exporter.stop()


@pytest.fixture(scope="package")
def rollout_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path_factory.mktemp("rollout-cluster") / "c")
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@dataclass
class RolloutStack:
    engine: Engine
    prometheus: Prometheus
    cluster: Cluster
    stack_file: Path
    state: Path
    log: Path
    charts: Path
    events: list[Event] = field(default_factory=list)
    #: The ``meshstack rollout`` jobs started (a test that fails leaves none running behind it).
    jobs: list[subprocess.Popen[str]] = field(default_factory=list)

    def runner(self, app: str) -> tuple[Runner, EngineStack]:
        driver = EngineStack(self.engine)
        return Runner(driver, app, self.prometheus, self.events.append), driver

    def weights(self, app: str) -> list[tuple[str, int]]:
        vs = self.cluster.get("virtualservice.networking.istio.io", app, "-n", NAMESPACE)
        return [(r["destination"]["subset"], int(r.get("weight", 100))) for r in vs["spec"]["http"][-1]["route"]]

    def replicas(self, deployment: str) -> int:
        return int(self.cluster.get("deployment", deployment, "-n", NAMESPACE)["spec"]["replicas"])

    def cli(self, *args: str, app: str, timeout: float = 600) -> subprocess.Popen[str]:
        """``meshstack rollout <args> --app <app>`` as a pipeline would run it (JSON events)."""
        env = {**os.environ, "MESHSTACK_SECRETS_GENERATOR": "builtin", "PULUMI_CONFIG_PASSPHRASE": "rollout-tier"}
        cmd = [
            sys.executable, "-m", "meshstack.cli", "rollout", *args, "--stack", "rollout", "--app", app,
            "--kubeconfig", str(self.cluster.kubeconfig), "--state", str(self.state), "--json",
            "--stack-file", str(self.stack_file), "--charts", str(self.charts),
        ]  # fmt: skip
        if args[0] != "abort":
            cmd += ["--prometheus", self.prometheus.url]
        job = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.jobs.append(job)
        return job


@pytest.fixture(autouse=True)
def no_job_left(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test, kill what its jobs left running (only a failed test leaves any)."""
    yield
    if "stack" in request.fixturenames:
        for job in request.getfixturevalue("stack").jobs:
            if job.poll() is None:
                kill_job(job)


def events_of(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


@pytest.fixture(scope="package")
def stack(
    telemetry: tuple[Exporter, PrometheusServer], rollout_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory
) -> RolloutStack:
    charts = Path(
        subprocess.run(
            ["bash", str(ROOT / "scripts" / "istio_charts.sh")], capture_output=True, text=True, check=True
        ).stdout.splitlines()[0]
    )
    work = tmp_path_factory.mktemp("rollout-stack")
    file = stack_file(work / "Pulumi.rollout.yaml")
    log = work / "pulumi.log"

    def to_log(line: str) -> None:
        with log.open("a") as fh:
            fh.write(line if line.endswith("\n") else line + "\n")

    os.environ["PULUMI_CONFIG_PASSPHRASE"] = "rollout-tier"
    engine = Engine("rollout", rollout_cluster.kubeconfig, charts, work / "state", on_output=to_log, stack_file=file)
    engine.set_overrides(secrets={"generator": "builtin"})
    engine.up()  # every app at its start: the stable version serves, the canary deployed and idle
    return RolloutStack(engine, telemetry[1].client, rollout_cluster, file, work / "state", log, charts)


__all__ = ["NAMESPACE", "SCENARIOS", "Outcome", "RolloutStack", "events_of"]
