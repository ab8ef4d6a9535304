"""The canonical form of a render (meshstack/tools/canonical.py): one key order, one document order, one text."""

from __future__ import annotations

import random
from typing import Any

from meshstack.tools.canonical import apply_order, canonical, dump, dump_all, load_all, object_key


def _reversed_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reversed_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed_keys(v) for v in value]
    return value


DEPLOYMENT = {
    "kind": "Deployment",
    "apiVersion": "apps/v1",
    "metadata": {"namespace": "istio-system", "name": "istiod", "labels": {"b": "2", "a": "1"}},
    "spec": {"template": {"spec": {"containers": [{"name": "z", "image": "i"}, {"name": "a", "image": "j"}]}}},
}


def test_keys_are_sorted_at_every_level_and_lists_keep_their_order() -> None:
    out = canonical(DEPLOYMENT)
    assert list(out) == ["apiVersion", "kind", "metadata", "spec"]
    assert list(out["metadata"]["labels"]) == ["a", "b"]
    containers = out["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["z", "a"]  # list order is meaningful
    assert list(containers[0]) == ["image", "name"]


def test_the_text_does_not_depend_on_key_order() -> None:
    assert dump(DEPLOYMENT) == dump(_reversed_keys(DEPLOYMENT)) == dump(canonical(DEPLOYMENT))
    assert "containers:\n      - image: i\n        name: z\n      - image: j\n" in dump(DEPLOYMENT)


def _obj(api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": api_version, "kind": kind, "metadata": meta}


def test_documents_sort_in_install_order_then_namespace_and_name() -> None:
    expected = [
        _obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "virtualservices.networking.istio.io"),
        _obj("v1", "Namespace", "bookinfo"),
        _obj("v1", "Namespace", "istio-system"),
        _obj("v1", "ServiceAccount", "istiod", "istio-system"),
        _obj("v1", "ConfigMap", "istio", "istio-system"),
        _obj("rbac.authorization.k8s.io/v1", "ClusterRole", "istiod"),
        _obj("v1", "Service", "reviews", "bookinfo"),
        _obj("v1", "Service", "istiod", "istio-system"),
        _obj("apps/v1", "Deployment", "istiod", "istio-system"),
        _obj("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", "istio-sidecar-injector"),
        _obj("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "istiod-default-validator"),
        # Every other kind after the built-in ones, by group and kind.
        _obj("networking.istio.io/v1", "DestinationRule", "reviews", "bookinfo"),
        _obj("networking.istio.io/v1", "VirtualService", "reviews", "bookinfo"),
        _obj("security.istio.io/v1", "PeerAuthentication", "default", "istio-system"),
    ]
    shuffled = expected[:]
    random.Random(7).shuffle(shuffled)
    assert sorted(shuffled, key=apply_order) == expected


def test_object_key_names_cluster_scoped_objects_without_a_namespace() -> None:
    assert object_key(_obj("v1", "Namespace", "x")) == ("v1", "Namespace", "", "x")
    assert object_key(DEPLOYMENT) == ("apps/v1", "Deployment", "istio-system", "istiod")


def test_dump_all_heads_each_document_with_its_comment_and_load_all_reads_it_back() -> None:
    text = dump_all([("chart: mesh-istiod", {"b": 1, "a": "x\ny\n"}), ("", {"c": "2026-01-01"})])
    assert text == "# chart: mesh-istiod\na: |\n  x\n  y\nb: 1\n---\nc: '2026-01-01'\n"
    # A date-like scalar stays a string, as the API server's JSON has it.
    assert load_all(text) == [{"a": "x\ny\n", "b": 1}, {"c": "2026-01-01"}]
    assert load_all("a: 2026-01-01\n---\n---\n") == [{"a": "2026-01-01"}]
