"""End-to-end tier: the real pulumi engine (built by scripts/bootstrap.sh) against the embedded
Kubernetes control plane (scripts/cluster.py) on 127.0.0.1. Marked ``e2e``; part of ``make test``.

The cluster is started once for the module and always stopped; a test that finds no engine or no
cluster fails — the tier never skips.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meshstack.tools.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = ROOT / "scripts" / "cluster.py"


def run(cmd: list[str], timeout: float = 600, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=timeout, **kw)


def tools_bin() -> Path:
    return Path(run(["bash", str(ROOT / "scripts" / "bootstrap.sh"), "--print-bin"]).stdout.strip())


class Cluster:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.kubeconfig = directory / "kubeconfig"
        self.kubectl_bin = str(tools_bin() / "kubectl")

    def start(self) -> None:
        run([sys.executable, str(CLUSTER), "start", "--dir", str(self.dir)])

    def stop(self) -> str:
        return run([sys.executable, str(CLUSTER), "stop", "--dir", str(self.dir)]).stdout

    def kill(self, component: str) -> None:
        run([sys.executable, str(CLUSTER), "kill", "--dir", str(self.dir), component])

    def restart(self, component: str) -> None:
        run([sys.executable, str(CLUSTER), "restart", "--dir", str(self.dir), component])

    def kubectl(self, *args: str) -> str:
        return run([self.kubectl_bin, "--kubeconfig", str(self.kubeconfig), *args]).stdout

    def get(self, *args: str) -> Any:
        return json.loads(self.kubectl("get", *args, "-o", "json"))

    def state(self) -> dict[str, Any]:
        return json.loads((self.dir / "state.json").read_text())

    def stack_config(self) -> dict[str, Any]:
        """What this cluster asks of a stack on it (``stack-config.json``: the builtin secret
        generator; on a real node, the upstream-Envoy proxy) as ``meshstack:`` config keys."""
        return dict(json.loads((self.dir / "stack-config.json").read_text()))


@pytest.fixture(scope="session")
def charts() -> Path:
    out = run(["bash", str(ROOT / "scripts" / "istio_charts.sh")]).stdout.strip().splitlines()[0]
    return Path(out)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    # `make test` builds the engine first (make engine); this only verifies it (0.2 s when warm)
    # and builds what is missing when the tier runs on its own.
    run(["bash", str(ROOT / "scripts" / "bootstrap.sh")], timeout=3600)
    c = Cluster(tmp_path_factory.mktemp("cluster") / "c")
    c.start()
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def engine(cluster: Cluster, charts: Path, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    log = tmp_path_factory.mktemp("engine") / "pulumi.log"

    def to_log(line: str) -> None:
        with log.open("a") as fh:
            fh.write(line if line.endswith("\n") else line + "\n")

    return Engine("dev", cluster.kubeconfig, charts, tmp_path_factory.mktemp("state"), on_output=to_log)
