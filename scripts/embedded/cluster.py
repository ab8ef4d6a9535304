"""A running (or starting) cluster: its layout, its recorded state, its binaries and its API."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embedded.api import Api
from embedded.layout import Layout
from embedded.proc import ClusterError, alive, log_tail, spawn

MARKER = ".meshstack-cluster"
HERE = Path(__file__).resolve().parent.parent  # scripts/


def find_bin_dir(explicit: str | None) -> Path | None:
    """--bin, else $MESHSTACK_BIN, else ``scripts/bootstrap.sh --print-bin``, else None (PATH)."""
    if explicit:
        return Path(explicit)
    if env := os.environ.get("MESHSTACK_BIN"):
        return Path(env)
    script = HERE / "bootstrap.sh"
    if script.exists():
        try:
            out = subprocess.run(
                ["bash", str(script), "--print-bin"], capture_output=True, text=True, timeout=30, check=True
            ).stdout.strip()
            if out and Path(out).is_dir():
                return Path(out)
        except (subprocess.SubprocessError, OSError):
            pass
    return None


def binary(bin_dir: Path | None, name: str) -> str:
    cand = bin_dir / name if bin_dir else None
    if cand is not None and os.access(cand, os.X_OK):
        return str(cand)
    if (which := shutil.which(name)) is not None:
        return which
    raise ClusterError(f"missing binary {name} (looked in {bin_dir or '-'} and PATH); run scripts/bootstrap.sh")


@dataclass
class Cluster:
    layout: Layout
    state: dict[str, Any]
    bin_dir: Path | None = None
    timeout: float = 120.0
    _api: Api | None = field(default=None, repr=False)

    # --- state -------------------------------------------------------------------------------------

    @classmethod
    def load(cls, d: Path) -> Cluster | None:
        try:
            state = json.loads((d / "state.json").read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(state, dict):
            return None
        layout = Layout(d, state.get("index"))
        bin_dir = Path(state["bin_dir"]) if state.get("bin_dir") else None
        return cls(layout, state, bin_dir)

    def save(self) -> None:
        tmp = self.layout.dir / "state.json.tmp"
        tmp.write_text(json.dumps(self.state, indent=2) + "\n")
        tmp.replace(self.layout.state_file)

    @property
    def processes(self) -> dict[str, dict[str, Any]]:
        procs: dict[str, dict[str, Any]] = self.state.setdefault("processes", {})
        return procs

    def bin(self, name: str) -> str:
        return binary(self.bin_dir, name)

    # --- processes ---------------------------------------------------------------------------------

    def spawn(self, name: str, argv: list[str], *, in_node: bool = False) -> None:
        """Start a component (``in_node``: in the node's netns — through nsenter, not ``ip netns
        exec``, which remounts /sys and hides the cgroup hierarchies from the kubelet)."""
        if in_node:
            argv = ["nsenter", f"--net=/run/netns/{self.layout.netns}", *argv]
        self.processes[name] = spawn(self.layout.logs / f"{name}.log", argv, self.layout.dir, self.env())
        self.save()

    def env(self) -> dict[str, str]:
        """The components' environment: the built tools first on PATH (containerd finds its shim and
        runc there, kube-proxy and the kubelet their conntrack and socat)."""
        path = os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        return {**os.environ, "PATH": f"{self.bin_dir}:{path}" if self.bin_dir else path}

    def running(self, name: str) -> bool:
        p = self.processes.get(name)
        return p is not None and alive(p["pid"], p.get("starttime"))

    def alive_check(self) -> None:
        dead = [n for n, p in self.processes.items() if not alive(p["pid"], p.get("starttime"))]
        if dead:
            raise ClusterError(f"component(s) exited: {', '.join(dead)}" + "".join(log_tail(self.log(n)) for n in dead))

    def log(self, name: str) -> Path:
        return self.layout.logs / f"{name}.log"

    # --- the API -------------------------------------------------------------------------------------

    @property
    def server(self) -> str:
        return f"https://{self.layout.api_host}:{self.state['ports']['apiserver']}"

    @property
    def api(self) -> Api:
        if self._api is None:
            self._api = Api(self.layout.pki, self.server)
        return self._api

    def kubectl(self, *args: str, timeout: float = 60, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.bin("kubectl"), "--kubeconfig", str(self.layout.kubeconfig), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            check=False,
        )
