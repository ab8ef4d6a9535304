"""The rollout runner (``meshstack rollout``): no controller in the cluster, one reviewed step at a time.

==================  =================================================================================
``machine``         :class:`Runner`: the state machine (steps, checks, gates, rollback, resume)
``engine_stack``    the runner's stack, driven through the real engine (a step: one targeted update)
``lease``           one runner per app and stack (a Kubernetes Lease)
``prometheus``      the analysis's Prometheus client
``events``          what the runner reports, to every sink at once (terminal, JSON lines, a webhook)
==================  =================================================================================
"""
