"""Test a Pulumi program that composes meshstack (ours or a platform team's) under Pulumi's mocks.

    from meshstack.testing import run
    rec = run(my_program, config={"team:replicas": 2})
    rec.one(kind="VirtualService", k8s_name="web").inputs["spec"]

No cluster and no pulumi CLI are involved; several programs can be evaluated in one process. This
is the public face of :mod:`meshstack.tools.recording` (which the offline render uses too); no
production module imports it.
"""

from __future__ import annotations

from meshstack.tools.recording import (
    REDACTED,
    Recording,
    Registered,
    contains_secret,
    redact,
    run,
    run_stack_file,
    stack_config,
)

__all__ = ["REDACTED", "Recording", "Registered", "contains_secret", "redact", "run", "run_stack_file", "stack_config"]
