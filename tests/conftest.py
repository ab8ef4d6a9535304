"""Shared fixtures: one mock-runtime evaluation of each committed stack per test session."""

from __future__ import annotations

import pytest

from tests.harness import Recording, run_stack
from tests.library import TeamProject, team_project


@pytest.fixture(scope="session")
def dev() -> Recording:
    return run_stack("dev")


@pytest.fixture(scope="session")
def prod() -> Recording:
    return run_stack("prod")


@pytest.fixture(scope="session")
def team(tmp_path_factory: pytest.TempPathFactory) -> TeamProject:
    """examples/platform-team installed from a freshly built wheel, outside the repository."""
    return team_project(tmp_path_factory.mktemp("team"))
