"""The cd tier: meshstack as a team's pipeline runs it. State on S3 and secrets under KMS, both
served by a moto server on 127.0.0.1; a dev and a prod embedded cluster; a real Prometheus scraping
an exporter of Istio's standard metrics for the rollouts. Stacks are a platform team's repository
of stack files (``$MESHSTACK_PROJECT``, a temporary git repository), run with meshstack's program,
its ``meshstack`` command and its ``make`` targets — the steps of .github/workflows/meshstack.yml.

Everything is started by the fixtures and stopped after; a missing tool fails the tier.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from meshstack.tools.engine import ROOT
from meshstack.tools.engine.workspace import deep_merge
from tests.e2e.conftest import Cluster, run
from tests.rollout.telemetry import Behaviour, Exporter, PrometheusServer

REGION = "us-east-1"
BUCKET = "meshstack-state"
KMS_ALIAS = "alias/meshstack"
NAMESPACE = "bookinfo"
WORKFLOW = ROOT / ".github" / "workflows" / "meshstack.yml"
#: The change under review: reviews' canary v2 under a rollout policy (intervals compressed to seconds).
ROLLOUT = {
    "stable": "v1",
    "canary": "v2",
    "steps": [50, 100],
    "progressDeadline": "10m",
    "afterPromotion": "scaleToZero",
    "analysis": {"interval": "2s", "failureLimit": 1, "minRequests": 5, "onNoData": "fail"},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Moto:
    """``moto_server`` on 127.0.0.1: S3 for the state, KMS for the secrets provider."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = directory / "moto.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto did not start: {self.log.read_text()[-2000:]}") from None
                time.sleep(0.2)

    @property
    def credentials(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION}

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    @property
    def backend(self) -> str:
        return f"s3://{BUCKET}?endpoint=127.0.0.1:{self.port}&disableSSL=true&s3ForcePathStyle=true&region={REGION}"

    @property
    def secrets_provider(self) -> str:
        return f"awskms://{KMS_ALIAS}?region={REGION}&endpoint={self.endpoint}"

    def objects(self) -> dict[str, bytes]:
        s3 = self.client("s3")
        out: dict[str, bytes] = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            for obj in page.get("Contents", []):
                out[obj["Key"]] = s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
        return out

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)


@dataclass
class Step:
    """One ``run:`` step of the reference pipeline."""

    job: str
    command: str
    env: dict[str, str] = field(default_factory=dict)


def pipeline_steps(variables: Mapping[str, str]) -> tuple[dict[str, str], dict[str, list[Step]]]:
    """The workflow's environment and its jobs' ``run:`` steps, ``${{ vars.X }}`` substituted."""

    def substitute(value: Any) -> str:
        def one(match: re.Match[str]) -> str:
            scope, name = match.group(1), match.group(2)
            assert scope == "vars", f"a run step may only use vars, not {scope}.{name}"
            return variables[name]

        return re.sub(r"\$\{\{\s*(\w+)\.(\w+)\s*\}\}", one, str(value))

    doc = yaml.safe_load(WORKFLOW.read_text())
    env = {k: substitute(v) for k, v in (doc.get("env") or {}).items()}
    jobs: dict[str, list[Step]] = {}
    for name, job in doc["jobs"].items():
        steps: list[Step] = []
        for step in job["steps"]:
            if "run" in step:
                steps.append(Step(name, step["run"], {k: substitute(v) for k, v in (step.get("env") or {}).items()}))
            else:  # only GitHub's own checkout and the OIDC credentials step, which the test's env replaces
                assert step["uses"].split("@")[0] in {"actions/checkout", "aws-actions/configure-aws-credentials"}
        jobs[name] = steps
    return env, jobs


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


@dataclass
class Pipeline:
    """Runs ``meshstack``/``make`` commands the way the pipeline's jobs do: the repository's
    checkout as working directory, the job's environment, no terminal."""

    moto: Moto
    project: Path
    charts: Path
    prometheus_url: str
    work: Path
    dev: Cluster
    prod: Cluster

    def env(self, job: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if k not in {"KUBECONFIG", "PULUMI_CONFIG_PASSPHRASE"}}
        workflow_env, _ = pipeline_steps(self.variables)
        return {
            **base,
            **workflow_env,
            **self.moto.credentials,
            "CI": "true",
            "MESHSTACK_PROJECT": str(self.project),
            "MESHSTACK_CHARTS": str(self.charts),
            "MESHSTACK_STATE": str(self.work / f"job-{job}"),
            **(extra or {}),
        }

    @property
    def variables(self) -> dict[str, str]:
        return {
            "MESHSTACK_BACKEND": self.moto.backend,
            "MESHSTACK_SECRETS_PROVIDER": self.moto.secrets_provider,
            "AWS_REGION": REGION,
            "PROMETHEUS_DEV_URL": self.prometheus_url,
            "PROMETHEUS_PROD_URL": self.prometheus_url,
        }

    def steps(self) -> dict[str, list[Step]]:
        return pipeline_steps(self.variables)[1]

    def sh(
        self, command: str, job: str = "local", env: Mapping[str, str] | None = None, timeout: float = 1200
    ) -> Result:
        started = time.perf_counter()
        proc = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", command],
            check=False,
            cwd=ROOT,
            env=self.env(job, env),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - started)

    def meshstack(self, *args: str, job: str = "local", env: Mapping[str, str] | None = None) -> Result:
        return self.sh(" ".join([".venv/bin/meshstack", *args]), job, env)

    def start(self, *args: str, job: str = "local") -> subprocess.Popen[str]:
        """``meshstack <args>`` in the background, in its own process group (a job to kill)."""
        return subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "meshstack"), *args],
            cwd=ROOT,
            env=self.env(job),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )

    def stack_file(self, stack: str) -> Path:
        return self.project / f"Pulumi.{stack}.yaml"

    def edit(self, stack: str, **config: Any) -> None:
        """Change ``meshstack:<key>`` values of a stack file (a commit to the team's repository)."""
        path = self.stack_file(stack)
        doc = yaml.safe_load(path.read_text())
        for key, value in config.items():
            doc["config"][f"meshstack:{key}"] = value
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        git(self.project, "commit", "-qam", f"change {stack}: {', '.join(config)}")

    def config(self, stack: str) -> dict[str, Any]:
        doc = yaml.safe_load(self.stack_file(stack).read_text())
        return {k.split(":", 1)[1]: v for k, v in doc["config"].items()}


def git(repo: Path, *args: str) -> str:
    return run(["git", "-C", str(repo), *args]).stdout


def team_repository(directory: Path, dev: Cluster, prod: Cluster) -> Path:
    """The team's stack files: meshstack's own dev and prod, each on its cluster (the embedded
    ones here; ``kubernetes.eks`` on AWS), Prometheus scraping every second, the ingress a
    NodePort (no load balancer here), and the change under review: reviews under a rollout."""
    directory.mkdir(parents=True)
    for stack, cluster in (("dev", dev), ("prod", prod)):
        doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
        config = doc["config"]
        # The team writes down what the cluster needs (here: the builtin secret generator).
        for key, value in cluster.stack_config().items():
            config[key] = deep_merge(config.get(key, {}), value)
        config["meshstack:kubernetes"] = {"kubeconfig": str(cluster.kubeconfig)}
        config["meshstack:addons"]["prometheus"]["scrapeInterval"] = "1s"
        config["meshstack:gateways"]["ingress"]["serviceType"] = "NodePort"
        if stack == "dev":
            config["meshstack:apps"]["bookinfo"] = {"scenario": "all-v1", "rollouts": {"reviews": ROLLOUT}}
        (directory / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    git(directory, "init", "-q", "-b", "main")
    git(directory, "config", "user.email", "pipeline@example.com")
    git(directory, "config", "user.name", "pipeline")
    git(directory, "add", ".")
    git(directory, "commit", "-qm", "the team's stacks")
    return directory


@pytest.fixture(scope="package")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    run(["bash", str(ROOT / "scripts" / "bootstrap.sh")], timeout=3600)
    charts = Path(run(["bash", str(ROOT / "scripts" / "istio_charts.sh")]).stdout.strip().splitlines()[0])
    work = tmp_path_factory.mktemp("cd")
    moto = Moto(work)
    exporter = Exporter(NAMESPACE)
    for workload in ("reviews-v1", "reviews-v2"):
        exporter.set(workload, Behaviour.HEALTHY)
    exporter.start()
    prometheus: PrometheusServer | None = None
    clusters: list[Cluster] = []
    try:
        moto.client("s3").create_bucket(Bucket=BUCKET)
        key = moto.client("kms").create_key(Description="meshstack state secrets")["KeyMetadata"]["KeyId"]
        moto.client("kms").create_alias(AliasName=KMS_ALIAS, TargetKeyId=key)
        prometheus = PrometheusServer(exporter.port)
        for name in ("dev", "prod"):
            cluster = Cluster(work / f"cluster-{name}")
            cluster.start()
            clusters.append(cluster)
        dev, prod = clusters
        project = team_repository(work / "team", dev, prod)
        yield Pipeline(moto, project, charts, prometheus.url, work, dev, prod)
    finally:
        for cluster in clusters:
            cluster.stop()
        if prometheus is not None:
            prometheus.stop()
        exporter.stop()
        moto.stop()
        shutil.rmtree(work / "team", ignore_errors=True)


__all__ = ["NAMESPACE", "ROLLOUT", "Pipeline", "Result", "git"]
