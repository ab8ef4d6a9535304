"""The schema validator really validates (and never silently passes)."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest

from meshstack.render.app import render_apps
from meshstack.stacks.config import parse_apps
from tests.schemas import CORE_GROUPS, KUBERNETES_VERSION, crd_schemas, validate_manifest, validate_manifests


def _manifests() -> list[dict]:
    return render_apps(parse_apps({"enabled": True, "bookinfo": {"scenario": "jason-v2", "expose": False}})).all()


def test_crds_are_available() -> None:
    keys = crd_schemas()
    for key in (
        "networking.istio.io/v1/VirtualService",
        "networking.istio.io/v1/DestinationRule",
        "security.istio.io/v1/AuthorizationPolicy",
        "gateway.networking.k8s.io/v1/HTTPRoute",
    ):
        assert key in keys


def test_rendered_bookinfo_is_valid() -> None:
    assert validate_manifests(_manifests()) == []


def test_misspelled_istio_field_is_caught() -> None:
    vs = copy.deepcopy(next(m for m in _manifests() if m["kind"] == "VirtualService"))
    vs["spec"]["http"][0]["rout"] = vs["spec"]["http"][0].pop("route")
    assert any("rout" in p for p in validate_manifest(vs))


def test_wrong_type_in_core_kind_is_caught() -> None:
    dep = copy.deepcopy(next(m for m in _manifests() if m["kind"] == "Deployment"))
    dep["spec"]["replicas"] = "two"
    assert validate_manifest(dep)


def test_core_kinds_match_kubernetes_validate() -> None:
    """The cached core-kind validators report what ``kubernetes_validate.validate`` reports."""
    for manifest in _manifests():
        if manifest["apiVersion"] not in CORE_GROUPS:
            continue
        broken = copy.deepcopy(manifest)
        broken["spec" if "spec" in broken else "metadata"]["bogusField"] = 1
        assert validate_manifest(manifest) == []
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        with pytest.raises(kubernetes_validate.ValidationError) as exc:
            kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
        assert validate_manifest(broken) == [
            f"{manifest['kind']}/{manifest['metadata']['name']}: {'.'.join(map(str, exc.value.path))}: "
            f"{exc.value.message}"
        ]


def test_unknown_kind_is_an_error_not_a_pass() -> None:
    assert validate_manifest({"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "x"}})
