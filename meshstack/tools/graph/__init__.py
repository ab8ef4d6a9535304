"""``meshstack graph``: the mesh as a picture — gateways → hosts → services → versions, the traffic
between them and who may call whom.

=========  ===========================================================================================
``model``  the graph, built from what a stack renders (its manifests, charts and ``rollouts`` output):
           pure data, no Pulumi, no cluster
``live``   what the cluster has of it: endpoints (EndpointSlices) and sidecar proxies (pods)
``svg``    a deterministic SVG of a graph (its own layered layout: no binary, no fonts measured)
=========  ===========================================================================================
"""
