"""One stack of the program on one cluster, driven through the Automation API: :class:`Engine`.

The engine runs the program in a project mirror (:mod:`~meshstack.tools.engine.workspace`),
state lives in a backend (a private local file backend by default, or a ``pulumi login`` URL),
secrets use the passphrase provider (``$PULUMI_CONFIG_PASSPHRASE``; the throwaway local one only
for a dev stack) or a KMS key, and every preview and update runs the guardrails (``policy/``:
mandatory for prod, advisory elsewhere).
"""

from __future__ import annotations

import functools
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from meshstack._sdk import inline_program
from meshstack.model.stack import StackSpec
from meshstack.stacks import rollout_positions
from meshstack.stacks.config import collect, load_stack_spec
from meshstack.stacks.release import COMMIT_ENV
from meshstack.stacks.stack_file import flat_config, read_config, stack_path
from meshstack.tools.engine import workspace
from meshstack.tools.engine.changes import change_counts, changed_resources
from meshstack.tools.engine.environment import (
    bootstrap_env,
    git_commit,
    overlay,
    private_files,
    quiet_debug_log,
    scratch_dir,
)
from meshstack.tools.engine.errors import EngineError, Outcomes, StackLocked
from meshstack.tools.engine.settings import (
    CHECKPOINTS,
    DEFAULT_PASSPHRASE,
    DEFAULT_STATE,
    FINAL_CHECKPOINT_ONLY,
    GO_RUNTIME,
    LOCK_RETRY_SECONDS,
    PARALLEL,
    POLICY_PACK,
    ROOT,
)


def project_root() -> Path:
    """Where the stack files are: ``$MESHSTACK_PROJECT`` (a platform team's repository of
    ``Pulumi.<stack>.yaml`` files run with meshstack's program), else this checkout."""
    return Path(os.environ.get("MESHSTACK_PROJECT") or ROOT)


@functools.cache
def pulumi_command(root: str) -> auto.PulumiCommand:
    """The Automation API's handle on the CLI under ``root``, made once per process: making one runs
    ``pulumi version`` whatever ``skip_version_check`` says (about 0.25 s, which every rollout step
    paid before its ``up``). It holds only the CLI's path and version."""
    return auto.PulumiCommand(root=root, skip_version_check=True)


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
    #: Resource operations in flight at once (:data:`~meshstack.tools.engine.settings.PARALLEL`).
    parallel: int = PARALLEL
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

    # --- where and how -------------------------------------------------------------------------

    @property
    def project_dir(self) -> Path:
        return self.state / "project"

    @property
    def source_file(self) -> Path:
        return self.stack_file or stack_path(project_root(), self.stack_name)

    @property
    def backend_url(self) -> str:
        return self.backend or f"file://{self.state / 'backend'}"

    @property
    def is_prod(self) -> bool:
        return self.stack_name == "prod" or read_config(self.source_file).get("meshstack:environment") == "prod"

    def env(self) -> dict[str, str]:
        env = dict(bootstrap_env())
        quiet_debug_log(Path(env["PULUMI_HOME"]))
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

    def policy(self) -> tuple[list[str], list[str]]:
        """``--policy-pack policy/`` and its config for this stack's enforcement (docs/cd.md#guardrails)."""
        level = self.enforcement or ("mandatory" if self.is_prod else "advisory")
        if level == "off":
            return [], []
        if level not in ("mandatory", "advisory"):
            raise EngineError(f"enforcement: {level!r} is not one of mandatory, advisory, off")
        return [str(POLICY_PACK)], [str(POLICY_PACK / "config" / f"{level}.json")]

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

    def step_env(self, extra_env: Mapping[str, str] | None = None, *, final_checkpoint: bool = False) -> dict[str, str]:
        """The environment of :meth:`targeted_up`: :meth:`env`, ``extra_env``, and with
        ``final_checkpoint`` the state written once."""
        return {**self.env(), **(extra_env or {}), **(FINAL_CHECKPOINT_ONLY if final_checkpoint else {})}

    def command(self) -> auto.PulumiCommand:
        """The Automation API's handle on the engine's CLI (the one :func:`bootstrap_env` puts first)."""
        return pulumi_command(str(Path(self.env()["PATH"].split(os.pathsep)[0]).parent))

    # --- the stack's config and project ------------------------------------------------------------

    def stack_config(self) -> dict[str, Any]:
        """The committed stack config with the machine-specific keys and the overrides merged over it."""
        overrides = {f"meshstack:{k}": v for k, v in self.overrides.items()}
        return workspace.layered(
            read_config(self.source_file), [workspace.machine_config(self.kubeconfig, self.charts), overrides]
        )

    def spec(self) -> StackSpec:
        """The stack's spec, from the config the engine hands the program (committed + machine keys)."""
        flat, _ = flat_config(self.stack_config(), "meshstack")
        values = collect(flat)
        values.pop(rollout_positions.STATE_KEY, None)
        return load_stack_spec(values)

    def prepare(self) -> Path:
        """(Re)write the project mirror; keeps the stack's secrets manager across runs."""
        workspace.write_mirror(self.project_dir, self.stack_name, self.stack_config())
        if self.backend is None:
            workspace.private_backend(self.state)
        return self.project_dir

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
        workspace.restore_secrets_manager(stack, project / f"Pulumi.{self.stack_name}.yaml")
        self._stacks[key] = stack
        return stack

    def set_overrides(self, **overrides: Any) -> None:
        self.overrides = workspace.deep_merge(self.overrides, overrides)

    # --- operations --------------------------------------------------------------------------------

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
            outcomes = Outcomes(self.stack_name, on_event)
            try:
                with private_files(), outcomes.guard():
                    return self.stack(extra_env).up(
                        on_output=self.on_output,
                        on_event=outcomes.on_event,
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

    def preview(
        self,
        expect_no_changes: bool = False,
        refresh: bool = False,
        on_event: Callable[[auto.EngineEvent], Any] | None = None,
    ) -> auto.PreviewResult:
        packs, configs = self.policy()
        outcomes = Outcomes(self.stack_name, on_event)
        with private_files(), outcomes.guard():
            return self.stack().preview(
                on_output=self.on_output,
                on_event=outcomes.on_event,
                expect_no_changes=expect_no_changes,
                refresh=refresh,
                diff=True,
                color="never",
                parallel=self.parallel,
                policy_packs=packs,
                policy_pack_configs=configs,
            )

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

        ``program``: the program to run instead of the project's, in this process (an inline
        program, :func:`meshstack._sdk.inline_program.served`), with the engine's environment laid
        over this process's (EKS lookups read the AWS endpoint and credentials from there): the
        engine skips the language host's package scan and a fresh interpreter's imports, about a
        second of a step (docs/benchmarks.md)."""
        project = self.prepare()
        args = ["up", "--yes", "--skip-preview", "--json", "--stack", self.stack_name, "--parallel", str(self.parallel)]
        for target in targets:
            args += ["--target", target]
        for pack, config in zip(*self.policy(), strict=True):
            args += ["--policy-pack", pack, "--policy-pack-config", config]
        env = self.step_env(extra_env, final_checkpoint=final_checkpoint)
        outcomes = Outcomes(self.stack_name)
        changes: dict[str, int] = {}

        def event_line(line: str) -> None:
            nonlocal changes
            event = outcomes.on_json_line(line)
            if summary := event.get("summaryEvent"):
                changes = change_counts(summary.get("resourceChanges"))
            elif (diag := event.get("diagnosticEvent")) and diag.get("severity") != "debug" and self.on_output:
                self.on_output(f"{diag.get('severity')}: {diag.get('urn', '')} {diag.get('message', '').rstrip()}")
            elif (outputs := event.get("resOutputsEvent")) and self.on_output:
                meta = outputs.get("metadata") or {}
                self.on_output(f"{meta.get('op')} {meta.get('urn')}")

        def in_env() -> None:
            with overlay(env):
                program()  # type: ignore[misc]

        with private_files(), outcomes.guard():
            if program is None:
                self.command().run(args, str(project), env, on_output=event_line)
            else:
                with inline_program.served(in_env) as client:
                    self.command().run([*args, *client], str(project), env, on_output=event_line)
        return changes

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
        except auto.CommandError as err:
            # Another field manager (kubectl scale/edit) owns a field the stack sets: the server-side
            # apply dry-run of the preview refuses it, which is drift by definition. The engine
            # reports it only as a resource's diagnostic text.
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

    def exists(self) -> bool:
        """Whether the backend has this stack (a first deployment has none)."""
        self.prepare()
        env = self.env()
        with Outcomes(self.stack_name).guard():
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
        except auto.CommandError as err:
            # `pulumi cancel` of a DIY stack that nothing holds fails with "the stack is not
            # currently locked" / "no update is in progress": nothing to release.
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
            done["changes"] = change_counts(result.summary.resource_changes)
            # The adopted objects' unchanged fields are still co-owned by the dead job's field
            # manager; without this, the next change of such a field would conflict.
            done["fieldManagers"] = self.release_dead_field_managers()
        return done

    def release_dead_field_managers(self) -> dict[str, int]:
        """Remove, from the stack's objects, the field-manager entries a killed job left
        (:mod:`meshstack.tools.engine.field_managers`)."""
        from kubernetes import config as kube_config  # noqa: PLC0415 - only `recover` needs the client

        from meshstack.tools.engine import field_managers  # noqa: PLC0415

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


__all__ = ["Engine", "StackLocked", "changed_resources", "project_root", "pulumi_command"]
