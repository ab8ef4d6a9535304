"""The benchmark's smallest case works (`python -m benchmarks --smoke`, what `make test` runs).

Structure only: no timing is asserted here or anywhere else (docs/benchmarks.md holds the figures).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import eval_bench, report
from benchmarks.generate import stack_config

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def smoke() -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return done, json.loads(lines[-1]) if lines else {}


def test_the_smoke_run_succeeds(smoke: tuple[subprocess.CompletedProcess[str], dict[str, Any]]) -> None:
    done, row = smoke
    assert done.returncode == 0, done.stderr
    assert "benchmark smoke: ok" in done.stdout
    assert row["n"] == 10 and row["repeat"] == 1


def test_both_programs_register_the_same_objects(
    smoke: tuple[subprocess.CompletedProcess[str], dict[str, Any]],
) -> None:
    _, row = smoke
    # The minimal program registers what meshstack registers, minus meshstack's own components.
    assert row["minimal_resources"] == row["resources"] - row["components"]
    assert row["minimal_k8s_objects"] == row["k8s_objects"]
    # 6 objects per generated service (ServiceAccount, Service, 2 Deployments, DR, VS) + the dev stack's.
    assert row["k8s_objects"] >= 6 * 10
    assert row["components"] >= 10  # a MeshApp per generated service
    assert eval_bench.check(row) == []


def test_the_smoke_run_measures_something(smoke: tuple[subprocess.CompletedProcess[str], dict[str, Any]]) -> None:
    _, row = smoke
    for key in ("cpu", "minimal_cpu", "wall", "minimal_wall", "peak_mib", "minimal_peak_mib"):
        assert row[key] > 0, key


def test_the_smoke_run_writes_no_files(smoke: tuple[subprocess.CompletedProcess[str], dict[str, Any]]) -> None:
    done, _ = smoke
    assert "wrote" not in done.stdout


def test_generated_stacks_grow_by_one_app_per_service() -> None:
    small, big = stack_config(1), stack_config(5)
    assert len(big["meshstack:apps"]["services"]) - len(small["meshstack:apps"]["services"]) == 4


def test_the_report_renders_from_results_without_measuring(tmp_path: Path) -> None:
    row = {
        "n": 10,
        "repeat": 1,
        "resources": 146,
        "components": 20,
        "k8s_objects": 119,
        "minimal_resources": 126,
        "minimal_k8s_objects": 119,
        "cpu": 0.4,
        "minimal_cpu": 0.3,
        "ratio": 4 / 3,
        "wall": 0.4,
        "minimal_wall": 0.3,
        "process_s": 1.2,
        "minimal_process_s": 1.1,
        "peak_mib": 97.0,
        "minimal_peak_mib": 98.0,
        "us_per_resource": 2740.0,
        "load_before": 0.5,
        "load_after": 0.6,
    }
    meta = {
        "date": "today",
        "commit": None,
        "python": "3.11",
        "pulumi_sdk": "3.238.0",
        "pulumi_kubernetes": "4",
        "cpus": 2,
        "load_1min": 0.5,
    }
    (tmp_path / "eval-n10.json").write_text(json.dumps({"kind": "eval", "machine": meta, "note": None, "result": row}))
    results = report.load(tmp_path)
    doc, png = report.write(results, tmp_path / "b.md", tmp_path / "b.png")
    text = doc.read_text()
    assert "| 10 | 146 / 126 | 119 |" in text
    assert "Not measured in this run" in text  # no engine results
    assert "SETTINGS.outputs" in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
