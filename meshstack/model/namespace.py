"""Workload namespaces (the ``meshstack:namespaces`` section), each with exactly one injection label.

Config form::

    namespaces:
      bookinfo: {}                          # istio.io/rev=<mesh.workloadRevision> or istio-injection=enabled
      payments: {revision: prod-canary}     # istio.io/rev=prod-canary

A namespace never carries both ``istio-injection`` and ``istio.io/rev``: ``istio-injection`` would
win and the revision label be silently ignored (istioctl analyze IST0123).
"""

from __future__ import annotations

from pydantic import Field, model_validator

from meshstack.errors import fail_all
from meshstack.model.base import LabelKey, LabelValue, Model, Name

#: The labels that choose a control plane; meshstack sets exactly one of them.
INJECTION_LABELS = ("istio-injection", "istio.io/rev")


class WorkloadNamespace(Model):
    """A namespace whose pods get sidecars from one control-plane revision."""

    revision: Name | None = Field(
        None,
        description="The revision or tag (mesh.revisions / mesh.tags) injecting this namespace: "
        "istio.io/rev=<it>. Unset: mesh.workloadRevision, and if that is unset istio-injection=enabled.",
    )
    labels: dict[LabelKey, LabelValue] = Field(
        default_factory=dict, description="Extra labels. The injection labels are set by meshstack, not here."
    )

    @model_validator(mode="after")
    def _no_injection_labels(self) -> WorkloadNamespace:
        problems = [
            (
                ["labels", key],
                "the injection label is set by meshstack from revision; a namespace carries exactly one "
                "of istio-injection or istio.io/rev (IST0123)",
            )
            for key in self.labels
            if key in INJECTION_LABELS
        ]
        if err := fail_all(problems):
            raise err
        return self
