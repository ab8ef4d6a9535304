"""A platform team's view of meshstack: a freshly built wheel, and the example project
(examples/platform-team) installed from it into a virtualenv outside the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "platform-team"


def sh(cmd: list[str], cwd: Path | None = None, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` with an environment that cannot see the repository's code."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return done


def build_wheel(out: Path) -> Path:
    """``pip wheel`` of the repository (no dependencies) into ``out``."""
    sh([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)])
    shutil.rmtree(ROOT / "build", ignore_errors=True)
    [wheel] = out.glob("meshstack-*.whl")
    return wheel


def new_venv(path: Path) -> Path:
    """A fresh virtualenv (with pip); returns its python."""
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return path / "bin" / "python"


@dataclass
class TeamProject:
    """A copy of examples/platform-team with its own ``venv`` installed from the wheel."""

    dir: Path
    python: Path
    wheel: Path


def team_project(workdir: Path) -> TeamProject:
    wheel = build_wheel(workdir / "dist")
    project = workdir / "platform-team"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("venv", "__pycache__", ".pytest_cache"))
    python = new_venv(project / "venv")
    sh(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--find-links",
            str(wheel.parent),
            "-r",
            "requirements-dev.txt",
        ],
        cwd=project,
    )
    return TeamProject(project, python, wheel)
