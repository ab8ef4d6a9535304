"""The Pulumi Python SDK's stack trace of each resource registration, made cheap (same result).

pulumi 3.238's ``register_resource`` records where each resource was created: it calls
``traceback.extract_stack()`` (which walks every frame and reads each frame's source line through
``linecache``), then turns every frame above the resource's constructor into a ``file://`` URI
through ``pathlib`` and a new protobuf message. That is work per frame per resource, so a program
pays for the depth of its own code on every object: components, helpers and comprehensions between
the program's entry and the resource. At 300 services it was 2.6 s of a 24 s profile for meshstack
(18 frames a resource) against 1.3 s for the same objects registered flat (12 frames).

:func:`stack_trace` returns the same ``StackTrace`` message: the same frames (those outside the
third ``__init__`` frame from the top, innermost first) and the same source positions, from a
frame walk without source lines, a URI cached per file and a frame message cached per line.
``tests/sdk/test_stack_traces.py`` checks it against the SDK's own function.

meshstack's program installs it (:func:`install`); a program composing meshstack's components may
call :func:`install` itself (``meshstack.stacks.program.tune_runtime``). Touches
``pulumi.runtime.resource._get_stack_trace``; checked against the releases
:data:`meshstack._sdk.CONTRACTS` names; docs/benchmarks.md has the upstream report.
"""

from __future__ import annotations

import pathlib
import sys
from types import FrameType

from pulumi.runtime import resource as _resource
from pulumi.runtime.proto import source_pb2

#: The SDK's own function, kept for the tests' comparison and for :func:`uninstall`.
ORIGINAL = _resource._get_stack_trace

_frames: dict[tuple[str, int | None], source_pb2.StackFrame] = {}


def _uri(filename: str) -> str | None:
    if filename == "":
        return None
    try:
        return pathlib.Path(filename).as_uri()
    except BaseException:  # noqa: BLE001 - the SDK's own rule: a frame without a usable path has no position
        return None


def _frame(code_file: str, line: int | None) -> source_pb2.StackFrame:
    key = (code_file, line)
    cached = _frames.get(key)
    if cached is None:
        uri = _uri(code_file) if line is not None else None
        pc = source_pb2.SourcePosition(uri=uri, line=line) if uri is not None and line is not None else None
        cached = _frames[key] = source_pb2.StackFrame(pc=pc)
    return cached


def stack_trace() -> source_pb2.StackTrace:
    """``pulumi.runtime.resource._get_stack_trace``, cheaply: see the module's docstring."""
    frame: FrameType | None = sys._getframe(1)
    inits = 0
    while frame is not None:
        if frame.f_code.co_name == "__init__":
            inits += 1
            if inits == 3:
                break
        frame = frame.f_back
    if frame is None or frame.f_back is None:  # no third __init__, or nothing above it
        return source_pb2.StackTrace()
    frames = []
    outer: FrameType | None = frame.f_back
    while outer is not None:
        frames.append(_frame(outer.f_code.co_filename, outer.f_lineno))
        outer = outer.f_back
    return source_pb2.StackTrace(frames=frames)


def install() -> None:
    """Use :func:`stack_trace` for every resource this process registers from now on."""
    _resource._get_stack_trace = stack_trace


def uninstall() -> None:
    _resource._get_stack_trace = ORIGINAL
