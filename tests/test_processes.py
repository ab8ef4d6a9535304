"""The tests' own job handling (tests/processes.py): bounded waits that fail with the job's stacks."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.processes import Hung, communicate, read_until

# Prints three lines, then waits forever where its stack says so (as a hung job would).
JOB = """
import faulthandler, signal, sys, time
faulthandler.register(signal.SIGUSR1, all_threads=True)
for n in ("one", "two", "three"):
    print(n, flush=True)
def waiting_for_the_api_server():
    time.sleep(3600)
waiting_for_the_api_server()
"""


def job() -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", JOB], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_read_until_stops_at_the_line_and_leaves_the_rest() -> None:
    process = job()
    try:
        assert read_until(process, lambda line: line.startswith("one"), 30, "job") == ["one\n"]
        assert read_until(process, lambda line: line.startswith("three"), 30, "job") == ["two\n", "three\n"]
    finally:
        process.kill()
        process.wait(timeout=30)


def test_a_hung_job_fails_the_wait_with_where_it_waits_and_is_killed() -> None:
    process = job()
    with pytest.raises(Hung) as hung:
        read_until(process, lambda line: "never" in line, 3, "the job")
    assert process.poll() is not None  # killed, not left behind
    message = str(hung.value)
    assert "the job: not within 3s" in message and "one\ntwo\nthree" in message
    assert "waiting_for_the_api_server" in message  # the stack it was asked for


def test_communicate_past_its_deadline_fails_with_the_stacks() -> None:
    process = job()
    with pytest.raises(Hung, match="waiting_for_the_api_server"):
        communicate(process, 3, "the job")
    assert process.poll() is not None


def test_a_job_that_ends_first_is_reported_with_its_output() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", "print('only')"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    with pytest.raises(Hung, match=r"ended first \(exit 0\)"):
        read_until(process, lambda line: "never" in line, 30, "the job")
