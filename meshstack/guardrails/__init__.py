"""meshstack's guardrails: the rules every preview and update of a stack is checked against.

The policy pack (``policy/``) runs them in the engine — mandatory for prod, advisory elsewhere
(``meshstack.tools.engine``, the driver) — so they hold whatever the stack config says and however the
components were composed. Each rule is a plain, pure function over :class:`Resource` values (no
Pulumi import here): a *resource* rule looks at one resource and returns messages; a *stack* rule
looks at every resource and returns :class:`Violation` values (a message and the resource's URN).

    from meshstack.guardrails import evaluate
    for finding in evaluate(resources):
        print(finding.rule, finding.urn, finding.message)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from meshstack.guardrails import (
    canary_has_rollout,
    container_limits,
    images_pinned,
    mirror_hosts_listed,
    no_anonymous_dashboards,
    no_fault_injection,
    strict_mtls,
)
from meshstack.guardrails.core import UNKNOWN, Resource, Unknown, Violation


@dataclass(frozen=True)
class ResourceRule:
    """Checks one resource at a time: the engine runs it as each resource is registered, so a
    mandatory violation stops that resource before it is created or updated."""

    name: str
    description: str
    check: Callable[[Resource], list[str]]


@dataclass(frozen=True)
class StackRule:
    """Checks every resource of the stack at once (the engine runs it once all are registered)."""

    name: str
    description: str
    check: Callable[[Sequence[Resource]], list[Violation]]


Rule = ResourceRule | StackRule

RULES: tuple[Rule, ...] = (
    StackRule(strict_mtls.NAME, strict_mtls.DESCRIPTION, strict_mtls.check),
    ResourceRule(no_fault_injection.NAME, no_fault_injection.DESCRIPTION, no_fault_injection.check),
    StackRule(mirror_hosts_listed.NAME, mirror_hosts_listed.DESCRIPTION, mirror_hosts_listed.check),
    ResourceRule(no_anonymous_dashboards.NAME, no_anonymous_dashboards.DESCRIPTION, no_anonymous_dashboards.check),
    ResourceRule(canary_has_rollout.NAME, canary_has_rollout.DESCRIPTION, canary_has_rollout.check),
    ResourceRule(container_limits.NAME, container_limits.DESCRIPTION, container_limits.check),
    ResourceRule(images_pinned.NAME, images_pinned.DESCRIPTION, images_pinned.check),
)


@dataclass(frozen=True)
class Finding:
    """A violation of one rule."""

    rule: str
    message: str
    urn: str | None


def evaluate(resources: Sequence[Resource], rules: Sequence[Rule] = RULES) -> list[Finding]:
    """Every violation of ``rules`` in ``resources``, rule by rule."""
    out: list[Finding] = []
    for rule in rules:
        if isinstance(rule, ResourceRule):
            out += [Finding(rule.name, m, r.urn) for r in resources for m in rule.check(r)]
        else:
            out += [Finding(rule.name, v.message, v.urn) for v in rule.check(resources)]
    return out


__all__ = [
    "RULES",
    "UNKNOWN",
    "Finding",
    "Resource",
    "ResourceRule",
    "Rule",
    "StackRule",
    "Unknown",
    "Violation",
    "evaluate",
]
