"""The ``network`` part (real node only): the node's network namespace and how it is joined.

* netns ``msnode-N``; veth ``msnN-h`` (root netns, 10.200.N.1/30) ↔ ``msnN-n`` (node netns, .2/30);
* in the node netns: the pod bridge ``cni0`` (made here so the Service range can get an on-link route
  on it: host-network processes of the node then reach ClusterIPs), IP forwarding and bridge
  netfilter on (there only), no default route;
* in the root netns: one route, to the node's pod CIDR via the node's veth address (the API server
  calls admission webhooks on pod IPs), and guard routes: ``unreachable`` at the worst metric for
  every range the clusters use, so a packet whose real route is gone fails here instead of leaving
  through the machine's default route. The guards stay while any real-node cluster runs.
"""

from __future__ import annotations

from embedded.cluster import Cluster
from embedded.layout import GUARD_CIDRS, SERVICE_CIDR, running_indexes
from embedded.proc import run

GUARD_METRIC = "4294967295"


def _in_node(c: Cluster, *cmd: str) -> None:
    run(["nsenter", f"--net=/run/netns/{c.layout.netns}", *cmd])


class Network:
    name = "network"

    def wanted(self, c: Cluster) -> bool:
        return c.layout.real_node

    def start(self, c: Cluster) -> None:
        lo = c.layout
        for cidr in GUARD_CIDRS:
            run(["ip", "route", "replace", "unreachable", cidr, "metric", GUARD_METRIC])
        run(["ip", "netns", "add", lo.netns])
        run(["ip", "link", "add", lo.host_if, "type", "veth", "peer", "name", lo.node_if, "netns", lo.netns])
        run(["ip", "addr", "add", f"{lo.host_ip}/30", "dev", lo.host_if])
        run(["ip", "link", "set", lo.host_if, "up"])
        _in_node(c, "ip", "link", "set", "lo", "up")
        _in_node(c, "ip", "addr", "add", f"{lo.node_ip}/30", "dev", lo.node_if)
        _in_node(c, "ip", "link", "set", lo.node_if, "up")
        run(["ip", "route", "add", lo.pod_cidr, "via", lo.node_ip, "dev", lo.host_if])
        _in_node(c, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        _in_node(c, "sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=1")
        _in_node(c, "ip", "link", "add", "cni0", "type", "bridge")
        _in_node(c, "ip", "link", "set", "cni0", "up")
        _in_node(c, "ip", "route", "add", SERVICE_CIDR, "dev", "cni0")

    def check(self, c: Cluster) -> list[str]:
        if c.layout.index not in running_indexes():
            return [f"netns {c.layout.netns} is missing"]
        routes = run(["ip", "route", "show", c.layout.pod_cidr], check=False).stdout
        return [] if c.layout.node_ip in routes else [f"the root netns has no route to {c.layout.pod_cidr}"]

    def stop(self, c: Cluster) -> None:
        lo = c.layout
        if lo.index in running_indexes():
            run(["ip", "netns", "del", lo.netns], check=False)  # the veth pair and the pod route go with it
        run(["ip", "link", "del", lo.host_if], check=False)
        if not running_indexes():
            for cidr in GUARD_CIDRS:
                run(["ip", "route", "del", "unreachable", cidr, "metric", GUARD_METRIC], check=False)
