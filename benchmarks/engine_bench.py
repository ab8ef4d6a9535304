"""The real engine against kubectl on the same objects, on the embedded cluster (127.0.0.1).

For the N-service dev stack (:mod:`benchmarks.generate`), on a fresh cluster each:

* kubectl: ``apply --server-side`` of every object the stack creates (meshstack's own and the Helm
  charts' via ``helm template``; CRDs first, as any installer must) and ``wait`` until every
  Deployment is Available; then ``kubectl diff --server-side`` of the same files (a no-op);
* meshstack: ``up`` from empty (``--checkpoints final``, the default: it returns once everything
  is ready; the state is written once, at the end), a no-op ``preview``, a ``preview`` of one canary
  weight change, and the first step of ``svc-0000``'s rollout as the runner makes it, from the
  decision to the API server reading the new weights back;
* for small N, ``up`` from empty again on a third cluster with a checkpoint at every step
  (``--checkpoints every``, Pulumi's default): what the checkpoints cost.

The rollout step is :class:`~meshstack.tools.runner.engine_stack.EngineStack`'s: ``pulumi up --target``
of the one VirtualService with the program in its route-only mode, the new state recorded in the
stack's outputs, then the route read back from the API server.

    python -m benchmarks.engine_bench --sizes 10,100      → one JSON line per size
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.generate import ROLLOUT_SERVICE, stack_config
from meshstack.model.rollout.state import Phase
from meshstack.stacks.program import main as program
from meshstack.testing import run
from meshstack.tools.engine import ROOT, Engine, bootstrap_env
from meshstack.tools.render import manifest_of, with_placeholder_secrets
from meshstack.tools.runner.engine_stack import EngineStack

CLUSTER = ROOT / "scripts" / "cluster.py"


def sh(cmd: list[str], timeout: float = 1800) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=timeout).stdout


def render_all(n: int, charts: Path, helm: Path, out: Path) -> tuple[Path, Path]:
    """Every object of the stack as files: CRDs, then the rest."""
    config = stack_config(n)
    config["meshstack:mesh"] = {**config["meshstack:mesh"], "chartRepository": str(charts)}
    config["meshstack:secrets"] = {"generator": "builtin"}
    rec = run(program, config=config, stack="dev")
    docs = [with_placeholder_secrets(manifest_of(r)) for r in rec.kubernetes_objects]
    for chart in rec.helm_charts:
        inputs = with_placeholder_secrets(chart.inputs)
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


def kubectl_figures(crds: Path, objects: Path, workdir: Path) -> dict[str, Any]:
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
        diffs = []
        for _ in range(REPEAT):
            t1 = time.perf_counter()
            done = subprocess.run(
                [*k, "diff", "--server-side", "--force-conflicts", "-f", str(objects)],
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            assert done.returncode in (0, 1), done.stderr
            diffs.append(time.perf_counter() - t1)
    return {
        "kubectl_apply_s": applied,
        "kubectl_apply_wait_s": available,
        "kubectl_diff_s": statistics.median(diffs),
        "kubectl_diff_runs": diffs,
    }


def meshstack_figures(n: int, charts: Path, workdir: Path) -> dict[str, Any]:
    with Cluster(workdir / "meshstack-cluster") as cluster:
        log = workdir / "pulumi.log"

        def to_log(line: str) -> None:
            with log.open("a") as fh:
                fh.write(line if line.endswith("\n") else line + "\n")

        engine = Engine("dev", cluster.kubeconfig, charts, workdir / "state", on_output=to_log, checkpoints="final")
        engine.set_overrides(apps={"services": stack_config(n)["meshstack:apps"]["services"]})
        t0 = time.perf_counter()
        result = engine.up()  # --checkpoints final: the state written once, at the end
        up = time.perf_counter() - t0
        previews = []
        for _ in range(REPEAT):
            t1 = time.perf_counter()
            engine.preview(expect_no_changes=True)
            previews.append(time.perf_counter() - t1)
        engine.set_overrides(
            apps={
                "services": {
                    CHANGED: {"routes": [{"to": [{"version": "v1", "weight": 80}, {"version": "v2", "weight": 20}]}]}
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
        # The rollout's first three steps (10 %, 25 %, 50 %) and again 10 %, 25 %: five real route
        # changes, the median (a single step moves by ±0.5 s from run to run on this VM).
        steps = [rollout_step(engine, i % 3) for i in range(STEPS)]
        step = {
            "rollout_step_s": statistics.median(s["rollout_step_s"] for s in steps),
            "rollout_step_up_s": statistics.median(s["rollout_step_up_s"] for s in steps),
            "rollout_step_updates": min(s["rollout_step_updates"] for s in steps),
            "rollout_step_runs": [s["rollout_step_s"] for s in steps],
        }
    return {
        "resources": float(sum((result.summary.resource_changes or {}).values())),
        "up_s": up,
        "noop_preview_s": statistics.median(previews),
        "noop_preview_runs": previews,
        "change_preview_s": change,
        "change_preview_updates": float(changed.get("update", 0)),
        **step,
    }


#: Runs of the no-op preview and of ``kubectl diff`` (each figure is the median).
REPEAT = 3
#: Rollout steps measured (the figure is their median).
STEPS = 5

#: The service whose weights the 1-weight preview changes (90/10 → 80/20).
CHANGED = "svc-0001"


def rollout_step(engine: Engine, index: int = 0) -> dict[str, float]:
    """Step ``index`` of :data:`ROLLOUT_SERVICE`'s rollout (0: stable 100 → canary 10), driven as
    the runner drives it (:class:`EngineStack`: ``pulumi up --target`` of the route with the program
    in its route-only mode), from the decision to the API server returning the new weights."""
    stack = EngineStack(engine)
    rollout, namespace = stack.rollout(ROLLOUT_SERVICE)
    stack.outputs()  # the runner reads the recorded state before it decides
    now = time.time()
    state = rollout.state_of(stack.recorded(ROLLOUT_SERVICE)).model_copy(
        update={"phase": Phase.PROGRESSING, "step": index, "started_at": now, "step_started_at": now}
    )
    expected = dict(rollout.routes_at(state)[-1].weighted)
    t0 = time.perf_counter()
    applied = stack.apply(ROLLOUT_SERVICE, state, route_only=True)
    seen = stack.route_weights(ROLLOUT_SERVICE, namespace)
    seconds = time.perf_counter() - t0
    if seen != expected:
        raise RuntimeError(f"the API server has {seen} for {ROLLOUT_SERVICE}'s route after the step, not {expected}")
    return {
        "rollout_step_up_s": applied.seconds,
        "rollout_step_s": seconds,
        "rollout_step_updates": float(applied.changes.get("update", 0)),
    }


def up_every_checkpoint(n: int, charts: Path, workdir: Path) -> float:
    """``up`` from empty with a checkpoint at every step (``--checkpoints every``, Pulumi's default)."""
    with Cluster(workdir / "every-cluster") as cluster:
        engine = Engine("dev", cluster.kubeconfig, charts, workdir / "state-every", on_output=None, checkpoints="every")
        engine.set_overrides(apps={"services": stack_config(n)["meshstack:apps"]["services"]})
        t0 = time.perf_counter()
        engine.up()
        return time.perf_counter() - t0


def charts_and_helm() -> tuple[Path, Path]:
    lines = sh(["bash", str(ROOT / "scripts" / "istio_charts.sh"), "--with-helm"]).splitlines()
    return Path(lines[0]), Path(lines[1])


def measure(n: int, every_up_max: int = 10) -> dict[str, Any]:
    """Both sides for the N-service stack, each on a fresh cluster (and, for N ≤ ``every_up_max``,
    an ``up`` with every checkpoint on a third)."""
    sh(["bash", str(ROOT / "scripts" / "bootstrap.sh")], timeout=3600)
    charts, helm = charts_and_helm()
    with tempfile.TemporaryDirectory(prefix=f"engine-bench-{n}-") as tmp:
        work = Path(tmp)
        crds, objects = render_all(n, charts, helm, work)
        row: dict[str, Any] = {"n": n, **kubectl_figures(crds, objects, work), **meshstack_figures(n, charts, work)}
        if n <= every_up_max:
            row["up_every_checkpoint_s"] = up_every_checkpoint(n, charts, work)
    row["up_vs_kubectl"] = row["up_s"] / row["kubectl_apply_wait_s"]
    row["noop_preview_vs_diff"] = row["noop_preview_s"] / row["kubectl_diff_s"]
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.engine_bench")
    parser.add_argument("--sizes", default="10,100")
    parser.add_argument("--every-up-max", type=int, default=10, help="also time up with every checkpoint up to this N")
    args = parser.parse_args(argv)
    for n in [int(s) for s in args.sizes.split(",")]:
        print(json.dumps(measure(n, args.every_up_max)), flush=True)


if __name__ == "__main__":
    main()
