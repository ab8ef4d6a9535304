"""Offline render: what a stack's program would create, evaluated under Pulumi mocks — no cluster,
no pulumi CLI — written for review, in canonical form (:mod:`meshstack.tools.canonical`).

    meshstack render --stack dev --out out/dev        (make render STACK=dev OUT=out/dev)

Writes, in ``--out``:

* ``manifests.yaml`` — every Kubernetes object the stack creates, one per document: the objects
  the program registers (``# pulumi: <resource name>``) and those the provider renders for its
  Helm charts and YAML config groups (``# chart: <chart resource>``, ``# yaml: <config group>``;
  :mod:`meshstack.tools.charts`), as they would be sent, in install order;
* ``charts.yaml`` — every Helm chart install: chart, repository, version, namespace, values;
* ``resources.yaml`` — every other resource (providers, random values, components) with its
  parent, so the whole tree is reviewable;
* ``summary.txt`` — counts per kind.

The same inputs give byte-identical files. Secret values (Pulumi secrets, ``secure:`` config, a
Secret's data) are written as ``[secret]``, never in plaintext.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

from meshstack.tools.canonical import apply_order, canonical, dump_all, load_all
from meshstack.tools.charts import CHART_TYPE, ProviderObject
from meshstack.tools.recording import REDACTED, Recording, Registered, redact

FILES = ("manifests.yaml", "charts.yaml", "resources.yaml", "summary.txt")

#: What :func:`with_placeholder_secrets` puts where a secret was (base64 of ``redacted``: valid in a
#: Secret's ``data`` and ``stringData`` alike).
SECRET_PLACEHOLDER_VALUE = "cmVkYWN0ZWQ="


def with_placeholder_secrets(value: Any) -> Any:
    """A render for tools that read structure, not contents (Checkov, ``kubectl apply``): every
    redacted secret replaced by :data:`SECRET_PLACEHOLDER_VALUE`."""
    if value == REDACTED:
        return SECRET_PLACEHOLDER_VALUE
    if isinstance(value, dict):
        return {k: with_placeholder_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [with_placeholder_secrets(v) for v in value]
    return value


def manifest_of(res: Registered) -> dict[str, Any]:
    """The object as it would be sent to the API server."""
    manifest: dict[str, Any] = canonical(redact(res.inputs))
    return manifest


def chart_of(res: Registered) -> dict[str, Any]:
    inputs = redact(res.inputs)
    repo = (inputs.get("repositoryOpts") or {}).get("repo")
    chart: dict[str, Any] = canonical(
        {
            "kind": "HelmChart",
            "pulumiName": res.name,
            "release": inputs.get("name", res.name),
            "namespace": inputs.get("namespace"),
            "chart": inputs.get("chart"),
            "repository": repo,
            "version": inputs.get("version"),
            "values": inputs.get("values") or {},
        }
    )
    return chart


def other_of(res: Registered) -> dict[str, Any]:
    inputs = redact(res.inputs)
    if "__provider" in inputs:  # a dynamic resource's pickled provider: code, not reviewable config
        inputs["__provider"] = "<serialized dynamic provider>"
    other: dict[str, Any] = canonical(
        {
            "type": res.type,
            "name": res.name,
            "parent": res.parent.split("::")[-1] if res.parent else None,
            "custom": res.custom,
            "inputs": inputs,
        }
    )
    return other


def _source(obj: ProviderObject) -> str:
    label = "chart" if obj.component.type == CHART_TYPE else "yaml"
    return f"{label}: {obj.component.name}"


def documents(rec: Recording, expanded: list[ProviderObject] | None) -> list[tuple[str, dict[str, Any]]]:
    """Every Kubernetes object of the render as (comment naming where it comes from, manifest),
    in canonical order; ``expanded`` None: the program's own objects only (``--no-charts``)."""
    docs = [(f"pulumi: {r.name}", manifest_of(r)) for r in rec.kubernetes_objects]
    docs += [(_source(o), canonical(o.manifest)) for o in expanded or []]
    # The last key only breaks a tie between two copies of one object (a chart rendering it twice).
    return sorted(docs, key=lambda doc: (apply_order(doc[1]), doc[0], json.dumps(doc[1], sort_keys=True)))


def read_manifests(directory: Path) -> list[dict[str, Any]]:
    """The objects of a render directory's ``manifests.yaml``."""
    path = directory / "manifests.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{directory} is not a render: no manifests.yaml (meshstack render --out writes one)")
    return [doc for doc in load_all(path.read_text()) if isinstance(doc, dict)]


def write_render(rec: Recording, out: Path, expanded: list[ProviderObject] | None, project: str) -> dict[str, str]:
    """Write the render files for ``rec`` into ``out`` (``expanded``: the objects the provider
    renders, None for ``--no-charts``); returns each file's sha256."""
    out.mkdir(parents=True, exist_ok=True)
    objects = documents(rec, expanded)
    charts = sorted(rec.helm_charts, key=lambda r: (r.name, r.urn))
    listed = {r.urn for r in rec.kubernetes_objects} | {r.urn for r in charts}
    others = sorted((r for r in rec.resources if r.urn not in listed), key=lambda r: (r.type, r.name, r.urn))
    counts = Counter(str(m.get("kind")) for _, m in objects)
    counts.update({"HelmChart": len(charts)})
    components = {o.component.urn for o in expanded or []}
    provider_line = (
        f"  rendered by the provider (charts, config groups): {len(expanded)} from {len(components)} components"
        if expanded is not None
        else "  rendered by the provider (charts, config groups): not rendered (--no-charts)"
    )
    lines = [
        f"project: {project}",
        f"stack: {rec.stack}",
        f"kubernetes objects: {len(objects)}",
        f"  created by the program: {len(rec.kubernetes_objects)}",
        provider_line,
        f"helm charts: {len(charts)}",
        f"all resources: {len(rec.resources)}",
        "",
        *(f"{n:4d}  {k}" for k, n in sorted(counts.items())),
    ]
    texts = {
        "manifests.yaml": dump_all(objects),
        "charts.yaml": dump_all([(f"pulumi: {r.name}", chart_of(r)) for r in charts]),
        "resources.yaml": dump_all([("", other_of(r)) for r in others]),
        "summary.txt": "\n".join(lines) + "\n",
    }
    for name, text in texts.items():
        (out / name).write_text(text)
    return {name: hashlib.sha256(text.encode()).hexdigest() for name, text in texts.items()}


def digest(hashes: dict[str, str]) -> str:
    """One sha256 for a whole render: of its files' ``sha256sum``-style lines, in :data:`FILES` order."""
    return hashlib.sha256("".join(f"{hashes[name]}  {name}\n" for name in FILES).encode()).hexdigest()
