"""Download the Istio and Gateway API CRD schemas used to validate rendered manifests.

Usage: ``python tools/fetch_schemas.py`` (tests call the same code on first use). Exits non-zero
with the reason when the schemas cannot be obtained.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from meshstack.schemas import SchemaUnavailable, crd_schemas, fetch_schemas


def main() -> int:
    try:
        path = fetch_schemas()
    except SchemaUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{len(crd_schemas())} CRD schemas cached in {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
