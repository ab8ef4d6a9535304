"""How meshstack generates the credentials it owns (Grafana's admin password, Kiali's signing key)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from meshstack.model.base import Model


class SecretGenerator(StrEnum):
    """random: pulumi-random's RandomPassword (needs the ``pulumi-resource-random`` plugin).
    builtin: meshstack's own dynamic resource drawing from Python's ``secrets`` module; needs no
    provider plugin, for air-gapped engines that cannot install pulumi-random."""

    RANDOM = "random"
    BUILTIN = "builtin"


class SecretsConfig(Model):
    """The ``meshstack:secrets`` section. Either way a value is generated once, on create, is a
    Pulumi secret from birth (encrypted in state, redacted in previews and renders) and only
    reaches the cluster inside a Kubernetes Secret."""

    generator: SecretGenerator = Field(
        SecretGenerator.RANDOM,
        strict=False,
        description="Who generates credentials: random (pulumi-random) or builtin (no provider plugin needed).",
    )
