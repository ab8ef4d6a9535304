"""The rules that need context: what an app, or a section of apps, may be in the mesh it joins.

A model object checks its own fields when it is built. These rules need more than the object:

* the **render target** (Istio weights sum to 100; what Gateway API's HTTPRoute cannot express);
* the **environment** (prod: STRICT mTLS on every path, mesh certificates for client TLS, pinned
  images, restricted pods, an explicit ``onNoData`` for every rollout);
* the **mesh** (is there an ingress to expose through? does Prometheus scrape, and how often?
  which images does the caller supply from elsewhere? which namespaces does it manage? does it
  deny what no policy allows?);
* the **other apps** of the mesh, built separately in one program (:class:`Members`: one app per
  name, one definition per Service, only namespaces the mesh manages).

Each rule is written here once, and returns problems in one shape: ``(path, message)``, the path
relative to what was checked (an app, or an apps section: ``services.<name>.…``). The stack spec
(:class:`~meshstack.model.stack.StackSpec`), the components (``MeshApps``, ``MeshApp``) and the
stack path call :func:`section_problems` or :func:`app_problems`; each writes the paths in its own
user's terms (config keys, Python attributes). Render assumes its input passed them.

Warnings have the same shape and are not refusals: config that deploys, but most likely not as
meant (:func:`reachability_warnings`: an app that nothing may call). The components log them
(``pulumi.log.warn``), and ``meshstack graph`` shows them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from meshstack.errors import Loc
from meshstack.image_refs import image_is_pinned
from meshstack.model.app import AppSpec
from meshstack.model.base import duration_seconds
from meshstack.model.policy.authorization import Action
from meshstack.model.policy.peer_authentication import PeerAuthentication
from meshstack.model.refs import MeshRef
from meshstack.model.rollout.policy import Rollout
from meshstack.model.target import RenderTarget, gateway_api_duration_ok
from meshstack.model.tls import MtlsMode, TlsMode

#: A problem: where (relative to what was checked) and what is allowed instead.
Problems = list[tuple[Loc, str]]

#: The one capability Pod Security's restricted profile lets a container add.
ALLOWED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
INJECTION_KEYS = ("istio-injection", "istio.io/rev")


@dataclass(frozen=True)
class MeshContext:
    """What the rules need to know of the mesh an app joins."""

    #: The mesh's environment (``dev``, ``prod``; None: unknown, no environment's rules).
    environment: str | None = None
    #: Whether the platform runs an ingress gateway apps can attach routes to.
    ingress: bool = False
    #: Prometheus's scrape interval (None: the mesh has no Prometheus).
    scrape_interval: str | None = None
    #: The injection label(s) of the mesh's workload namespaces.
    injection_labels: Mapping[str, str] = field(default_factory=lambda: {"istio-injection": "enabled"})
    #: Whether the mesh allows nothing until an app opens it (``mesh.defaultDeny``; prod's default).
    default_deny: bool = False
    #: The workload namespaces the platform creates (None: not known, a mesh another program installed).
    namespaces: frozenset[str] | None = None
    #: The control-plane and gateway namespaces (no apps section may create them).
    reserved: frozenset[str] = frozenset()

    @property
    def prod(self) -> bool:
        return self.environment == "prod"

    @classmethod
    def of(cls, mesh: MeshRef) -> MeshContext:
        """The context of a platform's :class:`MeshRef` (what the components hand the apps)."""
        gateways = [gw.namespace for gw in (mesh.ingress, mesh.egress) if gw is not None]
        return cls(
            environment=mesh.environment,
            ingress=mesh.ingress is not None,
            scrape_interval=mesh.prometheus_scrape_interval,
            injection_labels=dict(mesh.injection_labels),
            default_deny=mesh.default_deny,
            namespaces=frozenset(mesh.namespaces) if mesh.namespaces is not None else None,
            reserved=frozenset({mesh.namespace, *gateways}),
        )


# --- the render target ------------------------------------------------------------------------------


def split_problems(weights: Collection[int]) -> list[str]:
    """What Istio refuses of a weighted split: the weights must sum to exactly 100."""
    total = sum(weights)
    return [] if total == 100 else [f"Istio route weights must sum to 100, got {total}"]


def target_problems(name: str, app: AppSpec, target: RenderTarget) -> Problems:
    """What ``target`` cannot express of app ``name`` (paths relative to the app)."""
    problems: Problems = []
    for i, route in enumerate(app.effective_routes() if not app.routes else app.routes):
        at: Loc = ["routes", i] if app.routes else ["blueGreen"]
        if target is RenderTarget.ISTIO:
            if len(route.to) > 1:
                problems += [([*at, "to"], m) for m in split_problems([w for _, w in route.weighted])]
            continue
        gw = "Gateway API HTTPRoute cannot express"
        if route.fault is not None:
            problems.append(([*at, "fault"], f"{gw} fault injection; use target istio"))
        if route.retries is not None:
            problems.append(([*at, "retries"], f"{gw} retries (standard channel); use target istio"))
        if route.timeout is not None and not gateway_api_duration_ok(route.timeout):
            problems.append(([*at, "timeout"], f"{gw} {route.timeout}; use whole milliseconds (≥ 1ms)"))
        if route.mirror is not None and route.mirror.percentage != int(route.mirror.percentage):
            problems.append(([*at, "mirror", "percentage"], f"{gw} fractional mirror percentages"))
        for k, match in enumerate(route.match):
            for name_ in match.istio_only_fields:
                problems.append(([*at, "match", k, name_], f"{gw} {name_} matches"))
    if target is RenderTarget.GATEWAY_API:
        for version in app.versions:
            if len(f"{name}-{version}") > 63:
                problems.append(
                    (["versions", version], f"per-version Service {name}-{version} is longer than 63 characters")
                )
    return problems


# --- prod ----------------------------------------------------------------------------------------------


def prod_peer_authentication_problems(pa: PeerAuthentication) -> Problems:
    """mTLS STRICT everywhere: a PeerAuthentication, or a port of one, may be STRICT or UNSET
    (inheriting STRICT) only."""
    problems: Problems = []
    if pa.mode not in (MtlsMode.STRICT, MtlsMode.UNSET):
        problems.append((["mode"], f"prod requires STRICT mTLS on every path, got {pa.mode.value}"))
    for i, port in enumerate(pa.port_level_mtls):
        if port.mode not in (MtlsMode.STRICT, MtlsMode.UNSET):
            problems.append(
                (["portLevelMtls", i, "mode"], f"prod requires STRICT mTLS on every port, got {port.mode.value}")
            )
    return problems


def prod_app_problems(app: AppSpec) -> Problems:
    """What prod refuses in one app (paths relative to the app): client TLS other than the mesh's
    certificates (SIMPLE, MUTUAL and DISABLE all bypass them), pods outside Pod Security's
    ``restricted`` profile with a read-only root filesystem, unpinned images, a rollout that does
    not say what a canary without traffic means."""
    problems: Problems = []
    if app.peer_authentication is not None:
        problems += [
            (["peerAuthentication", *loc], m) for loc, m in prod_peer_authentication_problems(app.peer_authentication)
        ]
    if app.tls is not None and app.tls.mode is not TlsMode.ISTIO_MUTUAL:
        problems.append(
            (
                ["tls", "mode"],
                f"prod sends mesh traffic with the mesh's certificates only (ISTIO_MUTUAL), got {app.tls.mode.value}",
            )
        )
    if app.rollout is not None and app.rollout.analysis.on_no_data is None:
        problems.append(
            (
                ["rollout", "analysis", "onNoData"],
                "prod says what a canary without traffic means: fail, hold or pass (there is no default)",
            )
        )
    for name, version in app.versions.items():
        at: Loc = ["versions", name]
        sec = version.security
        if version.image is not None and not image_is_pinned(version.image):
            problems.append(
                ([*at, "image"], f"prod pins images (a tag other than latest, or a digest), got {version.image}")
            )
        if not sec.run_as_non_root:
            problems.append(([*at, "security", "runAsNonRoot"], "prod runs pods as non-root"))
        if sec.allow_privilege_escalation:
            problems.append(([*at, "security", "allowPrivilegeEscalation"], "prod forbids privilege escalation"))
        if not sec.read_only_root_filesystem:
            problems.append(
                ([*at, "security", "readOnlyRootFilesystem"], "prod mounts / read-only; declare writablePaths instead")
            )
        if "ALL" not in sec.drop_capabilities:
            problems.append(([*at, "security", "dropCapabilities"], "prod drops ALL capabilities"))
        for i, cap in enumerate(sec.add_capabilities):
            if cap not in ALLOWED_CAPABILITIES:
                problems.append(
                    ([*at, "security", "addCapabilities", i], f"prod adds back NET_BIND_SERVICE at most, got {cap}")
                )
        if not sec.seccomp_runtime_default:
            problems.append(([*at, "security", "seccompRuntimeDefault"], "prod runs pods with RuntimeDefault seccomp"))
    return problems


# --- the mesh -------------------------------------------------------------------------------------------


def analysis_problems(rollout: Rollout, scrape_interval: str | None) -> Problems:
    """What the mesh's Prometheus cannot give this rollout's analysis (paths relative to the rollout).
    ``scrape_interval`` None: the mesh has no Prometheus."""
    if not rollout.analysis.metrics:
        return []
    if scrape_interval is None:
        return [
            (["analysis", "metrics"], "the analysis reads Prometheus, and the mesh has none (enable addons.prometheus)")
        ]
    scrape = duration_seconds(scrape_interval)
    if rollout.analysis.interval_seconds < 2 * scrape:
        return [
            (
                ["analysis", "interval"],
                f"{rollout.analysis.interval} is shorter than twice Prometheus's scrape interval ({scrape_interval}): "
                "a window that short may hold one sample or none",
            )
        ]
    return []


NO_INGRESS = "the mesh has no ingress gateway to expose the app through"


def exposure_problems(app: AppSpec, target: RenderTarget, mesh: MeshContext) -> Problems:
    """An exposed app needs an ingress: the platform's (Istio routes), or one it brings (Gateway API)."""
    if app.expose is not None and target is RenderTarget.ISTIO and not mesh.ingress:
        return [(["expose"], NO_INGRESS)]
    return []


def injection_problems(mesh: MeshContext) -> list[str]:
    """The apps' namespace is labelled for exactly one control plane (never both labels: IST0123)."""
    found = sorted(k for k in mesh.injection_labels if k in INJECTION_KEYS)
    return [] if len(found) == 1 else [f"the namespace needs exactly one injection label, got {found}"]


def admits_a_caller(app: AppSpec) -> bool:
    """Whether one of the app's ALLOW policies has a rule: something may call it under a default deny
    (an ALLOW policy without rules allows nothing; DENY and AUDIT policies allow nothing either)."""
    return any(policy.action is Action.ALLOW and policy.rules for policy in app.authorization)


def reachability_warnings(name: str, app: AppSpec, mesh: MeshContext) -> Problems:
    """A warning (not a refusal) for app ``name`` that nothing may call: the mesh denies by default,
    no ALLOW rule of the app admits a caller, and the ingress does not serve it (an exposed app is
    opened to the ingress gateway). Path relative to the app."""
    if not mesh.default_deny or admits_a_caller(app) or (app.expose is not None and mesh.ingress):
        return []
    return [
        (
            ["authorization"],
            f"nothing may call {name}: the mesh denies every request no policy allows (mesh.defaultDeny) and no "
            f"ALLOW authorization rule of {name} admits a caller; allow its callers with an authorization rule "
            "naming their principals, e.g. rules: [{principals: [cluster.local/ns/<namespace>/sa/<caller's "
            "serviceAccount>]}], or expose it through the ingress",
        )
    ]


def section_warnings(apps: Mapping[str, AppSpec], mesh: MeshContext) -> Problems:
    """The warnings for a section of apps (paths relative to the section: ``services.<name>.…``)."""
    return [
        (["services", name, *loc], message)
        for name, app in apps.items()
        for loc, message in reachability_warnings(name, app, mesh)
    ]


# --- one app, one section ----------------------------------------------------------------------------------


def context_problems(name: str, app: AppSpec, target: RenderTarget, mesh: MeshContext) -> Problems:
    """The rules for app ``name`` that need the mesh: prod's, the rollout's analysis against the
    mesh's Prometheus, an ingress to expose through (paths relative to the app)."""
    problems: Problems = prod_app_problems(app) if mesh.prod else []
    if app.rollout is not None:
        problems += [(["rollout", *loc], m) for loc, m in analysis_problems(app.rollout, mesh.scrape_interval)]
    problems += exposure_problems(app, target, mesh)
    return problems


def image_problems(app: AppSpec, supplied_images: Collection[str] | None = None) -> Problems:
    """Every version needs an image: in the spec, or (``supplied_images``) from the caller."""
    hint = "" if supplied_images is None else " (or pass images=...)"
    given = supplied_images or ()
    return [(["versions", v, "image"], f"required{hint}") for v in app.imageless_versions if v not in given]


def app_problems(
    name: str,
    app: AppSpec,
    target: RenderTarget,
    mesh: MeshContext,
    *,
    supplied_images: Collection[str] = (),
) -> Problems:
    """Every rule with context for app ``name`` on its own (a ``MeshApp``; paths relative to the
    app). ``supplied_images``: the versions whose image the caller gives otherwise (an Output)."""
    return [
        *target_problems(name, app, target),
        *image_problems(app, supplied_images),
        *context_problems(name, app, target, mesh),
    ]


def section_namespace_problems(namespace: str, mesh: MeshContext) -> list[str]:
    """What the namespace an apps section creates (and labels) may not be: a Kubernetes system
    namespace, the control plane's or a gateway's, or a workload namespace the platform creates."""
    if namespace.startswith("kube-"):
        return ["is a Kubernetes system namespace (kube-*); pick another"]
    if namespace in mesh.reserved:
        return ["is a control-plane or gateway namespace; pick another name"]
    if mesh.namespaces is not None and namespace in mesh.namespaces:
        return [
            "is a workload namespace of the platform, which creates it; an apps section creates its own "
            "namespace: give the apps another one, or remove it from the platform's namespaces"
        ]
    return []


def section_problems(
    apps: Mapping[str, AppSpec],
    target: RenderTarget,
    peer_authentication: PeerAuthentication | None,
    mesh: MeshContext,
    namespace: str | None = None,
) -> Problems:
    """The rules that need the mesh for a section of apps (an ``AppsConfig``, which checked the
    render target and the images itself when it was built); paths relative to the section:
    ``services.<name>.…``, ``peerAuthentication.…``, ``namespace``. ``namespace``: the one the
    section creates (None: not checked)."""
    problems: Problems = [(["namespace"], m) for m in injection_problems(mesh)]
    if namespace is not None:
        problems += [(["namespace"], m) for m in section_namespace_problems(namespace, mesh)]
    if mesh.prod and peer_authentication is not None:
        problems += [
            (["peerAuthentication", *loc], m) for loc, m in prod_peer_authentication_problems(peer_authentication)
        ]
    for name, app in apps.items():
        problems += [(["services", name, *loc], m) for loc, m in context_problems(name, app, target, mesh)]
    return problems


# --- apps built separately --------------------------------------------------------------------------------


@dataclass
class Members:
    """What has joined one mesh so far in this program. Components built separately (a ``MeshApp``
    here, a ``MeshApps`` there) learn of each other through the mesh reference they share
    (``MeshPlatform.mesh`` carries one), and check against it before they register anything."""

    #: MeshApp name → its namespace (the name is its Pulumi resource name and its Service's).
    apps: dict[str, str] = field(default_factory=dict)
    #: MeshApps name → the namespace it creates.
    sections: dict[str, str] = field(default_factory=dict)
    #: (namespace, Service) → the component that defines it, as the user wrote it (``MeshApp("web")``).
    services: dict[tuple[str, str], str] = field(default_factory=dict)

    def namespaces(self, mesh: MeshContext) -> list[str] | None:
        """The namespaces apps may join: the platform's and those sections create (None: not known)."""
        if mesh.namespaces is None:
            return None
        return sorted({*mesh.namespaces, *self.sections.values()})

    def app_problems(self, name: str, namespace: str, mesh: MeshContext) -> Problems:
        """What keeps a ``MeshApp`` named ``name`` from joining in ``namespace`` (paths: its arguments)."""
        problems: Problems = []
        if name in self.apps:
            problems.append(
                (
                    ["name"],
                    f'another MeshApp of this mesh is named "{name}" (in namespace {self.apps[name]}); each '
                    "needs a name of its own: it is the app's Pulumi resource name and its Service's",
                )
            )
        elif (namespace, name) in self.services:
            problems.append(
                (["name"], f"{self.services[namespace, name]} already defines Service {name} in namespace {namespace}")
            )
        allowed = self.namespaces(mesh)
        if allowed is not None and namespace not in allowed:
            problems.append(
                (
                    ["namespace"],
                    f"{namespace} is not a namespace of this mesh; allowed: {', '.join(allowed) or 'none'} (the "
                    "platform's namespaces, MeshPlatformArgs.namespaces, and those a MeshApps section creates)",
                )
            )
        return problems

    def section_problems(self, name: str, namespace: str, services: Collection[str]) -> Problems:
        """What keeps a ``MeshApps`` section named ``name`` from creating ``namespace`` with
        ``services`` (paths: its arguments, ``apps.<service>``)."""
        problems: Problems = []
        if name in self.sections:
            problems.append(
                (["name"], f'another MeshApps of this mesh is named "{name}"; each needs a name of its own')
            )
        owners = [n for n, ns in self.sections.items() if ns == namespace and n != name]
        if owners:
            problems.append((["namespace"], f'MeshApps("{owners[0]}") already creates namespace {namespace}'))
        for service in services:
            if (namespace, service) in self.services:
                problems.append(
                    (
                        ["services", service],
                        f"{self.services[namespace, service]} already defines Service {service} in namespace "
                        f"{namespace}",
                    )
                )
        return problems

    def add_app(self, name: str, namespace: str) -> None:
        self.apps[name] = namespace
        self.services[namespace, name] = f'MeshApp("{name}")'

    def add_section(self, name: str, namespace: str, services: Collection[str]) -> None:
        self.sections[name] = namespace
        for service in services:
            self.services[namespace, service] = f'MeshApps("{name}")'
