"""The real validators, run on rendered manifests: ``istioctl validate``, ``istioctl analyze``
(offline, every namespace) and the Kubernetes API server's server-side dry-run.

    errors = istioctl_validate(manifests)                  # ["VirtualService/ns/name: message", …]
    messages = istioctl_analyze(manifests)                 # [{"code", "level", "message", "origin", …}]
    install_crds(kubeconfig, kubectl)                      # Istio + Gateway API CRDs, Established
    rejections = server_dry_run(manifests, kubeconfig, kubectl)

Every call writes the objects as one JSON document each (JSON is YAML; no YAML 1.1/1.2 dumper
ambiguity such as ``1e3`` or ``on`` can change a value on the way) and makes one tool call per
batch. Tools come from ``scripts/bootstrap.sh --print-bin`` (or ``$MESHSTACK_BIN``); a missing tool
raises :class:`ToolMissing` — the callers treat that as a failure, never a skip. A tool that
cannot read its input raises :class:`ToolFailed` instead of reporting nothing.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: How meshstack.testing shows a secret in a recording; the API server gets a dummy instead.
REDACTED = "[secret]"
#: A dummy secret value that is valid both as a string and as base64 (``data:`` fields).
DUMMY_SECRET = "ZHVtbXktc2VjcmV0"
FIELD_MANAGER = "meshstack-check"


class ToolMissing(RuntimeError):
    """A validator binary (istioctl, kubectl) or a CRD source is not where it should be."""


class ToolFailed(RuntimeError):
    """A validator could not process its input (so its silence would prove nothing)."""


# --- tools ---------------------------------------------------------------------------------------


@functools.cache
def tools_bin() -> Path:
    """The directory holding istioctl, kubectl, kube-apiserver … (``$MESHSTACK_BIN`` or bootstrap's)."""
    env = os.environ.get("MESHSTACK_BIN")
    if env:
        path = Path(env)
    else:
        try:
            out = subprocess.run(
                ["bash", str(ROOT / "scripts" / "bootstrap.sh"), "--print-bin"],
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            ).stdout.strip()
        except (subprocess.SubprocessError, OSError) as err:
            raise ToolMissing(f"scripts/bootstrap.sh --print-bin failed: {err}") from err
        path = Path(out)
    if not path.is_dir():
        raise ToolMissing(f"tools directory {path} does not exist; run scripts/bootstrap.sh")
    return path


def tool(name: str) -> str:
    """The path of a tool in :func:`tools_bin`; raises ToolMissing when it is absent."""
    path = tools_bin() / name
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise ToolMissing(f"{name} not found at {path}; run scripts/bootstrap.sh")
    return str(path)


def _offline_env() -> dict[str, str]:
    """istioctl must not consult whatever cluster the ambient kubeconfig points at."""
    return {**os.environ, "KUBECONFIG": os.devnull}


# --- manifests -----------------------------------------------------------------------------------


def object_id(manifest: Mapping[str, Any]) -> str:
    """``Kind/namespace/name`` (``Kind//name`` for cluster-scoped objects), as istioctl writes it."""
    meta = manifest.get("metadata") or {}
    return f"{manifest.get('kind')}/{meta.get('namespace') or ''}/{meta.get('name')}"


def to_documents(manifests: Iterable[Mapping[str, Any]]) -> str:
    """A YAML stream with one JSON document per object."""
    return "".join(f"---\n{json.dumps(m, ensure_ascii=False, sort_keys=False)}\n" for m in manifests)


def without_secrets(value: Any) -> Any:
    """``value`` with every redacted secret replaced by :data:`DUMMY_SECRET`."""
    if isinstance(value, str):
        return DUMMY_SECRET if value == REDACTED else value
    if isinstance(value, Mapping):
        return {k: without_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_secrets(v) for v in value]
    return value


def _bullets(text: str, header: str) -> list[str]:
    """The ``\\t* item`` lines following the first line that contains ``header``."""
    out: list[str] = []
    inside = False
    for line in text.splitlines():
        if header in line:
            inside = True
            continue
        if inside:
            if line.startswith("\t* "):
                out.append(line[3:].strip())
            elif line.strip() == "":
                if out:
                    inside = False
            else:
                inside = False
    return out


# --- istioctl validate ---------------------------------------------------------------------------


@dataclass
class ValidateReport:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def istioctl_validate_report(manifests: Sequence[Mapping[str, Any]]) -> ValidateReport:
    """``istioctl validate -f`` on all of ``manifests`` at once: error and warning lines
    (``Kind/namespace/name: message``)."""
    istioctl = tool("istioctl")
    if not manifests:
        return ValidateReport()
    with tempfile.TemporaryDirectory(prefix="meshstack-validate-") as tmp:
        path = Path(tmp) / "manifests.yaml"
        path.write_text(to_documents(manifests))
        res = subprocess.run(
            [istioctl, "validate", "-f", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            env=_offline_env(),
            check=False,
        )
    report = ValidateReport(warnings=_bullets(res.stderr, "has warnings"))
    if res.returncode != 0:
        report.errors = _bullets(res.stderr, "occurred:") or [res.stderr.strip() or f"exit {res.returncode}"]
        if any(e.startswith("failed to decode file") for e in report.errors):
            raise ToolFailed("istioctl validate could not read its input:\n" + res.stderr)
    return report


def istioctl_validate(manifests: Sequence[Mapping[str, Any]]) -> list[str]:
    """The error lines of ``istioctl validate`` (empty when every object is valid)."""
    return istioctl_validate_report(manifests).errors


# --- istioctl analyze ----------------------------------------------------------------------------


def istioctl_analyze(manifests: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """``istioctl analyze --use-kube=false -A -o json`` on all of ``manifests`` at once: every
    message (``code``, ``level`` Error/Warning/Info, ``message``, ``origin`` such as
    ``VirtualService bookinfo/reviews``, ``reference``)."""
    istioctl = tool("istioctl")
    if not manifests:
        return []
    with tempfile.TemporaryDirectory(prefix="meshstack-analyze-") as tmp:
        path = Path(tmp) / "manifests.yaml"
        path.write_text(to_documents(manifests))
        res = subprocess.run(
            [istioctl, "analyze", "--use-kube=false", "-A", "-o", "json", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            env=_offline_env(),
            check=False,
        )
    if "could not be parsed" in res.stderr or "Error(s) adding files" in res.stderr:
        raise ToolFailed("istioctl analyze could not read its input:\n" + res.stderr)
    try:
        messages = json.loads(res.stdout)
    except ValueError as err:
        raise ToolFailed(
            f"istioctl analyze (exit {res.returncode}) printed no JSON:\n{res.stdout}\n{res.stderr}"
        ) from err
    if not isinstance(messages, list):
        raise ToolFailed(f"istioctl analyze printed {type(messages).__name__}, not a list: {res.stdout[:500]}")
    keys = ("code", "level", "message", "origin", "reference")
    return [{k: str(m.get(k, "")) for k in keys} for m in messages]


def analyze_errors(messages: Iterable[Mapping[str, str]]) -> list[str]:
    """The Error-level analyze messages as lines (``IST0101 VirtualService ns/name: message``)."""
    return [f"{m['code']} {m['origin']}: {m['message']}" for m in messages if m["level"] == "Error"]


@dataclass(frozen=True, order=True)
class Finding:
    """One non-error message of a validator: an istioctl analyze Warning/Info message (``code``
    IST…) or an ``istioctl validate`` warning (``code`` ``validate``)."""

    code: str
    kind: str
    #: ``namespace/name``
    obj: str
    message: str
    level: str = "Warning"

    def __str__(self) -> str:
        return f"{self.code} {self.level} {self.kind} {self.obj}: {self.message}"


def non_errors(report: ValidateReport, messages: Iterable[Mapping[str, str]]) -> list[Finding]:
    """Every warning of ``istioctl validate`` and every Warning/Info message of ``istioctl analyze``."""
    out = []
    for line in report.warnings:
        ident, _, message = line.partition(": ")
        kind, _, obj = ident.partition("/")
        out.append(Finding("validate", kind, obj.lstrip("/"), message))
    for m in messages:
        if m["level"] == "Error":
            continue
        kind, _, obj = m["origin"].partition(" ")
        out.append(Finding(m["code"], kind, obj, m["message"], m["level"]))
    return sorted(out)


# --- the API server --------------------------------------------------------------------------------


def _kubectl(
    kubectl: str, kubeconfig: str | Path, *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [kubectl, "--kubeconfig", str(kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def ensure_namespaces(names: Iterable[str | None], kubeconfig: str | Path, kubectl: str) -> list[str]:
    """Create (for real) each namespace in ``names`` that does not exist; the API server's
    refusals (an invalid name) are returned, one line each."""
    wanted = sorted({str(n) for n in names if n})
    if not wanted:
        return []
    res = _kubectl(kubectl, kubeconfig, "get", "namespaces", "-o", "json")
    if res.returncode != 0:
        raise ToolFailed(f"kubectl get namespaces failed: {res.stderr}")
    existing = {item["metadata"]["name"] for item in json.loads(res.stdout)["items"]}
    problems = []
    for name in wanted:
        if name in existing:
            continue
        created = _kubectl(kubectl, kubeconfig, "create", "namespace", name)
        if created.returncode != 0 and "AlreadyExists" not in created.stderr:
            problems.append(f"Namespace//{name}: {created.stderr.strip()}")
    return problems


def server_dry_run(manifests: Sequence[Mapping[str, Any]], kubeconfig: str | Path, kubectl: str) -> list[str]:
    """``kubectl apply --server-side --dry-run=server`` of every object in one call; returns the
    API server's rejections, one line per rejected object (kubectl's ``Error from server
    (Invalid): <Kind>.<group> "<name>" is invalid: …``). Namespaces the objects live in are
    created for real first when missing. Secrets redacted in a recording are sent as a dummy value.
    Every object must be either applied or rejected: anything kubectl leaves out is reported too."""
    if not manifests:
        return []
    objects = [without_secrets(m) for m in manifests]
    problems = ensure_namespaces(((m.get("metadata") or {}).get("namespace") for m in objects), kubeconfig, kubectl)
    with tempfile.TemporaryDirectory(prefix="meshstack-dry-run-") as tmp:
        path = Path(tmp) / "manifests.yaml"
        path.write_text(to_documents(objects))
        res = _kubectl(
            kubectl,
            kubeconfig,
            "--cache-dir",
            str(Path(tmp) / "cache"),
            "apply",
            "--server-side",
            "--dry-run=server",
            f"--field-manager={FIELD_MANAGER}",
            "-o",
            "name",
            "-f",
            str(path),
        )
    applied = [line for line in res.stdout.splitlines() if line.strip()]
    errors = _kubectl_errors(res.stderr)
    problems += sorted(errors)
    if len(applied) + len(errors) != len(objects):
        problems.append(
            f"kubectl (exit {res.returncode}) applied {len(applied)} and rejected {len(errors)} of "
            f"{len(objects)} objects:\n{res.stdout}\n{res.stderr}"
        )
    return problems


def _kubectl_errors(stderr: str) -> list[str]:
    """Error messages in kubectl's stderr, continuation lines joined; server warnings dropped."""
    out: list[str] = []
    for line in stderr.splitlines():
        if not line.strip() or line.startswith("Warning:"):
            continue
        if line.startswith(("Error from server", "error:", "Error:", "error ")) or not out:
            out.append(line.strip())
        else:
            out[-1] += " " + line.strip()
    return out


# --- CRDs ----------------------------------------------------------------------------------------


def istio_crd_file(charts: Path | None = None) -> Path:
    """``base/files/crd-all.gen.yaml`` of the offline Istio charts (``scripts/istio_charts.sh``)."""
    if charts is None:
        res = subprocess.run(
            ["bash", str(ROOT / "scripts" / "istio_charts.sh")],
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        if res.returncode != 0 or not res.stdout.strip():
            raise ToolMissing(f"scripts/istio_charts.sh failed: {res.stderr}")
        charts = Path(res.stdout.strip().splitlines()[0])
    path = charts / "base" / "files" / "crd-all.gen.yaml"
    if not path.is_file():
        raise ToolMissing(f"Istio CRDs not found at {path}")
    return path


def gateway_api_crd_dir() -> Path:
    """The Gateway API CRDs (v1.4.0 standard channel) that bootstrap.sh assembled."""
    path = (tools_bin() / ".gateway-api-crds").resolve()  # kubectl does not follow a symlinked directory
    if not path.is_dir() or not any(path.glob("*.yaml")):
        raise ToolMissing(f"Gateway API CRDs not found in {path}")
    return path


def install_crds(kubeconfig: str | Path, kubectl: str, charts: Path | None = None, timeout: float = 180) -> list[str]:
    """Apply the Istio and Gateway API CRDs (server-side) and wait until every one is
    Established; returns their names."""
    istio = istio_crd_file(charts)
    gateway = gateway_api_crd_dir()
    res = _kubectl(
        kubectl,
        kubeconfig,
        "apply",
        "--server-side",
        "--force-conflicts",
        f"--field-manager={FIELD_MANAGER}",
        "-o",
        "name",
        "-f",
        str(istio),
        "-f",
        str(gateway),
    )
    if res.returncode != 0:
        raise ToolFailed(f"installing CRDs failed: {res.stderr}")
    names = sorted(line.split("/", 1)[1] for line in res.stdout.split() if line.startswith("customresourcedefinition"))
    if not names:
        raise ToolFailed(f"no CRD was applied:\n{res.stdout}\n{res.stderr}")
    deadline = time.monotonic() + timeout
    while True:
        waited = _kubectl(
            kubectl,
            kubeconfig,
            "wait",
            "--for=condition=Established",
            "--timeout=30s",
            *(f"crd/{n}" for n in names),
            timeout=60,
        )
        if waited.returncode == 0:
            return names
        if time.monotonic() > deadline:
            raise ToolFailed(f"CRDs not Established within {timeout}s: {waited.stderr}")
        time.sleep(1)
