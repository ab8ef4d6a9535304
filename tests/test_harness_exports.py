"""meshstack.testing.run reads a program's exports as ``Output.from_input(v).future()`` would:
nested Outputs resolved, a secret's value, and None for an export with anything unknown in it."""

from __future__ import annotations

import asyncio
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from meshstack.testing import run


def unknown() -> pulumi.Output[Any]:
    """An Output the engine has no value for yet (as a new resource's id in a real preview)."""
    loop = asyncio.get_event_loop()
    value, known = loop.create_future(), loop.create_future()
    value.set_result(None)
    known.set_result(False)
    return pulumi.Output(set(), value, known)


def program() -> None:
    ns = k8s.core.v1.Namespace("ns", metadata={"name": "shop"})
    name = ns.metadata.apply(lambda m: m["name"] if m else None)
    pulumi.export("plain", {"a": [1, "two", (3, 4)], "b": None})
    pulumi.export("nested", {"ns": name, "list": [name, {"deeper": pulumi.Output.from_input("x")}]})
    pulumi.export("secret", {"password": pulumi.Output.secret("s3cret")})
    pulumi.export("unknown_inside", {"id": unknown(), "name": name})


def expected(*, preview: bool) -> dict[str, Any]:
    """What the harness gave before: the SDK's own deep unwrapping."""
    outputs: dict[str, Any] = {}

    def capture() -> None:
        program()
        root = pulumi.runtime.get_root_resource()
        for key, value in (getattr(root, "outputs", None) or {}).items():
            pulumi.Output.from_input(value).apply(lambda v, k=key: outputs.__setitem__(k, v))

    run(capture, preview=preview)
    return outputs


def test_exports_resolve_deeply() -> None:
    rec = run(program)
    assert rec.outputs["plain"] == {"a": [1, "two", (3, 4)], "b": None}
    assert rec.outputs["nested"] == {"ns": "shop", "list": ["shop", {"deeper": "x"}]}
    assert rec.outputs["secret"] == {"password": "s3cret"}


def test_an_export_with_an_unknown_in_it_is_none_as_from_input_gives() -> None:
    rec = run(program)
    assert rec.outputs["unknown_inside"] is None
    seen = expected(preview=False)  # from_input's apply does not run on an unknown value
    assert {k: rec.outputs[k] for k in seen} == seen and "unknown_inside" not in seen
