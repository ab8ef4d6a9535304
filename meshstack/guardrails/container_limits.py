"""container-limits-and-non-root: every container of every workload (Pod, Deployment, StatefulSet,
DaemonSet, ReplicaSet, Job, CronJob; init containers included) has CPU and memory limits, runs as
non-root (``runAsNonRoot: true`` on the container or its pod, never UID 0), is not privileged and
sets ``allowPrivilegeEscalation: false``.

Istio's own charts are checked the same way: with ``helm.v4.Chart`` the engine registers each object
a chart renders, so the rule sees the pod specs exactly as they will be applied (the chart's
``values`` are not visible to a policy: the engine hands it a chart component without inputs).
Two things Istio needs are allowed, on those charts' objects only (:data:`ISTIO_CHART_ALLOWANCES`).

What the engine never sees, because istiod adds it at admission, is checked through the injector's
values (its ``istio-sidecar-injector`` ConfigMap): the ``istio-proxy`` sidecar's limits
(``global.proxy.resources``), and whether meshed pods get ``istio-init`` — which runs as root with
NET_ADMIN and NET_RAW — because istio-cni is off (``pilot.cni.enabled``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from meshstack.guardrails.core import Container, Resource, containers, dig, injector_values, mapping

NAME = "container-limits-and-non-root"
DESCRIPTION = (
    "Every container has CPU and memory limits, runs as non-root and cannot escalate privileges "
    "(injected sidecars included)."
)

LIMIT_CPU = "limits.cpu"
LIMIT_MEMORY = "limits.memory"
NON_ROOT = "non-root"
NO_ESCALATION = "no-privilege-escalation"


@dataclass(frozen=True)
class ChartAllowance:
    """A check an object of one of Istio's charts is excused from, and why."""

    chart: str
    kind: str
    name: re.Pattern[str]
    container: str
    checks: frozenset[str]
    reason: str


ISTIO_CHART_ALLOWANCES: Final = (
    ChartAllowance(
        chart="cni",
        kind="DaemonSet",
        name=re.compile(r"istio-cni-node"),
        container="install-cni",
        checks=frozenset({NON_ROOT, NO_ESCALATION, LIMIT_CPU, LIMIT_MEMORY}),
        reason=(
            "the istio-cni node agent installs the CNI plugin on each node and sets up every meshed pod's "
            "traffic redirection: it must run as root with NET_ADMIN and SYS_ADMIN, and a limit that throttles "
            "or OOM-kills it stops pod networking on its node. It is what lets meshed pods run without "
            "istio-init (root) under Pod Security restricted"
        ),
    ),
    ChartAllowance(
        chart="istiod",
        kind="Deployment",
        name=re.compile(r"istiod(-.+)?"),
        container="discovery",
        checks=frozenset({LIMIT_CPU}),
        reason=(
            "istiod's configuration pushes are bursty and latency-critical, and a CPU limit throttles them; "
            "its memory is limited (mesh.istiod.resources)"
        ),
    ),
)


def allowed(res: Resource, container: Container, check_name: str) -> bool:
    chart = res.chart
    if chart is None:
        return False
    return any(
        a.chart == chart
        and a.kind == res.kind
        and a.name.fullmatch(res.name)
        and a.container == container.name
        and check_name in a.checks
        for a in ISTIO_CHART_ALLOWANCES
    )


def check(res: Resource) -> list[str]:
    out: list[str] = []
    for c in containers(res):
        out += [f"{res.ref}: {c.at} {problem}" for name, problem in _problems(c) if not allowed(res, c, name)]
    if (values := injector_values(res)) is not None:
        out += _injected_proxy(res, values)
    return out


def _problems(c: Container) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    limits = mapping(dig(c.spec, "resources", "limits"))
    for key, check_name in (("cpu", LIMIT_CPU), ("memory", LIMIT_MEMORY)):
        if limits.get(key) in (None, ""):
            problems.append((check_name, f"has no resources.limits.{key}; every container needs CPU and memory limits"))
    sc = mapping(c.spec.get("securityContext"))
    pod_sc = mapping(c.pod.get("securityContext"))
    non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
    user = sc.get("runAsUser", pod_sc.get("runAsUser"))
    if non_root is not True:
        where = "is false" if non_root is False else "is set neither on the container nor on the pod"
        problems.append(
            (NON_ROOT, f"securityContext.runAsNonRoot {where}; allowed: runAsNonRoot: true (container or pod)")
        )
    elif user == 0:
        problems.append((NON_ROOT, "securityContext.runAsUser is 0 (root); allowed: a non-zero UID, or unset"))
    if sc.get("privileged") is True:
        problems.append((NO_ESCALATION, "securityContext.privileged is true; allowed: false or unset"))
    if sc.get("allowPrivilegeEscalation") is not False:
        state = "is true" if sc.get("allowPrivilegeEscalation") is True else "is not set"
        problems.append(
            (NO_ESCALATION, f"securityContext.allowPrivilegeEscalation {state}; allowed: false (on the container)")
        )
    return problems


def _injected_proxy(res: Resource, values: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    limits = mapping(dig(values, "global", "proxy", "resources", "limits"))
    for key in ("cpu", "memory"):
        if limits.get(key) in (None, ""):
            out.append(
                f'{res.ref}: data["values"] global.proxy.resources.limits.{key} is not set: every injected '
                f"istio-proxy sidecar would run without a {key} limit; set it (mesh.proxy.resources)"
            )
    if dig(values, "pilot", "cni", "enabled") is False and dig(values, "istio_cni", "enabled") is not True:
        out.append(
            f'{res.ref}: data["values"] pilot.cni.enabled is false: istiod injects istio-init, which runs as root '
            "with NET_ADMIN and NET_RAW, into every meshed pod; allowed: istio-cni (mesh.cni: true)"
        )
    return out
