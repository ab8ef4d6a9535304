"""A Pulumi project directory as the offline tools evaluate it: its name, its stacks' config and
its program — this repository, ``examples/platform-team/`` or a team's own project alike.

:func:`load_project` reads ``Pulumi.yaml`` the way the pulumi CLI and its Python language host
do: ``name`` is the project (bare config keys belong to it: ``shop-platform:kubeconfig``),
``main`` (default: the project directory) is where the program is, and the program is that
directory's ``__main__.py`` (or the ``.py`` file ``main`` names), run as ``__main__`` with its
directory first on ``sys.path`` and as the working directory, as the language host runs it.
Project-level ``config:`` values (``value:`` or ``default:``) apply to every stack that does not
set them. A directory without ``Pulumi.yaml`` holds stack files for meshstack's own program (a
platform team's repository of ``Pulumi.<stack>.yaml``, ``$MESHSTACK_PROJECT``).

The program runs in this interpreter: what it imports (meshstack, the team's own modules'
dependencies) must be installed here; the project's ``virtualenv`` option is not used.
"""

from __future__ import annotations

import os
import runpy
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshstack.errors import ConfigError
from meshstack.stacks.stack_file import known_stacks, read_config, read_document, stack_path
from meshstack.tools.recording import PROJECT, Recording, run_stack_file

PROJECT_FILE = "Pulumi.yaml"


class ProjectRefused(ValueError):
    """The directory is not a project the offline tools can evaluate; the message says why and
    what is allowed."""


@dataclass(frozen=True)
class Project:
    """A project directory, its name, and the program to evaluate for its stacks."""

    root: Path
    name: str
    #: The program's entry file (``__main__.py``); None: meshstack's own program, imported.
    main: Path | None = None
    #: Project-level config values (``namespace:key``), below each stack file's own.
    defaults: Mapping[str, Any] = field(default_factory=dict)

    @property
    def program_dir(self) -> Path:
        """Where the program runs (its working directory): relative paths in it start here."""
        return self.main.parent if self.main is not None else self.root

    def program(self) -> Callable[[], None]:
        """The program, as a callable for the mock runtime."""
        if self.main is None:
            from meshstack.stacks.program import main  # noqa: PLC0415 - only this project runs it

            return main
        entry = self.main

        def run_main() -> None:
            with _as_language_host(entry.parent):
                runpy.run_path(str(entry), run_name="__main__")

        return run_main

    def config(self, stack: str) -> dict[str, Any]:
        """The config of ``stack``: its stack file's over the project's defaults."""
        path = stack_path(self.root, stack)
        if not path.exists():
            stacks = ", ".join(known_stacks(self.root)) or "none"
            raise FileNotFoundError(f"no stack config {path.name} in {self.root}; stacks are: {stacks}")
        own = {self._full(k): v for k, v in read_config(path).items()}
        return {**self.defaults, **own}

    def evaluate(self, stack: str, *, preview: bool = False) -> Recording:
        """Evaluate the program for ``stack`` under the mock runtime."""
        return run_stack_file(
            stack, self.root, self.program(), config=self.config(stack), project=self.name, preview=preview
        )

    def _full(self, key: str) -> str:
        return key if ":" in key else f"{self.name}:{key}"


@contextmanager
def _as_language_host(program_dir: Path) -> Iterator[None]:
    """The program's directory first on ``sys.path`` and as the working directory, restored after."""
    where = str(program_dir)
    cwd = Path.cwd()
    sys.path.insert(0, where)
    os.chdir(program_dir)
    try:
        yield
    finally:
        os.chdir(cwd)
        if where in sys.path:
            sys.path.remove(where)


def load_project(root: Path) -> Project:
    """The project in ``root`` (see the module docs); raises :class:`ProjectRefused` for a
    ``Pulumi.yaml`` that is not a Python program."""
    root = root.resolve()
    settings_file = root / PROJECT_FILE
    if not settings_file.exists():
        if not root.is_dir():
            raise ProjectRefused(
                f"{root}: no such directory (--root is a Pulumi project or a directory of stack files)"
            )
        return Project(root, PROJECT)
    try:
        settings = read_document(settings_file)
    except ConfigError as err:
        raise ProjectRefused(f"{settings_file}: {err}") from None
    name = settings.get("name")
    if not isinstance(name, str) or not name:
        raise ProjectRefused(f"{settings_file}: `name:` must be the project's name (a string)")
    runtime = settings.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise ProjectRefused(
            f"{settings_file}: runtime {runtime_name!r}; the offline tools evaluate Python programs "
            "(runtime: python) only"
        )
    main = root / str(settings.get("main") or ".")
    entry = main / "__main__.py" if main.is_dir() else main
    if not entry.is_file() or entry.suffix != ".py":
        raise ProjectRefused(
            f"{settings_file}: the program must be a directory with __main__.py or a .py file; {entry} is not"
        )
    defaults = _project_config(settings.get("config") or {}, name)
    return Project(root, name, entry, defaults)


def _project_config(config: Mapping[str, Any], name: str) -> dict[str, Any]:
    """``Pulumi.yaml``'s ``config:`` values as stack-config entries; a declaration without a
    ``value`` or ``default`` (``type:`` only) gives none: each stack sets it."""
    out: dict[str, Any] = {}
    for key, decl in config.items():
        full = key if ":" in key else f"{name}:{key}"
        if not isinstance(decl, dict):
            out[full] = decl
        elif "value" in decl:
            out[full] = decl["value"]
        elif "default" in decl:
            out[full] = decl["default"]
    return out
