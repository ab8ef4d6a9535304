"""meshstack._sdk.inline_program: the Automation API's language server, served for one CLI command."""

from __future__ import annotations

import grpc
import pytest
from pulumi.runtime.proto import language_pb2, language_pb2_grpc

from meshstack._sdk import inline_program


def test_an_inline_program_is_served_on_loopback_only_while_open() -> None:
    with inline_program.served(lambda: None) as args:
        client, kind = args[0], args[1:]
        assert kind == ["--exec-kind", "auto.inline"]
        host, _, port = client.removeprefix("--client=").rpartition(":")
        assert host == "127.0.0.1"
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        # The engine asks this process for the program's packages: no `pip list` of the virtualenv.
        answer = language_pb2_grpc.LanguageRuntimeStub(channel).GetRequiredPackages(
            language_pb2.GetRequiredPackagesRequest(), timeout=10
        )
        assert list(answer.packages) == []
        channel.close()
    with pytest.raises(grpc.FutureTimeoutError):  # stopped with the command
        grpc.channel_ready_future(grpc.insecure_channel(f"127.0.0.1:{port}")).result(timeout=1)
