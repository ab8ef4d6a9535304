"""Samples a stack file can switch on under ``meshstack:apps.<sample>``, outside the core schema.

A sample is built on the public API only: a config model and a function from it to apps
(:class:`~meshstack.model.app.AppSpec` by Service name). The stack-config reader hands them to
the apps section's validation (:class:`~meshstack.model.apps.Sample`), which expands them into
typed apps once and reports a problem of a generated app at the sample's own key.
"""

from __future__ import annotations

from meshstack.apps.bookinfo import BookinfoConfig, bookinfo_apps
from meshstack.model.apps import Sample

SAMPLES: dict[str, Sample] = {
    "bookinfo": Sample(BookinfoConfig, bookinfo_apps, blame="scenario"),
}
