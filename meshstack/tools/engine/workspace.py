"""The engine's project directory for a stack: the program mirrored, with a generated stack file.

The engine runs the committed program unchanged, in a *project mirror* under the state directory:
symlinks to the program's code, its ``Pulumi.yaml`` (the virtualenv made absolute) and a
generated ``Pulumi.<stack>.yaml`` — the committed stack config with the machine-specific keys a
laptop user would ``pulumi config set`` (kubeconfig, the local Istio chart directory, the
credential generator) and the driver's overrides merged over it. Nothing the engine writes
(``encryptionsalt``, config edits) ever touches the committed stack files; the secrets manager
pulumi records in the generated file is kept across runs, and restored from the stack's state in
a fresh checkout (:func:`restore_secrets_manager`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pulumi import automation as auto
from ruamel.yaml import YAML

from meshstack.stacks.stack_file import SECRETS_MANAGER_KEYS, read_generated, write_generated
from meshstack.tools.engine.environment import lock_down
from meshstack.tools.engine.settings import PROJECT_ENTRIES, ROOT


def deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``: mappings merge key by key, anything else is replaced."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = dict(value) if isinstance(value, Mapping) else value
    return out


def layered(committed: Mapping[str, Any], layers: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """``committed`` stack config (``namespace:key`` keys) with each layer merged key by key over
    the one below."""
    config = dict(committed)
    for layer in layers:
        for key, value in layer.items():
            base = config.get(key)
            config[key] = deep_merge(base, value) if isinstance(base, dict) and isinstance(value, Mapping) else value
    return config


#: Beside an embedded cluster's kubeconfig (scripts/cluster.py): the stack config a stack needs on
#: that cluster (the credential generator this engine can run, the proxy flavor of its node …).
CLUSTER_STACK_CONFIG = "stack-config.json"


def cluster_config(kubeconfig: Path | None) -> dict[str, Any]:
    """What the cluster behind ``kubeconfig`` asks of a stack, when it is an embedded cluster."""
    path = kubeconfig.parent / CLUSTER_STACK_CONFIG if kubeconfig is not None else None
    if path is None or not path.is_file():
        return {}
    loaded = json.loads(path.read_text())
    return loaded if isinstance(loaded, dict) else {}


def machine_config(kubeconfig: Path | None, charts: Path | None) -> dict[str, Any]:
    """The keys a laptop user would set for this machine: the cluster's kubeconfig and a local chart
    directory, over what an embedded cluster asks of its stacks (:func:`cluster_config`)."""
    local: dict[str, Any] = cluster_config(kubeconfig)
    if kubeconfig is not None:
        local["meshstack:kubernetes"] = {"kubeconfig": str(kubeconfig)}
    if charts is not None:
        local["meshstack:mesh"] = deep_merge(local.get("meshstack:mesh", {}), {"chartRepository": str(charts)})
    return local


def write_mirror(project: Path, stack: str, config: Mapping[str, Any]) -> Path:
    """(Re)write the project mirror in ``project`` for ``stack`` with ``config``; keeps the secrets
    manager pulumi wrote into the generated stack file. Returns that stack file."""
    project.mkdir(parents=True, exist_ok=True)
    for entry in PROJECT_ENTRIES:
        link = project / entry
        if not link.is_symlink():
            link.symlink_to(ROOT / entry)
    settings = YAML(typ="safe", pure=False).load((ROOT / "Pulumi.yaml").read_text())
    settings["runtime"]["options"]["virtualenv"] = str(ROOT / ".venv")
    write_generated(project / "Pulumi.yaml", settings)
    stack_file = project / f"Pulumi.{stack}.yaml"
    existing = read_generated(stack_file)
    doc: dict[str, Any] = {key: existing[key] for key in SECRETS_MANAGER_KEYS if existing.get(key)}
    doc["config"] = dict(config)
    write_generated(stack_file, doc)
    return stack_file


def private_backend(state: Path) -> str:
    """The local file backend under ``state`` (created, and kept private)."""
    backend = state / "backend"
    backend.mkdir(parents=True, exist_ok=True)
    lock_down(backend)
    return f"file://{backend}"


def restore_secrets_manager(stack: auto.Stack, stack_file: Path) -> None:
    """A fresh checkout (another pipeline job, another machine) has no stack settings of its own:
    take the stack's secrets manager from its state, where the engine keeps a copy of it, instead
    of letting the engine fall back to a passphrase it was never created with."""
    doc = read_generated(stack_file)
    if any(doc.get(key) for key in SECRETS_MANAGER_KEYS):
        return
    providers = (stack.export_stack().deployment or {}).get("secrets_providers") or {}
    state = providers.get("state") or {}
    restored: dict[str, Any] = {}
    if providers.get("type") == "cloud" and state.get("url"):
        restored = {"secretsprovider": state["url"], "encryptedkey": state.get("encryptedkey")}
    elif providers.get("type") == "passphrase" and state.get("salt"):
        restored = {"encryptionsalt": state["salt"]}
    if restored:
        write_generated(stack_file, {**restored, **doc})
