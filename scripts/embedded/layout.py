"""Every name, address, port and path one cluster uses, derived in one place from its directory
and (with a real node) its index N."""

from __future__ import annotations

import fcntl
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

#: The Service range of every cluster (it exists only in a node netns' iptables).
SERVICE_CIDR = "10.96.0.0/16"
#: Pod addresses of the whole cluster: real node N gets 10.244.N.0/24, kwok's fake pods 10.244.128.0/17.
CLUSTER_CIDR = "10.244.0.0/16"
KWOK_CIDR = "10.244.128.0/17"
#: What kwok reports as its fake nodes' address (nothing listens on it; a guard route keeps it local).
KWOK_NODE_IP = "10.1.0.1"
DNS_IP = "10.96.0.10"
API_SERVICE_IP = "10.96.0.1"
#: Ranges that must never leave through the machine's default route (``network``'s guard routes).
GUARD_CIDRS = ("10.96.0.0/16", "10.200.0.0/16", "10.244.0.0/16", "10.1.0.0/16")
MAX_INDEX = 99
NETNS_PREFIX = "msnode-"
#: Serialises index allocation between clusters started at the same time on one host.
INDEX_LOCK = Path("/run/meshstack-embedded.lock")


@dataclass(frozen=True)
class Layout:
    """One cluster's names. ``index`` None: a control plane with fake nodes only, on 127.0.0.1."""

    dir: Path
    index: int | None = None

    @property
    def real_node(self) -> bool:
        return self.index is not None

    def _n(self) -> int:
        if self.index is None:
            raise ValueError("this cluster has no real node")
        return self.index

    # --- files -------------------------------------------------------------------------------------

    @property
    def pki(self) -> Path:
        return self.dir / "pki"

    @property
    def logs(self) -> Path:
        return self.dir / "logs"

    @property
    def state_file(self) -> Path:
        return self.dir / "state.json"

    @property
    def kubeconfig(self) -> Path:
        return self.dir / "kubeconfig"

    def component_kubeconfig(self, user: str) -> Path:
        return self.dir / f"{user}.kubeconfig"

    @property
    def node_dir(self) -> Path:
        return self.dir / "node"

    @property
    def containerd_dir(self) -> Path:
        return self.node_dir / "containerd"

    @property
    def containerd_socket(self) -> Path:
        return self.containerd_dir / "containerd.sock"

    # --- the real node's network -------------------------------------------------------------------

    @property
    def netns(self) -> str:
        return f"{NETNS_PREFIX}{self._n()}"

    @property
    def node_name(self) -> str:
        return f"{NETNS_PREFIX}{self._n()}"

    @property
    def host_if(self) -> str:
        return f"msn{self._n()}-h"

    @property
    def node_if(self) -> str:
        return f"msn{self._n()}-n"

    @property
    def host_ip(self) -> str:
        """The root netns end of the veth: where the API server listens for a real-node cluster."""
        return f"10.200.{self._n()}.1"

    @property
    def node_ip(self) -> str:
        return f"10.200.{self._n()}.2"

    @property
    def pod_cidr(self) -> str:
        return f"10.244.{self._n()}.0/24"

    @property
    def pod_gateway(self) -> str:
        return f"10.244.{self._n()}.1"

    @property
    def cgroup_root(self) -> str:
        return f"/{self.node_name}"

    @property
    def api_host(self) -> str:
        """Where the API server listens: the host end of the node's veth, else loopback."""
        return self.host_ip if self.real_node else "127.0.0.1"


def running_indexes() -> set[int]:
    """The indexes of the real-node clusters running on this host (their netns exist)."""
    done = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    out = set()
    for line in done.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith(NETNS_PREFIX) and name[len(NETNS_PREFIX) :].isdigit():
            out.add(int(name[len(NETNS_PREFIX) :]))
    return out


@contextmanager
def index_lock() -> Iterator[None]:
    """Held while a cluster picks its index and creates its netns (two starts at once get two indexes)."""
    INDEX_LOCK.parent.mkdir(parents=True, exist_ok=True)
    with INDEX_LOCK.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def free_index() -> int:
    """The lowest index no running cluster uses (call under :func:`index_lock`)."""
    taken = running_indexes()
    for n in range(1, MAX_INDEX + 1):
        if n not in taken:
            return n
    raise RuntimeError(f"all {MAX_INDEX} real-node indexes are in use")


def is_root() -> bool:
    return os.geteuid() == 0
