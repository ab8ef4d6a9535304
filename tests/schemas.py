"""Real schema validation of rendered manifests (tests, fuzzing, ``tools/render.py``).

* Core kinds: ``kubernetes_validate`` (upstream OpenAPI, strict: unknown fields are errors) at
  :data:`KUBERNETES_VERSION`.
* Istio and Gateway API kinds: the served version's ``openAPIV3Schema`` of the upstream CRDs,
  checked with ``jsonschema``; objects that declare ``properties`` but no
  ``additionalProperties`` are closed (like kubectl's strict field validation), so a misspelled
  field fails instead of being pruned by the API server. CEL rules are not evaluated.

CRDs come from Go modules through ``go mod download`` (Istio: ``istio.io/api``
@ :data:`~meshstack.versions.ISTIO_API_SCHEMA_VERSION`; Gateway API: ``sigs.k8s.io/gateway-api``
@ :data:`~meshstack.versions.GATEWAY_API_VERSION`, standard channel) and are cached as JSON under
``$MESHSTACK_SCHEMA_CACHE`` or ``~/.cache/meshstack/schemas``. If they cannot be obtained,
:class:`SchemaUnavailable` is raised: validation never silently passes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml
from referencing import Registry, Resource

from meshstack.versions import GATEWAY_API_VERSION, ISTIO_API_SCHEMA_VERSION

KUBERNETES_VERSION = "1.34.0"
CORE_GROUPS = {"v1", "apps/v1", "policy/v1", "autoscaling/v2", "batch/v1", "rbac.authorization.k8s.io/v1"}


class SchemaUnavailable(RuntimeError):
    """The CRD schemas could not be obtained (no ``go``, no module proxy, bad cache)."""


def cache_dir() -> Path:
    root = os.environ.get("MESHSTACK_SCHEMA_CACHE") or str(Path.home() / ".cache" / "meshstack" / "schemas")
    return Path(root) / f"istio-{ISTIO_API_SCHEMA_VERSION}_gateway-api-{GATEWAY_API_VERSION}"


def _go_download(module: str, version: str) -> Path:
    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if go is None:
        raise SchemaUnavailable(f"cannot fetch {module}@{version}: the go command is not installed")
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GO111MODULE": "on"}
    proc = subprocess.run(
        [go, "mod", "download", "-json", f"{module}@{version}"],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path.home(),
        timeout=600,
        check=False,
    )
    try:
        info = json.loads(proc.stdout or "{}")
    except ValueError:
        info = {}
    if proc.returncode != 0 or "Dir" not in info:
        detail = info.get("Error") or proc.stderr.strip() or proc.stdout.strip()
        raise SchemaUnavailable(f"go mod download {module}@{version} failed: {detail}")
    return Path(info["Dir"])


def _crd_documents(paths: Iterable[Path]) -> Iterable[dict[str, Any]]:
    for path in paths:
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                yield doc


def fetch_schemas() -> Path:
    """Download the CRDs and write one JSON schema per ``group/version/Kind``; returns the cache dir."""
    istio = _go_download("istio.io/api", ISTIO_API_SCHEMA_VERSION) / "kubernetes" / "customresourcedefinitions.gen.yaml"
    gw_dir = _go_download("sigs.k8s.io/gateway-api", GATEWAY_API_VERSION) / "config" / "crd" / "standard"
    files = [istio, *sorted(gw_dir.glob("gateway.networking.k8s.io_*.yaml"))]
    for f in files:
        if not f.exists():
            raise SchemaUnavailable(f"expected CRD file missing from the module: {f}")
    index: dict[str, dict[str, Any]] = {}
    for crd in _crd_documents(files):
        spec = crd["spec"]
        for version in spec.get("versions", []):
            schema = (version.get("schema") or {}).get("openAPIV3Schema")
            if version.get("served") and schema:
                index[f"{spec['group']}/{version['name']}/{spec['names']['kind']}"] = schema
    if not index:
        raise SchemaUnavailable("no CRD schemas found in the downloaded modules")
    target = cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / "crds.json.tmp"
    tmp.write_text(json.dumps(index, sort_keys=True))
    tmp.replace(target / "crds.json")
    return target


@cache
def crd_schemas() -> dict[str, dict[str, Any]]:
    """``group/version/Kind`` → strict JSON schema, fetching the CRDs once if not cached."""
    path = cache_dir() / "crds.json"
    if not path.exists():
        fetch_schemas()
    try:
        raw: dict[str, dict[str, Any]] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SchemaUnavailable(f"unreadable schema cache {path}: {exc}") from exc
    out = {}
    for key, schema in raw.items():
        props = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, **schema.get("properties", {})}
        props.pop("metadata", None)
        out[key] = _close({**schema, "properties": props})
    return out


def _close(node: Any) -> Any:
    """Copy of a structural schema with objects closed to unknown fields."""
    if isinstance(node, list):
        return [_close(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _close(v) for k, v in node.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@cache
def _validator(key: str) -> Any:
    schema = crd_schemas().get(key)
    if schema is None:
        return None
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    return cls(schema)


@cache
def _core_validator(api_version: str, kind: str) -> Any:
    """``kubernetes_validate``'s strict validator for a core kind, built once (its ``validate``
    re-reads the schema and the large definitions file on every call)."""
    utils = kubernetes_validate.utils
    wanted = utils.major_minor(KUBERNETES_VERSION)
    version = [v for v in utils.all_versions() if utils.major_minor(v) <= wanted][-1]
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema_dir = f"v{version}-local-strict"
    schema = utils.schema_contents(f"kubernetes-json-schema/{schema_dir}/{kind.lower()}-{group}.json", version)
    definitions = utils.schema_contents(f"kubernetes-json-schema/{schema_dir}/_definitions.json", version)
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.Draft202012Validator(schema, registry=registry)


def validate_manifest(manifest: dict[str, Any]) -> list[str]:
    """Problems of one manifest (empty when valid); raises SchemaUnavailable, never skips."""
    api_version = str(manifest.get("apiVersion", ""))
    kind = str(manifest.get("kind", ""))
    name = f"{kind}/{(manifest.get('metadata') or {}).get('name', '?')}"
    if api_version in CORE_GROUPS:
        error = jsonschema.exceptions.best_match(_core_validator(api_version, kind).iter_errors(manifest))
        if error is not None:
            return [f"{name}: {'.'.join(map(str, error.path))}: {error.message}"]
        return []
    group, _, version = api_version.rpartition("/")
    validator = _validator(f"{group}/{version}/{kind}")
    if validator is None:
        return [f"{name}: no schema for {api_version} {kind}"]
    problems = []
    meta = manifest.get("metadata") or {}
    if not isinstance(meta.get("name"), str) or not meta["name"]:
        problems.append(f"{name}: metadata.name is required")
    body = {k: v for k, v in manifest.items() if k != "metadata"}
    for err in sorted(validator.iter_errors(body), key=lambda e: list(e.path)):
        problems.append(f"{name}: {'.'.join(map(str, err.path)) or '<root>'}: {err.message}")
    return problems


def validate_manifests(manifests: Iterable[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for manifest in manifests:
        out.extend(validate_manifest(manifest))
    return out


def main() -> int:
    """``python -m tests.schemas``: fetch the CRD schemas now (tests do it on first use)."""
    try:
        path = fetch_schemas()
    except SchemaUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{len(crd_schemas())} CRD schemas cached in {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
