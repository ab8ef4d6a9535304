"""The ``storage`` part: a default StorageClass (immediate binding, no provisioner) and a few
pre-made volumes the PV controller binds claims to — a stand-in like a load balancer's would be
(on fake nodes nothing is written to them; on the real node they are host paths under the
cluster's directory)."""

from __future__ import annotations

from embedded.cluster import Cluster
from embedded.proc import wait_until

STORAGE_CLASS = "standard"
VOLUMES = 4


class Storage:
    name = "storage"

    def wanted(self, c: Cluster) -> bool:
        return True

    def start(self, c: Cluster) -> None:
        c.api.create(
            "/apis/storage.k8s.io/v1/storageclasses",
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {
                    "name": STORAGE_CLASS,
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                },
                "provisioner": "kubernetes.io/no-provisioner",
                "volumeBindingMode": "Immediate",
                "reclaimPolicy": "Retain",
            },
        )
        root = c.layout.dir / "volumes"
        for i in range(VOLUMES):
            (root / str(i)).mkdir(parents=True, exist_ok=True)
            c.api.create(
                "/api/v1/persistentvolumes",
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolume",
                    "metadata": {"name": f"embedded-volume-{i}"},
                    "spec": {
                        "capacity": {"storage": "100Gi"},
                        "accessModes": ["ReadWriteOnce"],
                        "persistentVolumeReclaimPolicy": "Retain",
                        "storageClassName": STORAGE_CLASS,
                        "hostPath": {"path": str(root / str(i))},
                    },
                },
            )
        wait_until(
            "ServiceAccount default/default",
            lambda: c.api.get("/api/v1/namespaces/default/serviceaccounts/default")[0] == 200,
            c.timeout,
        )

    def check(self, c: Cluster) -> list[str]:
        code, _ = c.api.get(f"/apis/storage.k8s.io/v1/storageclasses/{STORAGE_CLASS}")
        return [] if code == 200 else [f"StorageClass {STORAGE_CLASS} is missing"]

    def stop(self, c: Cluster) -> None:
        """Its objects go with etcd's data; its host paths with the cluster's directory."""
