"""The program's whole stack config, as the engine (or the mocks) handed it over.

``pulumi.Config(namespace).get(key)`` reads one key at a time and cannot list them, so a program
could not tell a misspelt key (``meshstack:colour``) from an unset one. The runtime keeps every
key in ``pulumi.runtime.config.CONFIG`` (a context variable: set by the language host, or by
``pulumi.runtime.set_all_config`` under mocks) and, from older engines, in ``$PULUMI_CONFIG``
(``pulumi.runtime.get_config_env``, public). :data:`meshstack._sdk.CONTRACTS` records the checked
releases and the upstream report.
"""

from __future__ import annotations

from typing import Any

from pulumi.runtime import config as _config
from pulumi.runtime import get_config_env


def all_config() -> dict[str, Any]:
    """Every ``namespace:key`` of this program's config, values as the engine gives them (strings,
    objects JSON-encoded)."""
    return {**get_config_env(), **_config.CONFIG.get()}
