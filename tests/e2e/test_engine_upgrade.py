"""State written by the previous engine (pulumi 3.184) on the current one.

``tests/fixtures/engine-3.184`` is a file backend the 3.184 CLI wrote (two updates of a small
stack with a passphrase-encrypted secret output; its history records the CLI's version); it is
in pulumi's project layout, which 3.184 already wrote for new backends. ``engine-3.184-legacy``
is the same stack written with ``PULUMI_DIY_BACKEND_LEGACY_LAYOUT=1``: the layout pulumi 3.275+
refuses, which meshstack reports with what to do.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from meshstack.tools.engine import ROOT, Engine, LegacyStateLayout, bootstrap_env

pytestmark = pytest.mark.e2e

FIXTURES = ROOT / "tests" / "fixtures"
PASSPHRASE = "fixture-passphrase"


def _versions() -> dict[str, str]:
    lines = (ROOT / "scripts" / "versions.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.lstrip().startswith("#"))


def _copy(tmp_path: Path, name: str) -> tuple[Path, dict[str, str]]:
    shutil.copytree(FIXTURES / name / "backend", tmp_path / "backend")
    project = tmp_path / "project"
    project.mkdir()
    for entry in ("__main__.py", "Pulumi.dev.yaml"):
        shutil.copy(FIXTURES / "engine-3.184" / entry if entry == "__main__.py" else FIXTURES / name / entry, project)
    settings = (FIXTURES / "engine-3.184" / "Pulumi.yaml").read_text()
    (project / "Pulumi.yaml").write_text(settings.replace("/work/main/.venv", str(ROOT / ".venv")))
    env = {
        **os.environ,
        **bootstrap_env(),
        "PULUMI_BACKEND_URL": f"file://{tmp_path / 'backend'}",
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "TMPDIR": str(tmp_path),
    }
    return project, env


def _pulumi(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["pulumi", "--non-interactive", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _history(backend: Path) -> list[dict[str, Any]]:
    files = sorted((backend / ".pulumi" / "history").rglob("*.history.json"))
    return [json.loads(f.read_text()) for f in files]


def test_state_the_previous_engine_wrote_reads_and_updates_on_the_current_one(tmp_path: Path) -> None:
    project, env = _copy(tmp_path, "engine-3.184")
    backend = tmp_path / "backend"
    assert [h["environment"]["pulumi.version"] for h in _history(backend)] == ["v3.184.0", "v3.184.0"]
    version = _pulumi(project, env, "version")
    assert version.stdout.strip() == f"v{_versions()['PULUMI_VERSION']}", version
    assert (backend / ".pulumi" / "meta.yaml").read_text().strip() == "version: 1"  # project layout

    listed = _pulumi(project, env, "stack", "ls", "--json")
    assert [s["name"] for s in json.loads(listed.stdout)] == ["dev"], listed
    outputs = _pulumi(project, env, "stack", "output", "--json", "--show-secrets", "--stack", "dev")
    assert json.loads(outputs.stdout) == {
        "release": {"apps": ["reviews", "ratings"], "version": "1.1.0"},
        "token": "s3cr3t-from-3.184",
    }, outputs
    clean = _pulumi(project, env, "preview", "--expect-no-changes", "--stack", "dev")
    assert clean.returncode == 0, clean.stdout + clean.stderr

    assert _pulumi(project, env, "config", "set", "release", "1.2.0", "--stack", "dev").returncode == 0
    up = _pulumi(project, env, "up", "--yes", "--skip-preview", "--stack", "dev")
    assert up.returncode == 0, up.stdout + up.stderr
    outputs = _pulumi(project, env, "stack", "output", "--json", "--show-secrets", "--stack", "dev")
    assert json.loads(outputs.stdout)["release"]["version"] == "1.2.0"
    assert json.loads(outputs.stdout)["token"] == "s3cr3t-from-3.184"  # the old secrets manager still decrypts
    versions = [h["environment"]["pulumi.version"] for h in _history(backend)]
    assert versions == ["v3.184.0", "v3.184.0", f"v{_versions()['PULUMI_VERSION']}"], versions


def test_a_legacy_layout_backend_is_refused_with_what_to_do(tmp_path: Path) -> None:
    _, env = _copy(tmp_path, "engine-3.184-legacy")
    assert not (tmp_path / "backend" / ".pulumi" / "meta.yaml").exists()
    assert (tmp_path / "backend" / ".pulumi" / "stacks" / "dev.json").exists()  # no project directory
    engine = Engine("dev", None, None, tmp_path / "state", on_output=None, backend=env["PULUMI_BACKEND_URL"])
    with pytest.raises(LegacyStateLayout, match=r"legacy layout.*v3\.274\.1 or earlier.*pulumi state upgrade --yes"):
        engine.exists()
