"""Jaeger v2 all-in-one (in-memory storage), the mesh's tracing backend.

Istio sends spans over OTLP/gRPC to ``jaeger-collector:4317`` through the ``jaeger`` extension
provider (istiod ``meshConfig.extensionProviders``) selected by the mesh Telemetry resource.
Services follow Istio's samples: ``tracing`` (UI, 80→16686), ``zipkin`` (9411) and
``jaeger-collector`` (OTLP 4317/4318, Zipkin 9411, Jaeger 14268/14250).
"""

from __future__ import annotations

from typing import Any

import yaml

from meshstack.model.addons import JaegerAddon
from meshstack.model.resources import Resources
from meshstack.render.addons.common import (
    Endpoint,
    config_map,
    config_volume,
    deployment,
    mount,
    service,
)
from meshstack.render.kube import Manifest

NAME = "jaeger"
UI_PORT = 16686
QUERY_GRPC_PORT = 16685
OTLP_GRPC_PORT = 4317
HEALTH_PORT = 13133
#: The extension provider name the mesh's Telemetry refers to.
PROVIDER = "jaeger"


def endpoint(namespace: str) -> Endpoint:
    """The UI through the ``tracing`` Service (port 80)."""
    return Endpoint("tracing", namespace, 80, local_port=UI_PORT)


def query_grpc_url(namespace: str) -> str:
    return f"http://tracing.{namespace}:{QUERY_GRPC_PORT}"


def extension_provider(namespace: str) -> dict[str, Any]:
    """The istiod ``meshConfig.extensionProviders`` entry: OTLP/gRPC to the collector."""
    return {
        "name": PROVIDER,
        "opentelemetry": {"service": f"jaeger-collector.{namespace}.svc.cluster.local", "port": OTLP_GRPC_PORT},
    }


def jaeger_config(addon: JaegerAddon) -> dict[str, Any]:
    """Jaeger v2's (OpenTelemetry-collector style) configuration: receivers → memory store ← query."""
    return {
        "service": {
            "extensions": ["jaeger_storage", "jaeger_query", "healthcheckv2"],
            "pipelines": {
                "traces": {
                    "receivers": ["otlp", "jaeger", "zipkin"],
                    "processors": ["batch"],
                    "exporters": ["jaeger_storage_exporter"],
                }
            },
        },
        "extensions": {
            "healthcheckv2": {"use_v2": True, "http": {"endpoint": f"0.0.0.0:{HEALTH_PORT}"}},
            "jaeger_query": {
                "storage": {"traces": "memstore"},
                "grpc": {"endpoint": f"0.0.0.0:{QUERY_GRPC_PORT}"},
                "http": {"endpoint": f"0.0.0.0:{UI_PORT}"},
            },
            "jaeger_storage": {"backends": {"memstore": {"memory": {"max_traces": addon.max_traces}}}},
        },
        "receivers": {
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": f"0.0.0.0:{OTLP_GRPC_PORT}"},
                    "http": {"endpoint": "0.0.0.0:4318"},
                }
            },
            "jaeger": {
                "protocols": {"grpc": {"endpoint": "0.0.0.0:14250"}, "thrift_http": {"endpoint": "0.0.0.0:14268"}}
            },
            "zipkin": {"endpoint": "0.0.0.0:9411"},
        },
        "processors": {"batch": {}},
        "exporters": {"jaeger_storage_exporter": {"trace_storage": "memstore"}},
    }


def manifests(addon: JaegerAddon, namespace: str) -> list[Manifest]:
    return [
        config_map(NAME, namespace, NAME, {"config.yaml": yaml.safe_dump(jaeger_config(addon), sort_keys=False)}),
        deployment(
            NAME,
            namespace,
            addon.image("docker.io/jaegertracing/jaeger", addon.version),
            args=["--config=/etc/jaeger/config.yaml"],
            ports=[
                ("http-query", UI_PORT),
                ("grpc-query", QUERY_GRPC_PORT),
                ("grpc-otlp", OTLP_GRPC_PORT),
                ("http-otlp", 4318),
                ("http-zipkin", 9411),
                ("http-thrift", 14268),
                ("grpc-jaeger", 14250),
                ("http-health", HEALTH_PORT),
            ],
            ready_path="/status",
            ready_port=HEALTH_PORT,
            resources=Resources.of("50m", "256Mi", cpu_limit="1", memory_limit="1Gi"),
            mounts=[mount("config", "/etc/jaeger")],
            volumes=[config_volume("config", NAME)],
            run_as_user=10001,
        ),
        service(
            "tracing", namespace, NAME, [("http-query", 80, UI_PORT), ("grpc-query", QUERY_GRPC_PORT, QUERY_GRPC_PORT)]
        ),
        service("zipkin", namespace, NAME, [("http-zipkin", 9411, 9411)]),
        service(
            "jaeger-collector",
            namespace,
            NAME,
            [
                ("grpc-otlp", OTLP_GRPC_PORT, OTLP_GRPC_PORT),
                ("http-otlp", 4318, 4318),
                ("http-zipkin", 9411, 9411),
                ("http-thrift", 14268, 14268),
                ("grpc-jaeger", 14250, 14250),
            ],
        ),
    ]
