"""Generated apps sections either fail with path-named errors or render schema-valid manifests."""

from __future__ import annotations

import collections
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshstack.model.refs import GatewayRef
from tests.properties.check import INGRESSES, Outcome, check
from tests.properties.strategies import apps_section, valid_apps_case


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(section=apps_section, ingress=st.sampled_from(INGRESSES))
def test_validate_or_render_valid(section: dict[str, Any], ingress: GatewayRef | None) -> None:
    check(section, ingress)


VALID_EXAMPLES = 100
#: Share of ``valid_apps_case`` examples that must be accepted (typically ~85%).
MIN_ACCEPTED = 0.5


def test_valid_configs_are_mostly_accepted() -> None:
    """Configs meant to be valid keep the same property, and most of them reach rendering and
    schema validation (so a strategy or model drift that rejects them all cannot pass silently)."""
    outcomes: collections.Counter[Outcome] = collections.Counter()

    @settings(max_examples=VALID_EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(case=valid_apps_case)
    def run(case: tuple[dict[str, Any], GatewayRef | None]) -> None:
        outcomes[check(*case)] += 1

    run()
    total = sum(outcomes.values())
    assert total >= VALID_EXAMPLES // 2, outcomes
    assert outcomes[Outcome.ACCEPTED] >= MIN_ACCEPTED * total, outcomes
