"""Where the pinned Gateway API CRDs come from: the ``sigs.k8s.io/gateway-api`` Go module.

The upstream release YAML is a GitHub release asset; the same CRDs are committed in the module
under ``config/crd/<channel>/`` and the Go module proxy serves them checksum-verified (go.sum /
sumdb). So the files are taken from the local Go module cache, downloaded there with
``go mod download`` when missing. ``MESHSTACK_GATEWAY_API_DIR`` points at an unpacked copy of the
module instead (air-gapped machines, tests).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from meshstack.versions import GATEWAY_API_VERSION

MODULE = "sigs.k8s.io/gateway-api"
ENV_DIR = "MESHSTACK_GATEWAY_API_DIR"


class CrdSourceError(RuntimeError):
    """The Gateway API CRDs cannot be found or downloaded."""


def module_dir(version: str = GATEWAY_API_VERSION) -> Path:
    """The unpacked module directory (``MESHSTACK_GATEWAY_API_DIR`` or the Go module cache)."""
    if override := os.environ.get(ENV_DIR):
        return Path(override)
    go = shutil.which("go")
    if go is None:
        raise CrdSourceError(
            f"gateways.api is gatewayApi: the Gateway API {version} CRDs come from the Go module {MODULE}; "
            f"install Go or set {ENV_DIR} to an unpacked copy of the module"
        )
    try:
        done = subprocess.run(
            [go, "mod", "download", "-json", f"{MODULE}@{version}"],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
            cwd=os.path.expanduser("~"),
            env={**os.environ, "GOFLAGS": "-mod=mod", "GO111MODULE": "on"},
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
        raise CrdSourceError(f"go mod download {MODULE}@{version} failed: {err}") from None
    return Path(json.loads(done.stdout)["Dir"])


def crd_files(version: str = GATEWAY_API_VERSION, channel: str = "standard") -> list[str]:
    """Absolute paths of the CRD manifests of ``channel`` (standard: GA/beta resources only)."""
    folder = module_dir(version) / "config" / "crd" / channel
    files = sorted(str(p) for p in folder.glob("*.yaml") if p.name != "kustomization.yaml")
    if not files:
        raise CrdSourceError(f"no CRD manifests in {folder}")
    return files
