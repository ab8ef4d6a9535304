"""Run a Pulumi program under Pulumi's mock runtime and record everything it registers.

No cluster and no pulumi CLI are involved. The offline render (``meshstack render``) and the
tests (``meshstack.testing``, the public face of this module) use it::

    rec = run(my_program, config={"team:replicas": 2})
    rec.one(kind="VirtualService", k8s_name="web").inputs["spec"]

Each run happens in a fresh ``contextvars.Context`` so several programs can be evaluated in one
process (:func:`meshstack._sdk.mocks.evaluate` drives the SDK's mock runtime).
"""

from __future__ import annotations

import contextvars
import gc
import importlib
import runpy
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pulumi
import yaml

from meshstack._sdk.mocks import Registered, evaluate, is_secret, unwrap_secret
from meshstack.stacks.stack_file import SECRET_PLACEHOLDER, flat_config, known_stacks, read_config, stack_path

PROJECT = "meshstack"
#: What a secret looks like in a recording (rendered YAML, snapshots): the value never appears.
REDACTED = SECRET_PLACEHOLDER


__all__ = [
    "REDACTED",
    "ProgramNotFound",
    "Recording",
    "Registered",
    "contains_secret",
    "project_program",
    "redact",
    "run",
    "run_stack_file",
    "stack_config",
]


class Recording:
    """Everything one run of the program registered, with queries for tests and the renderer."""

    def __init__(
        self,
        stack: str,
        resources: list[Registered],
        outputs: dict[str, Any],
        secret_outputs: frozenset[str] = frozenset(),
        warnings: list[str] | None = None,
    ) -> None:
        self.stack = stack
        self.resources = resources
        #: The stack's outputs, resolved (a secret's value in the clear: see :attr:`secret_outputs`).
        self.outputs = outputs
        #: The outputs exported as secrets (the engine would store them encrypted).
        self.secret_outputs = secret_outputs
        #: What the program logged as warnings (``pulumi.log.warn``), in order.
        self.warnings = list(warnings or [])
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
    if is_secret(value):
        inner = unwrap_secret(value)
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
    if is_secret(value):
        return True
    if isinstance(value, dict):
        return any(contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_secret(v) for v in value)
    return False


# --- mocks ---------------------------------------------------------------------------------------


class MeshMocks(pulumi.runtime.Mocks):
    """Providers answer with their inputs; generated values are deterministic placeholders."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ == "random:index/randomPassword:RandomPassword":
            raw = args.inputs.get("length", 32)
            length = int(unwrap_secret(raw) if is_secret(raw) else raw)
            state["result"] = "x" * length
            state["bcryptHash"] = "$2a$10$" + "x" * 53
        if args.typ == "pulumi-python:dynamic:Resource" and "length" in args.inputs:
            # components.secret.GeneratedToken: the provider would draw a token on create.
            state["value"] = "x" * int(args.inputs["length"])
        return (f"{args.name}-id", state)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return ({}, [])


# --- running -------------------------------------------------------------------------------------


def stack_config(stack: str, root: Path, project: str = PROJECT) -> tuple[dict[str, str], list[str]]:
    """``root/Pulumi.<stack>.yaml``'s config as the engine hands it to the program, and its secret
    keys (``secure:`` values cannot be decrypted here and are passed as :data:`REDACTED`)."""
    path = stack_path(root, stack)
    if not path.exists():
        raise FileNotFoundError(f"no stack config {path.name}; stacks are: {', '.join(known_stacks(root))}")
    return flat_config(read_config(path), project)


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
    flat, secret_keys = flat_config(config or {}, project)
    return contextvars.Context().run(_run, stack, project, flat, secret_keys, program, preview, stack_outputs)


def run_stack_file(
    stack: str,
    root: Path,
    program: Callable[[], Any],
    config: Mapping[str, Any] | None = None,
    project: str = PROJECT,
    preview: bool = False,
    stack_outputs: Mapping[str, Any] | None = None,
) -> Recording:
    """Evaluate ``program`` with the config of ``root/Pulumi.<stack>.yaml`` (``config`` replaces it
    when given); ``stack_outputs`` as for :func:`run`."""
    if config is None:
        flat, secret_keys = stack_config(stack, root, project)
    else:
        flat, secret_keys = flat_config(config, project)
    return contextvars.Context().run(_run, stack, project, flat, secret_keys, program, preview, stack_outputs)


class ProgramNotFound(ValueError):
    """A project's program cannot be loaded (a YAML project, a missing module or function)."""


def project_program(root: Path, entry: str | None = None) -> tuple[Callable[[], Any], str]:
    """The program of the Pulumi project in ``root`` and the project's name (its config namespace),
    as the engine would run it: ``entry`` (``module:function``, importable from ``root``) when given;
    else meshstack's own program for the ``meshstack`` project (or a directory with stack files
    only); else the project's ``__main__.py`` (``main:`` in Pulumi.yaml names another directory)."""
    from meshstack.stacks.program import main  # noqa: PLC0415 - the stacks layer, loaded only here

    described = root / "Pulumi.yaml"
    project: dict[str, Any] = yaml.safe_load(described.read_text()) or {} if described.exists() else {}
    name = str(project.get("name") or PROJECT)
    runtime = project.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, Mapping) else runtime
    if runtime_name not in (None, "python"):
        raise ProgramNotFound(f"{described}: a {runtime_name} project; meshstack evaluates Python programs only")
    source = (root / str(project.get("main") or ".")).resolve()
    if str(source) not in sys.path:
        sys.path.insert(0, str(source))
    if entry is not None:
        module_name, _, function = entry.partition(":")
        if not module_name or not function:
            raise ProgramNotFound(f"--program {entry}: expected module:function, e.g. shop_platform:main")
        try:
            found = getattr(importlib.import_module(module_name), function)
        except (ImportError, AttributeError) as err:
            raise ProgramNotFound(f"--program {entry}: cannot load it from {source}: {err}") from None
        if not callable(found):
            raise ProgramNotFound(f"--program {entry}: {function} is not a function")
        return found, name
    if name == PROJECT or not described.exists():
        return main, name
    script = source / "__main__.py"
    if not script.exists():
        raise ProgramNotFound(f"{root}: project {name} has no {script.name}; give --program module:function")
    return (lambda: runpy.run_path(str(script), run_name="__main__")), name


def _run(
    stack: str,
    project: str,
    flat: dict[str, str],
    secret_keys: list[str],
    program: Callable[[], Any],
    preview: bool,
    stack_outputs: Mapping[str, Any] | None,
) -> Recording:
    thresholds = gc.get_threshold()  # a program may set its own (meshstack's does): not the caller's
    try:
        done = evaluate(
            program,
            mocks=MeshMocks(),
            project=project,
            stack=stack,
            config=flat,
            secret_keys=secret_keys,
            preview=preview,
            previous_outputs=stack_outputs,
        )
    except Exception as err:
        # Keep the original exception type for callers; attach what got registered.
        err.recording = Recording(stack, getattr(err, "registered", []), {})  # type: ignore[attr-defined]
        raise
    finally:
        gc.set_threshold(*thresholds)
    return Recording(stack, done.registered, done.outputs, done.secret_outputs, done.warnings)
