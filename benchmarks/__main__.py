"""``make bench``: the N-service benchmarks, their results and docs/benchmarks.md.

    python -m benchmarks                          eval N=10,100,500 (×3), engine N=10,100, then the doc
    python -m benchmarks --sizes 10,100,500,1000  (or BENCH_SIZES=…): N=1000 is opt-in
    python -m benchmarks --engine-sizes ''        no real-engine runs
    python -m benchmarks --report-only            rewrite docs/benchmarks.md(.png) from benchmarks/results
    python -m benchmarks --smoke                  N=10 eval, one run, checks only, no files written
                                                  (what `make test` runs; non-zero exit on any failure)

Each size's result is kept in ``benchmarks/results/{eval,engine}-n<N>.json`` (replaced when that
size is measured again), so the doc can be regenerated without rerunning everything. Nothing here
asserts a timing: the checks are about structure (both programs registered the same objects, …).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import eval_bench, report

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_SIZES = "10,100,500"
DEFAULT_ENGINE_SIZES = "10,100"


def _sizes(text: str) -> list[int]:
    return [int(s) for s in text.replace(" ", "").split(",") if s]


def machine() -> dict[str, Any]:
    import pulumi  # noqa: PLC0415
    import pulumi_kubernetes  # noqa: PLC0415

    from meshstack.tools.engine import git_commit  # noqa: PLC0415

    def version(module: Any) -> str:
        from importlib.metadata import version as v  # noqa: PLC0415

        try:
            return v(module.__name__.replace("_", "-"))
        except Exception:  # noqa: BLE001 - a label only
            return "?"

    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "commit": git_commit(),
        "python": platform.python_version(),
        "pulumi_sdk": version(pulumi),
        "pulumi_kubernetes": version(pulumi_kubernetes),
        "cpus": os.cpu_count(),
        "load_1min": os.getloadavg()[0],
    }


def save(kind: str, row: dict[str, Any], meta: dict[str, Any], note: str | None) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{kind}-n{row['n']}.json"
    path.write_text(json.dumps({"kind": kind, "machine": meta, "note": note, "result": row}, indent=1) + "\n")
    return path


def smoke() -> int:
    t0 = time.perf_counter()
    try:
        row = eval_bench.size(10, 1)
    except Exception as err:  # noqa: BLE001 - reported, and the exit code says it
        print(f"benchmark smoke: FAILED: {err}", file=sys.stderr)
        return 1
    print(report.eval_table([row]))
    problems = eval_bench.check(row)
    try:  # the doc renders from such a result (in memory: the smoke run writes nothing)
        doc = report.render({"eval": [{"kind": "eval", "machine": machine(), "note": None, "result": row}]})
        if f"| 10 | {row['resources']} / {row['minimal_resources']} |" not in doc:
            problems.append("the report does not show the N=10 row")
    except Exception as err:  # noqa: BLE001 - reported, and the exit code says it
        problems.append(f"the report does not render: {err!r}")
    for p in problems:
        print(f"benchmark smoke: {p}", file=sys.stderr)
    print(json.dumps({k: v for k, v in row.items() if k != "runs"}))
    print(f"benchmark smoke: {'FAILED' if problems else 'ok'} in {time.perf_counter() - t0:.1f} s")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", DEFAULT_SIZES), help="eval sizes N")
    parser.add_argument(
        "--engine-sizes",
        default=os.environ.get("BENCH_ENGINE_SIZES", DEFAULT_ENGINE_SIZES),
        help="real-engine sizes N ('' for none)",
    )
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", "3")))
    parser.add_argument("--smoke", action="store_true", help="N=10 eval once, checks only, nothing written")
    parser.add_argument("--report-only", action="store_true", help="only rewrite the doc from benchmarks/results")
    parser.add_argument("--no-report", action="store_true", help="measure and keep results, leave the doc")
    parser.add_argument("--note", help="recorded with each result (e.g. 'machine loaded by other jobs')")
    args = parser.parse_args(argv)
    if args.smoke:
        return smoke()
    failed = False
    if not args.report_only:
        meta = machine()
        for n in _sizes(args.sizes):
            print(f"eval n={n} (×{args.repeat}) …", flush=True)
            row = eval_bench.size(n, args.repeat, log=print)
            for p in eval_bench.check(row):
                print(f"problem: {p}", file=sys.stderr)
                failed = True
            print(f"  → {save('eval', row, {**meta, 'load_1min': os.getloadavg()[0]}, args.note)}", flush=True)
        engine_sizes = _sizes(args.engine_sizes)
        if engine_sizes:
            from benchmarks import engine_bench  # noqa: PLC0415 - needs the engine only when asked

            for n in engine_sizes:
                print(f"engine n={n} …", flush=True)
                try:
                    row = engine_bench.measure(n)
                except Exception as err:  # noqa: BLE001 - the other sizes still run
                    print(f"problem: engine n={n}: {err}", file=sys.stderr)
                    failed = True
                    continue
                print(f"  → {save('engine', row, {**meta, 'load_1min': os.getloadavg()[0]}, args.note)}", flush=True)
    results = report.load(RESULTS)
    print(report.text_tables(results))
    if not args.no_report:
        doc, png = report.write(results)
        print(f"wrote {doc} and {png}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
