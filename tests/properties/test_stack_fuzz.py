"""Whole stack files, mutated one thing at a time, either are rejected with a path for every problem
or render objects that istioctl validate and istioctl analyze accept (no cluster in this tier;
fuzz/fuzz_stacks.py runs the same with more examples and, with --kubeconfig, the API server's
dry-run; tests/e2e/test_real_validators.py runs a sample against the API server).

A missing istioctl is a failure, never a skip."""

from __future__ import annotations

import time
from pathlib import Path

from tests.properties.stack_strategies import BASE_TEXT, Mutation, Outcome, Validators, fuzz, run_mutation

#: Examples per run: about 0.1 s per rejected and 0.5 s per accepted example (~35 s in all).
EXAMPLES = 300
SEED = 20251121


def test_committed_stack_files_are_accepted_and_clean(tmp_path: Path) -> None:
    """The unmutated files are the baseline every mutation starts from."""
    validators = Validators()
    for stack, text in BASE_TEXT.items():
        result = run_mutation(Mutation(stack, "none", "unchanged", text), tmp_path)
        assert result.outcome is Outcome.ACCEPTED, result.detail
        verdict = validators.check(result.manifests)
        assert verdict.rejections == {} and verdict.warnings == [], (stack, verdict)


def test_mutated_stack_files_never_crash_and_never_pass_what_istioctl_rejects() -> None:
    start = time.monotonic()
    tally = fuzz(EXAMPLES, seed=SEED)
    report = tally.report()
    print(f"\n{report}\nseconds={time.monotonic() - start:.0f}")
    assert tally.examples >= EXAMPLES * 0.9, report
    assert tally.outcomes["accepted"] > 0 and tally.outcomes["rejected"] > 0, report
    assert not tally.crashes and not tally.accepted_rejected, report
