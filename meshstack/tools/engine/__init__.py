"""Drive the real pulumi engine (Automation API) for a stack against a Kubernetes cluster.

The ``meshstack`` command (``up``, ``preview``, ``refresh``, ``recover``, ``destroy``, the rollout
runner, ``promote``) and the end-to-end tests use it. One job per module:

==================  =================================================================================
``settings``        paths and the engine's tuning (Go collector, checkpoints, parallelism)
``environment``     the engine's process environment: bootstrap's tools, a private temp dir, files
``workspace``       the project mirror and the generated stack file the engine runs in
``errors``          the driver's errors; the engine's failures turned into them
``changes``         what an operation planned or did, from its events and summaries
``driver``          :class:`Engine`: one stack on one cluster, its operations
``field_managers``  after a killed job: its server-side apply field managers removed
==================  =================================================================================
"""

from __future__ import annotations

from meshstack.tools.engine.changes import change_counts, changed_resources
from meshstack.tools.engine.driver import Engine, project_root
from meshstack.tools.engine.environment import bootstrap_env, git_commit, pid_alive
from meshstack.tools.engine.errors import EngineError, LegacyStateLayout, PolicyRefused, StackLocked
from meshstack.tools.engine.settings import DEFAULT_STATE, ROOT

__all__ = [
    "DEFAULT_STATE",
    "ROOT",
    "Engine",
    "EngineError",
    "LegacyStateLayout",
    "PolicyRefused",
    "StackLocked",
    "bootstrap_env",
    "change_counts",
    "changed_resources",
    "git_commit",
    "pid_alive",
    "project_root",
]
