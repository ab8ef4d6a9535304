"""Blue/green: all traffic to the ``active`` version; ``preview`` reachable only via a match.

Switching is one config change (swap ``active`` and ``preview``); the previous version keeps
running until it is removed from ``versions``. Mutually exclusive with ``routes`` on an app.
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from meshstack.errors import fail
from meshstack.model.base import Model, Name
from meshstack.model.policy.match import Match


class BlueGreen(Model):
    active: Name = Field(description="The version serving all (unmatched) traffic.")
    preview: Name | None = Field(None, description="The standby version. Unset: no preview route.")
    preview_match: Match | None = Field(
        None, description="Requests sent to ``preview`` (e.g. a header). Unset: preview gets no traffic."
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.preview is not None and self.preview == self.active:
            raise fail("preview must differ from active", "preview")
        if self.preview_match is not None and self.preview is None:
            raise fail("previewMatch needs a preview version", "previewMatch")
        if self.preview_match is not None and self.preview_match.is_empty:
            raise fail("an empty previewMatch would send everything to preview", "previewMatch")
        return self
