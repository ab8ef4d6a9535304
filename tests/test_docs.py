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


def test_the_promotion_split_in_docs_cd_is_the_models() -> None:
    from meshstack.model.release import split_table
    from meshstack.model.stack import StackSpec
    from meshstack.stacks.samples import SAMPLES

    rows = split_table(StackSpec)
    for key, sample in SAMPLES.items():
        rows += split_table(sample.config, f"apps.{key}.")
    doc = (ROOT / "docs" / "cd.md").read_text()
    block = doc.split("<!-- split-table: generated from meshstack.model.release.split_table -->")[1]
    block = block.split("<!-- /split-table -->")[0]
    table = [line for line in block.strip().splitlines()[2:]]
    assert table == [f"| `{path}` | {kind} |" for path, kind in rows], "docs/cd.md's split table is stale"
    assert ("apps.services.<name>.rollout", "release") in rows and ("addons", "environment") in rows
