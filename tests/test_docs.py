"""Docs that are generated from code stay in sync with it."""

from __future__ import annotations

from pathlib import Path

from meshstack.tools import config_docs

ROOT = Path(__file__).resolve().parent.parent


def test_config_reference_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "config.md").read_text()
    assert committed == config_docs.render(), "docs/config.md is stale: run `make docs`"


def test_config_reference_lists_every_leaf_key_with_dev_and_prod_values() -> None:
    rows = {row[0]: row for row in config_docs.rows()}
    assert rows["meshstack:mesh.mtls"][3:5] == ('`"PERMISSIVE"`', '`"STRICT"`')
    assert rows["meshstack:environment"][2] == "required"
