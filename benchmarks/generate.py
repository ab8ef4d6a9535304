"""N-service stacks: the dev stack plus N generic services, each with two versions and a 90/10
weighted route (ServiceAccount, Service, two Deployments, DestinationRule, VirtualService and the
MeshApp component: 7 resources per service). The first, ``svc-0000``, has a rollout policy instead
of its fixed split (the same objects; its route is the rollout's): what a rollout step benchmarks.

    python -m benchmarks.generate 100 > Pulumi.bench100.yaml     (a stack file, to look at)
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


def service(i: int) -> dict[str, Any]:
    name = f"svc-{i:04d}"
    return {
        "versions": {
            "v1": {"image": f"registry.example.com/{name}:1.0.0"},
            "v2": {"image": f"registry.example.com/{name}:1.1.0"},
        },
        "routes": [{"to": [{"version": "v1", "weight": 90}, {"version": "v2", "weight": 10}]}],
    }


#: The service whose route a rollout owns.
ROLLOUT_SERVICE = "svc-0000"


def rollout_service(i: int) -> dict[str, Any]:
    """Service ``i`` with a canary rollout v1 → v2 in place of the fixed 90/10 split."""
    svc = service(i)
    del svc["routes"]
    svc["rollout"] = {
        "stable": "v1",
        "canary": "v2",
        "steps": [10, 25, 50, 100],
        "analysis": {"interval": "1m", "onNoData": "fail"},
    }
    return svc


def stack_config(n: int) -> dict[str, Any]:
    """The dev stack's config with ``n`` generic services added to its apps."""
    config: dict[str, Any] = copy.deepcopy(yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"])
    config["meshstack:apps"]["services"] = {
        f"svc-{i:04d}": rollout_service(i) if f"svc-{i:04d}" == ROLLOUT_SERVICE else service(i) for i in range(n)
    }
    return config


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    print(yaml.safe_dump({"config": stack_config(n)}, sort_keys=False), end="")


if __name__ == "__main__":
    main()
