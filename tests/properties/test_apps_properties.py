"""Generated apps sections either fail with path-named errors or render schema-valid manifests."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshstack.model.refs import GatewayRef
from tests.properties.check import INGRESSES, check
from tests.properties.strategies import apps_section


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(section=apps_section, ingress=st.sampled_from(INGRESSES))
def test_validate_or_render_valid(section: dict[str, Any], ingress: GatewayRef | None) -> None:
    check(section, ingress)
