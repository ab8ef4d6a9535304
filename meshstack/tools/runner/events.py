"""What a rollout runner reports: one event per thing that happens, to every sink at once —
JSON lines for pipelines, a live view for people, a webhook for chat or an incident tool."""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO


@dataclass
class Event:
    #: started, applied, read-back, waiting, metric, no-data, check, paused, promoted, rolled-back,
    #: cleaned-up, resumed, aborted, deadline, error
    type: str
    stack: str
    app: str
    phase: str
    step: str
    weights: dict[str, int] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)
    time: float = field(default_factory=time.time)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


Sink = Callable[[Event], None]


def json_lines(stream: TextIO = sys.stdout) -> Sink:
    def emit(event: Event) -> None:
        stream.write(event.to_json() + "\n")
        stream.flush()

    return emit


def webhook(url: str, timeout: float = 5.0, errors: TextIO = sys.stderr) -> Sink:
    """POST each event as JSON to ``url``; a webhook that fails is reported, never fatal."""

    def emit(event: Event) -> None:
        request = urllib.request.Request(
            url, data=event.to_json().encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout):
                pass
        except OSError as err:
            errors.write(f"meshstack: webhook {url}: {err}\n")

    return emit


def fan_out(*sinks: Sink) -> Sink:
    def emit(event: Event) -> None:
        for sink in sinks:
            sink(event)

    return emit
