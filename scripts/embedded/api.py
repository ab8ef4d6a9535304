"""A small client of the cluster's API server (admin certificate), for the parts that create
objects and wait for them. Every call is bounded by a timeout."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


class Api:
    def __init__(self, pki: Path, server: str) -> None:
        self.base = server
        ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        ctx.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
        self.ctx = ctx

    def request(
        self, method: str, path: str, body: Any = None, timeout: float = 10.0, content_type: str = "application/json"
    ) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"Content-Type": content_type, "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=timeout) as r:
                raw, code = r.read(), r.status
        except urllib.error.HTTPError as e:
            raw, code = e.read(), e.code
        try:
            return code, json.loads(raw) if raw else None
        except ValueError:
            return code, raw.decode(errors="replace")

    def get(self, path: str) -> tuple[int, Any]:
        return self.request("GET", path)

    def create(self, path: str, obj: dict[str, Any]) -> None:
        """POST ``obj`` to the collection ``path``; an object that exists already is fine."""
        code, body = self.request("POST", path, obj)
        if code not in (200, 201, 409):
            name = obj.get("metadata", {}).get("name")
            raise RuntimeError(f"creating {obj.get('kind')} {name}: HTTP {code}: {body}")

    def apply(self, path: str, obj: dict[str, Any], manager: str = "meshstack-embedded") -> None:
        """Server-side apply ``obj`` at its own ``path`` (…/namespaces/ns/kind/name)."""
        code, body = self.request(
            "PATCH", f"{path}?fieldManager={manager}&force=true", obj, content_type="application/apply-patch+yaml"
        )
        if code not in (200, 201):
            raise RuntimeError(f"applying {obj.get('kind')} {obj.get('metadata', {}).get('name')}: HTTP {code}: {body}")


def node_ready(node: dict[str, Any]) -> bool:
    conditions = node.get("status", {}).get("conditions", []) or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
