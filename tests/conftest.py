"""Shared fixtures: one mock-runtime evaluation of each committed stack per test session."""

from __future__ import annotations

import pytest

from tests.harness import Recording, run_stack


@pytest.fixture(scope="session")
def dev() -> Recording:
    return run_stack("dev")


@pytest.fixture(scope="session")
def prod() -> Recording:
    return run_stack("prod")
