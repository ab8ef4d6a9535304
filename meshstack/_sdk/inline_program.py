"""Serve a program to the pulumi CLI from this process: an *inline program*.

The Automation API's ``Stack.up(program=…)`` does this with its own language server; it also
selects the stack and reads its history and outputs back afterwards, which a rollout step needs
neither of (about two seconds of a step on a 100-service stack, docs/benchmarks.md). The server
it uses, ``pulumi.automation._server.LanguageServer``, and its gRPC channel options are private;
:func:`served` runs them for one CLI command. :data:`meshstack._sdk.CONTRACTS` records the checked
releases and the upstream report.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from concurrent import futures

import grpc
from pulumi.automation._server import LanguageServer
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import language_pb2_grpc


@contextlib.contextmanager
def served(program: Callable[[], None]) -> Iterator[list[str]]:
    """While open, ``program`` is served on 127.0.0.1 (a port the OS picks); yields the CLI
    arguments that point the engine at it (``--client=… --exec-kind auto.inline``)."""
    with futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="inline-program") as workers:
        server = grpc.server(workers, options=_GRPC_CHANNEL_OPTIONS)
        language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageServer(program), server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        try:
            yield [f"--client=127.0.0.1:{port}", "--exec-kind", "auto.inline"]
        finally:
            server.stop(0).wait(10)
