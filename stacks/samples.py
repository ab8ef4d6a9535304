"""Samples a stack file can switch on under ``meshstack:apps.<sample>``, outside the core schema.

A sample is built on the public API only: a config model and a function from it to apps
(:class:`~meshstack.model.app.AppSpec` by Service name). The stack-config reader expands it into
``apps.services`` and points any problem with a generated app back at the sample's own key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from meshstack.apps.bookinfo import BookinfoConfig, bookinfo_apps
from meshstack.model.app import AppSpec
from meshstack.model.base import Model


@dataclass(frozen=True)
class Sample:
    #: The model of ``apps.<key>``.
    config: type[Model]
    #: Its apps.
    expand: Callable[[Any], dict[str, AppSpec]]
    #: The key a problem of a generated app is reported at when it is not a key of ``config``.
    blame: str


SAMPLES: dict[str, Sample] = {
    "bookinfo": Sample(BookinfoConfig, bookinfo_apps, blame="scenario"),
}
