"""A small client of Prometheus's HTTP API (instant queries), for the rollout analysis."""

from __future__ import annotations

import json
import math
import urllib.parse
import urllib.request
from dataclasses import dataclass


class PrometheusError(RuntimeError):
    """Prometheus could not be asked, or refused the query."""


@dataclass(frozen=True)
class Prometheus:
    """``url``: Prometheus's base URL (``http://127.0.0.1:9090``, a port-forward of the addon …)."""

    url: str
    timeout: float = 10.0

    def query(self, promql: str, at: float | None = None) -> float | None:
        """The value of an instant query returning one number; None when it returns no sample or
        NaN (no data: e.g. no requests in the window)."""
        params = {"query": promql}
        if at is not None:
            params["time"] = f"{at:.3f}"
        url = f"{self.url.rstrip('/')}/api/v1/query?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:
                body = json.loads(response.read())
        except (OSError, ValueError) as err:
            raise PrometheusError(f"{self.url}: {err}") from None
        if body.get("status") != "success":
            raise PrometheusError(f"{self.url}: {body.get('errorType')}: {body.get('error')}")
        result = body["data"]["result"]
        if body["data"]["resultType"] == "scalar":
            value = float(result[1])
        elif not result:
            return None
        else:
            value = float(result[0]["value"][1])
        return None if math.isnan(value) else value

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url.rstrip('/')}/-/ready", timeout=self.timeout) as response:
                return bool(response.status == 200)
        except OSError:
            return False
