"""Whole-stack-file mutations and the property they are held to (fuzz/fuzz_stacks.py,
tests/properties/test_stack_fuzz.py, tests/e2e/test_real_validators.py).

A :class:`Mutation` is the text of ``Pulumi.dev.yaml`` or ``Pulumi.prod.yaml`` with exactly one
thing changed: one value (hosts, durations, retryOn, labels, ports, chart repository, names …),
one added duplicate (a server on a port already served), one deep nesting (900 or 3000 levels),
or one YAML structure error (syntax, a list at the root, ``config:`` as a list or string,
non-string keys, duplicate keys). Each is run exactly the way the program reads a stack file
(:func:`run_mutation`: the text in a temporary project directory →
``meshstack.testing.run_stack_file`` → ``stack_config``/``flat_config`` → the program →
``load_stack_spec``) and classified:

* **accepted** — the program registered its resources; its Kubernetes objects then go through
  the real validators (:class:`Validators`: istioctl validate, istioctl analyze, optionally the API
  server's dry-run), and any rejection there is an *accepted-but-rejected* finding;
* **rejected** — a ConfigError (or the RunError the program turns it into) in which every problem
  names its config path;
* **crashed** — any other exception, or a rejection with a problem that names no path.
"""

from __future__ import annotations

import copy
import hashlib
import re
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
STACKS = ("dev", "prod")
BASE_TEXT = {stack: (ROOT / f"Pulumi.{stack}.yaml").read_text() for stack in STACKS}
NS = "meshstack:"


@dataclass(frozen=True)
class Mutation:
    stack: str
    #: The class of mutation (``host``, ``duration``, ``yaml-syntax`` …), for grouping findings.
    kind: str
    #: What was changed, e.g. ``gateways.ingress.servers[0].hosts[0] = '-bad.example.com'``.
    description: str
    #: The whole stack file.
    text: str

    def __str__(self) -> str:
        return f"[{self.stack}] {self.kind}: {self.description}"


# --- value pools -----------------------------------------------------------------------------------

LONG_LABEL = "a" * 300
HOSTS: list[Any] = [
    "-bad.example.com", "*/", "a/b/c", "bücher.example.com", "例え.jp", "xn--bcher-kva.example.com",
    "1.2.3.4/32", "1.2.3.4", "[::1]", "shop.example.com:443", "http://x", "*foo.com", "*.*.example.com",
    f"{LONG_LABEL}.example.com", ".".join(["a" * 63] * 5), "shop.example.com.", "SHOP.example.com",
    "shop_example.com", "shop example.com", "", " ", "*", "localhost", "bookinfo/shop.example.com",
    "./shop.example.com", "*/shop.example.com", "Bad_NS/shop.example.com", "shop.example.com\n",
    "shop.example.com",
]  # fmt: skip
DURATIONS: list[Any] = [
    "99999999999h", "٣s", "１s", "1e3s", "0.0000001s", "1.5h30m", "1s ", " 1s", "1S", "-1s", ".5s", "1.s",
    "1h1h", "0", "1", "0s", "0ms", "315576000001s", "10000000000000000000000s", "1ns", "1us", "1µs", "1d",
    "1m1", "PT1S", "", 1, 1.5, "2s",
]  # fmt: skip
RETRY_ON: list[Any] = [
    "599", "600", "099", "100", "5xx", "5xx,reset", "reset,", " 5xx", "503 ", "bogus", "", "retriable-status-codes",
    "cancelled", "x" * 64, "٥٠٣", "gateway-error", "retriable-4xx", 503,
]  # fmt: skip
LABEL_KEYS: list[Any] = [
    "bad key", "-a", "a-", "a/b/c", "example.com/", "/a", "a" * 64, "example.com/" + "a" * 64, "a" * 254 + "/x",
    "Ünïcode", "x٣", "app", "istio", "version", "kubernetes.io/x", "EXAMPLE.com/a", "a..b/c", "", "team",
]  # fmt: skip
LABEL_VALUES: list[Any] = ["-a", "a-", "a" * 64, "a b", "", "a_b.c", "ü", "a/b", "٣", 123, True, None, 1.5, "ok"]
CHART_REPOSITORIES: list[Any] = [
    "not a url", "http://charts.example.com", "ftp://charts.example.com", "oci://", "https://", "/nonexistent/charts",
    "https://example.com/{version}", "file:///tmp", "", " ", "https://exa mple.com", "oci://registry.example.com/istio",
]  # fmt: skip
NUMBERS: list[Any] = [0, -1, 1, 80, 65535, 65536, 2**31 - 1, 2**31, 2**63, 10**30, 1.5, float("nan"), float("inf"),
                      True, "80", None]  # fmt: skip
NAMES: list[Any] = ["Bad", "a" * 64, "-a", "kube-system", "default", "istio-system", "istio-ingress", "istio-egress",
                    "bookinfo", "a.b", ""]  # fmt: skip
VERSIONS: list[Any] = ["1.29.1 ", "1.29", "v1.29.1", "99.0.0", "1.29.1-beta.0", "٣.29.1", "1.29.1\n", 1.29]
IMAGES: list[Any] = ["nginx", "UPPER/x:1", "x:tag with space", "a" * 300, "x@sha256:abc", ":latest",
                     "registry:5000/x", "x:" + "t" * 129]  # fmt: skip
JUNK: list[Any] = [None, "", " ", 0, -1, 2**63, 1.5, True, [], {}, [1], {"a": 1}, "x" * 300, "٣", "null", "~",
                   "\u200b", "yes", "2024-01-01"]  # fmt: skip

#: A custom app added to a stack's apps for app-level mutations (valid on its own in dev and prod).
WEB: dict[str, Any] = {
    "versions": {"v1": {"image": "registry.example.com/web:1"}, "v2": {"image": "registry.example.com/web:2"}},
    "ports": [{"port": 8080}],
    "routes": [
        {
            "to": [{"version": "v1", "weight": 90}, {"version": "v2", "weight": 10}],
            "timeout": "10s",
            "retries": {"attempts": 2, "perTryTimeout": "2s", "retryOn": ["5xx"]},
        }
    ],
    "expose": {"paths": [{"prefix": "/web"}], "hosts": ["*"]},
    "circuitBreaker": {"maxConnections": 100, "connectTimeout": "1s", "interval": "10s", "consecutive5xxErrors": 5},
    "rateLimit": {"maxTokens": 100, "fillInterval": "1s"},
}
WEB_PATH: tuple[Any, ...] = ("apps", "services", "web")

Path_ = tuple[Any, ...]


@dataclass(frozen=True)
class Target:
    """Where a value goes (config path without ``meshstack:``) and what it may be."""

    kind: str
    path: Path_
    values: Sequence[Any]
    #: Set up before the value is placed (an added app, an added server …).
    setup: Callable[[dict[str, Any]], None] | None = None


def _add_web(config: dict[str, Any]) -> None:
    _set(config, WEB_PATH, copy.deepcopy(WEB))


def _add_https_server(config: dict[str, Any]) -> None:
    _set(
        config,
        ("gateways", "ingress", "servers", 1),
        {
            "port": 443,
            "protocol": "HTTPS",
            "hosts": ["shop.example.com"],
            "tls": {"mode": "SIMPLE", "credentialName": "shop-cert"},
        },
    )


def _enable_egress_server(config: dict[str, Any]) -> None:
    _set(config, ("gateways", "egress", "enabled"), True)
    _set(config, ("gateways", "egress", "servers"), [{"port": 80, "protocol": "HTTP", "hosts": ["api.example.com"]}])


def _ingress_ports(config: dict[str, Any]) -> None:
    _set(
        config,
        ("gateways", "ingress", "ports"),
        [{"name": "status-port", "port": 15021}, {"name": "http2", "port": 80}, {"name": "https", "port": 443}],
    )


def _web(*rest: Any) -> Path_:
    return (*WEB_PATH, *rest)


TARGETS: list[Target] = [
    # hosts
    Target("host", ("gateways", "ingress", "servers", 0, "hosts", 0), HOSTS),
    Target("host", ("gateways", "ingress", "servers", 1, "hosts", 0), HOSTS, _add_https_server),
    Target("host", ("gateways", "egress", "servers", 0, "hosts", 0), HOSTS, _enable_egress_server),
    Target("host", _web("expose", "hosts", 0), HOSTS, _add_web),
    # durations
    Target("duration", _web("routes", 0, "timeout"), DURATIONS, _add_web),
    Target("duration", _web("routes", 0, "retries", "perTryTimeout"), DURATIONS, _add_web),
    Target("duration", _web("routes", 0, "fault"), [{"delay": {"fixedDelay": d}} for d in DURATIONS], _add_web),
    Target("duration", _web("circuitBreaker", "connectTimeout"), DURATIONS, _add_web),
    Target("duration", _web("circuitBreaker", "interval"), DURATIONS, _add_web),
    Target("duration", _web("circuitBreaker", "baseEjectionTime"), DURATIONS, _add_web),
    Target("duration", _web("rateLimit", "fillInterval"), DURATIONS, _add_web),
    Target("duration", _web("loadBalancer"),
           [{"consistentHash": {"httpCookie": {"name": "s", "ttl": d}}} for d in DURATIONS], _add_web),
    Target("duration", ("addons", "prometheus", "scrapeInterval"), DURATIONS),
    Target("duration", ("addons", "prometheus", "retention"), [*DURATIONS, "15d", "٣d", "1w", "0d"]),
    # retryOn
    Target("retryOn", _web("routes", 0, "retries", "retryOn", 0), RETRY_ON, _add_web),
    Target("retryOn", _web("routes", 0, "retries", "retryOn"), [[r, "5xx"] for r in RETRY_ON], _add_web),
    # ports and numbers
    Target("number", ("gateways", "ingress", "servers", 0, "port"), NUMBERS),
    Target("number", ("gateways", "ingress", "ports", 1, "port"), NUMBERS, _ingress_ports),
    Target("number", _web("ports", 0, "port"), NUMBERS, _add_web),
    Target("number", _web("ports", 0, "targetPort"), NUMBERS, _add_web),
    Target("number", _web("versions", "v1", "replicas"), NUMBERS, _add_web),
    Target("number", _web("routes", 0, "to", 0, "weight"), NUMBERS, _add_web),
    Target("number", _web("routes", 0, "retries", "attempts"), NUMBERS, _add_web),
    Target("number", _web("circuitBreaker", "maxConnections"), NUMBERS, _add_web),
    Target("number", _web("rateLimit", "maxTokens"), NUMBERS, _add_web),
    Target("number", ("apps", "bookinfo", "replicas"), NUMBERS),
    Target("number", ("mesh", "istiod", "replicas"), NUMBERS),
    Target("number", ("mesh", "tracing", "sampling"), NUMBERS),
    Target("number", ("addons", "jaeger", "maxTraces"), NUMBERS),
    # chart repository, versions, names, images
    Target("chartRepository", ("mesh", "chartRepository"), CHART_REPOSITORIES),
    Target("version", ("mesh", "version"), VERSIONS),
    Target("name", ("apps", "namespace"), NAMES),
    Target("name", ("mesh", "namespace"), NAMES),
    Target("name", ("gateways", "ingress", "namespace"), NAMES),
    Target("name", ("gateways", "ingress", "gatewayName"), NAMES),
    Target("name", ("gateways", "ingress", "servers", 0, "name"), NAMES),
    Target("name", _web("serviceAccount"), NAMES, _add_web),
    Target("image", _web("versions", "v1", "image"), IMAGES, _add_web),
    Target("image", ("apps", "bookinfo", "imageRegistry"), IMAGES),
    Target("image", ("apps", "bookinfo", "imageTag"), IMAGES),
]  # fmt: skip

#: Label maps: a key or a value with bad syntax goes in.
LABEL_MAPS: list[tuple[Path_, Callable[[dict[str, Any]], None] | None]] = [
    (("gateways", "ingress", "labels"), None),
    (("gateways", "ingress", "selector"), None),
    (("namespaces", "team-a", "labels"), None),
    (_web("versions", "v1", "labels"), _add_web),
    (_web("routes", 0, "match"), _add_web),  # as sourceLabels, below
]

#: Servers added to the ingress next to ``{port: 80, protocol: HTTP, hosts: ['*']}``.
DUPLICATE_SERVERS: list[dict[str, Any]] = [
    {"port": 80, "protocol": "HTTP", "hosts": ["*"]},
    {"port": 80, "protocol": "HTTP", "hosts": ["shop.example.com"]},
    {"port": 80, "protocol": "HTTP", "name": "http-80", "hosts": ["a.example.com"]},
    {"port": 80, "protocol": "HTTPS", "hosts": ["*"], "tls": {"mode": "SIMPLE", "credentialName": "c"}},
    {"port": 80, "protocol": "TCP", "hosts": ["*"]},
    {"port": 80, "protocol": "HTTP2", "hosts": ["*"]},
    {"port": 443, "protocol": "HTTPS", "name": "http-80", "hosts": ["*"], "tls": {"mode": "SIMPLE", "credentialName": "c"}},
]  # fmt: skip
DUPLICATE_SERVICE_PORTS: list[list[dict[str, Any]]] = [
    [{"name": "status-port", "port": 15021}, {"name": "http2", "port": 80}, {"name": "http2", "port": 8080}],
    [{"name": "http2", "port": 80}, {"name": "http2", "port": 80}],
    [{"name": "http2", "port": 80}, {"name": "https", "port": 443, "targetPort": 80}, {"name": "tcp", "port": 8443, "targetPort": 80}],
]  # fmt: skip


# --- editing a stack file ----------------------------------------------------------------------------


def base_doc(stack: str) -> dict[str, Any]:
    doc = yaml.safe_load(BASE_TEXT[stack])
    assert isinstance(doc, dict)
    return doc


def _config_key(path: Path_) -> Path_:
    head, *rest = path
    return (f"{NS}{head}", *rest)


def _set(config: dict[str, Any], path: Path_, value: Any) -> None:
    """Set ``config[path]`` (config keys without ``meshstack:``), creating mappings and appending
    list items on the way."""
    node: Any = config
    full = _config_key(path)
    for i, part in enumerate(full):
        last = i == len(full) - 1
        nxt: Any = value if last else ({} if isinstance(full[i + 1], str) else [])
        if isinstance(node, dict):
            if last or part not in node or node[part] is None:
                node[part] = nxt
        elif isinstance(node, list):
            assert isinstance(part, int) and part <= len(node), (full, part)
            if part == len(node):
                node.append(nxt)
            elif last:
                node[part] = nxt
        else:  # pragma: no cover - a path through a scalar is a bug in TARGETS
            raise AssertionError(f"{full} crosses a scalar at {part!r}")
        if not last:
            node = node[part]


def path_text(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def dump(doc: Any) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=1 << 20)


def _with_value(
    stack: str, kind: str, path: Path_, value: Any, setup: Callable[[dict[str, Any]], None] | None
) -> Mutation:
    doc = base_doc(stack)
    config = doc["config"]
    extra = ""
    if setup is not None:
        setup(config)
        extra = f" (with {setup.__name__.strip('_').replace('_', ' ')})"
    _set(config, path, value)
    return Mutation(stack, kind, f"{path_text(path)} = {value!r}{extra}", dump(doc))


# --- strategies ----------------------------------------------------------------------------------------

stacks = st.sampled_from(STACKS)


@st.composite
def value_mutations(draw: st.DrawFn) -> Mutation:
    target = draw(st.sampled_from(TARGETS))
    value = draw(st.sampled_from(list(target.values)))
    return _with_value(draw(stacks), target.kind, target.path, value, target.setup)


@st.composite
def label_mutations(draw: st.DrawFn) -> Mutation:
    path, setup = draw(st.sampled_from(LABEL_MAPS))
    key = draw(st.sampled_from(LABEL_KEYS))
    value = draw(st.sampled_from(LABEL_VALUES))
    labels = {key: value}
    if path[-1] == "match":
        return _with_value(draw(stacks), "label", path, [{"sourceLabels": labels}], setup)
    return _with_value(draw(stacks), "label", path, labels, setup)


@st.composite
def duplicate_mutations(draw: st.DrawFn) -> Mutation:
    stack = draw(stacks)
    if draw(st.booleans()):
        server = draw(st.sampled_from(DUPLICATE_SERVERS))
        return _with_value(stack, "duplicate-port", ("gateways", "ingress", "servers", 1), server, None)
    ports = draw(st.sampled_from(DUPLICATE_SERVICE_PORTS))
    return _with_value(stack, "duplicate-port", ("gateways", "ingress", "ports"), ports, None)


def _leaves(node: Any, path: Path_ = ()) -> Iterator[Path_]:
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list) and node:
        for i, value in enumerate(node):
            yield from _leaves(value, (*path, i))
    else:
        yield path


def _config_leaves(stack: str) -> list[Path_]:
    config = base_doc(stack)["config"]
    with_web = copy.deepcopy(config)
    _add_web(with_web)
    out = [(k[len(NS) :], *rest) for k, *rest in _leaves(with_web)]
    return sorted(set(out), key=repr)


LEAVES = {stack: _config_leaves(stack) for stack in STACKS}


@st.composite
def junk_mutations(draw: st.DrawFn) -> Mutation:
    """Any leaf of the stack's config (or of the added web app) replaced by a value of another shape."""
    stack = draw(stacks)
    path = draw(st.sampled_from(LEAVES[stack]))
    value = draw(st.sampled_from(JUNK))
    setup = _add_web if path[: len(WEB_PATH)] == WEB_PATH else None
    return _with_value(stack, "junk", path, value, setup)


NEST = "__meshstack_nest__"
NEST_SITES: list[tuple[Path_, Callable[[dict[str, Any]], None] | None]] = [
    (("gateways", "ingress", "servers", 0, "hosts"), None),
    (("gateways", "ingress", "labels", "deep"), None),
    (("apps", "bookinfo", "weights"), None),
    (("colour",), None),
    (("mesh",), None),
    (_web("routes", 0, "match", 0, "headers"), _add_web),
]


def nested_text(depth: int, style: str) -> str:
    if style == "flow-list":
        return "[" * depth + "]" * depth
    if style == "flow-map":
        return "{a: " * depth + "x" + "}" * depth
    # block style: a mapping nested ``depth`` levels deep, re-indented where it is placed
    return "\n".join("  " * (i + 1) + "a:" for i in range(depth)) + " x"


@st.composite
def nesting_mutations(draw: st.DrawFn) -> Mutation:
    stack = draw(stacks)
    depth = draw(st.sampled_from([900, 3000]))
    # block style costs O(depth²) characters of indentation: 900 levels only
    style = draw(st.sampled_from(["flow-list", "flow-map", "block"] if depth <= 900 else ["flow-list", "flow-map"]))
    path, setup = draw(st.sampled_from(NEST_SITES))
    doc = base_doc(stack)
    if setup is not None:
        setup(doc["config"])
    _set(doc["config"], path, NEST)
    text = dump(doc)
    line = next(line for line in text.splitlines() if NEST in line)
    indent = len(line) - len(line.lstrip(" -"))
    if style == "block":
        nested = "\n" + "\n".join(" " * indent + part for part in nested_text(depth, style).splitlines())
    else:
        nested = nested_text(depth, style)
    return Mutation(stack, "deep-nesting", f"{path_text(path)} = {depth} levels ({style})", text.replace(NEST, nested))


def _syntax_errors(text: str) -> list[tuple[str, str]]:
    """(description, text) pairs, each with one YAML syntax error."""
    lines = text.splitlines()
    first_key = next(i for i, line in enumerate(lines) if line.startswith("  meshstack:mesh:"))
    return [
        ("unclosed flow sequence", text.replace('["*"]', '["*"', 1)),
        ("unterminated quote", text.replace('["*"]', '["*]', 1)),
        ("tab indentation", "\n".join([*lines[:first_key], "\t" + lines[first_key].lstrip(), *lines[first_key + 1 :]])),
        ("stray colon", text.replace("environment: ", "environment: : ", 1)),
        ("mapping value in a sequence", text.replace("  meshstack:mesh:", "  - meshstack:mesh:", 1)),
        ("undefined alias", text.replace("version: 1.29.1", "version: *nope", 1)),
        ("template braces", text.replace("version: 1.29.1", "version: {{ .Values.version }}", 1)),
        ("NUL character", text.replace("profile:", "profile:\x00", 1)),
        ("two documents", text + "---\n" + text),
        ("unknown directive", "%YAML 9.9\n---\n" + text),
    ]


@st.composite
def syntax_mutations(draw: st.DrawFn) -> Mutation:
    stack = draw(stacks)
    text = BASE_TEXT[stack]
    choice = draw(st.sampled_from([*(d for d, _ in _syntax_errors(text)), "indent a line", "truncated"]))
    if choice == "indent a line":
        lines = text.splitlines()
        i = draw(st.integers(0, len(lines) - 1))
        lines[i] = "   " + lines[i]
        return Mutation(stack, "yaml-syntax", f"line {i + 1} indented by 3 spaces", "\n".join(lines) + "\n")
    if choice == "truncated":
        at = draw(st.integers(1, len(text) - 1))
        return Mutation(stack, "yaml-syntax", f"file truncated after {at} characters", text[:at])
    return Mutation(stack, "yaml-syntax", choice, dict(_syntax_errors(text))[choice])


def _config_body(text: str) -> str:
    """The lines after ``config:``."""
    return text.split("config:\n", 1)[1]


ROOT_SHAPES: list[tuple[str, Callable[[str], str]]] = [
    ("a list at the root", lambda t: dump([yaml.safe_load(t)])),
    ("an empty list at the root", lambda t: "[]\n"),
    ("a string at the root", lambda t: "just a string\n"),
    ("a number at the root", lambda t: "42\n"),
    ("an empty file", lambda t: ""),
    ("only a comment", lambda t: "# nothing here\n"),
    ("config as a list", lambda t: "config:\n  - meshstack:environment: dev\n"),
    ("config as a list of the keys", lambda t: "config:\n" + "".join(f"  - {k}\n" for k in yaml.safe_load(t)["config"])),
    ("config as a string", lambda t: "config: meshstack:environment=dev\n"),
    ("config as a number", lambda t: "config: 3\n"),
    ("config as a boolean", lambda t: "config: true\n"),
    ("config empty", lambda t: "config:\n"),
    ("config as an empty list", lambda t: "config: []\n"),
    ("config under another key", lambda t: "settings:\n" + _config_body(t)),
    ("a key's value as a list of its keys", lambda t: t.replace("  meshstack:mesh:\n    version", "  meshstack:mesh:\n    - version", 1)),
]  # fmt: skip


@st.composite
def root_mutations(draw: st.DrawFn) -> Mutation:
    stack = draw(stacks)
    description, make = draw(st.sampled_from(ROOT_SHAPES))
    return Mutation(stack, "yaml-structure", description, make(BASE_TEXT[stack]))


#: Keys YAML gives as something other than a string (int, bool, null, float, date, list, mapping).
ODD_KEYS = ["1", "true", "null", "~", "1.5", "2024-01-01", "[a, b]", "{a: 1}", "0x10", ".inf"]
ODD_KEY_SITES = [
    ("config", "config:\n", "config:\n  {key}: x\n"),
    ("mesh", "  meshstack:mesh:\n", "  meshstack:mesh:\n    {key}: x\n"),
    ("gateways.ingress", "    ingress:\n", "    ingress:\n      {key}: x\n"),
    ("addons.prometheus", "prometheus: {enabled: true", "prometheus: {{key}: x, enabled: true"),
    ("apps.bookinfo", "    bookinfo:\n", "    bookinfo:\n      {key}: x\n"),
]


@st.composite
def odd_key_mutations(draw: st.DrawFn) -> Mutation:
    stack = draw(stacks)
    key = draw(st.sampled_from(ODD_KEYS))
    where, old, new = draw(st.sampled_from(ODD_KEY_SITES))
    text = BASE_TEXT[stack]
    if old not in text:
        where, old, new = ODD_KEY_SITES[0]
    return Mutation(
        stack, "non-string-key", f"key {key} under {where}", text.replace(old, new.replace("{key}", key), 1)
    )


DUPLICATE_KEYS: list[tuple[str, str, str]] = [
    ("environment", "  meshstack:environment: {env}\n", "  meshstack:environment: {env}\n  meshstack:environment: {other}\n"),
    ("mesh.version", "    version: 1.29.1\n", "    version: 1.29.1\n    version: 1.28.0\n"),
    ("mesh", "  meshstack:mesh:\n", "  meshstack:mesh:\n    profile: minimal\n  meshstack:mesh:\n"),
    ("servers[0].port", "        - port: 80\n", "        - port: 80\n          port: 8080\n"),
    ("config", "config:\n", "config:\n  meshstack:environment: {other}\nconfig:\n"),
    ("addons.grafana.enabled", "grafana: {enabled: true", "grafana: {enabled: false, enabled: true"),
]  # fmt: skip


@st.composite
def duplicate_key_mutations(draw: st.DrawFn) -> Mutation:
    stack = draw(stacks)
    where, old, new = draw(st.sampled_from(DUPLICATE_KEYS))
    other = "prod" if stack == "dev" else "dev"
    old = old.replace("{env}", stack)
    new = new.replace("{env}", stack).replace("{other}", other)
    text = BASE_TEXT[stack]
    assert old in text, (stack, old)
    return Mutation(stack, "duplicate-key", f"{where} given twice", text.replace(old, new, 1))


#: Every mutation family, as one strategy.
stack_mutations: st.SearchStrategy[Mutation] = st.one_of(
    value_mutations(),
    value_mutations(),
    value_mutations(),
    label_mutations(),
    duplicate_mutations(),
    junk_mutations(),
    nesting_mutations(),
    syntax_mutations(),
    root_mutations(),
    odd_key_mutations(),
    duplicate_key_mutations(),
)


# --- running a mutation the way the program reads a stack file -------------------------------------------


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CRASHED = "crashed"


@dataclass
class Result:
    outcome: Outcome
    #: The error text (rejected, crashed) or empty.
    detail: str = ""
    #: For a crash: what kind (``AttributeError at meshstack/tools/recording.py:stack_config``).
    crash_class: str = ""
    manifests: list[dict[str, Any]] = field(default_factory=list)


def _where(err: BaseException) -> str:
    """The innermost frame of the project's own code in ``err``'s traceback (``file:function``)."""
    frames = traceback.extract_tb(err.__traceback__)
    own = [f for f in frames if f.filename.startswith(str(ROOT)) and "/.venv/" not in f.filename]
    frame = own[-1] if own else (frames[-1] if frames else None)
    if frame is None:
        return "?"
    name = frame.filename[len(str(ROOT)) + 1 :] if frame.filename.startswith(str(ROOT)) else Path(frame.filename).name
    return f"{name}:{frame.name}"


PROBLEM_LINE = re.compile(r"^  meshstack:(?P<path>\S[^\n]*?): \S")
HEADER = re.compile(r"^\d+ configuration problems?:$")


def pathless_problems(err: BaseException) -> list[str]:
    """The problems of a rejection that name no config path (empty when every one does)."""
    from meshstack.errors import ConfigError

    config_error = err if isinstance(err, ConfigError) else err.__context__
    if isinstance(config_error, ConfigError):
        if not config_error.problems:
            return ["a ConfigError without problems"]
        return [p.render() for p in config_error.problems if not p.path.strip()]
    lines = str(err).splitlines()
    if not lines or not HEADER.match(lines[0]):
        return lines[:1] or ["an empty error message"]
    return [line for line in lines[1:] if not PROBLEM_LINE.match(line)]


def run_mutation(mutation: Mutation, root: Path) -> Result:
    """Write the mutated stack file into ``root`` and run the program on it under mocks."""
    from pulumi.errors import RunError

    from meshstack.errors import ConfigError
    from meshstack.stacks.program import main as program
    from meshstack.testing import run_stack_file
    from meshstack.tools.render import manifest_of

    (root / f"Pulumi.{mutation.stack}.yaml").write_text(mutation.text)
    try:
        rec = run_stack_file(mutation.stack, root, program)
    except (RunError, ConfigError) as err:
        pathless = pathless_problems(err)
        if pathless:
            return Result(Outcome.CRASHED, str(err), f"rejection without a path ({type(err).__name__})")
        return Result(Outcome.REJECTED, str(err))
    except Exception as err:  # noqa: BLE001 - any other exception is the finding
        text = f"{type(err).__name__}: {err}"
        return Result(Outcome.CRASHED, text[:2000], f"{type(err).__name__} at {_where(err)}")
    return Result(Outcome.ACCEPTED, manifests=[manifest_of(r) for r in rec.kubernetes_objects])


# --- the real validators on accepted examples -------------------------------------------------------


@dataclass
class Verdict:
    #: Validator name → its rejections (empty lists dropped).
    rejections: dict[str, list[str]]
    #: istioctl validate warnings, analyze Warning/Info messages.
    warnings: list[Any]


class Validators:
    """istioctl validate + analyze (and the API server's dry-run with a kubeconfig), cached by
    the objects' content (many mutations render exactly what their base renders)."""

    def __init__(self, kubeconfig: str | Path | None = None) -> None:
        from tests import validators

        self.kubeconfig = kubeconfig
        self.istioctl = validators.tool("istioctl")
        self.kubectl = validators.tool("kubectl") if kubeconfig else None
        self.cache: dict[str, Verdict] = {}
        self.calls = 0

    def check(self, manifests: Sequence[Mapping[str, Any]]) -> Verdict:
        from tests import validators

        key = hashlib.sha256(validators.to_documents(manifests).encode()).hexdigest()
        if key in self.cache:
            return self.cache[key]
        self.calls += 1
        report = validators.istioctl_validate_report(manifests)
        messages = validators.istioctl_analyze(manifests)
        rejections = {
            "istioctl validate": report.errors,
            "istioctl analyze": validators.analyze_errors(messages),
        }
        if self.kubeconfig is not None and self.kubectl is not None:
            rejections["server dry-run"] = validators.server_dry_run(manifests, self.kubeconfig, self.kubectl)
        warnings = validators.non_errors(report, messages)
        verdict = Verdict({k: v for k, v in rejections.items() if v}, warnings)
        self.cache[key] = verdict
        return verdict


# --- tallying --------------------------------------------------------------------------------------


def normalize(message: str) -> str:
    """A validator message with the object and the offending values taken out, to group findings."""
    message = re.sub(r"^[A-Za-z]+/[^/\s]*/[^:\s]+: ", "", message)  # istioctl's Kind/ns/name:
    message = re.sub(r'"[^"]*"', '"…"', message)
    message = re.sub(r"'[^']*'", "'…'", message)
    return message[:160]


@dataclass
class Finding:
    example: Mutation
    detail: str
    count: int = 0
    kinds: Counter[str] = field(default_factory=Counter)


@dataclass
class Tally:
    outcomes: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    #: Crash class → first example.
    crashes: dict[str, Finding] = field(default_factory=dict)
    #: (validator, mutation kind, normalized message) → first example.
    accepted_rejected: dict[tuple[str, str, str], Finding] = field(default_factory=dict)
    #: Accepted examples rejected, by validator (an example counts once per validator).
    rejected_by: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)
    warning_examples: dict[str, Mutation] = field(default_factory=dict)
    #: Accepted examples that went through the validators.
    accepted_examples: list[Mutation] = field(default_factory=list)

    @property
    def examples(self) -> int:
        return sum(self.outcomes.values())

    @property
    def accepted_but_rejected(self) -> int:
        return self.outcomes["accepted-but-rejected"]

    def add(self, mutation: Mutation, result: Result, validators: Validators | None) -> None:
        self.outcomes[result.outcome.value] += 1
        self.kinds[f"{mutation.kind}:{result.outcome.value}"] += 1
        if result.outcome is Outcome.CRASHED:
            finding = self.crashes.setdefault(result.crash_class, Finding(mutation, result.detail))
            finding.count += 1
            finding.kinds[mutation.kind] += 1
            return
        if result.outcome is not Outcome.ACCEPTED or validators is None:
            return
        self.accepted_examples.append(mutation)
        verdict = validators.check(result.manifests)
        for warning in verdict.warnings:
            label = f"{warning.code} {warning.level} {warning.kind}: {normalize(warning.message)}"
            self.warnings[label] += 1
            self.warning_examples.setdefault(label, mutation)
        if verdict.rejections:
            self.outcomes["accepted-but-rejected"] += 1
        for validator, errors in verdict.rejections.items():
            self.rejected_by[validator] += 1
            key = (validator, mutation.kind, normalize(errors[0]))
            finding = self.accepted_rejected.setdefault(key, Finding(mutation, "\n".join(errors[:5])))
            finding.count += 1
            finding.kinds[mutation.kind] += 1

    def summary(self) -> str:
        head = (
            f"examples={self.examples} accepted={self.outcomes['accepted']} rejected={self.outcomes['rejected']} "
            f"crashed={self.outcomes['crashed']} accepted-but-rejected={self.accepted_but_rejected}"
        )
        by = ", ".join(f"{k}={v}" for k, v in sorted(self.rejected_by.items())) or "none"
        return f"{head}\naccepted-but-rejected by validator: {by}"

    def report(self, limit: int = 400) -> str:
        """Every crash class and accepted-but-rejected class with its first example."""
        out = [self.summary()]
        kinds = ", ".join(f"{k}={v}" for k, v in sorted(self.kinds.items()))
        out.append(f"by mutation kind: {kinds}")
        for crash_class, finding in sorted(self.crashes.items()):
            out.append(f"\nCRASH x{finding.count} {crash_class}\n  e.g. {finding.example}\n  {finding.detail[:limit]}")
        for (validator, kind, message), finding in sorted(self.accepted_rejected.items()):
            out.append(
                f"\nACCEPTED BUT REJECTED by {validator} x{finding.count} [{kind}] {message}\n"
                f"  e.g. {finding.example}\n  {finding.detail[:limit]}"
            )
        for key, n in sorted(self.warnings.items()):
            out.append(f"\nWARNING x{n} {key}\n  e.g. {self.warning_examples[key]}")
        return "\n".join(out)


# --- the loop shared by the fuzz script and the unit test -------------------------------------------


def fuzz(
    examples: int,
    seed: int = 0,
    kubeconfig: str | Path | None = None,
    validate: bool = True,
    on_example: Callable[[Mutation, Result], None] | None = None,
) -> Tally:
    """Run ``examples`` mutations (deterministic for a ``seed``) and tally them."""
    import tempfile

    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    tally = Tally()
    checker = Validators(kubeconfig) if validate else None
    with tempfile.TemporaryDirectory(prefix="meshstack-fuzz-stacks-") as tmp:
        root = Path(tmp)

        @hypothesis_seed(seed)
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(mutation=stack_mutations)
        def run(mutation: Mutation) -> None:
            result = run_mutation(mutation, root)
            tally.add(mutation, result, checker)
            if on_example is not None:
                on_example(mutation, result)

        run()
    return tally
