"""Control-plane revisions: istiod installs that run side by side during a canary upgrade.

Config form (``meshstack:mesh``)::

    revisions:
      - {name: 1-30-0, version: 1.30.0}
      - {name: 1-31-0, version: 1.31.0}   # the canary
    tags: {prod-stable: 1-30-0, prod-canary: 1-31-0}

Without ``revisions`` the mesh has one unnamed revision (release ``istiod``) at ``mesh.version``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import Field

from meshstack.errors import allowing
from meshstack.model.base import Model, Name

VERSION_PATTERN = r"^1\.[0-9]{1,3}\.[0-9]{1,3}(-[0-9A-Za-z.-]+)?$"
VERSION_TEXT = "an Istio release such as 1.30.0"
#: The tag Istio reserves for the revision that serves ``istio-injection=enabled`` namespaces;
#: meshstack renders it from ``mesh.defaultRevision``.
DEFAULT_TAG = "default"


class Revision(Model):
    """One istiod install: release ``istiod-<name>``, injector ``istio-sidecar-injector-<name>``."""

    name: Name = Field(description="The revision name, conventionally the version with dashes (1-30-0).")
    version: str | None = Field(
        None,
        pattern=VERSION_PATTERN,
        description="The istiod chart version of this revision. Unset: mesh.version.",
        json_schema_extra=allowing(VERSION_TEXT),
    )


@dataclass(frozen=True)
class InstalledRevision:
    """A revision as installed: ``name`` is None for the single unnamed (default) revision."""

    name: str | None
    version: str

    @property
    def release(self) -> str:
        """The Helm release, which is also the istiod Deployment and Service name."""
        return f"istiod-{self.name}" if self.name else "istiod"

    @property
    def key(self) -> str:
        """A stable suffix for Pulumi resource names."""
        return self.name or "default"


def version_tuple(version: str) -> tuple[int, ...]:
    """``1.30.2-beta.1`` → ``(1, 30, 2)`` (pre-release suffixes are ignored for ordering)."""
    return tuple(int(p) for p in re.findall(r"[0-9]+", version.split("-", 1)[0])[:3])
