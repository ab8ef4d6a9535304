"""meshstack: Istio service mesh as code.

Layers (data flows one way, ``.importlinter`` holds it): ``meshstack.model`` (typed, frozen,
validated specs; no Pulumi) → ``meshstack.render`` (pure functions to Kubernetes/Istio manifests;
no Pulumi) → ``meshstack.components`` (Pulumi ComponentResources) → ``meshstack.stacks`` (Pulumi
config → model, the program) → ``meshstack.tools`` (engine driver, rollout runner, render,
promotion) → ``meshstack.cli``. The Pulumi SDKs' internals are used in ``meshstack._sdk`` only.
"""
