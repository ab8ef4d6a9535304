"""meshstack's guardrails as a Pulumi policy pack.

The rules are :mod:`meshstack.guardrails` (plain functions, tested on their own); this file only
adapts them: resource rules become ``ResourceValidationPolicy``, stack rules
``StackValidationPolicy``, and the engine's view of each resource (inputs behind pulumi_policy's
unknown-checking proxies) becomes plain data, values unknown during a preview as
``meshstack.guardrails.UNKNOWN``.

The engine (``meshstack.tools.engine``) runs the pack on every preview and update with
``config/mandatory.json`` for a prod stack and ``config/advisory.json`` otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import proxy as policy_proxy

from meshstack.guardrails import RULES, UNKNOWN, Resource, ResourceRule, Rule

PACK = "meshstack-guardrails"
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


def plain(value: Any) -> Any:
    """``value`` without the policy SDK's proxies (read through ``__target``, so reading an unknown
    value does not abort the rule), unknown values as :data:`UNKNOWN`."""
    if isinstance(value, policy_proxy._DictProxy | policy_proxy._ListProxy):
        value = value["__target"]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, str) and value in _UNKNOWNS:
        return UNKNOWN
    return value


class LazyProps(Mapping[str, Any]):
    """A resource's props for a rule, each top-level key converted by :func:`plain` when the rule
    first reads it. Most rules look at a few kinds and, for the rest, ``kind`` and ``metadata``
    only, so a CRD's schema is never converted. (Measured: this is not where the pack's time in a
    preview goes; pulumi_policy's own per-policy deserialisation and one gRPC call per resource
    are, docs/benchmarks.md.)"""

    def __init__(self, props: Any) -> None:
        target = props["__target"] if isinstance(props, policy_proxy._DictProxy) else props
        self._target: Mapping[str, Any] = target if isinstance(target, Mapping) else {}
        self._plain: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key not in self._plain:
            self._plain[key] = plain(self._target[key])
        return self._plain[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._target)

    def __len__(self) -> int:
        return len(self._target)


def _policy(rule: Rule) -> Policy:
    if isinstance(rule, ResourceRule):
        check = rule.check

        def validate_resource(args: ResourceValidationArgs, report: ReportViolation) -> None:
            res = Resource(args.urn, args.resource_type, LazyProps(args.props), args.opts.parent)
            for message in check(res):
                report(message, None)

        return ResourceValidationPolicy(name=rule.name, description=rule.description, validate=validate_resource)
    check_stack = rule.check

    def validate_stack(args: StackValidationArgs, report: ReportViolation) -> None:
        resources = [
            Resource(r.urn, r.resource_type, LazyProps(r.props), r.parent.urn if r.parent is not None else None)
            for r in args.resources
        ]
        for violation in check_stack(resources):
            report(violation.message, violation.urn)

    return StackValidationPolicy(name=rule.name, description=rule.description, validate=validate_stack)


def policies() -> list[Policy]:
    return [_policy(rule) for rule in RULES]


if __name__ == "__main__":
    # Serves the analyzer until the engine stops it. Enforcement comes from the engine's config file.
    PolicyPack(name=PACK, enforcement_level=EnforcementLevel.ADVISORY, policies=policies())
