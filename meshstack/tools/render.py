"""Offline render: evaluate the real program of a stack under Pulumi mocks and write what it
would create — no cluster, no pulumi CLI.

    meshstack render --stack dev --out out/dev        (make render STACK=dev OUT=out/dev)

Writes, in ``--out``:

* ``manifests.yaml`` — every Kubernetes object the stack creates directly, one per document, as
  it would be sent (apiVersion/kind/metadata/spec …), in registration order;
* ``charts.yaml`` — every Helm chart install: chart, repository, version, namespace, values;
* ``resources.yaml`` — every other resource (providers, random values, components) with its
  parent, so the whole tree is reviewable;
* ``summary.txt`` — counts per kind.

Secret values (Pulumi secrets, ``secure:`` config) are written as ``[secret]``, never in
plaintext. Bad config exits with status 2 and the list of problems.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from meshstack.tools.recording import REDACTED, Recording, Registered, redact


class _Dumper(yaml.SafeDumper):
    """Block-style YAML; multi-line strings (dashboards, configs) as literal blocks."""


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def dump_all(docs: list[tuple[str, Any]]) -> str:
    parts = []
    for comment, doc in docs:
        text = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True)
        parts.append(f"# {comment}\n{text}" if comment else text)
    return "---\n".join(parts)


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
    inputs = redact(res.inputs)
    head = {k: inputs[k] for k in ("apiVersion", "kind", "metadata") if k in inputs}
    rest = {k: v for k, v in inputs.items() if k not in head}
    return {**head, **rest}


def chart_of(res: Registered) -> dict[str, Any]:
    inputs = redact(res.inputs)
    repo = (inputs.get("repositoryOpts") or {}).get("repo")
    return {
        "kind": "HelmChart",
        "pulumiName": res.name,
        "release": inputs.get("name", res.name),
        "namespace": inputs.get("namespace"),
        "chart": inputs.get("chart"),
        "repository": repo,
        "version": inputs.get("version"),
        "values": inputs.get("values") or {},
    }


def other_of(res: Registered) -> dict[str, Any]:
    inputs = redact(res.inputs)
    if "__provider" in inputs:  # a dynamic resource's pickled provider: code, not reviewable config
        inputs["__provider"] = "<serialized dynamic provider>"
    return {
        "type": res.type,
        "name": res.name,
        "parent": res.parent.split("::")[-1] if res.parent else None,
        "custom": res.custom,
        "inputs": inputs,
    }


def write_render(rec: Recording, out: Path) -> dict[str, int]:
    """Write the render files for ``rec`` into ``out``; returns counts per kind."""
    out.mkdir(parents=True, exist_ok=True)
    objects = rec.kubernetes_objects
    charts = rec.helm_charts
    listed = {r.urn for r in objects} | {r.urn for r in charts}
    others = [r for r in rec.resources if r.urn not in listed]
    (out / "manifests.yaml").write_text(dump_all([(f"pulumi: {r.name}", manifest_of(r)) for r in objects]))
    (out / "charts.yaml").write_text(dump_all([(f"pulumi: {r.name}", chart_of(r)) for r in charts]))
    (out / "resources.yaml").write_text(dump_all([("", other_of(r)) for r in others]))
    counts = Counter(str(r.inputs.get("kind")) for r in objects)
    counts.update({"HelmChart": len(charts)})
    lines = [
        f"stack: {rec.stack}",
        f"kubernetes objects: {len(objects)}",
        f"helm charts: {len(charts)}",
        f"all resources: {len(rec.resources)}",
        "",
    ]
    lines += [f"{n:4d}  {k}" for k, n in sorted(counts.items())]
    (out / "summary.txt").write_text("\n".join(lines) + "\n")
    return dict(counts)
