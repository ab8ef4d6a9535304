"""What every part of a cluster is: it says what it owns, and is started, checked and stopped."""

from __future__ import annotations

from typing import Protocol

from embedded.cluster import Cluster


class Part(Protocol):
    #: The part's name (``embedded/__init__.py`` lists every part and what it owns).
    name: str

    def wanted(self, c: Cluster) -> bool:
        """Whether this cluster has the part (a kwok-only cluster has no network, node, placement, dns)."""
        ...

    def start(self, c: Cluster) -> None:
        """Create what the part owns and wait until it works (bounded by ``c.timeout``)."""
        ...

    def check(self, c: Cluster) -> list[str]:
        """What is wrong with it now (empty: healthy)."""
        ...

    def stop(self, c: Cluster) -> None:
        """Remove everything it owns; safe to call on a part that never started, or twice."""
        ...
