"""The objects the Kubernetes provider renders itself at apply time, rendered here the same way:
each ``helm.v4.Chart``'s templated objects and each ``yaml.v2.ConfigGroup``/``ConfigFile``'s
objects, for the offline render (``meshstack render``).

Under the mock runtime such a component is one resource with its inputs; the provider expands it
when the stack is applied. pulumi-kubernetes' Chart (``provider/pkg/provider/helm/v4/chart.go``)
runs Helm as a library — ``helm template`` with the release name, the namespace, the values,
CRDs included unless ``skipCrds``, hooks left out — then (``yaml/v2``) expands ``List`` objects,
gives namespaced objects without a namespace the chart's (else the provider's default), names
each child ``<resourcePrefix>:<namespace>/<name>`` (the prefix defaults to the Chart's name),
marks a Secret's ``data``/``stringData`` secret and runs the resource transforms of the Chart and
of its parents on it. :func:`expand` does each of those steps, with the helm binary meshstack
builds (``scripts/istio_charts.sh --with-helm``: ``$MESHSTACK_CACHE/helm-bin/helm``) and a local
copy of each chart:

* a local chart directory (``mesh.chartRepository`` a path) is used as it is;
* a chart of Istio's official repository comes from the offline charts of its release
  (``$MESHSTACK_CACHE/istio-charts-<version>``: the release's own chart sources, stamped as Istio's
  release tooling stamps them, docs/offline-charts.md), unless ``--charts`` names another directory;
* any other repository needs ``--charts`` (a directory holding ``<chart>/Chart.yaml``;
  ``{version}`` in it is replaced by the chart's version).

The objects are as the chart renders them; the provider's own normalization of built-in kinds
through their Kubernetes Go types when it checks them (nulls and empty optional fields dropped,
quantities canonical: ``2000m`` → ``2``) is not repeated: it changes the form, not the object.
The local copy of a remote chart must declare the same name and version (``Chart.yaml``).
Without a cluster, Helm's built-in capabilities stand in for the cluster's (the provider asks the
API server for its version; of the Istio charts only the CNI chart's GKE detection reads it).
Anything missing — the helm binary, a chart, a local file — is an :class:`ExpansionError` saying
what to run.
"""

from __future__ import annotations

import glob
import inspect
import json
import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from meshstack.tools.canonical import group_of, load_all
from meshstack.tools.recording import REDACTED, Recording, Registered, redact
from meshstack.versions import ISTIO_CHART_REPOSITORY

CHART_TYPE = "kubernetes:helm.sh/v4:Chart"
CONFIG_GROUP_TYPES = ("kubernetes:yaml/v2:ConfigGroup", "kubernetes:yaml/v2:ConfigFile")
#: What to run to get the helm binary and the offline Istio charts (in a meshstack checkout).
HOW_TO_GET = "run `make engine` (or `scripts/istio_charts.sh --with-helm`) in a meshstack checkout"
NO_CHARTS = "or render without the objects the provider renders: --no-charts"

#: Built-in API groups: their kinds are namespaced unless listed in :data:`CLUSTER_SCOPED`.
BUILTIN_GROUPS = frozenset(
    {
        "", "admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io", "apps",
        "authentication.k8s.io", "authorization.k8s.io", "autoscaling", "batch", "certificates.k8s.io",
        "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io", "flowcontrol.apiserver.k8s.io",
        "networking.k8s.io", "node.k8s.io", "policy", "rbac.authorization.k8s.io", "resource.k8s.io",
        "scheduling.k8s.io", "storage.k8s.io", "storagemigration.k8s.io",
    }
)  # fmt: skip
#: The cluster-scoped built-in kinds (Kubernetes 1.34), as (group, kind).
CLUSTER_SCOPED = frozenset(
    {
        ("", "Namespace"), ("", "Node"), ("", "PersistentVolume"), ("", "ComponentStatus"),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"), ("apiregistration.k8s.io", "APIService"),
        ("authentication.k8s.io", "TokenReview"), ("authentication.k8s.io", "SelfSubjectReview"),
        ("authorization.k8s.io", "SelfSubjectAccessReview"), ("authorization.k8s.io", "SelfSubjectRulesReview"),
        ("authorization.k8s.io", "SubjectAccessReview"), ("certificates.k8s.io", "CertificateSigningRequest"),
        ("certificates.k8s.io", "ClusterTrustBundle"), ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"), ("networking.k8s.io", "IngressClass"),
        ("networking.k8s.io", "IPAddress"), ("networking.k8s.io", "ServiceCIDR"), ("node.k8s.io", "RuntimeClass"),
        ("rbac.authorization.k8s.io", "ClusterRole"), ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("resource.k8s.io", "DeviceClass"), ("resource.k8s.io", "ResourceSlice"),
        ("scheduling.k8s.io", "PriorityClass"), ("storage.k8s.io", "CSIDriver"), ("storage.k8s.io", "CSINode"),
        ("storage.k8s.io", "StorageClass"), ("storage.k8s.io", "VolumeAttachment"),
        ("storage.k8s.io", "VolumeAttributesClass"), ("storagemigration.k8s.io", "StorageVersionMigration"),
    }
)  # fmt: skip


class ExpansionError(RuntimeError):
    """An object the provider would render cannot be rendered here; the message says what to do."""


def cache_dir() -> Path:
    """Where meshstack's scripts cache what they build: ``$MESHSTACK_CACHE``, else ``~/.cache/meshstack``."""
    return Path(os.environ.get("MESHSTACK_CACHE") or Path.home() / ".cache" / "meshstack")


@dataclass(frozen=True)
class ChartTools:
    """The helm binary, and the directory that stands in for remote chart repositories."""

    helm: Path
    #: ``--charts``: a directory of unpacked charts (``{version}`` replaced); None: the offline
    #: Istio charts for Istio's repository, nothing for any other.
    charts: str | None = None

    @classmethod
    def locate(cls, helm: Path | None = None, charts: str | None = None) -> ChartTools:
        """The tools, checked: ``helm`` (default: the one ``scripts/istio_charts.sh --with-helm``
        builds) must be an executable file."""
        binary = helm or cache_dir() / "helm-bin" / "helm"
        if not (binary.is_file() and os.access(binary, os.X_OK)):
            given = "--helm" if helm else "the helm meshstack builds"
            raise ExpansionError(f"{given}: no helm binary at {binary}; {HOW_TO_GET}, pass --helm PATH, {NO_CHARTS}")
        return cls(binary, charts)


@dataclass(frozen=True)
class ProviderObject:
    """One object the provider renders for a component resource, as it would register it."""

    #: The component (Chart, ConfigGroup) it belongs to.
    component: Registered
    #: Its Pulumi resource name (``mesh-istiod:istio-system/istiod``).
    name: str
    manifest: dict[str, Any]


def expand(rec: Recording, tools: ChartTools | None, root: Path) -> list[ProviderObject]:
    """Every object the provider renders for ``rec``'s charts and config groups (relative paths
    start at ``root``: the program's working directory). ``tools`` may be None when ``rec`` has no chart."""
    raw: list[tuple[Registered, list[dict[str, Any]]]] = []
    for res in rec.resources:
        if res.type == CHART_TYPE:
            if tools is None:
                raise ExpansionError(f"chart {res.name}: no helm to template it with; {HOW_TO_GET}, {NO_CHARTS}")
            raw.append((res, _template(res, tools, root)))
        elif res.type in CONFIG_GROUP_TYPES:
            raw.append((res, _config_group_objects(res, root)))
    everything = [m for _, objs in raw for m in objs] + [redact(r.inputs) for r in rec.kubernetes_objects]
    crd_scopes = {
        (m["spec"]["group"], m["spec"]["names"]["kind"]): m["spec"].get("scope", "Namespaced")
        for m in everything
        if m.get("kind") == "CustomResourceDefinition" and isinstance(m.get("spec"), dict)
    }
    out: list[ProviderObject] = []
    for res, objs in raw:
        namespace = str(res.inputs.get("namespace") or _default_namespace(rec, res))
        prefix = str(res.inputs.get("resourcePrefix") or res.name)
        for manifest in objs:
            obj = _normalized(manifest, namespace, crd_scopes, res)
            meta = obj["metadata"]
            if res.inputs.get("skipAwait"):
                annotations = {**(meta.get("annotations") or {}), "pulumi.com/skipAwait": "true"}
                obj = {**obj, "metadata": {**meta, "annotations": annotations}}
            name = (
                f"{prefix}:{meta['namespace']}/{meta['name']}" if meta.get("namespace") else f"{prefix}:{meta['name']}"
            )
            out.append(ProviderObject(res, name, _transformed(rec, res, name, _secret_fields(obj))))
    return out


# --- helm ------------------------------------------------------------------------------------------


def chart_directory(inputs: Mapping[str, Any], tools: ChartTools, root: Path) -> Path:
    """The local copy of the chart a Chart resource's ``inputs`` name (see the module docs)."""
    chart = str(inputs.get("chart") or "")
    version = inputs.get("version")
    repo = (inputs.get("repositoryOpts") or {}).get("repo")
    local = Path(os.path.expanduser(chart.removeprefix("file://")))
    local = local if local.is_absolute() else root / local
    if repo is None and not chart.startswith("oci://") and local.exists():
        return local  # as helm finds it: a local path is the chart itself
    name = chart.rstrip("/").rsplit("/", 1)[-1]
    where = f"chart {name} {version or '(no version)'} from {repo or chart}"
    if not version:
        raise ExpansionError(f"{where}: a remote chart needs a version to be rendered offline")
    if tools.charts is not None:
        pattern = tools.charts
    elif repo == ISTIO_CHART_REPOSITORY:
        pattern = str(cache_dir() / "istio-charts-{version}")
    else:
        raise ExpansionError(
            f"{where}: no local copy; pass --charts DIR (a directory holding {name}/Chart.yaml of version "
            f"{version}; {{version}} in DIR is replaced), {NO_CHARTS}"
        )
    found = Path(os.path.expanduser(pattern.replace("{version}", str(version)))) / name
    if not (found / "Chart.yaml").is_file():
        istio = (
            f"{HOW_TO_GET} (scripts/istio_charts.sh --version {version} for that release), "
            if repo == ISTIO_CHART_REPOSITORY
            else ""
        )
        raise ExpansionError(f"{where}: no {found}/Chart.yaml; {istio}pass --charts DIR, {NO_CHARTS}")
    docs = load_all((found / "Chart.yaml").read_text())
    declared = docs[0] if docs and isinstance(docs[0], dict) else {}
    if (declared.get("name"), str(declared.get("version"))) != (name, str(version)):
        raise ExpansionError(
            f"{where}: {found}/Chart.yaml is {declared.get('name')} {declared.get('version')}, not {name} {version}"
        )
    return found


def _template(res: Registered, tools: ChartTools, root: Path) -> list[dict[str, Any]]:
    """``helm template`` of a Chart resource, as the provider runs it."""
    inputs = redact(res.inputs)
    unsupported = sorted(k for k in ("valueYamlFiles", "postRenderer") if inputs.get(k))
    if unsupported:
        raise ExpansionError(f"chart {res.name}: {', '.join(unsupported)} cannot be rendered offline; {NO_CHARTS}")
    values = inputs.get("values") or {}
    if not isinstance(values, dict):
        raise ExpansionError(
            f"chart {res.name}: its values are one secret; the render cannot template them; {NO_CHARTS}"
        )
    directory = chart_directory(inputs, tools, root)
    release = str(inputs.get("name") or res.name)
    namespace = str(inputs.get("namespace") or "default")
    cmd = [str(tools.helm), "template", release, str(directory), "--namespace", namespace, "--no-hooks", "-f", "-"]
    if not inputs.get("skipCrds"):
        cmd.append("--include-crds")
    with tempfile.TemporaryDirectory(prefix="meshstack-helm-") as home:
        # Nothing of this user's helm setup (repositories, plugins, registry logins) takes part.
        env = {"PATH": os.environ.get("PATH", ""), "HOME": home}
        env.update({f"HELM_{kind}_HOME": f"{home}/{kind.lower()}" for kind in ("CACHE", "CONFIG", "DATA")})
        done = subprocess.run(
            cmd, input=json.dumps(values), capture_output=True, text=True, env=env, timeout=300, check=False
        )
    if done.returncode != 0:
        raise ExpansionError(f"chart {res.name}: `helm template {release} {directory}` failed:\n{done.stderr.strip()}")
    return _expand_lists(load_all(done.stdout), f"chart {res.name}")


# --- config groups ---------------------------------------------------------------------------------


def _config_group_objects(res: Registered, root: Path) -> list[dict[str, Any]]:
    """The objects of a ConfigGroup (``files``, ``yaml``, ``objs``) or ConfigFile (``file``)."""
    inputs = redact(res.inputs)
    files = [inputs["file"]] if inputs.get("file") else list(inputs.get("files") or [])
    texts: list[tuple[str, str]] = []
    for entry in map(str, files):
        if "://" in entry:
            raise ExpansionError(
                f"{res.name}: the provider fetches {entry} at apply time; the offline render reads local files only "
                f"(point the stack at a local copy: gateways.gatewayApiCrds for the Gateway API CRDs), {NO_CHARTS}"
            )
        pattern = entry if os.path.isabs(entry) else str(root / entry)
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        for path in matches:
            if not Path(path).is_file():
                raise ExpansionError(f"{res.name}: no file {path}")
            texts.append((path, Path(path).read_text()))
    yaml_texts = inputs.get("yaml") or []
    texts += [(f"{res.name} yaml", text) for text in ([yaml_texts] if isinstance(yaml_texts, str) else yaml_texts)]
    objs = [m for where, text in texts for m in _expand_lists(load_all(text), where)]
    return objs + _expand_lists(list(inputs.get("objs") or []), f"{res.name} objs")


# --- the provider's steps --------------------------------------------------------------------------


def _expand_lists(docs: list[Any], where: str) -> list[dict[str, Any]]:
    """``List`` objects replaced by their items (yaml/v2 ``expand``); anything else must be an object."""
    out: list[dict[str, Any]] = []
    for doc in docs:
        if not isinstance(doc, dict):
            raise ExpansionError(f"{where}: a document is a {type(doc).__name__}, not a Kubernetes object")
        if str(doc.get("kind", "")).endswith("List") and isinstance(doc.get("items"), list):
            out += _expand_lists(doc["items"], where)
        else:
            out.append(doc)
    return out


def _default_namespace(rec: Recording, res: Registered) -> str:
    """The namespace of the component's Kubernetes provider (its ``namespace``), else ``default``."""
    provider = rec.by_urn.get((res.provider or "").rsplit("::", 1)[0])
    return str((provider.inputs.get("namespace") if provider else None) or "default")


def _normalized(
    manifest: dict[str, Any], namespace: str, crd_scopes: Mapping[tuple[str, str], str], res: Registered
) -> dict[str, Any]:
    """yaml/v2 ``Normalize``: a namespaced object without a namespace gets ``namespace``."""
    api_version, kind = str(manifest.get("apiVersion") or ""), str(manifest.get("kind") or "")
    meta = manifest.get("metadata")
    if not api_version or not kind or not isinstance(meta, dict) or not meta.get("name"):
        raise ExpansionError(f"{res.name}: an object without apiVersion, kind or metadata.name: {manifest}")
    group = group_of(api_version)
    if group in BUILTIN_GROUPS:
        namespaced = (group, kind) not in CLUSTER_SCOPED
    elif (group, kind) in crd_scopes:
        namespaced = crd_scopes[group, kind] == "Namespaced"
    else:
        raise ExpansionError(
            f"{res.name}: {api_version} {kind} {meta['name']}: no CustomResourceDefinition in the render says whether "
            "it is namespaced (the provider would ask the cluster)"
        )
    if namespaced and not meta.get("namespace"):
        return {**manifest, "metadata": {**meta, "namespace": namespace}}
    return manifest


def _secret_fields(manifest: dict[str, Any]) -> dict[str, Any]:
    """A Secret's ``data`` and ``stringData`` as the provider marks them: secret (keys kept)."""
    if (manifest.get("apiVersion"), manifest.get("kind")) != ("v1", "Secret"):
        return manifest
    hidden = {k: {key: REDACTED for key in v} if isinstance(v, dict) else REDACTED for k, v in manifest.items()
              if k in ("data", "stringData")}  # fmt: skip
    return {**manifest, **hidden}


def type_token(manifest: Mapping[str, Any]) -> str:
    """The Pulumi type of an object the provider registers (``kubernetes:core/v1:Service``)."""
    api_version = str(manifest["apiVersion"])
    group, _, version = api_version.rpartition("/")
    return f"kubernetes:{group or 'core'}/{version}:{manifest['kind']}"


def _ancestry(rec: Recording, res: Registered) -> Iterator[Registered]:
    current: Registered | None = res
    while current is not None:
        yield current
        current = rec.parent_of(current)


def _transformed(rec: Recording, res: Registered, name: str, manifest: dict[str, Any]) -> dict[str, Any]:
    """``manifest`` after the resource transforms of the component and of each of its parents,
    in the engine's order (the resource's own first, then up the parent chain)."""
    props, token = manifest, type_token(manifest)
    for owner in _ancestry(rec, res):
        for transform in owner.transforms:
            args = pulumi.ResourceTransformArgs(True, token, name, props, pulumi.ResourceOptions())
            result = transform(args)
            if inspect.isawaitable(result):
                raise ExpansionError(f"{owner.name}: an async resource transform cannot run offline; {NO_CHARTS}")
            if result is not None:
                props = dict(result.props)
    return props
