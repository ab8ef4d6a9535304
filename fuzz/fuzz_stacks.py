"""Fuzz whole stack files: N mutations of Pulumi.dev.yaml / Pulumi.prod.yaml through the program's
own stack-file path, and every accepted one through the real validators.

Usage: ``PYTHONPATH=. .venv/bin/python fuzz/fuzz_stacks.py N [--seed S] [--kubeconfig K]``.

Each example changes one thing in a stack file (a host, a duration, a retryOn value, a label, a
port, the chart repository, a name; a duplicate server port; 900 or 3000 levels of nesting; a YAML
syntax or structure error, a non-string key, a duplicate key — ``tests/properties/stack_strategies.py``),
writes it as ``Pulumi.<stack>.yaml`` into a temporary project directory and runs the program under
Pulumi's mocks (``meshstack.testing.run_stack_file`` → ``stack_config`` → ``load_stack_spec``).
Outcomes: accepted; rejected (a ConfigError / RunError naming a path in every problem); crashed
(anything else). Accepted examples are rendered and checked by ``istioctl validate`` and
``istioctl analyze`` (and, with ``--kubeconfig``, the API server's server-side dry-run; the Istio and
Gateway API CRDs are installed into that cluster first). Prints the counts, then every crash class
and accepted-but-rejected class with its first example; exits 1 when there is any. Not part of the
default test run (``tests/properties/test_stack_fuzz.py`` runs a small version).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.properties.stack_strategies import Mutation, Outcome, Result, fuzz
from tests.validators import install_crds, tool


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("examples", type=int, help="number of mutated stack files")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis seed (default 0): same seed, same examples")
    parser.add_argument("--kubeconfig", type=Path, help="also run the API server's dry-run against this cluster")
    parser.add_argument("--no-validate", action="store_true", help="classify only; skip istioctl")
    parser.add_argument("-v", "--verbose", action="store_true", help="print one line per example")
    args = parser.parse_args(argv)

    if args.kubeconfig is not None:
        crds = install_crds(args.kubeconfig, tool("kubectl"))
        print(f"installed {len(crds)} CRDs into {args.kubeconfig}", flush=True)

    done = 0
    start = time.monotonic()

    def progress(mutation: Mutation, result: Result) -> None:
        nonlocal done
        done += 1
        if args.verbose:
            print(f"{done:5d} {result.outcome.value:8s} {mutation}"[:240], flush=True)
        elif done % 50 == 0:
            print(f"... {done} examples, {time.monotonic() - start:.0f}s", file=sys.stderr, flush=True)
        if result.outcome is Outcome.CRASHED and args.verbose:
            print(f"      {result.crash_class}: {result.detail[:300]}", flush=True)

    tally = fuzz(args.examples, args.seed, args.kubeconfig, validate=not args.no_validate, on_example=progress)
    print(tally.report())
    print(f"\nseed={args.seed} seconds={time.monotonic() - start:.0f}")
    return 1 if tally.crashes or tally.accepted_rejected else 0


if __name__ == "__main__":
    raise SystemExit(main())
