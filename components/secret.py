"""Generated credentials: pulumi-random, or a dependency-free dynamic resource.

Both are generated once (on create) and kept in state as Pulumi secrets; later runs read the
stored value, so there is no drift and no rotation unless the resource is replaced.
"""

from __future__ import annotations

import secrets
import string
import uuid
from typing import Any

import pulumi
import pulumi.dynamic
import pulumi_random as random

from meshstack.model.secrets import SecretGenerator

_ALPHABET = string.ascii_letters + string.digits


class _TokenProvider(pulumi.dynamic.ResourceProvider):
    """Creates an alphanumeric token of ``length`` with the OS's CSPRNG; replaces on a new length."""

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        length = int(props["length"])
        value = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        return pulumi.dynamic.CreateResult(id_=uuid.uuid4().hex, outs={"length": length, "value": value})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        changed = int(olds.get("length", 0)) != int(news["length"])
        return pulumi.dynamic.DiffResult(changes=changed, replaces=["length"] if changed else [])


class GeneratedToken(pulumi.dynamic.Resource):
    """A random alphanumeric token, secret from birth, generated without any provider plugin."""

    value: pulumi.Output[str]

    def __init__(self, name: str, length: int, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(
            _TokenProvider(),
            name,
            {"length": length, "value": None},
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["value"])),
        )


def generated_secret(
    name: str, length: int, generator: SecretGenerator, opts: pulumi.ResourceOptions
) -> pulumi.Output[str]:
    """An alphanumeric credential of ``length`` characters, as a Pulumi secret."""
    if generator is SecretGenerator.BUILTIN:
        return pulumi.Output.secret(GeneratedToken(name, length, opts).value)
    password = random.RandomPassword(name, length=length, special=False, opts=opts)
    return pulumi.Output.secret(password.result)
