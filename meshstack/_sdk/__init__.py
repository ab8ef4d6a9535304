"""Every use of the Pulumi SDKs' private internals, in one place.

Nothing outside this package imports a private module or name of ``pulumi`` or ``pulumi_policy``
(``tests/sdk/test_contracts.py`` walks the project's sources and fails otherwise). Each module
here names what it touches, the SDK releases it was checked against, why the public API does not
do, and the upstream report; :data:`CONTRACTS` lists them. The contract tests fail when an
installed SDK is outside a checked range, or when what a module relies on changes, so an SDK
upgrade breaks here, once, with a test that says which assumption moved, and not across the
project one caller at a time.

==================  ===========================================================================
module              what it does with the SDK's internals
==================  ===========================================================================
``config``          enumerates the program's whole config (the SDK reads keys one by one)
``inline_program``  serves a program to the CLI from this process (the Automation API's server)
``mocks``           runs a program under mocks with a recording monitor, several times a process
``stack_traces``    replaces the per-resource stack trace with a cheaper one (same message)
``policy_analyzer`` pulumi_policy's analyzer: converts each resource once, lazily
``pydantic_models`` pydantic's model metaclass (no Pulumi: the model layer imports it)
==================  ===========================================================================

The modules import only the SDKs (and the standard library), never the rest of meshstack; this
``__init__`` imports nothing, so the model layer may use ``pydantic_models`` without Pulumi.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Contract:
    """What one module of this package relies on."""

    #: The module, under ``meshstack._sdk``.
    module: str
    #: The distribution whose internals it uses.
    package: str
    #: The releases it was checked against, inclusive (the contract test fails outside them).
    checked: tuple[str, str]
    #: The private names it uses, ``module:attribute`` (the contract test resolves each).
    touches: tuple[str, ...]
    #: Why the public API does not do, and where upstream hears about it.
    upstream: str


PULUMI_CHECKED = ("3.238.0", "3.238.0")
PYDANTIC_CHECKED = ("2.14.3", "2.14.3")
POLICY_CHECKED = ("1.21.0", "1.21.0")

CONTRACTS: tuple[Contract, ...] = (
    Contract(
        "config",
        "pulumi",
        PULUMI_CHECKED,
        ("pulumi.runtime.config:CONFIG",),
        "pulumi.Config reads one key at a time and cannot list them, so a program cannot refuse a "
        "misspelt key; related: pulumi/pulumi#10931 (config not iterable). Public alternative "
        "wanted: a read-only mapping of the stack's config.",
    ),
    Contract(
        "inline_program",
        "pulumi",
        PULUMI_CHECKED,
        (
            "pulumi.automation._server:LanguageServer",
            "pulumi.runtime._grpc_settings:_GRPC_CHANNEL_OPTIONS",
            "pulumi.runtime.proto.language_pb2_grpc:add_LanguageRuntimeServicer_to_server",
        ),
        "Stack.up(program=...) is the public way, but it also selects the stack and reads its "
        "history and outputs back (about 2 s of a rollout step on a 100-service stack); the "
        "Automation API has no way to serve an inline program for one CLI command. Report text: "
        "docs/benchmarks.md#preview-and-rollout-step (not filed from here: no network).",
    ),
    Contract(
        "mocks",
        "pulumi",
        PULUMI_CHECKED,
        (
            "pulumi.runtime.mocks:MockMonitor",
            "pulumi.runtime.settings:SETTINGS",
            "pulumi.runtime.settings:_load_monitor_feature_support",
            "pulumi.runtime.stack:run_pulumi_func",
            "pulumi.runtime.sync_await:_sync_await",
            "pulumi.runtime.rpc:deserialize_properties",
            "pulumi.runtime.rpc:serialize_properties",
            "pulumi.runtime.rpc:is_rpc_secret",
            "pulumi.runtime.rpc:unwrap_rpc_secret",
            "pulumi.runtime.rpc:wrap_rpc_secret",
            "pulumi.runtime.proto.callback_pb2:Callback",
            "pulumi.runtime.proto.provider_pb2:InvokeResponse",
            "pulumi._types:is_input_type",
        ),
        "pulumi.runtime.set_mocks + @pulumi.runtime.test run one program per process and record "
        "nothing of what the engine would see (parents, dependencies, options, transforms); the "
        "offline render and the tests need that, for many programs in one process. No upstream "
        "issue found for a recording mock monitor; to file.",
    ),
    Contract(
        "stack_traces",
        "pulumi",
        PULUMI_CHECKED,
        ("pulumi.runtime.resource:_get_stack_trace", "pulumi.runtime.proto.source_pb2:StackTrace"),
        "register_resource walks the whole stack with traceback.extract_stack per resource; "
        "report text: docs/benchmarks.md#upstream-the-python-sdks-stack-trace-per-resource (not "
        "filed from here: no network).",
    ),
    Contract(
        "policy_analyzer",
        "pulumi-policy",
        POLICY_CHECKED,
        (
            "pulumi_policy.policy:_PolicyAnalyzerServicer",
            "pulumi_policy.proxy:_DictProxy",
            "pulumi_policy.proxy:_ListProxy",
            "pulumi_policy.deserialize:_deserialize_property",
        ),
        "the Python analyzer converts a resource's properties once per policy and per call; "
        "report text: docs/benchmarks.md#the-policy-pack (not filed from here); related: "
        "pulumi/pulumi#6500 (policy packs slow previews), pulumi/pulumi#21455 (policy performance epic).",
    ),
    Contract(
        "pydantic_models",
        "pydantic",
        PYDANTIC_CHECKED,
        ("pydantic._internal._model_construction:ModelMetaclass",),
        "pydantic documents no metaclass; a subclass wrapping __call__ is how a model can turn every "
        "problem of one construction into one error (overriding __init__ splits nested validation). "
        "Only the type checker imports the private module; at run time it is type(BaseModel).",
    ),
)
