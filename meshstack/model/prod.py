"""What prod refuses, on every path a setting can take: stack config, a spec built in Python, and a
single ``MeshApp`` joining a prod mesh (its :class:`~meshstack.model.refs.MeshRef` says so).

* mTLS STRICT everywhere: a namespace or workload PeerAuthentication, or a port of one, may be
  STRICT or UNSET (inheriting STRICT) only; client TLS towards an app may only be ISTIO_MUTUAL
  (SIMPLE, MUTUAL and DISABLE all bypass the mesh's certificates);
* pods as Pod Security's ``restricted`` profile and a read-only root filesystem require: non-root,
  no privilege escalation, ALL capabilities dropped (NET_BIND_SERVICE the only one added back),
  RuntimeDefault seccomp;
* images pinned: a tag other than ``latest``, or a digest.
"""

from __future__ import annotations

from meshstack.errors import Loc
from meshstack.model.app import AppSpec
from meshstack.model.apps import AppsConfig
from meshstack.model.policy.peer_authentication import PeerAuthentication
from meshstack.model.tls import MtlsMode, TlsMode

#: The one capability Pod Security's restricted profile lets a container add.
ALLOWED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})


def image_is_pinned(image: str) -> bool:
    """A digest (``repo@sha256:…``) or a tag other than ``latest``."""
    if "@" in image:
        return True
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return False
    return last.rsplit(":", 1)[1] != "latest"


def peer_authentication_problems(pa: PeerAuthentication) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    if pa.mode not in (MtlsMode.STRICT, MtlsMode.UNSET):
        problems.append((["mode"], f"prod requires STRICT mTLS on every path, got {pa.mode.value}"))
    for i, port in enumerate(pa.port_level_mtls):
        if port.mode not in (MtlsMode.STRICT, MtlsMode.UNSET):
            problems.append(
                (["portLevelMtls", i, "mode"], f"prod requires STRICT mTLS on every port, got {port.mode.value}")
            )
    return problems


def app_problems(app: AppSpec) -> list[tuple[Loc, str]]:
    """What prod refuses in one app (paths relative to the app)."""
    problems: list[tuple[Loc, str]] = []
    if app.peer_authentication is not None:
        problems += [
            (["peerAuthentication", *loc], m) for loc, m in peer_authentication_problems(app.peer_authentication)
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


def apps_problems(apps: AppsConfig) -> list[tuple[Loc, str]]:
    """What prod refuses in an apps section (paths relative to the section)."""
    problems: list[tuple[Loc, str]] = []
    if apps.peer_authentication is not None:
        problems += [
            (["peerAuthentication", *loc], m) for loc, m in peer_authentication_problems(apps.peer_authentication)
        ]
    for name, app in apps.apps.items():
        problems += [(["services", name, *loc], m) for loc, m in app_problems(app)]
    return problems
