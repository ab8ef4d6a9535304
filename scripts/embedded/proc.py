"""Processes of a cluster: started in a session of their own, recorded by pid *and* start time (so
a reused pid is never mistaken for ours), stopped with SIGTERM, then SIGKILL."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


class ClusterError(RuntimeError):
    pass


def run(cmd: list[str], *, check: bool = True, timeout: float = 120, **kw: Any) -> subprocess.CompletedProcess[str]:
    """Run a command to completion (bounded); a failure is a :class:`ClusterError` with its stderr."""
    res = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout, **kw)
    if check and res.returncode != 0:
        raise ClusterError(f"command failed ({res.returncode}): {' '.join(cmd)}\n{res.stderr.strip()}")
    return res


def starttime(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])  # field 22, counted after the command name


def alive(pid: int, start: int | None) -> bool:
    st = starttime(pid)
    if st is None or (start is not None and st != start):
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def spawn(log: Path, argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Start ``argv`` in its own session, output to ``log``; returns its record (pid, start, argv)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        p = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=str(cwd),
            env=env,
            start_new_session=True,
            close_fds=True,
        )
    return {"pid": p.pid, "starttime": starttime(p.pid), "argv": argv}


def stop(record: dict[str, Any], grace: float = 15.0) -> bool:
    """Stop a recorded process; True when it was running."""
    pid, start = record["pid"], record.get("starttime")
    if not alive(pid, start):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and alive(pid, start):
        time.sleep(0.1)
    if alive(pid, start):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and starttime(pid) == start:
        time.sleep(0.1)  # gone once init reaps it
    return True


def pids_naming(marker: str, exclude: set[int] | None = None) -> list[int]:
    """Processes whose command line mentions ``marker`` (a cluster's directory): leftovers of a
    crashed start are found by it."""
    out = []
    skip = {os.getpid(), *(exclude or set())}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in skip:
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0] and any(marker.encode() in a for a in argv):
            out.append(int(entry.name))
    return out


def wait_until(
    what: str,
    check: Callable[[], bool],
    timeout: float,
    *,
    interval: float = 0.5,
    on_fail: Callable[[], str] | None = None,
    alive_check: Callable[[], None] | None = None,
) -> None:
    """Poll ``check`` until it is true (bounded by ``timeout``); ``alive_check`` raises when a
    component died meanwhile."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if alive_check is not None:
            alive_check()
        try:
            if check():
                return
        except Exception as err:  # noqa: BLE001 - reported on timeout
            last = f"{type(err).__name__}: {err}"
        time.sleep(interval)
    raise ClusterError(
        f"timed out after {timeout:.0f}s waiting for {what}"
        + (f" (last error: {last})" if last else "")
        + (on_fail() if on_fail else "")
    )


def log_tail(log: Path, n: int = 25) -> str:
    try:
        lines = log.read_text(errors="replace").splitlines()[-n:]
    except OSError:
        return ""
    return f"\n--- last {len(lines)} lines of {log} ---\n" + "\n".join(lines)
