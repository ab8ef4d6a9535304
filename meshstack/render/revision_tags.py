"""Revision tags as native MutatingWebhookConfigurations (what ``istioctl tag set`` generates).

A tag ``prod-stable → 1-30-0`` is one webhook configuration ``istio-revision-tag-prod-stable`` that
injects pods of namespaces labelled ``istio.io/rev=prod-stable`` using ``istiod-1-30-0``. Moving the
tag to ``1-31-0`` changes that one object in place (service and ``istio.io/rev`` label), keeping
its Pulumi identity. Rendered by the istiod chart's ``revisionTags`` instead, the object would move
from one chart release to another: Pulumi would create the new one (a conflict) and then delete
the old one — taking the tag with it.

istiod fills ``caBundle`` of every webhook labelled ``istio.io/rev=<its revision>``; the component
ignores that field (see components/control_plane.py).

The ``default`` tag (from ``mesh.defaultRevision``) also serves ``istio-injection=enabled``.
"""

from __future__ import annotations

from typing import Any

from meshstack.model.mesh import MeshConfig
from meshstack.model.revision import DEFAULT_TAG, InstalledRevision
from meshstack.render.kube import MANAGED_BY, Manifest

_NOT_OPTED_OUT = {"key": "sidecar.istio.io/inject", "operator": "NotIn", "values": ["false"]}


def tag_targets(mesh: MeshConfig) -> dict[str, str]:
    """Every tag to render → the revision it points at (``default`` included with named revisions)."""
    default = mesh.default_revision_name
    tags = dict(mesh.tags)
    if default is not None:
        tags[DEFAULT_TAG] = default
    return tags


def _webhook(name: str, service: str, namespace: str, ns_sel: list[Any], obj_sel: list[Any]) -> dict[str, Any]:
    return {
        "name": name,
        "clientConfig": {"service": {"name": service, "namespace": namespace, "path": "/inject", "port": 443}},
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
        "failurePolicy": "Fail",
        "reinvocationPolicy": "Never",
        "timeoutSeconds": 10,
        "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}],
        "namespaceSelector": {"matchExpressions": ns_sel},
        "objectSelector": {"matchExpressions": obj_sel},
    }


def revision_tag_webhook(mesh: MeshConfig, tag: str, revision: str) -> Manifest:
    """The injector webhook of ``tag``, served by ``revision``'s istiod."""
    service = InstalledRevision(revision, mesh.version).release
    ns = mesh.namespace
    webhooks = [
        _webhook(
            "rev.namespace.sidecar-injector.istio.io",
            service,
            ns,
            [
                {"key": "istio.io/rev", "operator": "In", "values": [tag]},
                {"key": "istio-injection", "operator": "DoesNotExist"},
            ],
            [_NOT_OPTED_OUT],
        ),
        _webhook(
            "rev.object.sidecar-injector.istio.io",
            service,
            ns,
            [
                {"key": "istio.io/rev", "operator": "DoesNotExist"},
                {"key": "istio-injection", "operator": "DoesNotExist"},
            ],
            [_NOT_OPTED_OUT, {"key": "istio.io/rev", "operator": "In", "values": [tag]}],
        ),
    ]
    if tag == DEFAULT_TAG:
        webhooks += [
            _webhook(
                "namespace.sidecar-injector.istio.io",
                service,
                ns,
                [{"key": "istio-injection", "operator": "In", "values": ["enabled"]}],
                [_NOT_OPTED_OUT],
            ),
            _webhook(
                "object.sidecar-injector.istio.io",
                service,
                ns,
                [
                    {"key": "istio-injection", "operator": "DoesNotExist"},
                    {"key": "istio.io/rev", "operator": "DoesNotExist"},
                ],
                [
                    {"key": "sidecar.istio.io/inject", "operator": "In", "values": ["true"]},
                    {"key": "istio.io/rev", "operator": "DoesNotExist"},
                ],
            ),
        ]
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {
            "name": f"istio-revision-tag-{tag}",
            "labels": {"istio.io/rev": revision, "istio.io/tag": tag, "app": "sidecar-injector", **MANAGED_BY},
        },
        "webhooks": webhooks,
    }


def revision_tag_webhooks(mesh: MeshConfig) -> dict[str, Manifest]:
    """Tag name → its webhook configuration, for every tag of the mesh."""
    return {tag: revision_tag_webhook(mesh, tag, rev) for tag, rev in tag_targets(mesh).items()}
