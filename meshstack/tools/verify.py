"""``meshstack verify``: after an ``up``, is the mesh the stack declares working on its cluster?

What ``istioctl verify-install``, ``istioctl analyze`` on the live cluster and ``istioctl
proxy-status`` would tell a person, for the stack's own mesh, as checks with a verdict each:

* ``control-plane`` — every istiod revision the stack installs has all its replicas available;
* ``webhooks`` — the sidecar injector and validation webhooks have a CA bundle and serve: a
  dry-run Pod in an injected namespace comes back with its sidecar, a dry-run invalid Gateway is
  refused by ``validation.istio.io`` (both through the API server, nothing is created);
* ``injection`` — every pod of an injected namespace runs a sidecar (IST0103), and none still
  says ``image: auto`` (IST0147);
* ``proxies`` — every sidecar and gateway pod is connected to istiod and has acknowledged every
  config type istiod sent it (istiod's ``/debug/syncz``, read inside the istiod pod);
* ``gateways`` — each gateway's Service has ready endpoints;
* ``analysis`` — ``istioctl analyze`` of the live cluster reports no warning or error.

Every API call is bounded by a timeout; nothing is changed on the cluster.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from meshstack.model.stack import StackSpec
from meshstack.render import gateways as gateway_render
from meshstack.render.platform import mesh_ref

#: Seconds allowed for one API call (the runner's read-back uses the same bounds).
REQUEST_TIMEOUT = (10, 30)
SIDECAR = "istio-proxy"
INJECTION_PLACEHOLDER = "auto"


@dataclass
class Check:
    """One verdict: what was checked, whether it holds, and what was found."""

    name: str
    ok: bool
    summary: str
    problems: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    stack: str
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def as_json(self) -> dict[str, Any]:
        return {"stack": self.stack, "ok": self.ok, "checks": [asdict(c) for c in self.checks]}

    def text(self) -> str:
        lines = [f"meshstack verify: stack {self.stack}: {'OK' if self.ok else 'PROBLEMS'}"]
        for c in self.checks:
            lines.append(f"  {'ok  ' if c.ok else 'FAIL'} {c.name:14} {c.summary}")
            lines += [f"         - {p}" for p in c.problems[:20]]
            if len(c.problems) > 20:
                lines.append(f"         … {len(c.problems) - 20} more")
        return "\n".join(lines)


@dataclass
class Mesh:
    """What the stack declares, as verify needs it."""

    namespace: str
    istiods: list[str]
    injected: list[str]
    gateways: dict[str, tuple[str, str]]  # gateway → (namespace, Service name)

    @classmethod
    def of(cls, spec: StackSpec) -> Mesh:
        ref = mesh_ref(spec)
        injected = [ns for ns, _ in spec.namespaces.items()]
        if spec.apps.enabled:
            injected.append(spec.apps.namespace)
        gws = {
            name: (gw.namespace, gateway_render.gateway_service_name(name, gw, spec.gateways))
            for name, gw in spec.gateways.enabled().items()
        }
        return cls(
            namespace=ref.namespace,
            istiods=[r.release for r in spec.mesh.installed_revisions],
            injected=sorted(dict.fromkeys(injected)),
            gateways=gws,
        )


class Verifier:
    """The checks against one cluster (an ``ApiClient`` of the kubernetes package)."""

    def __init__(self, api_client: Any, mesh: Mesh, istioctl: str | None, kubeconfig: Path | None) -> None:
        from kubernetes import client  # noqa: PLC0415 - only verify and the runner need the client

        self.core = client.CoreV1Api(api_client)
        self.apps = client.AppsV1Api(api_client)
        self.admission = client.AdmissionregistrationV1Api(api_client)
        self.discovery = client.DiscoveryV1Api(api_client)
        self.custom = client.CustomObjectsApi(api_client)
        self.client = api_client
        self.mesh = mesh
        self.istioctl = istioctl
        self.kubeconfig = kubeconfig

    def run(self, stack: str) -> Report:
        steps: list[Callable[[], Check]] = [
            self.control_plane,
            self.webhooks,
            self.injection,
            self.proxies,
            self.gateways,
            self.analysis,
        ]
        return Report(stack, [self._guarded(step) for step in steps])

    @staticmethod
    def _guarded(step: Callable[[], Check]) -> Check:
        try:
            return step()
        except Exception as err:  # noqa: BLE001 - a check that cannot run is a failed check, with why
            name = step.__name__.replace("_", "-")
            return Check(name, False, f"could not check: {type(err).__name__}: {err}", [str(err)])

    # --- the checks ------------------------------------------------------------------------------------

    def control_plane(self) -> Check:
        problems: list[str] = []
        ready: list[str] = []
        for name in self.mesh.istiods:
            d = self.apps.read_namespaced_deployment(name, self.mesh.namespace, _request_timeout=REQUEST_TIMEOUT)
            want, have = d.spec.replicas or 0, d.status.available_replicas or 0
            (ready if want and have >= want else problems).append(f"{name}: {have}/{want} replicas available")
        return Check("control-plane", not problems, "; ".join(ready + problems) or "no istiod declared", problems)

    def webhooks(self) -> Check:
        problems: list[str] = []
        mutating = self.admission.list_mutating_webhook_configuration(_request_timeout=REQUEST_TIMEOUT).items
        injectors = [w for w in mutating if w.metadata.name.startswith("istio-sidecar-injector")]
        validating = self.admission.list_validating_webhook_configuration(_request_timeout=REQUEST_TIMEOUT).items
        validators = [
            w for w in validating if w.metadata.name.startswith(("istio-validator", "istiod-default-validator"))
        ]
        if not injectors:
            problems.append("no istio-sidecar-injector MutatingWebhookConfiguration")
        if not validators:
            problems.append("no Istio ValidatingWebhookConfiguration")
        for config in [*injectors, *validators]:
            for hook in config.webhooks or []:
                if not (hook.client_config and hook.client_config.ca_bundle):
                    problems.append(f"{config.metadata.name}/{hook.name}: no caBundle (istiod has not patched it)")
        served = []
        if self.mesh.injected:
            ns = self.mesh.injected[0]
            pod = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"generateName": "meshstack-verify-", "namespace": ns},
                "spec": {"containers": [{"name": "probe", "image": "meshstack.invalid/probe:1"}]},
            }
            made = self.core.create_namespaced_pod(ns, pod, dry_run="All", _request_timeout=REQUEST_TIMEOUT)
            names = [c.name for c in made.spec.containers or []]
            if SIDECAR in names:
                served.append(f"a dry-run pod in {ns} got its sidecar")
            else:
                problems.append(f"a dry-run pod in {ns} got no {SIDECAR} (the injector did not run): {names}")
        bad = {
            "apiVersion": "networking.istio.io/v1",
            "kind": "Gateway",
            "metadata": {"name": "meshstack-verify-invalid", "namespace": self.mesh.namespace},
            "spec": {"servers": [{"port": {"number": 80, "protocol": "HTTP", "name": "http"}, "hosts": []}]},
        }
        refused = self._dry_run_refused(bad)
        if refused is None:
            problems.append(
                "an invalid Gateway (a server without hosts) was accepted: the validation webhook did not run"
            )
        else:
            served.append(f"an invalid Gateway was refused ({refused})")
        summary = "; ".join(served) if not problems else f"{len(problems)} problem(s)"
        return Check("webhooks", not problems, summary, problems)

    def _dry_run_refused(self, obj: dict[str, Any]) -> str | None:
        from kubernetes.client.exceptions import ApiException  # noqa: PLC0415

        try:
            self.custom.create_namespaced_custom_object(
                "networking.istio.io", "v1", obj["metadata"]["namespace"], "gateways", obj, dry_run="All",
                _request_timeout=REQUEST_TIMEOUT,
            )  # fmt: skip
        except ApiException as err:
            text = str(err.body or err)
            return "validation.istio.io" if "validation.istio.io" in text else text[:200]
        return None

    def _pods(self) -> list[Any]:
        out = []
        for ns in self.mesh.injected + sorted({ns for ns, _ in self.mesh.gateways.values()}):
            out += self.core.list_namespaced_pod(ns, _request_timeout=REQUEST_TIMEOUT).items
        return [p for p in out if p.status.phase == "Running" and not p.metadata.deletion_timestamp]

    def injection(self) -> Check:
        problems: list[str] = []
        meshed = 0
        for pod in self._pods():
            containers = pod.spec.containers or []
            where = f"{pod.metadata.namespace}/{pod.metadata.name}"
            if any(c.image == INJECTION_PLACEHOLDER for c in containers):
                problems.append(f"{where}: image `auto` was never replaced (IST0147: not injected)")
            elif pod.metadata.namespace in self.mesh.injected and SIDECAR not in {c.name for c in containers}:
                problems.append(f"{where}: no {SIDECAR} sidecar (IST0103)")
            else:
                meshed += 1
        return Check("injection", not problems, f"{meshed} pod(s) meshed", problems)

    def _syncz(self) -> list[dict[str, Any]]:
        from kubernetes.stream import stream  # noqa: PLC0415

        pods = self.core.list_namespaced_pod(
            self.mesh.namespace, label_selector="app=istiod", _request_timeout=REQUEST_TIMEOUT
        ).items
        running = [p for p in pods if p.status.phase == "Running"]
        if not running:
            raise RuntimeError(f"no running istiod pod in {self.mesh.namespace}")
        out: list[dict[str, Any]] = []
        for pod in running:  # each istiod knows the proxies connected to it
            text = stream(
                self.core.connect_get_namespaced_pod_exec, pod.metadata.name, self.mesh.namespace,
                container="discovery", command=["pilot-discovery", "request", "GET", "/debug/syncz"],
                stderr=True, stdin=False, stdout=True, tty=False, _request_timeout=60,
            )  # fmt: skip
            start = text.find("[")
            out += json.loads(text[start:]) if start >= 0 else []
        return out

    def proxies(self) -> Check:
        connected = {s.get("proxy", ""): s for s in self._syncz()}
        problems: list[str] = []
        synced = 0
        for pod in self._pods():
            names = {c.name for c in pod.spec.containers or []}
            if SIDECAR not in names:
                continue
            proxy = f"{pod.metadata.name}.{pod.metadata.namespace}"
            status = connected.get(proxy)
            if status is None:
                problems.append(f"{proxy}: not connected to istiod")
                continue
            stale = [
                kind for kind in ("cluster", "listener", "route", "endpoint")
                if status.get(f"{kind}_sent") and status.get(f"{kind}_sent") != status.get(f"{kind}_acked")
            ]  # fmt: skip
            if stale:
                problems.append(f"{proxy}: {', '.join(stale)} sent but not acknowledged (STALE)")
            else:
                synced += 1
        summary = f"{synced} proxies connected and in sync ({len(connected)} connected to istiod)"
        return Check("proxies", not problems, summary, problems, {"connected": sorted(connected)})

    def gateways(self) -> Check:
        problems: list[str] = []
        ready: list[str] = []
        for name, (ns, service) in sorted(self.mesh.gateways.items()):
            slices = self.discovery.list_namespaced_endpoint_slice(
                ns, label_selector=f"kubernetes.io/service-name={service}", _request_timeout=REQUEST_TIMEOUT
            ).items
            endpoints = [
                e
                for s in slices
                for e in (s.endpoints or [])
                if e.conditions is None or e.conditions.ready is not False
            ]
            (ready if endpoints else problems).append(f"{name} ({ns}/{service}): {len(endpoints)} ready endpoint(s)")
        return Check("gateways", not problems, "; ".join(ready + problems) or "no gateway declared", problems)

    def analysis(self) -> Check:
        if self.istioctl is None:
            return Check(
                "analysis", False, "istioctl not found (on PATH or the engine's tools): the live analysis did not run",
                ["install istioctl or run scripts/bootstrap.sh"],
            )  # fmt: skip
        args = [self.istioctl, "analyze", "--all-namespaces", "--output", "json"]
        if self.kubeconfig is not None:
            args += ["--kubeconfig", str(self.kubeconfig)]
        done = subprocess.run(args, capture_output=True, text=True, timeout=180, check=False)
        try:
            messages = json.loads(done.stdout or "[]")
        except ValueError:
            return Check("analysis", False, "istioctl analyze failed", [done.stderr.strip()[-500:]])
        findings = [m for m in messages if m.get("level") in ("Error", "Warning")]
        problems = [f"{m.get('code')} {m.get('level')}: {m.get('message')}" for m in findings]
        summary = "no warnings or errors" if not problems else f"{len(problems)} finding(s)"
        return Check("analysis", not problems, summary, problems, {"codes": sorted({m.get("code") for m in findings})})


def find_istioctl(bin_dirs: list[Path]) -> str | None:
    for d in bin_dirs:
        if (d / "istioctl").is_file():
            return str(d / "istioctl")
    return shutil.which("istioctl")


def verify(spec: StackSpec, stack: str, kubeconfig: Path | None, istioctl: str | None) -> Report:
    from kubernetes import config as kube_config  # noqa: PLC0415

    api_client = kube_config.new_client_from_config(str(kubeconfig) if kubeconfig else None)
    try:
        return Verifier(api_client, Mesh.of(spec), istioctl, kubeconfig).run(stack)
    finally:
        api_client.close()
