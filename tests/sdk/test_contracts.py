"""The SDK internals meshstack relies on live in meshstack._sdk only, and still are what it expects.

* every module of ``meshstack._sdk`` is listed in :data:`meshstack._sdk.CONTRACTS`, with the
  releases it was checked against: an installed SDK outside that range fails here, so an upgrade
  is re-checked (and the range moved) on purpose, not found out by a caller;
* every private name a contract lists still exists;
* no other source file of the project imports a private module or name of ``pulumi`` or
  ``pulumi_policy`` (the tests of this directory excepted: they hold the SDK to the contracts).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest

import meshstack._sdk
from meshstack._sdk import CONTRACTS, Contract

ROOT = Path(__file__).resolve().parents[2]
#: The public surface of ``pulumi.runtime`` (its ``__all__`` without the ``rpc`` submodule).
PUBLIC_RUNTIME = frozenset(importlib.import_module("pulumi.runtime").__all__) - {"rpc"}
#: Packages whose every submodule is public API (generated SDKs, documented entry points).
PUBLIC_TREES = ("pulumi_kubernetes", "pulumi_random", "pulumi.automation", "pulumi.dynamic", "pulumi.provider")


def _release(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:3])


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.module)
def test_the_installed_sdk_is_a_release_the_module_was_checked_against(contract: Contract) -> None:
    low, high = contract.checked
    installed = version(contract.package)
    assert _release(low) <= _release(installed) <= _release(high), (
        f"meshstack._sdk.{contract.module} was checked against {contract.package} {low}..{high}, "
        f"{installed} is installed: re-run tests/sdk, check what it touches, then move the range"
    )


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.module)
def test_every_private_name_a_contract_lists_exists(contract: Contract) -> None:
    for touched in contract.touches:
        module, _, name = touched.partition(":")
        assert hasattr(importlib.import_module(module), name), f"{touched} is gone ({contract.module})"
    assert contract.upstream


def test_every_module_of_the_package_has_a_contract() -> None:
    modules = {m.name for m in pkgutil.iter_modules(meshstack._sdk.__path__)}
    assert modules == {c.module for c in CONTRACTS}


def _private(module: str, name: str | None = None) -> bool:
    """Whether importing ``name`` from ``module`` (or ``module`` itself) reaches past the SDKs'
    public API."""
    parts = module.split(".")
    if parts[0] not in ("pulumi", "pulumi_policy"):
        return False
    if any(p.startswith("_") for p in parts) or (name or "").startswith("_"):
        return True
    if any(module == tree or module.startswith(tree + ".") for tree in PUBLIC_TREES):
        return False
    if module == "pulumi.runtime":
        return name is not None and name not in PUBLIC_RUNTIME
    if module.startswith("pulumi.runtime."):
        return True
    if parts[0] == "pulumi_policy":
        return len(parts) > 1  # pulumi_policy's submodules are its implementation
    return False


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _sources() -> list[Path]:
    """The project's Python sources (what git tracks), but this package and its tests."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "*.py"], capture_output=True, text=True, check=True)
    skip = (ROOT / "meshstack" / "_sdk", ROOT / "tests" / "sdk")
    paths = [ROOT / line for line in listed.stdout.splitlines()]
    return [p for p in paths if not p.is_symlink() and not any(p.is_relative_to(s) for s in skip)]


def test_no_module_outside_the_sdk_package_imports_a_private_pulumi_module() -> None:
    found = []
    for path in _sources():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [f"{path}:{node.lineno} import {a.name}" for a in node.names if _private(a.name)]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found += [
                    f"{path}:{node.lineno} from {node.module} import {a.name}"
                    for a in node.names
                    if _private(node.module, a.name)
                    or (_is_module(f"{node.module}.{a.name}") and _private(f"{node.module}.{a.name}"))
                ]
            elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                chain = node.value
                while isinstance(chain, ast.Attribute):
                    chain = chain.value
                if isinstance(chain, ast.Name) and chain.id in ("pulumi", "pulumi_policy"):
                    found.append(f"{path}:{node.lineno} {ast.unparse(node)}")
    assert not found, "private SDK use outside meshstack/_sdk:\n" + "\n".join(found)


def test_the_scan_finds_what_it_is_for() -> None:
    assert _private("pulumi.automation._server", "LanguageServer")
    assert _private("pulumi.runtime.settings", "SETTINGS")
    assert _private("pulumi.runtime", "rpc") and _private("pulumi.runtime", "CONFIG")
    assert _private("pulumi_policy.policy", "x") and _private("pulumi", "_types")
    assert not _private("pulumi.runtime", "set_mocks") and not _private("pulumi", "Output")
    assert not _private("pulumi.automation", "ConcurrentUpdateError") and not _private("pulumi_policy", "PolicyPack")
    assert not _private("pulumi_kubernetes.apps.v1", "Deployment")
