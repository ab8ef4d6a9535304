"""A killed job's server-side apply field manager, on a real kube-apiserver: the conflict it
causes, and :func:`meshstack.tools.engine.field_managers.release` removing it (what ``recover`` does)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import config as kube_config

from meshstack.tools.engine import field_managers
from tests.e2e.conftest import Cluster

pytestmark = pytest.mark.e2e

DEAD, LIVE, OTHER = "pulumi-kubernetes-dead0001", "pulumi-kubernetes-live0001", "pulumi-kubernetes-other001"


def apply(cluster: Cluster, tmp: Path, manager: str, data: dict[str, str], force: bool = False) -> Any:
    doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "mesh", "namespace": "default"}, "data": data}
    path = tmp / f"{manager}.yaml"
    path.write_text(yaml.safe_dump(doc))
    cmd = [cluster.kubectl_bin, "--kubeconfig", str(cluster.kubeconfig), "apply", "--server-side"]
    cmd += ["--field-manager", manager, "-f", str(path), *(["--force-conflicts"] if force else [])]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


def managers(cluster: Cluster) -> dict[str, list[str]]:
    live = json.loads(
        cluster.kubectl("get", "configmap", "mesh", "-n", "default", "-o", "json", "--show-managed-fields")
    )
    return {
        e["manager"]: sorted(k[2:] for k in (e.get("fieldsV1") or {}).get("f:data", {}))
        for e in live["metadata"]["managedFields"]
    }


def test_release_removes_the_dead_jobs_manager_and_the_next_change_applies(cluster: Cluster, tmp_path: Path) -> None:
    # The killed job created the object; recover adopted it with force under a new manager, the
    # values unchanged; another program's manager owns a field of its own.
    assert apply(cluster, tmp_path, DEAD, {"replicas": "1", "image": "a"}).returncode == 0
    assert apply(cluster, tmp_path, LIVE, {"replicas": "1", "image": "a"}, force=True).returncode == 0
    assert apply(cluster, tmp_path, OTHER, {"owner": "them"}).returncode == 0
    assert managers(cluster) == {DEAD: ["image", "replicas"], LIVE: ["image", "replicas"], OTHER: ["owner"]}

    # The problem: the stack's own manager cannot change a field the dead one co-owns.
    conflict = apply(cluster, tmp_path, LIVE, {"replicas": "2", "image": "a"})
    assert conflict.returncode != 0 and "conflict" in conflict.stderr.lower(), conflict

    deployment = {
        "resources": [
            {
                "type": "kubernetes:core/v1:ConfigMap",
                "outputs": {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "mesh", "namespace": "default"},
                    "__fieldManager": LIVE,
                },
            }
        ]
    }
    api = kube_config.new_client_from_config(str(cluster.kubeconfig))
    try:
        assert field_managers.release(deployment, api) == {"objects": 1, "changed": 1, "entries": 1}
        assert managers(cluster) == {LIVE: ["image", "replicas"], OTHER: ["owner"]}  # the other program's kept
        assert field_managers.release(deployment, api) == {"objects": 1, "changed": 0, "entries": 0}
    finally:
        api.close()
    changed = apply(cluster, tmp_path, LIVE, {"replicas": "2", "image": "a"})
    assert changed.returncode == 0, changed.stderr
    assert cluster.get("configmap", "mesh", "-n", "default")["data"]["replicas"] == "2"
