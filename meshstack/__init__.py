"""meshstack: Istio service mesh as code.

Layers (data flows one way): ``meshstack.model`` (typed, frozen, validated specs) →
``meshstack.render`` (pure functions to Kubernetes/Istio manifests) → ``components``
(Pulumi ComponentResources) → ``stacks`` (Pulumi config → model) → ``__main__.py``.
Nothing under ``meshstack`` imports Pulumi.
"""
