"""Where the engine driver finds things, and how it tunes the engine: one place for the constants.

Nothing here runs anything; :mod:`meshstack.tools.engine.driver` and the CLI read these.
"""

from __future__ import annotations

from pathlib import Path

#: This checkout (or installed tree): the program, its stack files, the policy pack, the scripts.
ROOT = Path(__file__).resolve().parents[3]
#: What the program needs at run time; mirrored into the engine's project directory.
PROJECT_ENTRIES = ("__main__.py", "components", "stacks", "apps", "meshstack", "requirements.txt")
#: The engine's working directory by default (and the local backend's, when no backend is given).
DEFAULT_STATE = ROOT / ".meshstack"
#: The passphrase of the throwaway local stack of ``make up`` (a prod stack refuses it).
DEFAULT_PASSPHRASE = "meshstack-local"
#: The policy pack every preview and update runs (mandatory for prod, advisory elsewhere).
POLICY_PACK = ROOT / "policy"

#: The Go runtime's collector for the engine and its Go plugins, unless set in the environment. At
#: the default (GOGC=100) a quarter of the CLI's CPU in a rollout step or a preview of a 100-service
#: stack went to collecting garbage while it decoded and re-encoded the whole state; 400 collects
#: a quarter as often (about 1 s of a preview), and the soft limit bounds what that costs in
#: memory on a large stack (docs/benchmarks.md). A rollout step ran best at 150 on the 3.184 CLI;
#: the 3.277 CLI allocates more per step and steps are fastest at 400 too (docs/benchmarks.md).
GO_RUNTIME = {"GOGC": "400", "GOMEMLIMIT": "4GiB"}
#: ``$MESHSTACK_PULUMI_DEBUG_LOG=1`` keeps the CLI's own automatic debug log (:func:`~meshstack.tools.engine.environment.quiet_debug_log`).
KEEP_DEBUG_LOG_ENV = "MESHSTACK_PULUMI_DEBUG_LOG"

#: ``Engine.checkpoints``' values (docs/benchmarks.md#checkpoints).
CHECKPOINTS = ("every", "final")
#: The engine's switch for writing the state once, at the end of an update.
FINAL_CHECKPOINT_ONLY = {"PULUMI_SKIP_CHECKPOINTS": "true"}
#: Seconds between tries of an update waiting for another one's lock.
LOCK_RETRY_SECONDS = 5.0
#: Resource operations in flight at once. The CLI's default is 4 × cores (8 here); most of an
#: operation's time is spent awaiting readiness, not on the CPU (docs/benchmarks.md).
PARALLEL = 64
