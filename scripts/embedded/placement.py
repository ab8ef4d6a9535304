"""The ``placement`` part (real node only): which node a pod goes to, as a rule of the cluster.

A pod whose every image the real node has runs there. A pod needing an image it does not have
(Grafana's: AGPL, not built here; anything else not built) would sit in ErrImagePull; a
MutatingAdmissionPolicy of the API server instead sends it to the fake nodes (a nodeSelector and a
toleration of their taint), where kwok marks it Running without starting anything. The stack's
manifests stay as they are. ``auto`` (Istio's injection placeholder, replaced by the sidecar
injector) counts as present.

No image can be pulled, so a second policy makes every container use what the node has
(``imagePullPolicy: Always``, which Istio's gateway injection sets, becomes ``IfNotPresent``; it is
reinvoked after the sidecar injector's webhook, so injected containers get it too).
"""

from __future__ import annotations

import json
from typing import Any

from embedded.cluster import Cluster
from embedded.kwok import FAKE_TAINT

POLICY = "meshstack-embedded-placement"
NO_PULLS = "meshstack-embedded-no-pulls"
API = "/apis/admissionregistration.k8s.io/v1beta1"
INJECTION_PLACEHOLDER = "auto"


def _names(image: str) -> set[str]:
    """An image as a pod spec may write it: containerd lists ``docker.io/library/x:1``, a pod says ``x:1``."""
    out = {image}
    if image.startswith("docker.io/library/"):
        out.add(image[len("docker.io/library/") :])
    if image.startswith("docker.io/"):
        out.add(image[len("docker.io/") :])
    return out


def policy(images: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    present = sorted({n for image in images for n in _names(image)} | {INJECTION_PLACEHOLDER})
    listed = json.dumps(present)
    lacking = (
        f"!object.spec.containers.all(c, c.image in {listed}) || "
        f"(has(object.spec.initContainers) && !object.spec.initContainers.all(c, c.image in {listed}))"
    )
    toleration = (
        f'Object.spec.tolerations{{key: "{FAKE_TAINT["key"]}", operator: "Exists", effect: "{FAKE_TAINT["effect"]}"}}'
    )
    # JSON patches: nodeSelector and tolerations are atomic, which an apply configuration may not change.
    patches = (
        "[has(object.spec.nodeSelector) "
        '? JSONPatch{op: "add", path: "/spec/nodeSelector/type", value: "kwok"} '
        ': JSONPatch{op: "add", path: "/spec/nodeSelector", value: {"type": "kwok"}}, '
        "has(object.spec.tolerations) "
        f'? JSONPatch{{op: "add", path: "/spec/tolerations/-", value: {toleration}}} '
        f': JSONPatch{{op: "add", path: "/spec/tolerations", value: [{toleration}]}}]'
    )
    spec = {
        "matchConstraints": {
            "resourceRules": [
                {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}
            ]
        },
        "matchConditions": [{"name": "needs-an-image-the-node-lacks", "expression": lacking}],
        "failurePolicy": "Fail",
        "reinvocationPolicy": "IfNeeded",
        "mutations": [{"patchType": "JSONPatch", "jsonPatch": {"expression": patches}}],
    }
    return (
        {
            "apiVersion": "admissionregistration.k8s.io/v1beta1",
            "kind": "MutatingAdmissionPolicy",
            "metadata": {"name": POLICY},
            "spec": spec,
        },
        {
            "apiVersion": "admissionregistration.k8s.io/v1beta1",
            "kind": "MutatingAdmissionPolicyBinding",
            "metadata": {"name": POLICY},
            "spec": {"policyName": POLICY},
        },
    )


def no_pulls() -> tuple[dict[str, Any], dict[str, Any]]:
    """``imagePullPolicy: Always`` → ``IfNotPresent`` (containers are a list keyed by name, which an
    apply configuration may change entry by entry)."""

    def set_policy(field: str) -> str:
        return (
            f'object.spec.{field}.filter(c, has(c.imagePullPolicy) && c.imagePullPolicy == "Always")'
            f'.map(c, Object.spec.{field}{{name: c.name, imagePullPolicy: "IfNotPresent"}})'
        )

    always = 'object.spec.{0}.exists(c, has(c.imagePullPolicy) && c.imagePullPolicy == "Always")'
    spec = {
        "matchConstraints": {
            "resourceRules": [
                {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}
            ]
        },
        "matchConditions": [{"name": "pulls-always", "expression": always.format("containers")}],
        "failurePolicy": "Fail",
        "reinvocationPolicy": "IfNeeded",
        "mutations": [
            {
                "patchType": "ApplyConfiguration",
                "applyConfiguration": {
                    "expression": f"Object{{spec: Object.spec{{containers: {set_policy('containers')}}}}}"
                },
            }
        ],
    }
    return (
        {
            "apiVersion": "admissionregistration.k8s.io/v1beta1",
            "kind": "MutatingAdmissionPolicy",
            "metadata": {"name": NO_PULLS},
            "spec": spec,
        },
        {
            "apiVersion": "admissionregistration.k8s.io/v1beta1",
            "kind": "MutatingAdmissionPolicyBinding",
            "metadata": {"name": NO_PULLS},
            "spec": {"policyName": NO_PULLS},
        },
    )


class Placement:
    name = "placement"

    def wanted(self, c: Cluster) -> bool:
        return c.layout.real_node

    def start(self, c: Cluster) -> None:
        for rule, binding in (policy(c.state.get("images", [])), no_pulls()):
            name = rule["metadata"]["name"]
            c.api.apply(f"{API}/mutatingadmissionpolicies/{name}", rule)
            c.api.apply(f"{API}/mutatingadmissionpolicybindings/{name}", binding)

    def check(self, c: Cluster) -> list[str]:
        missing = [n for n in (POLICY, NO_PULLS) if c.api.get(f"{API}/mutatingadmissionpolicybindings/{n}")[0] != 200]
        return [f"the admission policy {n} is missing" for n in missing]

    def stop(self, c: Cluster) -> None:
        """Its objects go with etcd's data."""
