"""Object-level differences between two renders (meshstack/tools/manifest_diff.py, ``meshstack diff``)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from meshstack.tools.manifest_diff import DuplicateObject, FieldChange, diff_renders, diff_values, format_diff


def _deployment(replicas: int | None = 1, image: str = "pilot:1.29.1") -> dict[str, Any]:
    spec: dict[str, Any] = {
        "template": {
            "metadata": {"annotations": {"sidecar.istio.io/inject": "false"}},
            "spec": {
                "containers": [
                    {"name": "discovery", "image": image, "args": ["discovery", "--log_output_level=default:info"]}
                ]
            },
        }
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "istiod", "namespace": "istio-system"},
            "spec": spec}  # fmt: skip


PEER_AUTH = {
    "apiVersion": "security.istio.io/v1",
    "kind": "PeerAuthentication",
    "metadata": {"name": "default", "namespace": "istio-system"},
    "spec": {"mtls": {"mode": "PERMISSIVE"}},
}
HPA = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "istiod", "namespace": "istio-system"}}  # fmt: skip
NAMESPACE = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-egress"}}


def test_a_render_compared_with_itself_has_no_changes() -> None:
    objects = [_deployment(), PEER_AUTH, NAMESPACE]
    diff = diff_renders(objects, copy.deepcopy(objects[::-1]))
    assert diff.empty
    assert format_diff(diff, "a", "b").endswith("0 added, 0 removed, 0 changed\n")


def test_added_removed_and_changed_objects_with_their_field_paths() -> None:
    strict = copy.deepcopy(PEER_AUTH)
    strict["spec"]["mtls"]["mode"] = "STRICT"
    diff = diff_renders([_deployment(), PEER_AUTH, NAMESPACE], [_deployment(replicas=None), strict, HPA])
    assert diff.added == (("autoscaling/v2", "HorizontalPodAutoscaler", "istio-system", "istiod"),)
    assert diff.removed == (("v1", "Namespace", "", "istio-egress"),)
    changed = {c.key[1]: c.fields for c in diff.changed}
    assert changed["Deployment"] == (FieldChange("spec.replicas", "removed", old=1),)
    assert changed["PeerAuthentication"] == (FieldChange("spec.mtls.mode", "changed", "PERMISSIVE", "STRICT"),)
    text = format_diff(diff, "dev", "prod")
    assert "+ autoscaling/v2 HorizontalPodAutoscaler istio-system/istiod\n" in text
    assert "- v1 Namespace istio-egress\n" in text
    assert (
        '~ security.istio.io/v1 PeerAuthentication istio-system/default\n    spec.mtls.mode: "PERMISSIVE" → "STRICT"\n'
        in text
    )
    assert text.endswith("1 added, 1 removed, 2 changed\n")
    assert diff.as_json()["changed"][1] == {
        "apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication", "namespace": "istio-system",
        "name": "default", "fields": [{"path": "spec.mtls.mode", "op": "changed", "old": "PERMISSIVE", "new": "STRICT"}],
    }  # fmt: skip


def test_named_list_items_are_matched_by_name_and_other_lists_by_position() -> None:
    old = _deployment()
    new = _deployment(image="pilot:1.29.2")
    new["spec"]["template"]["spec"]["containers"][0]["args"][1] = "--log_output_level=default:debug"
    new["spec"]["template"]["spec"]["containers"].insert(0, {"name": "sidecar", "image": "proxyv2"})
    base = "spec.template.spec.containers"
    assert diff_values(old, new) == [
        FieldChange(f"{base}[name=sidecar]", "added", new={"name": "sidecar", "image": "proxyv2"}),
        FieldChange(f"{base}[name=discovery].args[1]", "changed", "--log_output_level=default:info",
                    "--log_output_level=default:debug"),
        FieldChange(f"{base}[name=discovery].image", "changed", "pilot:1.29.1", "pilot:1.29.2"),
    ]  # fmt: skip
    assert diff_values({"ports": [80, 443]}, {"ports": [80]}) == [FieldChange("ports[1]", "removed", old=443)]


def test_keys_that_are_not_identifiers_are_bracketed_and_types_count() -> None:
    old = {"metadata": {"annotations": {"pulumi.com/waitFor": "x"}}, "port": 1}
    new = {"metadata": {"annotations": {}}, "port": "1"}
    assert diff_values(old, new) == [
        FieldChange('metadata.annotations["pulumi.com/waitFor"]', "removed", old="x"),
        FieldChange("port", "changed", 1, "1"),
    ]


def test_a_multi_line_string_shows_the_lines_that_change() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio", "namespace": "istio-system"}}
    old = {**cm, "data": {"mesh": "accessLogFile: /dev/stdout\noutboundTrafficPolicy:\n  mode: ALLOW_ANY\n"}}
    new = {**cm, "data": {"mesh": "accessLogFile: /dev/stdout\noutboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n"}}
    text = format_diff(diff_renders([old], [new]), "dev", "prod")
    assert "    data.mesh:\n      -  mode: ALLOW_ANY\n      +  mode: REGISTRY_ONLY\n" in text


def test_a_render_holding_an_object_twice_is_refused() -> None:
    with pytest.raises(DuplicateObject, match="render B holds v1 Namespace istio-egress twice"):
        diff_renders([], [NAMESPACE, NAMESPACE])
