"""Fuzz the apps section: N generated configs (default 10,000) through validate → render → schema.

Usage: ``PYTHONPATH=. .venv/bin/python fuzz/fuzz_apps.py [N]``. Prints accepted / rejected /
crashed / schema-invalid counts and exits non-zero when anything crashed or was schema-invalid.
Not part of the default test run.
"""

from __future__ import annotations

import collections
import sys
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.properties.check import INGRESSES, SchemaInvalid, check
from tests.properties.strategies import apps_section


def main(examples: int) -> int:
    counts: collections.Counter[str] = collections.Counter()
    samples: dict[str, str] = {}

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(section=apps_section, ingress=st.sampled_from(INGRESSES))
    def run(section: dict[str, Any], ingress: Any) -> None:
        try:
            counts[check(section, ingress).value] += 1
        except SchemaInvalid as err:
            counts["schema-invalid"] += 1
            samples.setdefault("schema-invalid", f"{section}\n{err}")
        except Exception:  # noqa: BLE001 - counting crashes is the point
            counts["crashed"] += 1
            samples.setdefault("crashed", f"{section}\n{traceback.format_exc()}")

    start = time.monotonic()
    run()
    total = sum(counts.values())
    print(
        f"examples={total} accepted={counts['accepted']} rejected={counts['rejected']} "
        f"crashed={counts['crashed']} schema-invalid={counts['schema-invalid']} "
        f"seconds={time.monotonic() - start:.0f}"
    )
    for kind, text in samples.items():
        print(f"--- first {kind}:\n{text}", file=sys.stderr)
    return 1 if counts["crashed"] or counts["schema-invalid"] else 0


if __name__ == "__main__":
    raise SystemExit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000))
