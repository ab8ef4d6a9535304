"""meshstack._sdk.stack_traces: the SDK's per-resource stack trace, cheaper and the same message."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime.proto import source_pb2

from meshstack._sdk import stack_traces
from tests.harness import run_stack


def both() -> tuple[source_pb2.StackTrace, source_pb2.StackTrace]:
    """The SDK's trace and ours, taken from the same frame."""
    return stack_traces.ORIGINAL(), stack_traces.stack_trace()


class Base:  # Resource.__init__
    def __init__(self) -> None:
        self.traces = both()


class Middle(Base):  # CustomResource.__init__
    def __init__(self) -> None:
        super().__init__()


class Concrete(Middle):  # e.g. Deployment.__init__
    def __init__(self) -> None:
        super().__init__()


def component_helper() -> Concrete:
    return next(Concrete() for _ in range(1))  # a generator: a frame of its own


def test_the_same_frames_and_positions_as_the_sdk() -> None:
    ours, sdk = (t.SerializeToString() for t in component_helper().traces)
    assert ours == sdk
    trace = component_helper().traces[1]
    # Innermost first: the generator, then the helper, then this test.
    assert trace.frames[0].pc.uri.endswith("/tests/sdk/test_stack_traces.py")
    assert trace.frames[0].pc.line == component_helper.__code__.co_firstlineno + 1
    assert len(trace.frames) > 3


def test_fewer_than_three_inits_give_an_empty_trace_as_in_the_sdk() -> None:
    sdk, ours = Middle().traces
    assert sdk == ours == source_pb2.StackTrace()


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[bytes, bytes]]]:
    """Every registration's trace, from the SDK's function and ours (the program's own install off)."""
    pairs: list[tuple[bytes, bytes]] = []

    def spy() -> source_pb2.StackTrace:
        sdk, ours = stack_traces.ORIGINAL(), stack_traces.stack_trace()
        pairs.append((sdk.SerializeToString(), ours.SerializeToString()))
        return sdk

    monkeypatch.setattr(stack_traces, "install", lambda: None)
    monkeypatch.setattr(sdk_resource, "_get_stack_trace", spy)
    yield pairs


def test_every_resource_of_the_dev_stack_gets_the_sdks_trace(compared: list[tuple[bytes, bytes]]) -> None:
    rec = run_stack("dev")
    assert len(compared) == len(rec.resources) + 1 > 50  # and the stack's own resource
    assert all(sdk == ours for sdk, ours in compared)
    assert sum(1 for sdk, _ in compared if sdk) > 50  # not all empty


def test_the_program_installs_it() -> None:
    try:
        run_stack("dev")
        assert sdk_resource._get_stack_trace is stack_traces.stack_trace
    finally:
        stack_traces.uninstall()
    assert sdk_resource._get_stack_trace is stack_traces.ORIGINAL
