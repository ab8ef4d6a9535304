"""Traffic mirroring (shadowing): copy a percentage of a route's requests to another version.

Mirrored responses are discarded. Istio: ``mirror`` + ``mirrorPercentage``; Gateway API: a
``RequestMirror`` filter with ``percent`` (whole percentages only).
"""

from __future__ import annotations

from pydantic import Field

from meshstack.model.base import Model, Name, Percent


class Mirror(Model):
    version: Name = Field(description="The version that receives the copies; must be a version of the app.")
    percentage: Percent = Field(100.0, description="Share of requests copied. Default: 100.")
