"""Container resource requests and limits."""

from __future__ import annotations

from pydantic import Field

from meshstack.model.base import CpuQuantity, MemoryQuantity, Model


class ResourceList(Model):
    """A CPU and memory amount (``cpu: 100m``, ``memory: 128Mi``); an unset field is left out."""

    cpu: CpuQuantity | None = Field(None, description="CPU quantity, e.g. 100m. Unset: not specified.")
    memory: MemoryQuantity | None = Field(None, description="Memory quantity, e.g. 128Mi. Unset: not specified.")


class Resources(Model):
    """Requests (what the scheduler reserves) and limits (the ceiling); unset parts are left out."""

    requests: ResourceList = Field(default_factory=ResourceList, description="Reserved resources.")
    limits: ResourceList = Field(default_factory=ResourceList, description="Resource ceiling.")

    @classmethod
    def of(cls, cpu: str, memory: str, cpu_limit: str | None = None, memory_limit: str | None = None) -> Resources:
        return cls(
            requests=ResourceList(cpu=cpu, memory=memory),
            limits=ResourceList(cpu=cpu_limit, memory=memory_limit),
        )
