"""no-anonymous-dashboards: Grafana and Kiali require a login.

Where the program configures them (``meshstack/render/addons``): Grafana through its container's
environment — ``GF_AUTH_ANONYMOUS_ENABLED`` is ``"true"`` for ``auth: anonymous`` — and Kiali
through the ``config.yaml`` of its ConfigMap — ``auth.strategy: anonymous``. The rule also reads
the other places the same switches live: a ``grafana.ini`` in a ConfigMap
(``[auth.anonymous] enabled = true``) and the Kiali operator's ``Kiali`` resource
(``spec.auth.strategy``).
"""

from __future__ import annotations

import configparser
from typing import Any

import yaml

from meshstack.guardrails.core import Resource, containers, dig, mapping, sequence, text

NAME = "no-anonymous-dashboards"
DESCRIPTION = "Grafana and Kiali require a login (no anonymous access)."
GRAFANA_ANONYMOUS_ENV = "GF_AUTH_ANONYMOUS_ENABLED"
GRAFANA_ALLOWED = 'allowed: "false" or unset (addons.grafana.auth: login)'
KIALI_ALLOWED = "allowed: token, openid, openshift or header (addons.kiali.auth: login)"


def check(res: Resource) -> list[str]:
    if not res.is_kubernetes:
        return []
    out: list[str] = []
    for c in containers(res):
        for i, item in enumerate(sequence(c.spec.get("env"))):
            env = mapping(item)
            value = text(env.get("value"))
            if env.get("name") == GRAFANA_ANONYMOUS_ENV and value is not None and value.strip().lower() == "true":
                out.append(
                    f'{res.ref}: {c.path}.env[{i}] {GRAFANA_ANONYMOUS_ENV} is "{value}": anonymous Grafana; '
                    f"{GRAFANA_ALLOWED}"
                )
    if res.kind == "ConfigMap":
        for key, value in mapping(res.props.get("data")).items():
            if not isinstance(value, str):
                continue
            if key.endswith(".ini") and _grafana_ini_anonymous(value):
                out.append(
                    f'{res.ref}: data["{key}"] [auth.anonymous] enabled is true: anonymous Grafana; '
                    "allowed: enabled = false or unset (addons.grafana.auth: login)"
                )
            elif key.endswith((".yaml", ".yml")) and _is_kiali(res, value):
                strategy = dig(_yaml(value), "auth", "strategy")
                if strategy == "anonymous":
                    out.append(
                        f'{res.ref}: data["{key}"] auth.strategy is "anonymous": anonymous Kiali; {KIALI_ALLOWED}'
                    )
    if res.kind == "Kiali" and dig(res.props, "spec", "auth", "strategy") == "anonymous":
        out.append(f'{res.ref}: spec.auth.strategy is "anonymous": anonymous Kiali; {KIALI_ALLOWED}')
    return out


def _grafana_ini_anonymous(raw: str) -> bool:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(raw)
    except configparser.Error:
        return False
    if not parser.has_option("auth.anonymous", "enabled"):
        return False
    return parser.get("auth.anonymous", "enabled").strip().lower() == "true"


def _yaml(raw: str) -> Any:
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        return None


def _is_kiali(res: Resource, raw: str) -> bool:
    """Kiali's own ConfigMap: named or labelled kiali, or a config with Kiali's top-level keys."""
    labels = res.labels
    if "kiali" in (res.name, labels.get("app"), labels.get("app.kubernetes.io/name")):
        return True
    return "auth:" in raw and ("external_services:" in raw or "istio_namespace:" in raw)
