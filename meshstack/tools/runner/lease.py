"""One runner per app and stack: a Kubernetes Lease (coordination.k8s.io) in the app's namespace.

The holder renews it while it works; another runner refuses while it is held and fresh. A runner
that died (killed, its pid gone on this host) or stopped renewing (its lease expired) can be taken
over, so ``resume`` works right after a kill.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client
from kubernetes.client.rest import ApiException
from urllib3.exceptions import HTTPError

from meshstack.tools.engine import pid_alive

#: Seconds each API call may take (connect, read): a wedged API server fails the runner, it does not
#: hang it.
REQUEST_TIMEOUT = (10, 30)


class LeaseHeld(RuntimeError):
    """Another runner holds the app's rollout."""


def identity() -> str:
    return f"{socket.gethostname()}/{os.getpid()}"


def _alive_here(holder: str) -> bool:
    host, _, pid = holder.rpartition("/")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's runner: only its expiry tells
    return pid_alive(int(pid))


@dataclass
class RolloutLease:
    api: client.CoordinationV1Api
    namespace: str
    app: str
    seconds: int = 15
    holder: str = field(default_factory=identity)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def name(self) -> str:
        return f"meshstack-rollout-{self.app}"[:63]

    def _body(self, now: dt.datetime, resource_version: str | None = None) -> client.V1Lease:
        return client.V1Lease(
            metadata=client.V1ObjectMeta(
                name=self.name,
                namespace=self.namespace,
                resource_version=resource_version,
                labels={"app.kubernetes.io/managed-by": "meshstack", "app": self.app},
            ),
            spec=client.V1LeaseSpec(
                holder_identity=self.holder, lease_duration_seconds=self.seconds, renew_time=now, acquire_time=now
            ),
        )

    def acquire(self) -> None:
        now = dt.datetime.now(dt.UTC)
        try:
            current: Any = self.api.read_namespaced_lease(self.name, self.namespace, _request_timeout=REQUEST_TIMEOUT)
        except ApiException as err:
            if err.status != 404:
                raise
            self.api.create_namespaced_lease(self.namespace, self._body(now), _request_timeout=REQUEST_TIMEOUT)
            self._start()
            return
        spec = current.spec
        holder = spec.holder_identity or ""
        renewed = spec.renew_time or spec.acquire_time
        fresh = renewed is not None and (now - renewed).total_seconds() < (spec.lease_duration_seconds or 0)
        if holder and holder != self.holder and fresh and _alive_here(holder):
            raise LeaseHeld(
                f"another runner ({holder}) is driving the rollout of {self.app}: lease {self.namespace}/{self.name} "
                f"renewed {(now - renewed).total_seconds():.0f}s ago; wait for it, or for the lease to expire "
                f"({spec.lease_duration_seconds}s after its last renewal)"
            )
        try:
            self.api.replace_namespaced_lease(
                self.name,
                self.namespace,
                self._body(now, current.metadata.resource_version),
                _request_timeout=REQUEST_TIMEOUT,
            )
        except ApiException as err:
            if err.status == 409:  # someone else took it between our read and write
                raise LeaseHeld(f"another runner took the rollout of {self.app} just now") from None
            raise
        self._start()

    def _start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._renew, daemon=True, name="meshstack-lease")
        self._thread.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            try:
                current: Any = self.api.read_namespaced_lease(
                    self.name, self.namespace, _request_timeout=REQUEST_TIMEOUT
                )
                current.spec.renew_time = dt.datetime.now(dt.UTC)
                self.api.replace_namespaced_lease(self.name, self.namespace, current, _request_timeout=REQUEST_TIMEOUT)
            except (ApiException, HTTPError):  # refused or timed out: try again at the next renewal
                continue

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with contextlib.suppress(ApiException, HTTPError):  # left behind, it expires on its own
            self.api.delete_namespaced_lease(self.name, self.namespace, _request_timeout=REQUEST_TIMEOUT)
