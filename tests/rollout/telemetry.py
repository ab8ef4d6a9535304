"""What the rollout tier measures against: a real Prometheus on 127.0.0.1 scraping, every second, a
test exporter (also on 127.0.0.1) that publishes Istio's standard metrics — ``istio_requests_total``
and ``istio_request_duration_milliseconds`` as the destination reports them — for each app's
stable and canary workloads, behaving as the test says: healthy, failing (5xx), slow, or silent.
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

from meshstack.tools.engine import bootstrap_env
from meshstack.tools.runner.prometheus import Prometheus

LABELS = ("reporter", "destination_workload_namespace", "destination_workload", "destination_app", "response_code")
BUCKETS = (1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)


class Behaviour(StrEnum):
    HEALTHY = "healthy"  # 200s in ~20ms
    FAILING = "failing"  # half 503s
    SLOW = "slow"  # p99 over 2s
    SILENT = "silent"  # no requests at all


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Exporter:
    """Serves requests for every (namespace, workload) it is told about, ``rate`` per second."""

    namespace: str
    rate: float = 25.0
    port: int = field(default_factory=free_port)
    behaviours: dict[str, Behaviour] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("istio_requests", "Requests", LABELS, registry=self.registry)
        self.duration = Histogram(
            "istio_request_duration_milliseconds", "Duration", LABELS, buckets=BUCKETS, registry=self.registry
        )
        self._stop = threading.Event()
        self._random = random.Random(7)

    def start(self) -> None:
        self.server, self.thread = start_http_server(self.port, addr="127.0.0.1", registry=self.registry)
        self.traffic = threading.Thread(target=self._serve, daemon=True)
        self.traffic.start()

    def stop(self) -> None:
        self._stop.set()
        self.server.shutdown()

    def set(self, workload: str, behaviour: Behaviour) -> None:
        self.behaviours[workload] = behaviour

    def _serve(self) -> None:
        tick = 0.1
        while not self._stop.wait(tick):
            for workload, behaviour in list(self.behaviours.items()):
                if behaviour is Behaviour.SILENT:
                    continue
                for _ in range(max(1, round(self.rate * tick))):
                    code = "503" if behaviour is Behaviour.FAILING and self._random.random() < 0.5 else "200"
                    millis = 3000.0 if behaviour is Behaviour.SLOW else 20.0
                    labels = ("destination", self.namespace, workload, workload.rsplit("-", 1)[0], code)
                    self.requests.labels(*labels).inc()
                    self.duration.labels(*labels).observe(millis * self._random.uniform(0.8, 1.2))


class PrometheusServer:
    """Debian's prometheus (scripts/bootstrap.sh), on 127.0.0.1, scraping the exporter every second."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="meshstack-prometheus-"))
        (self.dir / "prometheus.yml").write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - job_name: istio\n    static_configs: [{{targets: ['127.0.0.1:{target_port}']}}]\n"
        )
        binary = Path(bootstrap_env()["PATH"].split(":")[0]) / "prometheus"
        if not binary.exists():  # a missing tool is a failure, never a skip
            raise FileNotFoundError(f"{binary}: run scripts/bootstrap.sh (piece prometheus)")
        self.process = subprocess.Popen(
            [
                str(binary),
                f"--config.file={self.dir / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--storage.tsdb.retention.time=1h",
            ],
            stdout=subprocess.DEVNULL,
            stderr=(self.dir / "prometheus.log").open("w"),
        )
        self.client = Prometheus(f"http://127.0.0.1:{self.port}")
        deadline = time.monotonic() + 60
        while not self.client.ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"prometheus did not start: {(self.dir / 'prometheus.log').read_text()[-2000:]}")
            time.sleep(0.5)

    @property
    def url(self) -> str:
        return self.client.url

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
