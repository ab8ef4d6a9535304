"""Fuzz the apps section: N generated configs (default 10,000) through validate → render → schema.

Usage: ``PYTHONPATH=. .venv/bin/python fuzz/fuzz_apps.py [N] [--mode mixed|valid|both]``.

``mixed`` draws from ``apps_section`` (plausible configs with deliberate junk, mostly rejected);
``valid`` draws from ``valid_apps_case`` (configs meant to be valid, mostly accepted, so rendering
and schema validation get exercised); ``both`` (default) runs N examples of each. Prints one line
of accepted / rejected / crashed / schema-invalid counts per mode and exits non-zero when anything
crashed or was schema-invalid. Not part of the default test run.
"""

from __future__ import annotations

import argparse
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
from tests.properties.strategies import apps_section, valid_apps_case

CASES: dict[str, st.SearchStrategy[tuple[dict[str, Any], Any]]] = {
    "mixed": st.tuples(apps_section, st.sampled_from(INGRESSES)),
    "valid": valid_apps_case,
}


def run_mode(mode: str, examples: int) -> bool:
    """Fuzz one mode, print its summary line; True when nothing crashed or was schema-invalid."""
    counts: collections.Counter[str] = collections.Counter()
    samples: dict[str, str] = {}

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=CASES[mode])
    def run(case: tuple[dict[str, Any], Any]) -> None:
        section, ingress = case
        try:
            counts[check(section, ingress).value] += 1
        except SchemaInvalid as err:
            counts["schema-invalid"] += 1
            samples.setdefault("schema-invalid", f"{section}\ningress={ingress}\n{err}")
        except Exception:  # noqa: BLE001 - counting crashes is the point
            counts["crashed"] += 1
            samples.setdefault("crashed", f"{section}\ningress={ingress}\n{traceback.format_exc()}")

    start = time.monotonic()
    run()
    total = sum(counts.values())
    print(
        f"mode={mode} examples={total} accepted={counts['accepted']} rejected={counts['rejected']} "
        f"crashed={counts['crashed']} schema-invalid={counts['schema-invalid']} "
        f"seconds={time.monotonic() - start:.0f}",
        flush=True,
    )
    for kind, text in samples.items():
        print(f"--- first {kind} ({mode}):\n{text}", file=sys.stderr)
    return not (counts["crashed"] or counts["schema-invalid"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("examples", nargs="?", type=int, default=10_000, help="examples per mode (default 10000)")
    parser.add_argument("--mode", choices=["mixed", "valid", "both"], default="both")
    args = parser.parse_args(argv)
    modes = ["mixed", "valid"] if args.mode == "both" else [args.mode]
    ok = [run_mode(mode, args.examples) for mode in modes]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    raise SystemExit(main())
