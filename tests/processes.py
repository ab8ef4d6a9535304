"""Child processes in tests, as a CI runner treats a pipeline's jobs: every wait bounded, a hung job's
stacks kept for the failure message, and a killed job's whole process tree gone."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process below it (from /proc: the engine starts its plugins in process
    groups of their own, so killing the job's group alone leaves them running)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def kill_job(process: subprocess.Popen[str]) -> None:
    """SIGKILL a job and everything it started, all at once (as a CI runner kills a cancelled
    job's process tree), and reap it."""
    for pid in process_tree(process.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=60)


class Hung(AssertionError):
    """A job did not get where the test waited for it in time."""


def _hung(process: subprocess.Popen[str], what: str, seconds: float, seen: str) -> Hung:
    """Ask the job for its Python stacks (the ``meshstack`` command dumps them on SIGUSR1), then kill
    its tree: the failure shows where it waited, with what it printed."""
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGUSR1)
    time.sleep(1)
    kill_job(process)
    err = process.stderr.read() if process.stderr is not None else ""
    return Hung(f"{what}: not within {seconds:.0f}s; stdout so far:\n{seen}\nstderr (stacks last):\n{err[-20000:]}")


def communicate(process: subprocess.Popen[str], seconds: float, what: str) -> tuple[str, str]:
    """``process.communicate`` with a deadline; a job past it fails the test with its stacks."""
    try:
        return process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired as expired:
        out = expired.stdout.decode() if isinstance(expired.stdout, bytes) else (expired.stdout or "")
        raise _hung(process, what, seconds, out) from None


def read_until(process: subprocess.Popen[str], done: Callable[[str], bool], seconds: float, what: str) -> list[str]:
    """The job's stdout lines up to the first one ``done`` accepts (included), within ``seconds``.
    The rest of its output stays readable (``communicate``)."""
    assert process.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:  # stops right after the line asked for: nothing past it is consumed
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
            if done(line):
                return
        lines.put(None)  # end of output

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            raise Hung(f"{what}: the job ended first (exit {process.wait(timeout=60)}); stdout:\n{''.join(seen)}")
        seen.append(line)
        if done(line):
            return seen
    raise _hung(process, what, seconds, "".join(seen))
