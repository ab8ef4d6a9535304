#!/usr/bin/env python3
"""Embedded Kubernetes cluster for meshstack's real-engine tests and ``make up``: see scripts/embedded/
(one module per part; ``scripts/embedded/__init__.py`` lists what each owns) and its ``cli`` for the
commands. Python 3.11 standard library only."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from embedded.cli import main

if __name__ == "__main__":
    sys.exit(main())
