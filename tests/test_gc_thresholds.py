"""meshstack's program sets the cyclic collector for a graph that only grows (meshstack.stacks.gc_thresholds):
far fewer collections during an evaluation, and only in the program's own process."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks.generate import stack_config
from meshstack.stacks import gc_thresholds
from meshstack.stacks.program import main
from meshstack.testing import run


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """The generation of each collection that starts while the fixture is active."""
    seen: list[int] = []

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(count)
    try:
        yield seen
    finally:
        gc.callbacks.remove(count)


def evaluate(program: Any) -> None:
    """The benchmark's stack of 20 generic services (benchmarks/generate.py)."""
    run(program, config=stack_config(20), stack="bench")


def test_install_sets_the_thresholds_and_returns_the_previous_ones() -> None:
    before = gc.get_threshold()
    try:
        assert gc_thresholds.install() == before
        assert gc.get_threshold() == gc_thresholds.THRESHOLDS
    finally:
        gc.set_threshold(*before)


def test_the_program_collects_far_less_often(collections: list[int]) -> None:
    default = (700, 10, 10)
    before = gc.get_threshold()
    gc.set_threshold(*default)
    try:
        seen: list[tuple[int, int, int]] = []

        def defaults_kept() -> None:
            main()
            gc.set_threshold(*default)  # undo the program's setting: the SDK's default behaviour
            seen.append(gc.get_threshold())

        evaluate(defaults_kept)  # warm: imports, caches
        collections.clear()
        evaluate(defaults_kept)
        with_defaults = len(collections)

        def as_shipped() -> None:
            main()
            seen.append(gc.get_threshold())

        collections.clear()
        evaluate(as_shipped)
        tuned = len(collections)
        # The program's setting is the program's: the harness (the caller's process) keeps its own.
        assert gc.get_threshold() == default
    finally:
        gc.set_threshold(*before)
    assert seen[-1] == gc_thresholds.THRESHOLDS
    assert with_defaults > 50, with_defaults
    assert tuned * 10 < with_defaults, (tuned, with_defaults)
