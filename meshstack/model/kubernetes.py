"""How the stack reaches its cluster (the ``meshstack:kubernetes`` section)."""

from __future__ import annotations

from pydantic import Field

from meshstack.model.base import Model


class KubernetesConfig(Model):
    """Which cluster to deploy to. Unset fields fall back to the ambient kubeconfig
    (``$KUBECONFIG`` or ``~/.kube/config``) and its current context."""

    kubeconfig: str | None = Field(
        None, description="Path to a kubeconfig file. Unset: $KUBECONFIG, then ~/.kube/config."
    )
    context: str | None = Field(None, description="kubeconfig context to use. Unset: the current context.")
    delete_unreachable: bool = Field(
        False,
        description="Drop resources of an unreachable cluster from state on refresh (for clusters deleted out of band).",
    )
