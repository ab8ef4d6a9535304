"""Container image references: when one is pinned. No dependencies: the model's prod rules and the
guardrails (which the policy pack loads without the model) share it."""

from __future__ import annotations


def image_is_pinned(image: str) -> bool:
    """A digest (``repo@sha256:…``) or a tag other than ``latest`` on the last path segment
    (``registry:5000/name`` has no tag: the port belongs to the registry). The guardrails apply the
    same rule to every container the engine sees (``images-pinned``)."""
    if "@" in image:
        return bool(image.split("@", 1)[1])
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return False
    tag = last.rsplit(":", 1)[1]
    return bool(tag) and tag != "latest"
