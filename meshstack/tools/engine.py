"""Drive the real pulumi engine (Automation API) for a stack against a Kubernetes cluster.

Used by ``make up`` (the dev stack on the embedded cluster) and by the end-to-end tests:

    python -m meshstack.tools.engine up      --stack dev --kubeconfig K --charts DIR [--state DIR]
    python -m meshstack.tools.engine preview --stack dev ...        (exit 0: no changes, 3: changes)
    python -m meshstack.tools.engine destroy --stack dev ...

The engine runs the committed program unchanged. It works in a *project mirror* under the state
directory: symlinks to the program's code plus a generated ``Pulumi.<stack>.yaml`` = the
committed stack config + the machine-specific keys a laptop user would ``pulumi config set``
(kubeconfig, the local Istio chart directory, the credential generator). So nothing the engine
writes (``encryptionsalt``, config edits) ever touches the committed stack files.

State lives in a local file backend (``<state>/backend``), secrets use the passphrase provider
(``$PULUMI_CONFIG_PASSPHRASE``, default ``meshstack-local`` — a local throwaway stack only).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent import futures
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import grpc
import yaml
from pulumi import automation as auto
from pulumi.automation._server import LanguageServer
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import language_pb2_grpc

from meshstack.model.stack import StackSpec
from meshstack.stacks import rollouts as rollout_records
from meshstack.stacks.config import collect, load_stack_spec
from meshstack.stacks.release import COMMIT_ENV
from meshstack.stacks.stack_file import read_config
from meshstack.testing import encode_config

ROOT = Path(__file__).resolve().parents[2]
#: What the program needs at run time; mirrored into the engine's project directory.
PROJECT_ENTRIES = ("__main__.py", "components", "stacks", "apps", "meshstack", "requirements.txt")
DEFAULT_STATE = ROOT / ".meshstack"
DEFAULT_PASSPHRASE = "meshstack-local"
#: The policy pack every preview and update runs (mandatory for prod, advisory elsewhere).
POLICY_PACK = ROOT / "policy"

#: libyaml's loader and dumper where PyYAML was built with it (the project's stack file holds every
#: service's config: pure-Python YAML took half a second of each operation on a 100-service stack).
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_YAML_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


#: The Go runtime's collector for the engine and its Go plugins, unless set in the environment. At
#: the default (GOGC=100) a quarter of the CLI's CPU in a rollout step or a preview of a 100-service
#: stack went to collecting garbage while it decoded and re-encoded the whole state; 400 collects
#: a quarter as often (about 1 s of a preview), and the soft limit bounds what that costs in
#: memory on a large stack (docs/benchmarks.md).
GO_RUNTIME = {"GOGC": "400", "GOMEMLIMIT": "4GiB"}
#: What a rollout step (:meth:`Engine.targeted_up`) runs with instead, unless set in the
#: environment. A step decodes the state, changes one resource and encodes the state once: at 400
#: its heap grows to several times the decoded state, and faulting that fresh memory in cost more
#: than the collections saved. Interleaved on the 100-service stack: 150 took 0.2–0.3 s less a
#: step than 400 (100 and 1000 were slower than both), while a preview is faster at 400.
STEP_GO_RUNTIME = {"GOGC": "150"}


def _load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_YAML_LOADER)


def _dump_yaml(doc: Any) -> str:
    return yaml.dump(doc, Dumper=_YAML_DUMPER, sort_keys=False)


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``: mappings merge key by key, anything else is replaced."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def bootstrap_env() -> dict[str, str]:
    """The engine's environment from ``scripts/bootstrap.sh --print-env`` (PATH with the built
    CLI and plugins first, its PULUMI_HOME, no plugin downloads, no ambient plugins)."""
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "bootstrap.sh"), "--print-env"], check=True, capture_output=True, text=True
    )
    env: dict[str, str] = {}
    for line in out.stdout.splitlines():
        if not line.startswith("export ") or "=" not in line:
            continue
        key, value = line[len("export ") :].split("=", 1)
        value = value.strip().strip('"')
        env[key] = value.replace("$PATH", os.environ.get("PATH", ""))
    return env


def project_root() -> Path:
    """Where the stack files are: ``$MESHSTACK_PROJECT`` (a platform team's repository of
    ``Pulumi.<stack>.yaml`` files run with meshstack's program), else this checkout."""
    return Path(os.environ.get("MESHSTACK_PROJECT") or ROOT)


_BOOTSTRAP_ENV: dict[str, str] | None = None


def _bootstrap_env_once() -> dict[str, str]:
    """:func:`bootstrap_env`, asked once per process (the rollout runner updates many times)."""
    global _BOOTSTRAP_ENV  # noqa: PLW0603 - a per-process cache of a subprocess' answer
    if _BOOTSTRAP_ENV is None:
        _BOOTSTRAP_ENV = bootstrap_env()
    return _BOOTSTRAP_ENV


class EngineError(RuntimeError):
    """The engine cannot be driven as asked (a refused secret, a missing tool)."""


@cache
def git_commit() -> str | None:
    """The commit of this checkout (recorded with each update's release, docs/cd.md), if it is one."""
    try:
        done = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=False
        )
    except OSError:
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and commit else None


@contextlib.contextmanager
def private_files() -> Iterator[None]:
    """Files the engine writes meanwhile (checkpoints, backups, history) are 0600, directories 0700."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def scratch_dir(state: Path) -> Path:
    """This process's private temp dir for the engine and its plugins (``$TMPDIR``), removed at exit.

    pulumi-kubernetes writes a copy of its kubeconfig (client key included) to the temp dir each
    time a provider is configured, for Helm, and never removes it: one file per provider per
    operation, which piled up by the thousand in ``/tmp``. Here they go to ``<state>/tmp/<pid>``
    (0700); a killed run's directory is removed by the next run on the host."""
    root = state / "tmp"
    mine = root / str(os.getpid())
    if mine.is_dir():
        return mine
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    for other in root.iterdir():
        if other.name.isdigit() and not pid_alive(int(other.name)):
            shutil.rmtree(other, ignore_errors=True)
    mine.mkdir(mode=0o700, exist_ok=True)
    atexit.register(shutil.rmtree, mine, True)
    return mine


def pid_alive(pid: int) -> bool:
    """A process of that pid runs on this host (perhaps another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lock_down(directory: Path) -> None:
    """Make state written before (or by anyone else) private too."""
    for path in [directory, *directory.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o700 if path.is_dir() else 0o600)


@dataclass
class Engine:
    """One stack of the program on one cluster, driven through the Automation API."""

    stack_name: str
    #: The cluster's kubeconfig. None: the stack's own ``meshstack:kubernetes`` (EKS, a path) or
    #: the ambient one.
    kubeconfig: Path | None
    charts: Path | None
    state: Path = DEFAULT_STATE
    #: Extra ``meshstack:`` config merged over the committed stack file (YAML-style values).
    overrides: dict[str, Any] = field(default_factory=dict)
    on_output: Callable[[str], Any] | None = print
    #: The stack file the engine's stack mirrors (default: the committed ``Pulumi.<stack>.yaml``).
    stack_file: Path | None = None
    #: Resource operations in flight at once. The CLI's default is 4 × cores (8 here); most of an
    #: operation's time is spent awaiting readiness, not on the CPU (docs/benchmarks.md).
    parallel: int = 64
    #: Where state lives: a ``pulumi login`` URL (``s3://bucket?region=…``, docs/cd.md). Unset: a
    #: private local file backend under ``state``.
    backend: str | None = None
    #: ``passphrase`` (``$PULUMI_CONFIG_PASSPHRASE``) or a KMS key URL (``awskms://alias/meshstack?region=…``).
    secrets_provider: str = "passphrase"
    #: The guardrails (``policy/``): ``mandatory``, ``advisory``, ``off``; unset: mandatory for a prod
    #: stack (by name or environment), advisory otherwise.
    enforcement: str | None = None
    #: Extra environment for the engine and the program (AWS credentials and endpoints, …).
    extra_env: dict[str, str] = field(default_factory=dict)
    #: When an update writes the stack's state (docs/benchmarks.md#checkpoints, ``$MESHSTACK_CHECKPOINTS``):
    #: the ``final`` state only (this default), or ``every`` step (Pulumi's default: twice per
    #: resource operation, the whole state each time).
    checkpoints: str = field(default_factory=lambda: os.environ.get("MESHSTACK_CHECKPOINTS", "final"))
    _stacks: dict[Any, auto.Stack] = field(default_factory=dict, repr=False, compare=False)

    @property
    def project_dir(self) -> Path:
        return self.state / "project"

    @property
    def backend_url(self) -> str:
        return self.backend or f"file://{self.state / 'backend'}"

    def env(self) -> dict[str, str]:
        env = dict(_bootstrap_env_once())
        env["PATH"] = os.pathsep.join([env.get("PATH", os.environ.get("PATH", "")), str(ROOT / ".venv" / "bin")])
        env.update(
            {
                "PULUMI_BACKEND_URL": self.backend_url,
                "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
                **({"KUBECONFIG": str(self.kubeconfig)} if self.kubeconfig else {}),
                "TMPDIR": str(scratch_dir(self.state.resolve())),
                **({COMMIT_ENV: commit} if (commit := git_commit()) else {}),
                **self.extra_env,
            }
        )
        for key, value in GO_RUNTIME.items():
            env.setdefault(key, os.environ.get(key, value))
        if self.secrets_provider == "passphrase":
            env["PULUMI_CONFIG_PASSPHRASE"] = self.passphrase()
        return env

    @property
    def is_prod(self) -> bool:
        return self.stack_name == "prod" or read_config(self.source_file).get("meshstack:environment") == "prod"

    def policy(self) -> tuple[list[str], list[str]]:
        """``--policy-pack policy/`` and its config for this stack's enforcement (docs/cd.md#guardrails)."""
        level = self.enforcement or ("mandatory" if self.is_prod else "advisory")
        if level == "off":
            return [], []
        if level not in ("mandatory", "advisory"):
            raise EngineError(f"enforcement: {level!r} is not one of mandatory, advisory, off")
        return [str(POLICY_PACK)], [str(POLICY_PACK / "config" / f"{level}.json")]

    @property
    def source_file(self) -> Path:
        return self.stack_file or project_root() / f"Pulumi.{self.stack_name}.yaml"

    def passphrase(self) -> str:
        """``$PULUMI_CONFIG_PASSPHRASE``, or the throwaway local one: only for a dev stack (``make up``).
        A prod stack (by name or environment) without a real secret is refused."""
        if given := os.environ.get("PULUMI_CONFIG_PASSPHRASE"):
            return given
        if self.is_prod:
            raise EngineError(
                f"stack {self.stack_name!r} is prod: the local passphrase {DEFAULT_PASSPHRASE!r} is for the throwaway "
                "make-up stack only; set PULUMI_CONFIG_PASSPHRASE (from your secret store) or use a KMS secrets "
                "provider (docs/cd.md)"
            )
        return DEFAULT_PASSPHRASE

    def stack_config(self) -> dict[str, Any]:
        """The committed stack config with the machine-specific keys merged over it."""
        config: dict[str, Any] = read_config(self.source_file)
        local: dict[str, Any] = {
            # The Python-only credential generator: pulumi-resource-random cannot be built here.
            "meshstack:secrets": {"generator": "builtin"},
        }
        if self.kubeconfig is not None:
            local["meshstack:kubernetes"] = {"kubeconfig": str(self.kubeconfig)}
        if self.charts is not None:
            local["meshstack:mesh"] = {"chartRepository": str(self.charts)}
        layers = [local, {f"meshstack:{k}": v for k, v in self.overrides.items()}]
        for layer in layers:  # each layer merges key by key over the one below
            for key, value in layer.items():
                base = config.get(key)
                config[key] = deep_merge(base, value) if isinstance(base, dict) and isinstance(value, dict) else value
        return config

    def prepare(self) -> Path:
        """(Re)write the project mirror; keeps the stack's encryption salt across runs."""
        project = self.project_dir
        project.mkdir(parents=True, exist_ok=True)
        for entry in PROJECT_ENTRIES:
            link = project / entry
            if not link.is_symlink():
                link.symlink_to(ROOT / entry)
        settings = _load_yaml((ROOT / "Pulumi.yaml").read_text())
        settings["runtime"]["options"]["virtualenv"] = str(ROOT / ".venv")
        (project / "Pulumi.yaml").write_text(_dump_yaml(settings))
        stack_file = project / f"Pulumi.{self.stack_name}.yaml"
        existing = _load_yaml(stack_file.read_text()) if stack_file.exists() else None
        doc: dict[str, Any] = {}
        if isinstance(existing, Mapping):
            doc.update({key: existing[key] for key in self.SECRETS_KEYS if existing.get(key)})
        doc["config"] = self.stack_config()
        stack_file.write_text(_dump_yaml(doc))
        if self.backend is None:
            (self.state / "backend").mkdir(parents=True, exist_ok=True)
            lock_down(self.state / "backend")
        return project

    def stack(self, extra_env: Mapping[str, str] | None = None) -> auto.Stack:
        """The Automation API's stack, the project mirror rewritten first. Selected (or created)
        once per environment: selecting runs the CLI (about 0.4 s of each preview otherwise). The
        environment carries :meth:`checkpoint_env` for every operation (updates, refreshes and
        destroys write the state; a preview does not)."""
        project = self.prepare()
        env = {**self.env(), **self.checkpoint_env(), **(extra_env or {})}
        key = (str(project), tuple(sorted(env.items())))
        if (known := self._stacks.get(key)) is not None:
            return known
        opts = auto.LocalWorkspaceOptions(
            work_dir=str(project),
            pulumi_home=env["PULUMI_HOME"],
            env_vars=env,
            secrets_provider=self.secrets_provider,
            pulumi_command=self.command(),
        )
        stack = auto.create_or_select_stack(self.stack_name, work_dir=str(project), opts=opts)
        self._restore_secrets_manager(stack, project / f"Pulumi.{self.stack_name}.yaml")
        self._stacks[key] = stack
        return stack

    #: The stack-file keys that hold a stack's secrets manager (its KMS-wrapped data key, or its
    #: passphrase salt). Pulumi writes them when the stack is created and reads them on every run.
    SECRETS_KEYS = ("secretsprovider", "encryptedkey", "encryptionsalt")

    def _restore_secrets_manager(self, stack: auto.Stack, stack_file: Path) -> None:
        """A fresh checkout (another pipeline job, another machine) has no stack settings of its own:
        take the stack's secrets manager from its state, where the engine keeps a copy of it, instead
        of letting the engine fall back to a passphrase it was never created with."""
        doc = _load_yaml(stack_file.read_text()) if stack_file.exists() else {}
        doc = doc if isinstance(doc, dict) else {}
        if any(doc.get(key) for key in self.SECRETS_KEYS):
            return
        providers = (stack.export_stack().deployment or {}).get("secrets_providers") or {}
        state = providers.get("state") or {}
        restored: dict[str, Any] = {}
        if providers.get("type") == "cloud" and state.get("url"):
            restored = {"secretsprovider": state["url"], "encryptedkey": state.get("encryptedkey")}
        elif providers.get("type") == "passphrase" and state.get("salt"):
            restored = {"encryptionsalt": state["salt"]}
        if restored:
            stack_file.write_text(_dump_yaml({**restored, **doc}))

    # --- operations -----------------------------------------------------------------------------

    def up(
        self,
        refresh: bool = False,
        *,
        targets: list[str] | None = None,
        extra_env: Mapping[str, str] | None = None,
        wait_lock: float = 0,
        on_event: Callable[[auto.EngineEvent], Any] | None = None,
    ) -> auto.UpResult:
        """``pulumi up``. A stack locked by another update fails fast (:class:`StackLocked`), or is
        retried every few seconds for up to ``wait_lock`` seconds."""
        packs, configs = self.policy()
        deadline = time.monotonic() + wait_lock
        while True:
            try:
                with private_files(), locked_as_error(self.stack_name), refused_by_policy(self.stack_name):
                    return self.stack(extra_env).up(
                        on_output=self.on_output,
                        on_event=on_event,
                        refresh=refresh,
                        color="never",
                        suppress_progress=True,
                        parallel=self.parallel,
                        target=targets,
                        policy_packs=packs,
                        policy_pack_configs=configs,
                    )
            except StackLocked:
                if time.monotonic() + LOCK_RETRY_SECONDS > deadline:
                    raise
                time.sleep(LOCK_RETRY_SECONDS)

    def checkpoint_env(self) -> dict[str, str]:
        """The engine's environment for this update's :attr:`checkpoints`.

        A DIY backend (a file, S3) rewrites the whole state before and after every resource
        operation, so an update of R resources writes O(R²) bytes: most of a first install's time
        (docs/benchmarks.md#checkpoints). With ``final`` (the default) the engine writes once, at
        the end, also when an operation fails or the update is interrupted. A job killed outright
        records nothing of its work: ``meshstack recover`` applies the stack again, adopting with
        force the objects the dead job made, and removes the dead job's field manager from them
        (:meth:`release_dead_field_managers`), so later changes do not conflict. ``every`` records
        each operation as it happens; a killed job's finished operations are then in the state."""
        if self.checkpoints not in CHECKPOINTS:
            raise EngineError(f"checkpoints: {self.checkpoints!r} is not one of {', '.join(CHECKPOINTS)}")
        return dict(FINAL_CHECKPOINT_ONLY) if self.checkpoints == "final" else {}

    def preview(
        self,
        expect_no_changes: bool = False,
        refresh: bool = False,
        on_event: Callable[[auto.EngineEvent], Any] | None = None,
    ) -> auto.PreviewResult:
        packs, configs = self.policy()
        with private_files(), refused_by_policy(self.stack_name):
            return self.stack().preview(
                on_output=self.on_output,
                on_event=on_event,
                expect_no_changes=expect_no_changes,
                refresh=refresh,
                diff=True,
                color="never",
                parallel=self.parallel,
                policy_packs=packs,
                policy_pack_configs=configs,
            )

    def command(self) -> auto.PulumiCommand:
        """The Automation API's handle on the engine's CLI (the one :func:`bootstrap_env` puts first)."""
        return pulumi_command(str(Path(self.env()["PATH"].split(os.pathsep)[0]).parent))

    def targeted_up(
        self,
        targets: list[str],
        extra_env: Mapping[str, str] | None = None,
        *,
        final_checkpoint: bool = False,
        program: Callable[[], None] | None = None,
    ) -> dict[str, int]:
        """``pulumi up --target`` through the Automation API's command runner: what a rollout step
        runs. ``Stack.up`` also selects the stack and then reads its history and outputs back,
        decrypting both (about two seconds more a step here, docs/benchmarks.md); a step needs
        neither. Returns what changed (``{"update": 1}``), from the engine's events (``--json``).

        ``final_checkpoint``: the state is written once, at the end, not also before and after the
        update of each target (two whole-state writes fewer: a second on a 100-service stack). For
        updates of resources the state already has (their field manager is recorded there) that a
        re-run recomputes from the recorded state (a rollout's route), so a job killed mid-way
        loses nothing.

        ``program``: the program to run instead of the project's, in this process (an inline program,
        :func:`inline_program`): the engine skips the language host's package scan and a fresh
        interpreter's imports, about a second of a step (docs/benchmarks.md)."""
        project = self.prepare()
        args = ["up", "--yes", "--skip-preview", "--json", "--stack", self.stack_name, "--parallel", str(self.parallel)]
        for target in targets:
            args += ["--target", target]
        for pack, config in zip(*self.policy(), strict=True):
            args += ["--policy-pack", pack, "--policy-pack-config", config]
        env = self.step_env(extra_env, final_checkpoint=final_checkpoint)
        with private_files(), refused_by_policy(self.stack_name), inline_program(program, env) as client:
            done = self.command().run([*args, *client], str(project), env)
        changes: dict[str, int] = {}
        for line in done.stdout.splitlines():  # with --json, up streams the engine's events
            event = json.loads(line) if line.startswith("{") else {}
            if summary := event.get("summaryEvent"):
                changes = _changes(summary.get("resourceChanges") or {})
            elif (diag := event.get("diagnosticEvent")) and diag.get("severity") != "debug" and self.on_output:
                self.on_output(f"{diag.get('severity')}: {diag.get('urn', '')} {diag.get('message', '').rstrip()}")
            elif (outputs := event.get("resOutputsEvent")) and self.on_output:
                meta = outputs.get("metadata") or {}
                self.on_output(f"{meta.get('op')} {meta.get('urn')}")
        return changes

    def step_env(self, extra_env: Mapping[str, str] | None = None, *, final_checkpoint: bool = False) -> dict[str, str]:
        """The environment of :meth:`targeted_up`: :meth:`env`, the Go runtime of a step
        (:data:`STEP_GO_RUNTIME`, unless the environment sets it), ``extra_env``, and with
        ``final_checkpoint`` the state written once."""
        return {
            **self.env(),
            **{k: v for k, v in STEP_GO_RUNTIME.items() if k not in os.environ and k not in self.extra_env},
            **(extra_env or {}),
            **(FINAL_CHECKPOINT_ONLY if final_checkpoint else {}),
        }

    def outputs(self) -> dict[str, Any]:
        """The stack's outputs as its backend has them."""
        return {k: v.value for k, v in self.stack().outputs().items()}

    def cluster_kubeconfig(self) -> Path | None:
        """A kubeconfig file for clients outside the program (the rollout runner's read-back and
        Lease): the engine's own, else the stack's ``meshstack:kubernetes`` — its kubeconfig path,
        or the one its EKS cluster's API describes (written 0600 under ``state``)."""
        if self.kubeconfig is not None:
            return self.kubeconfig
        kubernetes = self.spec().kubernetes
        if kubernetes.eks is not None:
            from meshstack.stacks import eks  # noqa: PLC0415 - boto3 only for EKS stacks

            path = self.state / f"{self.stack_name}.eks.kubeconfig"
            self.state.mkdir(parents=True, exist_ok=True)
            with private_files():
                path.write_text(eks.kubeconfig(kubernetes.eks))
            return path
        if kubernetes.kubeconfig:
            return Path(kubernetes.kubeconfig).expanduser()
        return None

    def spec(self) -> StackSpec:
        """The stack's spec, from the config the engine hands the program (committed + machine keys)."""
        flat, _ = encode_config(self.stack_config())
        values = collect(flat)
        values.pop(rollout_records.STATE_KEY, None)
        return load_stack_spec(values)

    def drift(self, on_event: Callable[[auto.EngineEvent], Any] | None = None) -> list[dict[str, str]]:
        """What differs between the cluster and what this stack declares: the steps of a preview
        that first refreshes its state from the cluster (nothing written). Empty when the cluster
        runs what the stack's last update applied and its config has not changed since."""
        events: list[auto.EngineEvent] = []

        def both(event: auto.EngineEvent) -> None:
            events.append(event)
            if on_event is not None:
                on_event(event)

        conflicts: list[dict[str, str]] = []
        try:
            self.preview(refresh=True, on_event=both)
        except auto.errors.CommandError as err:
            # Another field manager (kubectl scale/edit) owns a field the stack sets: the server-side
            # apply dry-run of the preview refuses it, which is drift by definition.
            conflicts = [
                {"op": "conflict", "urn": name, "type": "field manager conflict"}
                for name in dict.fromkeys(
                    re.findall(r'"([^"]+)" failed to fully initialize[^\n]*field conflict', str(err))
                )
            ]
            if not conflicts:
                raise
        # Providers are not in the cluster (the dynamic provider of the built-in secret generator
        # re-serialises itself on every run): only resources can drift.
        steps = [step for step in changed_resources(events) if not step["type"].startswith("pulumi:providers:")]
        return steps + conflicts

    def preview_refresh(self, on_event: Callable[[auto.EngineEvent], Any] | None = None) -> auto.RefreshResult:
        """A refresh preview: what differs between state and the cluster (drift), nothing written."""
        return self.stack().refresh(preview_only=True, on_output=self.on_output, on_event=on_event, color="never")

    def exists(self) -> bool:
        """Whether the backend has this stack (a first deployment has none)."""
        self.prepare()
        env = self.env()
        done = self.command().run(["stack", "ls", "--json"], str(self.project_dir), env)
        return any(entry.get("name", "").split("/")[-1] == self.stack_name for entry in json.loads(done.stdout or "[]"))

    def last_update(self) -> auto.UpdateSummary | None:
        """The stack's latest update (its number is ``version``), or None before the first. A DIY
        backend (S3, a file) does not number its updates (``version`` 0): the number is then the
        update's position in the stack's history, counted from 1."""
        history = self.stack().history(show_secrets=False)
        if not history:
            return None
        last = history[0]
        if not last.version:
            last.version = len(history)
        return last

    def recover(self, converge: bool = True) -> dict[str, Any]:
        """After a job was killed mid-update: release its lock (``pulumi cancel``), clear the
        creates it left pending (``pulumi refresh --clear-pending-creates``), then (``converge``)
        update the stack, taking back with server-side apply's force the fields of objects the dead
        job had half-created (they are this stack's objects; their field manager died with the job:
        ``PULUMI_K8S_ENABLE_PATCH_FORCE`` for this one update). Only when that job is known dead:
        the lock is what keeps two updates apart. docs/cd.md#a-killed-job."""
        project = self.prepare()
        env = self.env()
        done: dict[str, Any] = {"lock": "none", "pending": 0}
        try:
            self.command().run(["cancel", "--yes", "--stack", self.stack_name], str(project), env)
            done["lock"] = "released"
        except auto.errors.CommandError as err:
            if "currently locked" not in str(err) and "no update" not in str(err).lower():
                done["lock"] = f"unchanged: {str(err).strip().splitlines()[-1]}"
        pending = (self.stack().export_stack().deployment or {}).get("pending_operations") or []
        done["pending"] = len(pending)
        if pending:
            args = ["refresh", "--yes", "--skip-preview", "--clear-pending-creates", "--stack", self.stack_name]
            with private_files():
                self.command().run(args, str(project), env, on_output=self.on_output)
        if converge:
            result = self.up(extra_env={"PULUMI_K8S_ENABLE_PATCH_FORCE": "true"})
            done["changes"] = _changes(result.summary.resource_changes or {})
            # The adopted objects' unchanged fields are still co-owned by the dead job's field
            # manager; without this, the next change of such a field would conflict.
            done["fieldManagers"] = self.release_dead_field_managers()
        return done

    def release_dead_field_managers(self) -> dict[str, int]:
        """Remove, from the stack's objects, the field-manager entries a killed job left
        (:mod:`meshstack.tools.field_managers`)."""
        from kubernetes import config as kube_config  # noqa: PLC0415 - only `recover` needs the client

        from meshstack.tools import field_managers  # noqa: PLC0415

        kubeconfig = self.cluster_kubeconfig()
        api_client = kube_config.new_client_from_config(str(kubeconfig) if kubeconfig else None)
        try:
            return field_managers.release(self.stack().export_stack().deployment or {}, api_client)
        finally:
            api_client.close()

    def destroy(self) -> auto.DestroyResult:
        with private_files():
            return self.stack().destroy(
                on_output=self.on_output, color="never", suppress_progress=True, parallel=self.parallel
            )

    def set_overrides(self, **overrides: Any) -> None:
        self.overrides = deep_merge(self.overrides, overrides)


#: :attr:`Engine.checkpoints`' values.
CHECKPOINTS = ("every", "final")
#: The engine's switch for writing the state once, at the end of an update.
FINAL_CHECKPOINT_ONLY = {"PULUMI_SKIP_CHECKPOINTS": "true"}

#: Seconds between tries of an update waiting for another one's lock.
LOCK_RETRY_SECONDS = 5.0


class StackLocked(EngineError):
    """Another update holds the stack's lock (DIY backends fail fast instead of waiting)."""


class PolicyRefused(EngineError):
    """The guardrails (the policy pack, mandatory for this stack) refused the change: nothing was
    applied. The message lists each violation as the engine reported it."""


@contextlib.contextmanager
def inline_program(program: Callable[[], None] | None, env: Mapping[str, str]) -> Iterator[list[str]]:
    """While open, ``program`` served to the engine as an inline program, the way the Automation
    API's ``Stack.up(program=…)`` serves one: the SDK's language server on 127.0.0.1, in this
    process. Yields the CLI arguments that point the engine at it (none without a program).

    The program runs with ``env`` over this process's environment, as the engine would start it
    (EKS lookups read the AWS endpoint and credentials from there), and the environment is restored
    after. ``Stack.up`` is not used: it also selects the stack and reads its history and outputs
    back (:meth:`Engine.targeted_up`)."""
    if program is None:
        yield []
        return
    selected = program

    def run() -> None:
        with environment(env):
            selected()

    with futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="inline-program") as workers:
        server = grpc.server(workers, options=_GRPC_CHANNEL_OPTIONS)
        language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageServer(run), server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        try:
            yield [f"--client=127.0.0.1:{port}", "--exec-kind", "auto.inline"]
        finally:
            server.stop(0).wait(10)


@contextlib.contextmanager
def environment(env: Mapping[str, str]) -> Iterator[None]:
    """``env`` over ``os.environ`` while open; every key restored (or removed) after."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@functools.cache
def pulumi_command(root: str) -> auto.PulumiCommand:
    """The Automation API's handle on the CLI under ``root``, made once per process: making one runs
    ``pulumi version`` whatever ``skip_version_check`` says (about 0.25 s, which every rollout step
    paid before its ``up``). It holds only the CLI's path and version."""
    return auto.PulumiCommand(root=root, skip_version_check=True)


def policy_violations(text: str) -> list[str]:
    """The mandatory violations in the engine's output: each ``[mandatory]`` line with the lines
    that follow it (the rule's description and its message), up to a blank line, the next
    violation or the next section of the output."""
    stops = ("[mandatory]", "[advisory]", "error:", "warning:", "Resources:", "Policies:", "Diagnostics:",
             "Outputs:", "Duration:", "stdout:", "stderr:", "code:")  # fmt: skip
    out: list[str] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if "[mandatory]" not in line:
            continue
        block = [line.strip()]
        for more in lines[i + 1 : i + 8]:
            stripped = more.strip()
            if not stripped or any(stop in stripped for stop in stops) or stripped.startswith("pulumi:"):
                break
            block.append(stripped)
        entry = "\n    ".join(block)
        if entry not in out:
            out.append(entry)
    return out


@contextlib.contextmanager
def refused_by_policy(stack: str) -> Iterator[None]:
    """Turn the engine's failure on mandatory policy violations into :class:`PolicyRefused`."""
    try:
        yield
    except auto.errors.CommandError as err:
        if violations := policy_violations(str(err)):
            raise PolicyRefused(
                f"the guardrails refused this change to stack {stack} (mandatory; docs/cd.md#guardrails):\n  "
                + "\n  ".join(violations)
            ) from err
        raise


@contextlib.contextmanager
def locked_as_error(stack: str) -> Iterator[None]:
    """Turn the engine's lock refusal into :class:`StackLocked` with what to do about it."""
    try:
        yield
    except auto.errors.CommandError as err:
        if "currently locked" in str(err):
            raise StackLocked(
                f"stack {stack} is locked by another update (another pipeline job, or one that was killed). "
                "Wait for it (--wait-lock SECONDS), or, once that job is known dead, run "
                f"`meshstack recover --stack {stack}`"
            ) from err
        raise


def changed_resources(events: list[auto.EngineEvent]) -> list[dict[str, str]]:
    """``[{op, urn, type}]`` of the steps a preview or update planned, without same/read (and
    without the refresh steps a ``--refresh`` preview reads the cluster with)."""
    steps: list[dict[str, str]] = []
    for event in events:
        pre = event.resource_pre_event
        if pre is None:
            continue
        op = str(getattr(pre.metadata.op, "value", pre.metadata.op))
        if op not in ("same", "read", "refresh"):
            steps.append({"op": op, "urn": pre.metadata.urn, "type": pre.metadata.type})
    return steps


def _changes(summary: Mapping[Any, int]) -> dict[str, int]:
    named = {str(getattr(op, "value", op)): n for op, n in summary.items()}
    return {op: n for op, n in named.items() if op != "same" and n}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m meshstack.tools.engine", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("operation", choices=["up", "preview", "refresh-preview", "destroy"])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--kubeconfig", required=True, type=Path)
    parser.add_argument("--charts", type=Path, help="local Istio chart directory (scripts/istio_charts.sh)")
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE)
    args = parser.parse_args(argv)
    engine = Engine(
        args.stack, args.kubeconfig.resolve(), args.charts.resolve() if args.charts else None, args.state.resolve()
    )
    try:
        if args.operation == "up":
            result = engine.up()
            print(f"\nmeshstack: up of stack {args.stack}: {dict(result.summary.resource_changes or {})}")
        elif args.operation == "preview":
            preview = engine.preview()
            changes = _changes(preview.change_summary)
            print(f"\nmeshstack: preview of stack {args.stack}: {changes or 'no changes'}")
            return 3 if changes else 0
        elif args.operation == "refresh-preview":
            engine.preview_refresh()
        else:
            engine.destroy()
    except auto.errors.CommandError as err:
        print(f"meshstack: pulumi {args.operation} failed:\n{err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
