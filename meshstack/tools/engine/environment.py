"""The engine's process environment: the tools bootstrap built, a private temp dir, private files.

* :func:`bootstrap_env` — PATH with the built CLI and plugins first, its PULUMI_HOME, no plugin
  downloads, no ambient plugins (``scripts/bootstrap.sh --print-env``), asked once a process;
* :func:`scratch_dir` — this process's private ``$TMPDIR`` for the engine and its plugins;
* :func:`private_files` / :func:`lock_down` — state, backups and history private (0600/0700);
* :func:`overlay` — an environment laid over ``os.environ`` and restored (an inline program runs
  with the engine's environment);
* :func:`git_commit`, :func:`pid_alive` — the commit this checkout runs, whether a pid lives.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

from meshstack.tools.engine.settings import KEEP_DEBUG_LOG_ENV, ROOT


def _bootstrap_env() -> dict[str, str]:
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "bootstrap.sh"), "--print-env"], check=True, capture_output=True, text=True
    )
    env: dict[str, str] = {}
    for line in out.stdout.splitlines():
        if not line.startswith("export ") or "=" not in line:
            continue
        key, value = line[len("export ") :].split("=", 1)
        value = value.strip().strip('"')
        env[key] = value.replace("$PATH", os.environ.get("PATH", ""))
    return env


@functools.cache
def bootstrap_env() -> dict[str, str]:
    """The engine's environment from ``scripts/bootstrap.sh --print-env``, asked once per process
    (the rollout runner updates many times). Callers copy it before changing it."""
    return _bootstrap_env()


@functools.cache
def git_commit() -> str | None:
    """The commit of this checkout (recorded with each update's release, docs/cd.md), if it is one."""
    try:
        done = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=False
        )
    except OSError:
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and commit else None


@contextlib.contextmanager
def private_files() -> Iterator[None]:
    """Files the engine writes meanwhile (checkpoints, backups, history) are 0600, directories 0700."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def lock_down(directory: Path) -> None:
    """Make state written before (or by anyone else) private too."""
    for path in [directory, *directory.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o700 if path.is_dir() else 0o600)


def pid_alive(pid: int) -> bool:
    """A process of that pid runs on this host (perhaps another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def scratch_dir(state: Path) -> Path:
    """This process's private temp dir for the engine and its plugins (``$TMPDIR``), removed at exit.

    pulumi-kubernetes writes a copy of its kubeconfig (client key included) to the temp dir each
    time a provider is configured, for Helm, and never removes it: one file per provider per
    operation, which piled up by the thousand in ``/tmp``. Here they go to ``<state>/tmp/<pid>``
    (0700); a killed run's directory is removed by the next run on the host."""
    root = state / "tmp"
    mine = root / str(os.getpid())
    if mine.is_dir():
        return mine
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    for other in root.iterdir():
        if other.name.isdigit() and not pid_alive(int(other.name)):
            shutil.rmtree(other, ignore_errors=True)
    mine.mkdir(mode=0o700, exist_ok=True)
    atexit.register(shutil.rmtree, mine, True)
    return mine


def quiet_debug_log(pulumi_home: Path) -> None:
    """Turn off the CLI's automatic debug log in ``pulumi_home`` (unless ``$MESHSTACK_PULUMI_DEBUG_LOG``).

    Since 3.249 every pulumi command writes a debug-level log of everything it does, compressed or
    encrypted, to ``$PULUMI_HOME/logs`` (about 2.5 MB per operation on a 100-service stack), and the
    CLI has no setting to turn it off; formatting it was 0.7 s of a no-op preview there. The CLI skips
    it when it cannot create that directory: a file stands in its place, saying why. meshstack
    keeps its own record of each operation (the engine's output)."""
    if os.environ.get(KEEP_DEBUG_LOG_ENV):
        return
    logs = pulumi_home / "logs"
    if logs.is_file():
        return
    if logs.is_dir():
        shutil.rmtree(logs, ignore_errors=True)
    pulumi_home.mkdir(parents=True, exist_ok=True)
    logs.write_text(
        f"meshstack keeps the pulumi CLI's automatic debug log off (docs/engine.md); set {KEEP_DEBUG_LOG_ENV}=1 "
        "and remove this file to keep it.\n"
    )


@contextlib.contextmanager
def overlay(env: Mapping[str, str]) -> Iterator[None]:
    """``env`` over ``os.environ`` while open; every key restored (or removed) after. Only the keys
    it sets are touched (``unittest.mock.patch.dict`` would clear and refill the whole environment
    under other threads)."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
