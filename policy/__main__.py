"""meshstack's guardrails as a Pulumi policy pack.

The rules are :mod:`meshstack.guardrails` (plain functions, tested on their own); this file only
adapts them: resource rules become ``ResourceValidationPolicy``, stack rules
``StackValidationPolicy``, and the engine's view of each resource (inputs behind pulumi_policy's
unknown-checking proxies) becomes plain data, values unknown during a preview as
``meshstack.guardrails.UNKNOWN`` (:mod:`meshstack._sdk.policy_analyzer`, which also makes
pulumi_policy's analyzer convert each resource once).

The engine (``meshstack.tools.engine``) runs the pack on every preview and update with
``config/mandatory.json`` for a prod stack and ``config/advisory.json`` otherwise.
"""

from __future__ import annotations

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

from meshstack._sdk.policy_analyzer import FastAnalyzer, LazyProps
from meshstack.guardrails import RULES, UNKNOWN, Resource, ResourceRule, Rule

PACK = "meshstack-guardrails"


def _policy(rule: Rule) -> Policy:
    if isinstance(rule, ResourceRule):
        check = rule.check

        def validate_resource(args: ResourceValidationArgs, report: ReportViolation) -> None:
            res = Resource(args.urn, args.resource_type, LazyProps(args.props, UNKNOWN), args.opts.parent)
            for message in check(res):
                report(message, None)

        return ResourceValidationPolicy(name=rule.name, description=rule.description, validate=validate_resource)
    check_stack = rule.check

    def validate_stack(args: StackValidationArgs, report: ReportViolation) -> None:
        resources = [
            Resource(
                r.urn, r.resource_type, LazyProps(r.props, UNKNOWN), r.parent.urn if r.parent is not None else None
            )
            for r in args.resources
        ]
        for violation in check_stack(resources):
            report(violation.message, violation.urn)

    return StackValidationPolicy(name=rule.name, description=rule.description, validate=validate_stack)


def policies() -> list[Policy]:
    return [_policy(rule) for rule in RULES]


if __name__ == "__main__":
    # Serves the analyzer until the engine stops it. Enforcement comes from the engine's config file.
    FastAnalyzer().install()
    PolicyPack(name=PACK, enforcement_level=EnforcementLevel.ADVISORY, policies=policies())
