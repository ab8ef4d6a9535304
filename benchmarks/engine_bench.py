"""The real engine against kubectl on the same objects, on the embedded cluster (127.0.0.1).

For the N-service dev stack (:mod:`benchmarks.generate`), on a fresh cluster each:

* kubectl: ``apply --server-side`` of every object the stack creates (meshstack's own and the Helm
  charts' via ``helm template``; CRDs first, as any installer must) and ``wait`` until every
  Deployment is Available; then ``kubectl diff --server-side`` of the same files (a no-op);
* meshstack: ``up`` from empty (it returns once everything is ready), a no-op ``preview``, a
  ``preview`` of one canary weight change, and that change applied as a rollout step (a targeted
  update of the one VirtualService), from decision to the API server reading it back.

The rollout step is the route change a rollout step makes (``pulumi up --target`` of the one
VirtualService, :meth:`Engine.targeted_up`, then the weights read back from the API server); the
generated services have no ``rollout`` block, so the program runs in full mode, not the runner's
route-only mode: an upper bound for a real step.

    python -m benchmarks.engine_bench --sizes 10,100      → one JSON line per size
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.generate import stack_config
from meshstack.stacks.program import main as program
from meshstack.testing import REDACTED, run
from meshstack.tools.engine import ROOT, Engine, bootstrap_env
from meshstack.tools.render import manifest_of

CLUSTER = ROOT / "scripts" / "cluster.py"


def sh(cmd: list[str], timeout: float = 1800) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=timeout).stdout


def _plain(value: Any) -> Any:
    if value == REDACTED:
        return "cmVkYWN0ZWQ="
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def render_all(n: int, charts: Path, helm: Path, out: Path) -> tuple[Path, Path]:
    """Every object of the stack as files: CRDs, then the rest."""
    config = stack_config(n)
    config["meshstack:mesh"] = {**config["meshstack:mesh"], "chartRepository": str(charts)}
    config["meshstack:secrets"] = {"generator": "builtin"}
    rec = run(program, config=config, stack="dev")
    docs = [_plain(manifest_of(r)) for r in rec.kubernetes_objects]
    for chart in rec.helm_charts:
        inputs = _plain(chart.inputs)
        values = out / f"{chart.name}.values.yaml"
        values.write_text(yaml.safe_dump(inputs.get("values") or {}))
        rendered = sh(
            [
                str(helm),
                "template",
                inputs["name"],
                inputs["chart"],
                "-n",
                inputs["namespace"],
                "-f",
                str(values),
                "--skip-tests",
            ]
        )
        docs += [d for d in yaml.safe_load_all(rendered) if d]
    crds = [d for d in docs if d.get("kind") == "CustomResourceDefinition"]
    rest = [d for d in docs if d.get("kind") != "CustomResourceDefinition"]
    namespaces = [d for d in rest if d.get("kind") == "Namespace"]
    others = [d for d in rest if d.get("kind") != "Namespace"]
    (out / "crds.yaml").write_text(yaml.safe_dump_all(crds))
    (out / "objects.yaml").write_text(yaml.safe_dump_all([*namespaces, *others]))
    return out / "crds.yaml", out / "objects.yaml"


class Cluster:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.kubeconfig = directory / "kubeconfig"

    def __enter__(self) -> Cluster:
        sh([sys.executable, str(CLUSTER), "start", "--dir", str(self.dir)])
        return self

    def __exit__(self, *exc: object) -> None:
        sh([sys.executable, str(CLUSTER), "stop", "--dir", str(self.dir)])


def kubectl_bin() -> str:
    return str(Path(bootstrap_env()["PATH"].split(":")[0]) / "kubectl")


def kubectl_figures(crds: Path, objects: Path, workdir: Path) -> dict[str, float]:
    kubectl = kubectl_bin()
    with Cluster(workdir / "kubectl-cluster") as cluster:
        k = [kubectl, "--kubeconfig", str(cluster.kubeconfig)]
        t0 = time.perf_counter()
        sh([*k, "apply", "--server-side", "--force-conflicts", "-f", str(crds)])
        sh([*k, "wait", "--for=condition=Established", "crd", "--all", "--timeout=300s"])
        sh([*k, "apply", "--server-side", "--force-conflicts", "-f", str(objects)])
        applied = time.perf_counter() - t0
        sh([*k, "wait", "--for=condition=Available", "deployment", "--all", "-A", "--timeout=900s"])
        available = time.perf_counter() - t0
        t1 = time.perf_counter()
        done = subprocess.run(
            [*k, "diff", "--server-side", "--force-conflicts", "-f", str(objects)],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert done.returncode in (0, 1), done.stderr
        diff = time.perf_counter() - t1
    return {"kubectl_apply_s": applied, "kubectl_apply_wait_s": available, "kubectl_diff_s": diff}


def meshstack_figures(n: int, charts: Path, workdir: Path) -> dict[str, float]:
    with Cluster(workdir / "meshstack-cluster") as cluster:
        log = workdir / "pulumi.log"

        def to_log(line: str) -> None:
            with log.open("a") as fh:
                fh.write(line if line.endswith("\n") else line + "\n")

        engine = Engine("dev", cluster.kubeconfig, charts, workdir / "state", on_output=to_log)
        engine.set_overrides(apps={"services": stack_config(n)["meshstack:apps"]["services"]})
        t0 = time.perf_counter()
        result = engine.up()
        up = time.perf_counter() - t0
        t1 = time.perf_counter()
        engine.preview(expect_no_changes=True)
        noop = time.perf_counter() - t1
        engine.set_overrides(
            apps={
                "services": {
                    "svc-0000": {"routes": [{"to": [{"version": "v1", "weight": 80}, {"version": "v2", "weight": 20}]}]}
                }
            }
        )
        t2 = time.perf_counter()
        preview = engine.preview()
        change = time.perf_counter() - t2
        changed = {
            str(getattr(k, "value", k)): v
            for k, v in preview.change_summary.items()
            if str(getattr(k, "value", k)) != "same"
        }
        # One rollout step's route change: the targeted update, then the API server read back.
        namespace = engine.spec().apps.namespace
        resources = (engine.stack().export_stack().deployment or {}).get("resources") or []
        [urn] = [
            r["urn"]
            for r in resources
            if r.get("type") == "kubernetes:networking.istio.io/v1:VirtualService"
            and (r.get("inputs") or {}).get("metadata", {}).get("name") == "svc-0000"
        ]
        k = [kubectl_bin(), "--kubeconfig", str(cluster.kubeconfig)]
        t3 = time.perf_counter()
        step_changes = engine.targeted_up([urn])
        applied = time.perf_counter() - t3
        vs = json.loads(sh([*k, "get", "virtualservice", "svc-0000", "-n", namespace, "-o", "json"]))
        step = time.perf_counter() - t3
        weights = {r["destination"]["subset"]: r.get("weight") for r in vs["spec"]["http"][-1]["route"]}
        if weights != {"v1": 80, "v2": 20}:
            raise RuntimeError(f"the API server has {weights} for svc-0000's route after the step")
    return {
        "resources": float(sum((result.summary.resource_changes or {}).values())),
        "up_s": up,
        "noop_preview_s": noop,
        "change_preview_s": change,
        "change_preview_updates": float(changed.get("update", 0)),
        "rollout_step_up_s": applied,
        "rollout_step_s": step,
        "rollout_step_updates": float(step_changes.get("update", 0)),
    }


def charts_and_helm() -> tuple[Path, Path]:
    lines = sh(["bash", str(ROOT / "scripts" / "istio_charts.sh"), "--with-helm"]).splitlines()
    return Path(lines[0]), Path(lines[1])


def measure(n: int) -> dict[str, Any]:
    """Both sides for the N-service stack, each on a fresh cluster."""
    sh(["bash", str(ROOT / "scripts" / "bootstrap.sh")], timeout=3600)
    charts, helm = charts_and_helm()
    with tempfile.TemporaryDirectory(prefix=f"engine-bench-{n}-") as tmp:
        work = Path(tmp)
        crds, objects = render_all(n, charts, helm, work)
        row: dict[str, Any] = {"n": n, **kubectl_figures(crds, objects, work), **meshstack_figures(n, charts, work)}
    row["up_vs_kubectl"] = row["up_s"] / row["kubectl_apply_wait_s"]
    row["noop_preview_vs_diff"] = row["noop_preview_s"] / row["kubectl_diff_s"]
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.engine_bench")
    parser.add_argument("--sizes", default="10,100")
    args = parser.parse_args(argv)
    for n in [int(s) for s in args.sizes.split(",")]:
        print(json.dumps(measure(n)), flush=True)


if __name__ == "__main__":
    main()
