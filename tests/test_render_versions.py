"""Renders do not depend on the SDK releases: in a virtualenv with the newest releases the
package's ranges allow (pulumi and protobuf among them: the wire format hands fields back in
another order with each), five renders of each stack in separate processes, each with another
hash seed, are byte-identical to each other and to the render in the pinned virtualenv.

The virtualenv holds what ``pip install meshstack`` resolves today (pip's dry-run resolution of
this checkout), built once per resolved set under ``$MESHSTACK_CACHE/render-venv-<hash>`` and
reused while the resolution is unchanged (about 10 s to resolve, 20 s to build from cached
wheels); meshstack itself is this checkout's code (``PYTHONPATH``). Resolving needs the package
index, as ``pip install`` does.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from meshstack.tools import render
from meshstack.tools.charts import cache_dir
from tests.library import ROOT, new_venv, sh

SEEDS = range(1, 6)


def resolved() -> list[str]:
    """``name==version`` of every distribution ``pip install meshstack`` would install now (meshstack aside)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        sh([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
            "--disable-pip-version-check", "--report", str(report), str(ROOT)])  # fmt: skip
        install = json.loads(report.read_text())["install"]
    return sorted(f"{i['metadata']['name']}=={i['metadata']['version']}" for i in install
                  if i["metadata"]["name"] != "meshstack")  # fmt: skip


@pytest.fixture(scope="module")
def newest() -> tuple[Path, list[str]]:
    """The newest-releases virtualenv's python, and its pins."""
    pins = resolved()
    where = cache_dir() / f"render-venv-{hashlib.sha256(chr(10).join(pins).encode()).hexdigest()[:16]}"
    if not (where / ".complete").exists():  # a virtualenv an interrupted run left half-built is rebuilt
        python = new_venv(where)
        sh([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", *pins])
        (where / ".complete").write_text("\n".join(pins) + "\n")
    return where / "bin" / "python", pins


def _render(python: Path, stack: str, seed: int, out: Path) -> None:
    env = {**os.environ, "PYTHONHASHSEED": str(seed), "PYTHONPATH": str(ROOT)}
    env.pop("VIRTUAL_ENV", None)
    cmd = [str(python), "-m", "meshstack.cli", "render", "--stack", stack, "--out", str(out)]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"{python} render --stack {stack}:\n{done.stderr}"


def test_renders_are_byte_identical_with_the_newest_sdks(newest: tuple[Path, list[str]], tmp_path: Path) -> None:
    python, pins = newest
    names = {re.sub(r"[-_.]+", "-", pin.split("==")[0]).lower() for pin in pins}
    assert {"pulumi", "protobuf", "pulumi-kubernetes"} <= names, pins
    sh(["bash", str(ROOT / "scripts" / "istio_charts.sh"), "--with-helm"])
    jobs = [(Path(sys.executable), stack, 0, tmp_path / f"pinned-{stack}") for stack in ("dev", "prod")]
    jobs += [(python, stack, seed, tmp_path / f"newest-{stack}-{seed}") for stack in ("dev", "prod") for seed in SEEDS]
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda job: _render(*job), jobs))
    for _, stack, seed, out in jobs[2:]:
        for name in render.FILES:
            pinned = (tmp_path / f"pinned-{stack}" / name).read_bytes()
            assert out.joinpath(name).read_bytes() == pinned, (
                f"{stack}: {name} with {', '.join(pins)} (PYTHONHASHSEED={seed}) differs from the pinned virtualenv's"
            )
