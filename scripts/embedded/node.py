"""The ``node`` part (real node only): containerd, the images imported into it, kubelet, kube-proxy.

All three run in the node's netns (started through nsenter), with state of their own under the
cluster's directory: containerd's root, state, sockets and runc root; the kubelet's root, pod logs
and volume plugins; the cgroup root ``/msnode-N`` in every cgroup v1 hierarchy, so two nodes on one
host never share ``/kubepods``. The Node object is created first with its pod CIDR (the node-ipam
controller is off), which the CNI bridge config and the root netns' route use too.

No image can be pulled: every image is imported from the archives ``scripts/bootstrap.sh`` builds
(``<tools>/share/images``); the kubelet never garbage-collects them.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedded.api import node_ready
from embedded.cluster import Cluster
from embedded.layout import CLUSTER_CIDR, DNS_IP, Layout
from embedded.proc import ClusterError, log_tail, run, stop, wait_until

#: The pod sandbox image's repository; its tag is the one scripts/images.py built.
PAUSE_REPOSITORY = "registry.k8s.io/pause"
CGROUPS = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class Runtime:
    """What containerd runs pods with: runc, the CNI plugins and the sandbox image."""

    runc: str
    cni_bin: str
    sandbox_image: str

    @classmethod
    def of(cls, c: Cluster) -> Runtime:
        """The bootstrap's (``<bin>/runc``, ``<bin>/../share/cni-bin``), else Debian's own paths."""
        cni = c.bin_dir.parent / "share" / "cni-bin" if c.bin_dir else None
        return cls(
            runc=c.bin("runc"),
            cni_bin=str(cni) if cni and cni.is_dir() else "/usr/lib/cni",
            sandbox_image=sandbox_image(Path(c.state["images_dir"])),
        )


def sandbox_image(images_dir: Path) -> str:
    index = images_dir / "index.json"
    refs: dict[str, Any] = json.loads(index.read_text())["images"] if index.is_file() else {}
    pause = sorted(str(r) for r in refs if r.startswith(PAUSE_REPOSITORY + ":"))
    if not pause:
        raise ClusterError(f"no {PAUSE_REPOSITORY} image in {index}: run scripts/bootstrap.sh (piece images)")
    return pause[-1]


def containerd_config(lo: Layout, rt: Runtime) -> str:
    c = lo.containerd_dir
    return f"""# containerd 1.6 for node {lo.node_name}: its own root, state, sockets and runc root.
version = 2
root = "{c}/root"
state = "{c}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.opt",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "{c}/containerd.sock"
[ttrpc]
  address = "{c}/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{rt.sandbox_image}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  # root here lacks CAP_SYS_RESOURCE: runc cannot lower a sandbox's oom_score_adj below the parent's
  restrict_oom_score_adj = true
  tolerate_missing_hugetlb_controller = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    discard_unpacked_layers = false
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "{rt.runc}"
        Root = "{c}/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{rt.cni_bin}"
    conf_dir = "{lo.node_dir}/cni/net.d"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "{c}/certs.d"
"""


def cni_config(lo: Layout) -> dict[str, Any]:
    """The pod network: CNI's bridge plugin on ``cni0`` (made by the network part), no masquerade."""
    return {
        "cniVersion": "0.4.0",
        "name": lo.node_name,
        "plugins": [
            {
                "type": "bridge",
                "bridge": "cni0",
                "isGateway": True,
                "isDefaultGateway": True,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "dataDir": str(lo.node_dir / "cni" / "ipam"),
                    "ranges": [[{"subnet": lo.pod_cidr, "gateway": lo.pod_gateway}]],
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }


def kubelet_config(lo: Layout) -> dict[str, Any]:
    n = lo.node_dir
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": lo.node_ip,
        "port": 10250,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": 10248,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(lo.pki / "ca.crt")},
        },
        "authorization": {"mode": "Webhook"},
        "containerRuntimeEndpoint": f"unix://{lo.containerd_socket}",
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": lo.cgroup_root,
        "cgroupsPerQOS": True,
        "failCgroupV1": False,
        "failSwapOn": False,
        "clusterDomain": "cluster.local",
        "clusterDNS": [DNS_IP],
        "resolvConf": str(n / "resolv.conf"),
        "podLogsDir": str(n / "pod-logs"),
        "volumePluginDir": str(n / "volume-plugins"),
        "registerNode": True,
        "rotateCertificates": False,
        "serverTLSBootstrap": False,
        # The images cannot be pulled again: never collect them.
        "imageGCHighThresholdPercent": 100,
        "evictionHard": {
            "memory.available": "100Mi",
            "nodefs.available": "2%",
            "imagefs.available": "2%",
            "nodefs.inodesFree": "2%",
        },
        "enforceNodeAllocatable": ["pods"],
        "maxPods": 110,
        "serializeImagePulls": True,
        "nodeStatusUpdateFrequency": "10s",
        "syncFrequency": "30s",
        "fileCheckFrequency": "20s",
        "shutdownGracePeriod": "0s",
        "logging": {"format": "text"},
    }


def kube_proxy_config(lo: Layout) -> dict[str, Any]:
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(lo.component_kubeconfig("kube-proxy"))},
        "hostnameOverride": lo.node_name,
        "mode": "iptables",
        "clusterCIDR": CLUSTER_CIDR,
        "detectLocalMode": "ClusterCIDR",
        "bindAddress": lo.node_ip,
        "healthzBindAddress": "127.0.0.1:10256",
        "metricsBindAddress": "127.0.0.1:10249",
        "nodePortAddresses": ["primary"],
        "iptables": {"masqueradeAll": False, "syncPeriod": "30s", "minSyncPeriod": "1s"},
        # conntrack's host-wide sysctls are read-only inside a netns
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
    }


def node_object(lo: Layout) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": lo.node_name,
            "labels": {
                "kubernetes.io/hostname": lo.node_name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "real",
                "node-role.kubernetes.io/agent": "",
            },
        },
        "spec": {"podCIDR": lo.pod_cidr, "podCIDRs": [lo.pod_cidr]},
    }


def image_archives(images_dir: Path) -> list[Path]:
    """The image archives to import: those ``index.json`` lists, else every ``*.tar``."""
    index = images_dir / "index.json"
    if index.is_file():
        # scripts/images.py writes {"images": {reference: {"archive": file, ...}}}.
        images: dict[str, dict[str, Any]] = json.loads(index.read_text())["images"]
        return [images_dir / images[ref]["archive"] for ref in sorted(images)]
    return sorted(images_dir.glob("*.tar"))


class Node:
    name = "node"

    def wanted(self, c: Cluster) -> bool:
        return c.layout.real_node

    def ctr(self, c: Cluster, *args: str, check: bool = True) -> str:
        return run(
            [c.bin("ctr"), "--address", str(c.layout.containerd_socket), "-n", "k8s.io", *args], check=check
        ).stdout

    def start(self, c: Cluster) -> None:
        lo = c.layout
        for sub in ("cni/net.d", "cni/ipam", "kubelet", "pod-logs", "volume-plugins", "containerd"):
            (lo.node_dir / sub).mkdir(parents=True, exist_ok=True)
        rt = Runtime.of(c)
        (lo.containerd_dir / "config.toml").write_text(containerd_config(lo, rt))
        (lo.node_dir / "cni" / "net.d" / "10-meshstack.conflist").write_text(json.dumps(cni_config(lo), indent=1))
        # Pods of dnsPolicy Default resolve nothing (there is nothing outside the cluster to resolve).
        (lo.node_dir / "resolv.conf").write_text("nameserver 127.0.0.1\noptions ndots:1\n")
        (lo.node_dir / "kubelet.json").write_text(json.dumps(kubelet_config(lo), indent=1))
        (lo.node_dir / "kube-proxy.json").write_text(json.dumps(kube_proxy_config(lo), indent=1))

        c.spawn("containerd", [c.bin("containerd"), "--config", str(lo.containerd_dir / "config.toml")], in_node=True)
        wait_until(
            "containerd",
            lambda: bool(self.ctr(c, "version", check=False)),
            c.timeout,
            on_fail=lambda: log_tail(c.log("containerd")),
            alive_check=c.alive_check,
        )
        archives = image_archives(Path(c.state["images_dir"]))
        if not archives:
            raise ClusterError(f"no image archives in {c.state['images_dir']}: run scripts/bootstrap.sh (piece images)")
        t0 = time.monotonic()
        for archive in archives:
            self.ctr(c, "images", "import", str(archive))
        c.state["images"] = sorted(self.ctr(c, "images", "ls", "-q").split())
        c.state["images_seconds"] = round(time.monotonic() - t0, 1)
        if rt.sandbox_image not in c.state["images"]:
            raise ClusterError(f"the sandbox image {rt.sandbox_image} is not among the imported images")
        c.save()

        self._cgroups(lo)
        c.api.create("/api/v1/nodes", node_object(lo))
        c.spawn(
            "kubelet",
            [
                c.bin("kubelet"),
                f"--config={lo.node_dir / 'kubelet.json'}",
                f"--kubeconfig={lo.component_kubeconfig('node')}",
                f"--root-dir={lo.node_dir / 'kubelet'}",
                f"--cert-dir={lo.node_dir / 'kubelet' / 'pki'}",
                f"--node-ip={lo.node_ip}",
                f"--hostname-override={lo.node_name}",
                "--v=1",
            ],
            in_node=True,
        )
        c.spawn(
            "kube-proxy", [c.bin("kube-proxy"), f"--config={lo.node_dir / 'kube-proxy.json'}", "--v=1"], in_node=True
        )

        def ready() -> bool:
            code, body = c.api.get(f"/api/v1/nodes/{lo.node_name}")
            return code == 200 and node_ready(body)

        wait_until(
            f"node {lo.node_name} Ready",
            ready,
            c.timeout,
            on_fail=lambda: log_tail(c.log("kubelet")),
            alive_check=c.alive_check,
        )

    @staticmethod
    def _cgroups(lo: Layout) -> None:
        for hierarchy in CGROUPS.iterdir():
            if hierarchy.is_dir() and hierarchy.name != "unified" and not hierarchy.is_symlink():
                (hierarchy / lo.node_name).mkdir(exist_ok=True)
        cpuset = CGROUPS / "cpuset"
        if (cpuset / lo.node_name).is_dir():  # a cpuset child needs its cpus and mems before it takes tasks
            for key in ("cpuset.cpus", "cpuset.mems"):
                (cpuset / lo.node_name / key).write_text((cpuset / key).read_text())

    def check(self, c: Cluster) -> list[str]:
        problems = [f"{n} is not running" for n in ("containerd", "kubelet", "kube-proxy") if not c.running(n)]
        code, body = c.api.get(f"/api/v1/nodes/{c.layout.node_name}")
        if code != 200 or not node_ready(body):
            problems.append(f"node {c.layout.node_name} is not Ready")
        return problems

    def stop(self, c: Cluster) -> None:
        lo = c.layout
        for name in ("kube-proxy", "kubelet"):  # first: nothing restarts containers after this
            if (p := c.processes.get(name)) is not None:
                stop(p)
        pod_netns: list[str] = []
        containers: list[str] = []
        if lo.containerd_socket.exists() and c.running("containerd"):
            containers = self.ctr(c, "containers", "ls", "-q", check=False).split()
            for cid in containers:
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    info = json.loads(self.ctr(c, "containers", "info", cid, check=False))
                    pod_netns += [
                        ns["path"]
                        for ns in info["Spec"]["linux"]["namespaces"]
                        if ns.get("type") == "network" and ns.get("path", "").startswith("/var/run/netns/")
                    ]
            for task in self.ctr(c, "tasks", "ls", "-q", check=False).split():
                self.ctr(c, "tasks", "kill", "-a", "-s", "SIGKILL", task, check=False)
            time.sleep(1)
            for task in self.ctr(c, "tasks", "ls", "-q", check=False).split():
                self.ctr(c, "tasks", "delete", "-f", task, check=False)
        if (p := c.processes.get("containerd")) is not None:
            stop(p)
        # This containerd's shims (their -address names its socket), then anything left in its cgroups.
        for pid in self._pids_matching(f"-address {lo.containerd_socket}", "containerd-shim"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
        for tasks in (
            (CGROUPS / "pids" / lo.node_name).rglob("tasks") if (CGROUPS / "pids" / lo.node_name).is_dir() else []
        ):
            for task in tasks.read_text().split():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(task), 9)
        time.sleep(0.5)
        self._unmount_under(lo.node_dir)
        for path in dict.fromkeys(pod_netns):
            run(["umount", path], check=False)
            with contextlib.suppress(OSError):
                os.unlink(path)
        results = Path("/var/lib/cni/results")
        if results.is_dir():  # libcni's result cache (containerd 1.6 cannot move it): our network's entries
            for entry in results.iterdir():
                if entry.name.startswith(f"{lo.node_name}-") or any(cid in entry.name for cid in containers):
                    entry.unlink(missing_ok=True)
        for hierarchy in CGROUPS.iterdir():
            root = hierarchy / lo.node_name
            if root.is_dir():
                for d in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
                    with contextlib.suppress(OSError):
                        d.rmdir()
                with contextlib.suppress(OSError):
                    root.rmdir()
        logs = Path("/var/log/containers")
        if logs.is_dir():
            for link in logs.iterdir():
                if link.is_symlink() and os.readlink(link).startswith(str(lo.node_dir)):
                    link.unlink()
        if not self._pids_matching("kubelet", "kubelet"):
            # What the kubelet creates outside --root-dir whatever it is told.
            Path("/var/lib/kubelet/device-plugins/kubelet.sock").unlink(missing_ok=True)
            for leftover in ("/var/lib/kubelet/device-plugins", "/var/lib/kubelet", "/var/log/containers"):
                with contextlib.suppress(OSError):
                    os.rmdir(leftover)

    @staticmethod
    def _pids_matching(needle: str, program: str) -> list[int]:
        out = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if program in argv.split(" ", 1)[0] and needle in argv:
                out.append(int(entry.name))
        return out

    @staticmethod
    def _unmount_under(root: Path) -> None:
        for _ in range(3):
            mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
            ours = sorted((m for m in mounts if m.startswith(str(root) + "/")), key=len, reverse=True)
            if not ours:
                return
            for m in ours:
                if run(["umount", m], check=False).returncode != 0:
                    run(["umount", "-l", m], check=False)
