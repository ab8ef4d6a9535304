"""The ``kwok`` part: kwok and its fake nodes (pods on them are scheduled and marked Ready, and no
container runs). Beside a real node they are tainted ``meshstack.io/fake-node=true:NoSchedule``,
so only what the ``placement`` rule sends there (a pod whose images the node lacks) lands on them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from embedded.api import node_ready
from embedded.cluster import Cluster
from embedded.layout import KWOK_CIDR, KWOK_NODE_IP
from embedded.proc import ClusterError, log_tail, stop, wait_until

FAKE_TAINT = {"key": "meshstack.io/fake-node", "value": "true", "effect": "NoSchedule"}


def stages(kwok_binary: str) -> Path:
    """kwok's default Stage set, assembled by ``scripts/bootstrap.sh`` into ``<tools>/share``."""
    path = Path(kwok_binary).resolve().parent.parent / "share" / "kwok-stages.yaml"
    if not path.is_file():
        raise ClusterError(f"{path} is missing: run scripts/bootstrap.sh (piece kwok-stages)")
    return path


def fake_node(name: str, tainted: bool) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "type": "kwok",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node-role.kubernetes.io/agent": "",
            },
        },
        "spec": {"taints": [FAKE_TAINT]} if tainted else {},
    }


class Kwok:
    name = "kwok"

    def wanted(self, c: Cluster) -> bool:
        return int(c.state.get("nodes", 0)) > 0

    def start(self, c: Cluster) -> None:
        kwok = c.bin("kwok")
        shutil.copyfile(stages(kwok), c.layout.dir / "kwok-stages.yaml")
        c.spawn(
            "kwok",
            [
                kwok,
                f"--kubeconfig={c.layout.component_kubeconfig('kwok')}",
                f"--config={c.layout.dir / 'kwok-stages.yaml'}",
                "--manage-all-nodes=false",
                "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                f"--cidr={KWOK_CIDR if c.layout.real_node else '10.244.0.0/16'}",
                f"--node-ip={KWOK_NODE_IP}",
                "--node-lease-duration-seconds=40",
            ],
        )
        count = int(c.state["nodes"])
        for i in range(count):
            c.api.create("/api/v1/nodes", fake_node(f"kwok-node-{i}", tainted=c.layout.real_node))

        def ready() -> bool:
            code, body = c.api.get("/api/v1/nodes?labelSelector=type%3Dkwok")
            return code == 200 and sum(node_ready(n) for n in body.get("items", [])) >= count

        wait_until(
            f"{count} kwok node(s) Ready",
            ready,
            c.timeout,
            on_fail=lambda: log_tail(c.log("kwok")),
            alive_check=c.alive_check,
        )

    def check(self, c: Cluster) -> list[str]:
        if not c.running("kwok"):
            return ["kwok is not running"]
        code, body = c.api.get("/api/v1/nodes?labelSelector=type%3Dkwok")
        ready = sum(node_ready(n) for n in body.get("items", [])) if code == 200 else 0
        want = int(c.state.get("nodes", 0))
        return [] if ready >= want else [f"{ready} of {want} kwok nodes are Ready"]

    def stop(self, c: Cluster) -> None:
        if (p := c.processes.get("kwok")) is not None:
            stop(p)
