"""Run a Pulumi program under Pulumi's mock runtime and record everything it registers.

For the tests of programs that compose meshstack (ours and a platform team's)::

    from meshstack.testing import run
    rec = run(my_program, config={"team:replicas": 2})
    rec.one(kind="VirtualService", k8s_name="web").inputs["spec"]

Used by the offline render (``meshstack.tools.render``) and the project's tests. Each run happens in
a fresh ``contextvars.Context`` so several programs can be evaluated in one process. No cluster
and no pulumi CLI are involved.
"""

from __future__ import annotations

import contextvars
import gc
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from inspect import isawaitable
from pathlib import Path
from typing import Any

import pulumi
from pulumi import _types
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import callback_pb2, provider_pb2
from pulumi.runtime.settings import SETTINGS, _load_monitor_feature_support
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from meshstack.stacks.stack_file import read_config

PROJECT = "meshstack"
#: What a secret looks like in a recording (rendered YAML, snapshots): the value never appears.
REDACTED = "[secret]"


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


class Recording:
    """Everything one run of the program registered, with queries for tests and the renderer."""

    def __init__(
        self,
        stack: str,
        resources: list[Registered],
        outputs: dict[str, Any],
        secret_outputs: frozenset[str] = frozenset(),
    ) -> None:
        self.stack = stack
        self.resources = resources
        #: The stack's outputs, resolved (a secret's value in the clear: see :attr:`secret_outputs`).
        self.outputs = outputs
        #: The outputs exported as secrets (the engine would store them encrypted).
        self.secret_outputs = secret_outputs
        self.by_urn = {r.urn: r for r in resources}

    def find(
        self,
        type: str | None = None,
        name: str | None = None,
        kind: str | None = None,
        namespace: str | None = None,
        k8s_name: str | None = None,
    ) -> list[Registered]:
        """Resources matching every given criterion. ``type`` matches the token exactly or as a
        suffix after ``:`` (``Namespace`` matches ``kubernetes:core/v1:Namespace``)."""
        out = []
        for r in self.resources:
            if type is not None and r.type != type and not r.type.endswith(f":{type}"):
                continue
            if name is not None and r.name != name:
                continue
            if kind is not None and r.inputs.get("kind") != kind:
                continue
            meta = r.inputs.get("metadata") or {}
            if namespace is not None and meta.get("namespace") != namespace:
                continue
            if k8s_name is not None and meta.get("name") != k8s_name:
                continue
            out.append(r)
        return out

    def one(self, **criteria: Any) -> Registered:
        found = self.find(**criteria)
        if len(found) != 1:
            raise LookupError(
                f"expected exactly one resource matching {criteria}, found {len(found)}: {[r.urn for r in found]}"
            )
        return found[0]

    def parent_of(self, res: Registered) -> Registered | None:
        return self.by_urn.get(res.parent) if res.parent else None

    def children_of(self, res: Registered) -> list[Registered]:
        return [r for r in self.resources if r.parent == res.urn]

    def depends_on(self, res: Registered, other: Registered) -> bool:
        """True when ``res`` waits for ``other``: directly, through a property, or because it
        waits for a component that ``other`` belongs to (pulumi expands components)."""
        direct = set(res.dependencies) | {u for deps in res.property_dependencies.values() for u in deps}
        if other.urn in direct:
            return True
        ancestor = self.parent_of(other)
        while ancestor is not None:
            if ancestor.urn in direct:
                return True
            ancestor = self.parent_of(ancestor)
        return False

    def waits_for(self, res: Registered, other: Registered) -> bool:
        """True when the engine starts ``res`` only after ``other`` is done: :meth:`depends_on`,
        directly or through a chain of dependencies (the engine orders by the whole graph)."""
        by_urn = {r.urn: r for r in self.resources}
        seen: set[str] = set()
        todo = [res]
        while todo:
            current = todo.pop()
            if self.depends_on(current, other):
                return True
            for urn in {*current.dependencies, *(u for deps in current.property_dependencies.values() for u in deps)}:
                if urn not in seen and urn in by_urn:
                    seen.add(urn)
                    todo.append(by_urn[urn])
                    # A dependency on a component is a dependency on each of its resources.
                    todo.extend(r for r in self.resources if self.parent_of(r) is by_urn[urn] and r.urn not in seen)
        return False

    @property
    def kubernetes_objects(self) -> list[Registered]:
        """Kubernetes objects the program creates directly (not provider or component resources)."""
        return [
            r
            for r in self.resources
            if r.custom
            and r.type.startswith("kubernetes:")
            and "kind" in r.inputs
            and not r.type.startswith("kubernetes:helm.sh")
        ]

    @property
    def helm_charts(self) -> list[Registered]:
        return [r for r in self.resources if r.type.startswith("kubernetes:helm.sh/")]


# --- secrets -------------------------------------------------------------------------------------


def redact(value: Any) -> Any:
    """Replace every secret-wrapped value (as the engine receives it) by :data:`REDACTED`.

    Also undoes the one lossy step of the wire format: protobuf carries every number as a double,
    so integral floats become ints again (``replicas: 3``, not ``3.0``).
    """
    if rpc.is_rpc_secret(value):
        inner = rpc.unwrap_rpc_secret(value)
        # A secret map (a Secret's whole stringData) keeps its keys, so the object still has
        # its shape; only the values are hidden.
        return {k: REDACTED for k in inner} if isinstance(inner, dict) else REDACTED
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def contains_secret(value: Any) -> bool:
    if rpc.is_rpc_secret(value):
        return True
    if isinstance(value, dict):
        return any(contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_secret(v) for v in value)
    return False


# --- mocks ---------------------------------------------------------------------------------------


class MeshMocks(pulumi.runtime.Mocks):
    """Providers answer with their inputs; generated values are deterministic placeholders; the
    stack's previous outputs (the root stack's state as the engine found it for the update) are
    ``stack_outputs``."""

    def __init__(self, stack_outputs: Mapping[str, Any] | None = None) -> None:
        self.stack_outputs = dict(stack_outputs or {})

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ == "random:index/randomPassword:RandomPassword":
            length = int(
                rpc.unwrap_rpc_secret(args.inputs.get("length", 32))
                if rpc.is_rpc_secret(args.inputs.get("length"))
                else args.inputs.get("length", 32)
            )
            state["result"] = "x" * length
            state["bcryptHash"] = "$2a$10$" + "x" * 53
        if args.typ == "pulumi-python:dynamic:Resource" and "length" in args.inputs:
            # components.secret.GeneratedToken: the provider would draw a token on create.
            state["value"] = "x" * int(args.inputs["length"])
        return (f"{args.name}-id", state)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return ({}, [])


class MockCallbacks:
    """Stands in for the SDK's gRPC callback server, which needs a real engine: it hands out
    tokens for resource transforms and keeps the functions so a recording can show (and a test
    can run) the transforms a resource was registered with."""

    def __init__(self) -> None:
        self.transforms: dict[str, Callable[..., Any]] = {}

    def register_transform(self, transform: Callable[..., Any]) -> Any:
        token = f"transform-{len(self.transforms)}"
        self.transforms[token] = transform
        return callback_pb2.Callback(token=token, target="meshstack-mock")


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock monitor, also keeping what the real engine would use: parents, dependencies,
    options. Inputs are kept with secrets still wrapped so the renderer can redact them."""

    def __init__(self, mocks: pulumi.runtime.Mocks, callbacks: MockCallbacks) -> None:
        super().__init__(mocks)
        self.callbacks = callbacks
        self.registered: list[Registered] = []
        self.stack_outputs: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == "pulumi:pulumi:Stack":
            return response
        inputs = rpc.deserialize_properties(request.object)
        urn = self.make_urn(request.parent, request.type, request.name)
        self.registered.append(
            Registered(
                urn=urn,
                type=request.type,
                name=request.name,
                inputs=inputs,
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
        # The engine answers ``getResource`` for the root stack with the state it found for this
        # update: the outputs the stack recorded last (stacks.program.previous_outputs). The SDK's
        # mock monitor would answer with the root's new, empty state.
        if request.tok == "pulumi:pulumi:getResource" and isinstance(self.mocks, MeshMocks):
            urn = str(rpc.deserialize_properties(request.args).get("urn", ""))
            if urn.split("::")[2:3] == ["pulumi:pulumi:Stack"]:
                recorded = {"urn": urn, "id": "", "state": self.mocks.stack_outputs}
                return provider_pb2.InvokeResponse(**{"return": _sync_await(rpc.serialize_properties(recorded, {}))})
        return super().Invoke(request)  # type: ignore[no-untyped-call]

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn.split("::")[2] == "pulumi:pulumi:Stack":
            self.stack_outputs = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


# --- stack config --------------------------------------------------------------------------------


def stack_config_file(stack: str, root: Path) -> Path:
    return root / f"Pulumi.{stack}.yaml"


def read_stack_config(stack: str, root: Path, project: str = PROJECT) -> tuple[dict[str, Any], list[str]]:
    """The stack's config as the engine hands it to the program: a flat map of strings, objects
    JSON-encoded, and the list of secret keys (``secure:`` values cannot be decrypted here and are
    passed as :data:`REDACTED`)."""
    path = stack_config_file(stack, root)
    if not path.exists():
        raise FileNotFoundError(f"no stack config {path.name}; stacks are: {', '.join(sorted(known_stacks(root)))}")
    return encode_config(read_config(path), project)


def encode_config(raw: Mapping[str, Any], project: str = PROJECT) -> tuple[dict[str, Any], list[str]]:
    flat: dict[str, Any] = {}
    secrets: list[str] = []
    for key, value in raw.items():
        full = key if ":" in key else f"{project}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            flat[full] = REDACTED
            secrets.append(full)
        elif isinstance(value, str):
            flat[full] = value
        else:
            flat[full] = json.dumps(value)
    return flat, secrets


def known_stacks(root: Path) -> list[str]:
    return [p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml")]


# --- running -------------------------------------------------------------------------------------


def run(
    program: Callable[[], Any],
    *,
    config: Mapping[str, Any] | None = None,
    stack: str = "test",
    project: str = PROJECT,
    preview: bool = False,
    stack_outputs: Mapping[str, Any] | None = None,
) -> Recording:
    """Evaluate ``program`` under mocks with ``config`` (keys ``<namespace>:<key>`` or bare keys of
    ``project``; YAML-style values) and record what it registers. ``stack_outputs`` are what the
    stack recorded last (what the engine answers for the root stack's recorded state)."""
    flat, secret_keys = encode_config(config or {}, project)
    return contextvars.Context().run(_run, stack, project, flat, secret_keys, program, preview, stack_outputs)


def run_stack_file(
    stack: str,
    root: Path,
    program: Callable[[], Any],
    config: Mapping[str, Any] | None = None,
    project: str = PROJECT,
    preview: bool = False,
) -> Recording:
    """Evaluate ``program`` with the config of ``root/Pulumi.<stack>.yaml`` (``config`` replaces it when given)."""
    if config is None:
        flat, secret_keys = read_stack_config(stack, root, project)
    else:
        flat, secret_keys = encode_config(config, project)
    return contextvars.Context().run(_run, stack, project, flat, secret_keys, program, preview, None)


def _run(
    stack: str,
    project: str,
    flat: dict[str, Any],
    secret_keys: list[str],
    program: Callable[[], Any],
    preview: bool,
    stack_outputs: Mapping[str, Any] | None,
) -> Recording:
    callbacks = MockCallbacks()
    mocks = MeshMocks(stack_outputs)
    monitor = RecordingMonitor(mocks, callbacks)
    set_all_config(flat, secret_keys)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)
    SETTINGS.callbacks = callbacks
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    SETTINGS.feature_support = {}
    # What the real runtime does before a program runs: ask the monitor which features
    # (secrets, transforms, …) it supports. Without it the SDK refuses resource transforms.
    _sync_await(_load_monitor_feature_support())  # type: ignore[no-untyped-call]
    root = pulumi.runtime.get_root_resource()

    def body() -> None:
        program()

    thresholds = gc.get_threshold()  # a program may set its own (meshstack's does): not the caller's
    try:
        try:
            _sync_await(run_pulumi_func(body))
        except Exception as err:
            # Keep the original exception type for callers; attach what got registered.
            err.recording = Recording(stack, monitor.registered, {})  # type: ignore[attr-defined]
            raise
        outputs: dict[str, Any] = {}
        secrets: set[str] = set()
        exported: dict[str, Any] = getattr(root, "outputs", None) or {}
        for key, value in exported.items():
            resolved, known = _sync_await(_resolved(value))
            outputs[key] = resolved if known else None
            if isinstance(value, pulumi.Output) and _sync_await(value.is_secret()):
                secrets.add(key)
        return Recording(stack, monitor.registered, outputs, frozenset(secrets))
    finally:
        gc.set_threshold(*thresholds)


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
