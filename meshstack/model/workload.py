"""Pod defaults of an app version: a hardened security context and modest resources, overridable."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from meshstack.errors import allowing
from meshstack.model.base import Model
from meshstack.model.resources import ResourceList, Resources

#: Requests 100m/128Mi; limits 1 CPU (generous: bounds a runaway without throttling normal load) and 256Mi.
DEFAULT_RESOURCES = Resources(
    requests=ResourceList(cpu="100m", memory="128Mi"), limits=ResourceList(cpu="1", memory="256Mi")
)

Capability = Annotated[
    str, Field(pattern=r"^[A-Z_]+$", max_length=64, json_schema_extra=allowing("e.g. NET_BIND_SERVICE"))
]
MountPath = Annotated[
    str, Field(pattern=r"^/[^\s:]*$", max_length=1024, json_schema_extra=allowing("an absolute path without ':'"))
]


class PodSecurity(Model):
    """Secure by default: non-root, no privilege escalation, all capabilities dropped, read-only
    root filesystem (declare ``writablePaths`` on the version), RuntimeDefault seccomp."""

    run_as_non_root: bool = Field(True, description="Refuse to start as root. Default: true.")
    run_as_user: int | None = Field(
        None, ge=1, le=2**31 - 1, description="UID to run as. Unset: the image's numeric USER."
    )
    allow_privilege_escalation: bool = Field(False, description="Allow setuid escalation. Default: false.")
    read_only_root_filesystem: bool = Field(True, description="Mount / read-only. Default: true.")
    drop_capabilities: list[Capability] = Field(default_factory=lambda: ["ALL"], description="Default: ALL.")
    add_capabilities: list[Capability] = Field(default_factory=list, description="Default: none.")
    seccomp_runtime_default: bool = Field(True, description="seccompProfile RuntimeDefault. Default: true.")

    def container_context(self) -> dict[str, Any]:
        caps: dict[str, Any] = {}
        if self.drop_capabilities:
            caps["drop"] = list(self.drop_capabilities)
        if self.add_capabilities:
            caps["add"] = list(self.add_capabilities)
        out: dict[str, Any] = {
            "runAsNonRoot": self.run_as_non_root,
            "allowPrivilegeEscalation": self.allow_privilege_escalation,
            "readOnlyRootFilesystem": self.read_only_root_filesystem,
            "privileged": False,
        }
        if caps:
            out["capabilities"] = caps
        if self.run_as_user is not None:
            out["runAsUser"] = self.run_as_user
        if self.seccomp_runtime_default:
            out["seccompProfile"] = {"type": "RuntimeDefault"}
        return out
