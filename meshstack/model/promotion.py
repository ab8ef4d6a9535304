"""Where a stack's release came from: the record ``meshstack promote`` writes into the target stack.

It is config like any other (``meshstack:promotion`` in the target's stack file, next to the
release it describes), so the stack's state and its history carry it, and a review of the stack
file shows which dev update and commit prod runs.
"""

from __future__ import annotations

from pydantic import Field

from meshstack.model.base import Model, Name


class Promotion(Model):
    """The source of the release this stack runs (written by ``meshstack promote``; not edited by hand)."""

    source: Name = Field(description="The stack the release was promoted from (e.g. dev).")
    update: int = Field(ge=1, description="The source stack's update that ran this release.")
    commit: str | None = Field(
        None, pattern=r"^[0-9a-f]{7,64}$", description="The commit of meshstack the source update ran, if known."
    )
    digest: str = Field(pattern=r"^sha256:[0-9a-f]{64}$", description="sha256 of the promoted release (its JSON).")
    at: str = Field(
        pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", description="When it was promoted (UTC, ISO 8601)."
    )
    mesh_version: bool = Field(False, description="Whether the mesh version was promoted with the release.")
