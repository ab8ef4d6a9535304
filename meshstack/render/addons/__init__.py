"""The observability addons as typed native manifests, one module per addon.

Why native manifests and not charts: no chart can be fetched on an offline machine or in the
offline render/e2e tiers, the upstream charts differ wildly in shape (Prometheus community,
Grafana, Jaeger, Kiali operator or server chart), and the wiring between the addons (datasource
URLs, extension provider, Kiali's external services, secrets) is easier to review and test as
pure functions than as four values files. See docs/platform.md.
"""
