"""Run a Pulumi program under the SDK's mock runtime and keep everything the engine would see.

``pulumi.runtime.set_mocks`` and ``@pulumi.runtime.test`` (public) run a program against mocks,
but keep nothing of a registration beyond what the mock provider answers, and expect one program
per process. The offline render and the tests need each resource as the engine would receive it:
inputs with secrets still marked, parent, dependencies, provider, options, transforms; and they
evaluate many programs in one process. So :func:`evaluate` drives the SDK's own mock monitor
(``pulumi.runtime.mocks.MockMonitor``), subclassed to record each request, resets the runtime's
per-program settings (``SETTINGS``) itself, loads the monitor's feature support as the real
runtime does, and runs the program with the SDK's ``run_pulumi_func``.
:data:`meshstack._sdk.CONTRACTS` records the checked releases.

Nothing here knows meshstack: a recording is plain data (:class:`Registered`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from inspect import isawaitable
from typing import Any

import pulumi
from pulumi import _types
from pulumi.runtime import mocks as _mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import callback_pb2, provider_pb2
from pulumi.runtime.settings import SETTINGS, _load_monitor_feature_support
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await


@dataclass
class Registered:
    """One resource the program registered, as the engine would have seen it."""

    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    custom: bool
    parent: str | None
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    provider: str | None
    protect: bool
    retain_on_delete: bool
    ignore_changes: list[str]
    delete_before_replace: bool
    state: dict[str, Any] = field(default_factory=dict)
    #: Resource transforms registered on this resource (mocks never run them; tests can).
    transforms: list[Callable[..., Any]] = field(default_factory=list)


@dataclass
class Evaluation:
    """What one run registered and exported."""

    registered: list[Registered]
    #: The stack's outputs, resolved (None where a value is unknown; secrets in the clear).
    outputs: dict[str, Any]
    #: The outputs exported as secrets.
    secret_outputs: frozenset[str]
    #: What the program logged as warnings (``pulumi.log.warn``), in order: what ``pulumi up`` would show.
    warnings: list[str] = field(default_factory=list)


# --- the wire format's secrets -------------------------------------------------------------------


def is_secret(value: Any) -> bool:
    """A value as the engine receives it, marked secret."""
    return bool(rpc.is_rpc_secret(value))


def unwrap_secret(value: Any) -> Any:
    return rpc.unwrap_rpc_secret(value)


def wrap_secret(value: Any) -> Any:
    """``value`` marked secret, as the engine would hand it back (a recorded secret output)."""
    return rpc.wrap_rpc_secret(value)


# --- the recording monitor ------------------------------------------------------------------------


class _Callbacks:
    """Stands in for the SDK's gRPC callback server, which needs a real engine: it hands out
    tokens for resource transforms and keeps the functions, so a recording can show (and a test
    can run) the transforms a resource was registered with."""

    def __init__(self) -> None:
        self.transforms: dict[str, Callable[..., Any]] = {}

    def register_transform(self, transform: Callable[..., Any]) -> Any:
        token = f"transform-{len(self.transforms)}"
        self.transforms[token] = transform
        return callback_pb2.Callback(token=token, target="meshstack-mock")


class _RecordingMonitor(_mocks.MockMonitor):
    """The mock monitor, also keeping what the real engine would use: parents, dependencies,
    options. Inputs are kept with secrets still wrapped so a renderer can redact them."""

    def __init__(
        self, mocks: pulumi.runtime.Mocks, callbacks: _Callbacks, previous_outputs: Mapping[str, Any] | None
    ) -> None:
        super().__init__(mocks)
        self.callbacks = callbacks
        self.previous_outputs = dict(previous_outputs or {})
        self.registered: list[Registered] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == "pulumi:pulumi:Stack":
            return response
        urn = self.make_urn(request.parent, request.type, request.name)
        self.registered.append(
            Registered(
                urn=urn,
                type=request.type,
                name=request.name,
                inputs=rpc.deserialize_properties(request.object),
                custom=bool(request.custom),
                parent=request.parent or None,
                dependencies=list(request.dependencies),
                property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
                provider=request.provider or None,
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                ignore_changes=list(request.ignoreChanges),
                delete_before_replace=bool(request.deleteBeforeReplace),
                state=self.resources[urn].state if urn in self.resources else {},
                transforms=[self.callbacks.transforms[cb.token] for cb in request.transforms],
            )
        )
        return response

    def Invoke(self, request: Any) -> Any:
        # The engine answers ``getResource`` for the root stack with the state it found for the
        # update: the outputs the stack recorded last. The SDK's mock monitor would answer with the
        # root's new, empty state.
        if request.tok == "pulumi:pulumi:getResource":
            urn = str(rpc.deserialize_properties(request.args).get("urn", ""))
            if urn.split("::")[2:3] == ["pulumi:pulumi:Stack"]:
                recorded = {"urn": urn, "id": "", "state": self.previous_outputs}
                return provider_pb2.InvokeResponse(**{"return": _sync_await(rpc.serialize_properties(recorded, {}))})
        return super().Invoke(request)  # type: ignore[no-untyped-call]


class _Warnings(logging.Handler):
    """Keeps the messages the program logs as warnings (the mock engine's ``Log`` hands each
    ``pulumi.log.warn`` to the logger given to ``set_mocks``)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno == logging.WARNING:
            self.messages.append(record.getMessage())


# --- running ----------------------------------------------------------------------------------------


def evaluate(
    program: Callable[[], Any],
    *,
    mocks: pulumi.runtime.Mocks,
    project: str,
    stack: str,
    config: Mapping[str, str],
    secret_keys: list[str],
    preview: bool = False,
    previous_outputs: Mapping[str, Any] | None = None,
) -> Evaluation:
    """Run ``program`` under ``mocks`` with ``config`` (flat ``namespace:key`` strings) and record
    what it registers. ``previous_outputs``: what the engine would answer for the root stack's
    recorded state. Call it in a fresh ``contextvars.Context`` per program (the runtime keeps its
    settings in context variables). A failing program's exception is re-raised with
    ``.registered`` set. What the program logs as warnings is kept (:attr:`Evaluation.warnings`),
    the rest of its log dropped, as the offline render has no engine to show it."""
    callbacks = _Callbacks()
    monitor = _RecordingMonitor(mocks, callbacks, previous_outputs)
    warnings = _Warnings()
    # A logger of this run alone (not in logging's registry): nothing else hears the program's log.
    logger = logging.Logger(f"meshstack.mocks.{project}.{stack}", logging.DEBUG)
    logger.propagate = False
    logger.addHandler(warnings)
    pulumi.runtime.set_all_config(dict(config), secret_keys)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor, logger=logger)
    SETTINGS.callbacks = callbacks
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    SETTINGS.feature_support = {}
    # What the real runtime does before a program runs: ask the monitor which features (secrets,
    # transforms, …) it supports. Without it the SDK refuses resource transforms.
    _sync_await(_load_monitor_feature_support())  # type: ignore[no-untyped-call]
    root = pulumi.runtime.get_root_resource()

    def body() -> None:
        program()

    try:
        _sync_await(run_pulumi_func(body))
    except Exception as err:
        err.registered = monitor.registered  # type: ignore[attr-defined]
        raise
    outputs: dict[str, Any] = {}
    secrets: set[str] = set()
    exported: dict[str, Any] = getattr(root, "outputs", None) or {}
    for key, value in exported.items():
        resolved, known = _sync_await(_resolved(value))
        outputs[key] = resolved if known else None
        if isinstance(value, pulumi.Output) and _sync_await(value.is_secret()):
            secrets.add(key)
    return Evaluation(monitor.registered, outputs, frozenset(secrets), warnings.messages)


async def _resolved(value: Any) -> tuple[Any, bool]:
    """``value`` with every Output in it awaited, deeply, and whether all of them were known: what
    ``Output.from_input(value).future()`` gives (None when anything in it is unknown, a secret's
    value), without an Output per nested value, which cost more than the program that exported
    meshstack's per-service records (docs/benchmarks.md#evaluation)."""
    if isinstance(value, pulumi.Output):
        known = await value.is_known()
        inner, inner_known = await _resolved(await value.future())
        return inner, known and inner_known
    if isinstance(value, dict):
        pairs = {k: await _resolved(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, all(known for _, known in pairs.values())
    if isinstance(value, list | tuple):
        items = [await _resolved(v) for v in value]
        values = [v for v, _ in items]
        return (values if isinstance(value, list) else tuple(values)), all(known for _, known in items)
    if isawaitable(value) or _types.is_input_type(type(value)):
        return await _resolved(pulumi.Output.from_input(value))
    return value, True
