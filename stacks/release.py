"""The release a stack runs, as its stack outputs record it, and a promotion's target config.

Every run of the program exports ``release``: the release parts of the stack's config
(:mod:`meshstack.model.release`; samples such as Bookinfo as their own keys), their digest, and
the commit of meshstack that ran (``$MESHSTACK_COMMIT``, set by the engine driver). ``meshstack
promote`` reads that output from the source stack's state — what dev actually runs — and
:func:`promoted_config` lays it over the target's own stack config.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from typing import Any

from meshstack.model.apps import AppsConfig
from meshstack.model.release import GROUPS, Extras, promote, release_of
from meshstack.model.stack import StackSpec
from meshstack.stacks.samples import SAMPLES

#: The stack output recording the release.
OUTPUT = "release"
#: The stack output recording where a promoted release came from.
PROMOTION_OUTPUT = "promotion"
#: The environment variable carrying the commit the program runs (set by meshstack's engine driver).
COMMIT_ENV = "MESHSTACK_COMMIT"


def extras() -> Extras:
    """The samples a stack file may hold under ``apps``, with their models."""
    return {AppsConfig: {name: sample.config for name, sample in SAMPLES.items()}}


def digest(release: Mapping[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(json.dumps(release, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def record(values: Mapping[str, Any]) -> dict[str, Any]:
    """The ``release`` output for a run of stack config ``values`` (``meshstack:`` keys stripped)."""
    release = release_of(StackSpec, values, groups=GROUPS, extras=extras())
    commit = os.environ.get(COMMIT_ENV) or None
    return {"config": release, "digest": digest(release), "commit": commit}


def promoted_config(
    target: Mapping[str, Any], release: Mapping[str, Any], *, mesh_version: bool = False
) -> dict[str, Any]:
    """``target``'s stack config (``meshstack:`` keys stripped) running ``release``."""
    groups = GROUPS if mesh_version else ("release",)
    return promote(StackSpec, target, release, groups=groups, extras=extras())
