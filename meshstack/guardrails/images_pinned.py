"""images-pinned: every container image names a release tag other than ``latest``, or a digest.

Also the images Istio's injector adds to every meshed pod (``istio-proxy``): the injector's values
(``global.tag``, ``global.proxy.image``) in its ConfigMap must not say ``latest``.

``image: auto`` is Istio's injection placeholder (the gateway chart's Deployment): accepted only on
a pod template marked for injection (``sidecar.istio.io/inject: "true"``), where istiod's injector
replaces it by the proxy image of its revision — which the injector check above covers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshstack.guardrails.core import (
    Resource,
    containers,
    dig,
    injector_values,
    mapping,
    pod_template_metadata,
    quoted,
    text,
)
from meshstack.image_refs import image_is_pinned

NAME = "images-pinned"
DESCRIPTION = "Every container image is pinned: a release tag other than latest, or a digest."
ALLOWED = "allowed: a release tag other than latest (repo/name:1.2.3) or a digest (repo/name@sha256:…)"
INJECTION_PLACEHOLDER = "auto"


def marked_for_injection(res: Resource) -> bool:
    meta = pod_template_metadata(res)
    for where in (mapping(meta.get("labels")), mapping(meta.get("annotations"))):
        if text(where.get("sidecar.istio.io/inject")) == "true":
            return True
    return False


def check(res: Resource) -> list[str]:
    out: list[str] = []
    for c in containers(res):
        image = text(c.spec.get("image"))
        if image is None:
            continue  # not known during a preview, or not a string: nothing to decide on
        if image == INJECTION_PLACEHOLDER and marked_for_injection(res):
            continue
        if not image_is_pinned(image):
            out.append(f"{res.ref}: {c.at} image {quoted(image)} is not pinned; {ALLOWED}")
    if (values := injector_values(res)) is not None:
        out += _injected_images(res, values)
    return out


def _injected_images(res: Resource, values: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    tag = dig(values, "global", "tag")
    if isinstance(tag, str) and tag == "latest":
        out.append(
            f'{res.ref}: data["values"] global.tag is "latest": every injected istio-proxy would run an unpinned '
            "image; allowed: the release tag of the chart (unset) or another release tag"
        )
    for key in ("proxy", "proxy_init"):
        image = dig(values, "global", key, "image")
        if isinstance(image, str) and ":" in image.rsplit("/", 1)[-1] and not image_is_pinned(image):
            out.append(f'{res.ref}: data["values"] global.{key}.image {quoted(image)} is not pinned; {ALLOWED}')
    return out
