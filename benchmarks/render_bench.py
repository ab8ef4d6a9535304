"""Benchmark: how long and how much memory evaluating each stack under mocks takes.

    python -m benchmarks.render_bench [--repeat N]

Prints, per stack: resources registered, Kubernetes objects, wall-clock per evaluation (min and
median of N runs) and the peak Python heap (tracemalloc) of one evaluation. This is the cost of
`make render`, of every mock-runtime test, and a lower bound for a `pulumi preview`'s program time.
Targets (checked by reading the numbers, not by a timed test): < 2 s and < 200 MiB per stack.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from pathlib import Path

from meshstack.stacks.program import main as program
from meshstack.testing import known_stacks, run_stack_file

ROOT = Path(__file__).resolve().parent.parent


def run_program(stack: str):  # type: ignore[no-untyped-def]
    return run_stack_file(stack, ROOT, program)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    run_program("dev")  # warm imports so the first stack is not charged for them
    print(f"{'stack':8} {'resources':>9} {'k8s objs':>8} {'min s':>7} {'median s':>8} {'peak MiB':>8}")
    for stack in sorted(known_stacks(ROOT)):
        times = []
        rec = None
        for _ in range(args.repeat):
            start = time.perf_counter()
            rec = run_program(stack)
            times.append(time.perf_counter() - start)
        tracemalloc.start()
        run_program(stack)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert rec is not None
        print(
            f"{stack:8} {len(rec.resources):9d} {len(rec.kubernetes_objects):8d} "
            f"{min(times):7.3f} {statistics.median(times):8.3f} {peak / 2**20:8.1f}"
        )


if __name__ == "__main__":
    main()
