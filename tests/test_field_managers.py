"""Which managedFields entries ``recover`` removes (meshstack.tools.engine.field_managers), on plain data."""

from __future__ import annotations

from typing import Any

from meshstack.tools.engine.field_managers import covered, removal, stack_objects, stale

OURS, DEAD, KUBECTL = "pulumi-kubernetes-aaaa1111", "pulumi-kubernetes-dead0001", "kubectl"


def entry(manager: str, fields: dict[str, Any], operation: str = "Apply", **extra: Any) -> dict[str, Any]:
    return {"manager": manager, "operation": operation, "apiVersion": "apps/v1", "fieldsV1": fields, **extra}


SPEC = {"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {'k:{"name":"app"}': {".": {}}}}}}}


def test_covered_is_set_inclusion_of_field_paths() -> None:
    assert covered({"f:spec": {"f:replicas": {}}}, SPEC)
    assert covered(SPEC, SPEC) and covered({}, SPEC)
    assert not covered({"f:spec": {"f:paused": {}}}, SPEC)
    assert not covered({"f:metadata": {"f:labels": {}}}, SPEC)


def test_only_unrecorded_pulumi_apply_managers_whose_fields_we_own_are_stale() -> None:
    managed = [
        entry(OURS, SPEC),
        entry(DEAD, {"f:spec": {"f:replicas": {}}}),  # stale: a dead job's, all of it ours too
        entry("pulumi-kubernetes-else0001", {"f:spec": {"f:paused": {}}}),  # owns a field we do not
        entry("pulumi-kubernetes-recorded1", {"f:spec": {"f:replicas": {}}}),  # another resource of the stack
        entry(KUBECTL, {"f:spec": {"f:replicas": {}}}),  # not pulumi's
        entry("pulumi-kubernetes-upd00001", {"f:spec": {"f:replicas": {}}}, operation="Update"),
        entry(DEAD, {"f:status": {}}, subresource="status"),  # a subresource we own nothing of
    ]
    assert stale(managed, OURS, {"pulumi-kubernetes-recorded1"}) == [1]
    assert stale(managed, "pulumi-kubernetes-nothere1", set()) == []  # we own nothing here: keep all


def test_removal_tests_each_manager_and_removes_from_the_end() -> None:
    managed = [entry(OURS, SPEC), entry(DEAD, {}), entry(KUBECTL, {}), entry(DEAD, {})]
    assert removal(managed, [1, 3]) == [
        {"op": "test", "path": "/metadata/managedFields/3/manager", "value": DEAD},
        {"op": "remove", "path": "/metadata/managedFields/3"},
        {"op": "test", "path": "/metadata/managedFields/1/manager", "value": DEAD},
        {"op": "remove", "path": "/metadata/managedFields/1"},
    ]


def test_stack_objects_are_the_kubernetes_resources_with_their_manager() -> None:
    deployment = {
        "resources": [
            {"type": "pulumi:pulumi:Stack", "outputs": {"x": 1}},
            {"type": "kubernetes:helm.sh/v4:Chart", "outputs": {"resources": []}},
            {
                "type": "kubernetes:apps/v1:Deployment",
                "outputs": {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": {"name": "istiod", "namespace": "istio-system"},
                    "__fieldManager": OURS,
                },
            },
            {
                "type": "kubernetes:core/v1:Namespace",
                "outputs": {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": {"name": "bookinfo"},
                    "__fieldManager": DEAD,
                },
            },
        ]
    }
    found = [(o.kind, o.name, o.namespace, o.manager) for o in stack_objects(deployment)]
    assert found == [("Deployment", "istiod", "istio-system", OURS), ("Namespace", "bookinfo", None, DEAD)]
