"""pulumi_policy's Python analyzer, made to convert each resource's properties once and lazily.

:class:`FastAnalyzer` patches pulumi_policy's servicer (``pulumi_policy.policy``) so that it gives
the engine the same answers with less work (its docstring says what and why), and
:class:`LazyProps` / :func:`plain` read a resource's properties through pulumi_policy's
unknown-checking proxies without tripping them. Both rely on pulumi_policy's private names
(``_PolicyAnalyzerServicer``, ``_DictProxy``, ``_ListProxy``, ``_deserialize_property``);
:data:`meshstack._sdk.CONTRACTS` records the checked releases and the upstream report, and
``tests/sdk/test_policy_analyzer.py`` drives the servicer with and without the patch.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

from google.protobuf import json_format  # type: ignore[import-untyped]
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy import policy as policy_servicer
from pulumi_policy import proxy as policy_proxy
from pulumi_policy.deserialize import _deserialize_property, deserialize_properties

_UNKNOWNS = frozenset(
    {
        policy_proxy.UNKNOWN_BOOLEAN_VALUE,
        policy_proxy.UNKNOWN_NUMBER_VALUE,
        policy_proxy.UNKNOWN_STRING_VALUE,
        policy_proxy.UNKNOWN_ARRAY_VALUE,
        policy_proxy.UNKNOWN_ASSET_VALUE,
        policy_proxy.UNKNOWN_ARCHIVE_VALUE,
        policy_proxy.UNKNOWN_OBJECT_VALUE,
    }
)


def plain(value: Any, unknown: object) -> Any:
    """``value`` without the policy SDK's proxies (read through ``__target``, so reading an unknown
    value does not abort the rule), values unknown during a preview as ``unknown``."""
    if isinstance(value, policy_proxy._DictProxy | policy_proxy._ListProxy):
        value = value["__target"]
    if isinstance(value, Mapping):
        return {str(k): plain(v, unknown) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v, unknown) for v in value]
    if isinstance(value, str) and value in _UNKNOWNS:
        return unknown
    return value


class LazyStruct(Mapping[str, Any]):
    """The properties of a resource (a protobuf ``Struct``) as pulumi_policy would deserialise them
    (``deserialize_properties(json_format.MessageToDict(struct))``: secrets unwrapped, assets and
    archives made), one top-level key at a time, when a rule first reads it."""

    def __init__(self, struct: Any, analyzer: FastAnalyzer) -> None:
        self._fields = struct.fields
        self._analyzer = analyzer
        self._done: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key not in self._done:
            if key not in self._fields:  # (indexing a protobuf map would insert the key)
                raise KeyError(key)
            value = self._fields[key]
            self._analyzer.conversions += 1
            self._analyzer.converted_bytes += value.ByteSize()
            self._done[key] = _deserialize_property(json_format.MessageToDict(value))
        return self._done[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)


class FastAnalyzer:
    """Three shortcuts in pulumi_policy's analyzer (``pulumi_policy.policy``, 1.21.0), each giving
    the engine the same answers, that cut the pack's own time in a 100-service preview (about 2.4 s
    of the engine's serial path before; docs/benchmarks.md#the-policy-pack, where the upstream
    report is written):

    * **Properties converted once, and only what a rule reads.** ``Analyze`` converts a
      resource's properties (a protobuf ``Struct``) to Python and wraps them in unknown-checking
      proxies once per *policy* (``unknown_checking_proxy(deserialize_properties(
      json_format.MessageToDict(...)))``: five times a resource here, and its provider's
      properties likewise); ``AnalyzeStack`` does it for every resource once per stack rule. During
      those two calls, the properties handed to the policies are a :class:`LazyStruct` instead:
      one per message and call (protobuf's upb runtime hands out one object per sub-message while
      the request lives, and each cached message is held, so its ``id`` cannot be reused), each
      top-level key converted when first read. Most rules read ``kind`` and ``metadata`` and, for
      a few kinds, ``spec``: a CRD's schema or a dashboard's JSON is never converted. The
      unknown-checking proxies are left out: the rules read through them anyway (:func:`plain`
      turns unknowns into the rules' own marker). The caches are per thread and emptied when the call
      returns; anywhere else (``Configure``, a remediation) the conversion is pulumi_policy's own.
    * **No remediation work without remediations.** The engine calls ``Remediate`` for every
      resource before ``Analyze``; pulumi_policy converts the properties before looking for a
      policy at the ``remediate`` level. With none (ours have no remediations), the answer is the
      empty response it would have built.
    * **Runtime settings once.** Every call re-reads the config environment and re-creates the
      SDK's runtime settings from the same, unchanging environment variables; once per process
      gives the same settings."""

    def __init__(self) -> None:
        self._local = threading.local()
        #: Top-level property values converted, and their size in protobuf bytes (a test reads them).
        self.conversions = 0
        self.converted_bytes = 0

    def _caches(self) -> dict[Any, tuple[Any, Any]] | None:
        caches: dict[Any, tuple[Any, Any]] | None = getattr(self._local, "caches", None)
        return caches

    def MessageToDict(self, message: Any, **kwargs: Any) -> Any:
        caches = self._caches()
        if kwargs or caches is None or message.DESCRIPTOR.full_name != "google.protobuf.Struct":
            return json_format.MessageToDict(message, **kwargs)
        return self._once(caches, id(message), message, lambda m: LazyStruct(m, self))

    def deserialize_properties(self, props: Any, proxy_secrets: bool = False) -> Any:
        if isinstance(props, LazyStruct):
            return props if not proxy_secrets else deserialize_properties(dict(props), proxy_secrets)
        return deserialize_properties(props, proxy_secrets)

    @staticmethod
    def unknown_checking_proxy(props: Any) -> Any:
        return props if isinstance(props, LazyStruct) else policy_proxy.unknown_checking_proxy(props)

    @staticmethod
    def _once(caches: dict[Any, tuple[Any, Any]], key: Any, source: Any, convert: Any) -> Any:
        held = caches.get(key)
        if held is not None and held[0] is source:
            return held[1]
        result = convert(source)
        caches[key] = (source, result)
        return result

    def scoped(self, method: Any) -> Any:
        """``method`` (a servicer call) with the caches emptied when it returns."""

        def call(servicer: Any, request: Any, context: Any) -> Any:
            self._local.caches = {}
            try:
                return method(servicer, request, context)
            finally:
                self._local.caches = None

        return call

    @staticmethod
    def remediations_only_when_asked(method: Any) -> Any:
        """``Remediate``, answered with an empty response when no policy is at the ``remediate``
        level (the only case in which pulumi_policy's own answer is not empty)."""

        def call(servicer: Any, request: Any, context: Any) -> Any:
            policies = getattr(servicer, "_PolicyAnalyzerServicer__policies", None)
            if policies is not None and all(
                servicer._get_enforcement_level(p) != EnforcementLevel.REMEDIATE for p in policies
            ):
                return proto.RemediateResponse()
            return method(servicer, request, context)

        return call

    @staticmethod
    def once(method: Any) -> Any:
        done = threading.Event()

        def call(servicer: Any) -> None:
            if not done.is_set():
                method(servicer)
                done.set()

        return call

    def install(self) -> None:
        servicer = policy_servicer._PolicyAnalyzerServicer
        # The module's own names for what it imported (json_format, deserialize_properties, unknown_checking_proxy).
        vars(policy_servicer).update(
            json_format=self,
            deserialize_properties=self.deserialize_properties,
            unknown_checking_proxy=self.unknown_checking_proxy,
        )
        servicer.Analyze = self.scoped(servicer.Analyze)  # type: ignore[method-assign]
        servicer.AnalyzeStack = self.scoped(servicer.AnalyzeStack)  # type: ignore[method-assign]
        servicer.Remediate = self.remediations_only_when_asked(servicer.Remediate)  # type: ignore[method-assign]
        servicer._configure_runtime_settings = self.once(servicer._configure_runtime_settings)  # type: ignore[method-assign]


class LazyProps(Mapping[str, Any]):
    """A resource's props for a rule, each top-level key converted by :func:`plain` when the rule
    first reads it. Most rules look at a few kinds and, for the rest, ``kind`` and ``metadata``
    only, so a CRD's schema is never converted. (Measured: this is not where the pack's time in a
    preview goes; pulumi_policy's own per-policy deserialisation and one gRPC call per resource
    are, docs/benchmarks.md.)"""

    def __init__(self, props: Any, unknown: object) -> None:
        self._unknown = unknown
        target = props["__target"] if isinstance(props, policy_proxy._DictProxy) else props
        self._target: Mapping[str, Any] = target if isinstance(target, Mapping) else {}
        self._plain: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key not in self._plain:
            self._plain[key] = plain(self._target[key], self._unknown)
        return self._plain[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._target)

    def __len__(self) -> int:
        return len(self._target)
