"""Program evaluation under Pulumi's mocks: meshstack against a minimal program that registers the
same objects directly with pulumi-kubernetes and pulumi-random (no components of its own, no
ordering), for the N-service stacks of :mod:`benchmarks.generate`.

"The same objects": every custom resource meshstack registers (the Kubernetes objects, the random
passwords, the provider) and its Helm charts (v4 ``Chart`` components, with the same inputs). The
minimal program registers exactly those; meshstack registers them plus its own components
(``meshstack:*``), so ``minimal.resources == meshstack.resources - meshstack.components``.

One measurement per process, so that peak memory is the process's own:

    python -m benchmarks.eval_bench spec --n 100 --out spec.json           (what minimal replays)
    python -m benchmarks.eval_bench one --n 100 --program meshstack         → one JSON line
    python -m benchmarks.eval_bench one --n 100 --program minimal --spec spec.json
    python -m benchmarks.eval_bench table --sizes 10,100,500 --repeat 3     → medians, interleaved runs

``cpu`` is the process's user+system time spent evaluating (imports excluded), ``wall`` the same
span's wall clock; ``process_s`` is the whole process as the parent saw it (interpreter start and
imports included); ``peak_mib`` is the resident set's high-water mark (ru_maxrss) of the process.
The minimal program's objects are rendered in a separate process (``spec``), so its peak is not
charged for meshstack's run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROGRAMS = ("meshstack", "minimal")
ROOT = Path(__file__).resolve().parent.parent


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


# --- in-process measurement (the `spec` and `one` subcommands) -----------------------------------


def render_spec(n: int) -> list[dict[str, Any]]:
    """What the minimal program registers, in meshstack's order: one entry per custom resource and
    Helm chart meshstack registered for the N-service stack."""
    from benchmarks.generate import stack_config  # noqa: PLC0415 - keep `--help` and the parent light
    from meshstack.stacks.program import main as meshstack_program  # noqa: PLC0415
    from meshstack.testing import run  # noqa: PLC0415
    from meshstack.tools.render import manifest_of  # noqa: PLC0415

    rec = run(meshstack_program, config=stack_config(n), stack="bench")
    spec: list[dict[str, Any]] = []
    for r in rec.resources:
        if r.type.startswith("pulumi:providers:kubernetes"):
            spec.append({"kind": "provider", "name": r.name, "inputs": dict(r.inputs)})
        elif r.type.startswith("kubernetes:helm.sh/"):
            spec.append({"kind": "chart", "name": r.name, "inputs": manifest_of(r)})
        elif r.type.startswith("random:index/randomPassword"):
            spec.append({"kind": "password", "name": r.name, "inputs": dict(r.inputs)})
        elif r.custom and r.type.startswith("kubernetes:") and "kind" in r.inputs:
            spec.append({"kind": "object", "name": r.name, "inputs": manifest_of(r)})
        elif r.custom:
            raise ValueError(f"the minimal program does not know how to register {r.type} ({r.urn})")
    return spec


def minimal_program(spec: list[dict[str, Any]]) -> Any:
    """A program registering ``spec`` directly: one provider, then every object with it."""
    import pulumi  # noqa: PLC0415
    import pulumi_kubernetes as k8s  # noqa: PLC0415
    import pulumi_random as random  # noqa: PLC0415

    from meshstack.components.k8s import kubernetes_object  # noqa: PLC0415

    def body() -> None:
        provider: k8s.Provider | None = None
        for entry in spec:
            name, inputs = entry["name"], entry["inputs"]
            if entry["kind"] == "provider":
                provider = k8s.Provider(
                    name,
                    enable_server_side_apply=inputs.get("enableServerSideApply") == "true",
                    delete_unreachable=inputs.get("deleteUnreachable") == "true",
                )
                continue
            opts = pulumi.ResourceOptions(provider=provider)
            if entry["kind"] == "object":
                kubernetes_object(name, inputs, opts)
            elif entry["kind"] == "password":
                random.RandomPassword(name, length=int(inputs["length"]), special=bool(inputs.get("special")))
            else:  # a Helm chart
                k8s.helm.v4.Chart(
                    name,
                    chart=inputs["chart"],
                    name=inputs.get("name"),
                    namespace=inputs.get("namespace"),
                    version=inputs.get("version"),
                    values=inputs.get("values"),
                    repository_opts=k8s.helm.v4.RepositoryOptsArgs(**(inputs.get("repositoryOpts") or {})),
                    opts=opts,
                )

    return body


def import_everything() -> None:
    """Import what either program imports on first use (meshstack's components, the typed
    pulumi-kubernetes classes), so that neither evaluation's CPU includes imports."""
    from meshstack.components import apps, platform  # noqa: F401, PLC0415
    from meshstack.components.k8s import _TYPED, typed_class  # noqa: PLC0415

    for api_version, kind in _TYPED:
        typed_class(api_version, kind)


def measure(n: int, program: str, spec_file: Path | None = None) -> dict[str, Any]:
    """One evaluation in this process (call it once per process)."""
    from benchmarks.generate import stack_config  # noqa: PLC0415
    from meshstack.stacks.program import main as meshstack_program  # noqa: PLC0415
    from meshstack.testing import run  # noqa: PLC0415

    import_everything()

    config = stack_config(n)
    if program == "minimal":
        if spec_file is None:
            raise ValueError("the minimal program needs --spec (python -m benchmarks.eval_bench spec …)")
        target = minimal_program(json.loads(spec_file.read_text()))
    else:
        target = meshstack_program
    cpu0, wall0 = time.process_time(), time.perf_counter()
    rec = run(target, config=config, stack="bench")
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "n": n,
        "program": program,
        "resources": len(rec.resources),
        "components": sum(1 for r in rec.resources if r.type.startswith("meshstack:")),
        "custom": sum(1 for r in rec.resources if r.custom),
        "k8s_objects": len(rec.kubernetes_objects),
        "helm_charts": len(rec.helm_charts),
        "cpu": cpu,
        "wall": wall,
        "peak_mib": peak_kib / 1024,
    }


# --- the parent: fresh processes ------------------------------------------------------------------


def _child(args: list[str], timeout: float) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.eval_bench", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(),
        cwd=ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"eval_bench {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return done.stdout


def write_spec(n: int, out: Path, timeout: float = 3600) -> None:
    _child(["spec", "--n", str(n), "--out", str(out)], timeout)


def one(n: int, program: str, spec_file: Path | None = None, timeout: float = 3600) -> dict[str, Any]:
    """Measure in a fresh interpreter."""
    args = ["one", "--n", str(n), "--program", program]
    if spec_file is not None:
        args += ["--spec", str(spec_file)]
    t0 = time.perf_counter()
    out = _child(args, timeout)
    row = dict(json.loads(out.strip().splitlines()[-1]))
    row["process_s"] = time.perf_counter() - t0
    return row


def load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def size(n: int, repeat: int, log: Any = None) -> dict[str, Any]:
    """Medians of ``repeat`` interleaved runs of both programs for one N (and the raw runs)."""
    load0 = load_average()
    with tempfile.TemporaryDirectory(prefix=f"eval-bench-{n}-") as tmp:
        spec = Path(tmp) / "spec.json"
        write_spec(n, spec)
        runs: dict[str, list[dict[str, Any]]] = {p: [] for p in PROGRAMS}
        for i in range(repeat):  # interleaved: a slow moment hits both programs alike
            for p in PROGRAMS:
                runs[p].append(one(n, p, spec if p == "minimal" else None))
                if log is not None:
                    r = runs[p][-1]
                    log(f"  n={n} run {i + 1}/{repeat} {p:9} cpu {r['cpu']:.2f} s  peak {r['peak_mib']:.0f} MiB")
    keys = ("cpu", "wall", "process_s", "peak_mib")
    med = {p: {k: statistics.median(r[k] for r in runs[p]) for k in keys} for p in PROGRAMS}
    mesh, mini = runs["meshstack"][0], runs["minimal"][0]
    load1 = load_average()
    return {
        "n": n,
        "repeat": repeat,
        "resources": mesh["resources"],
        "components": mesh["components"],
        "k8s_objects": mesh["k8s_objects"],
        "minimal_resources": mini["resources"],
        "minimal_k8s_objects": mini["k8s_objects"],
        "cpu": med["meshstack"]["cpu"],
        "minimal_cpu": med["minimal"]["cpu"],
        "ratio": med["meshstack"]["cpu"] / med["minimal"]["cpu"],
        "wall": med["meshstack"]["wall"],
        "minimal_wall": med["minimal"]["wall"],
        "process_s": med["meshstack"]["process_s"],
        "minimal_process_s": med["minimal"]["process_s"],
        "peak_mib": med["meshstack"]["peak_mib"],
        "minimal_peak_mib": med["minimal"]["peak_mib"],
        "us_per_resource": 1e6 * med["meshstack"]["cpu"] / mesh["resources"],
        "load_before": load0,
        "load_after": load1,
        "runs": runs,
    }


def check(row: dict[str, Any]) -> list[str]:
    """What is wrong with a size's result (empty: nothing)."""
    problems = []
    if row["minimal_resources"] != row["resources"] - row["components"]:
        problems.append(
            f"n={row['n']}: minimal registered {row['minimal_resources']} resources, meshstack "
            f"{row['resources']} of which {row['components']} its own components"
        )
    if row["minimal_k8s_objects"] != row["k8s_objects"]:
        problems.append(f"n={row['n']}: {row['minimal_k8s_objects']} vs {row['k8s_objects']} Kubernetes objects")
    if row["k8s_objects"] < 6 * row["n"]:
        problems.append(f"n={row['n']}: only {row['k8s_objects']} Kubernetes objects for {row['n']} services")
    if not all(row[k] > 0 for k in ("cpu", "minimal_cpu", "peak_mib", "minimal_peak_mib")):
        problems.append(f"n={row['n']}: a non-positive measurement")
    return problems


def table(sizes: list[int], repeat: int) -> list[dict[str, Any]]:
    rows = []
    for n in sizes:
        row = size(n, repeat)
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "runs"}), flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.eval_bench")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_spec = sub.add_parser("spec")
    p_spec.add_argument("--n", type=int, required=True)
    p_spec.add_argument("--out", type=Path, required=True)
    p_one = sub.add_parser("one")
    p_one.add_argument("--n", type=int, required=True)
    p_one.add_argument("--program", choices=PROGRAMS, required=True)
    p_one.add_argument("--spec", type=Path)
    p_table = sub.add_parser("table")
    p_table.add_argument("--sizes", default="10,100,500")
    p_table.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if args.cmd == "spec":
        args.out.write_text(json.dumps(render_spec(args.n)))
    elif args.cmd == "one":
        print(json.dumps(measure(args.n, args.program, args.spec)))
    else:
        table([int(s) for s in args.sizes.split(",")], args.repeat)


if __name__ == "__main__":
    main()
