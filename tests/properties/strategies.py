"""Hypothesis strategies for the apps section: mostly-plausible configs with deliberate junk."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

VERSIONS = ["v1", "v2", "v3", "canary", "V9", "v_x"]
DURATIONS = ["1ms", "10ms", "49ms", "50ms", "0.5s", "1s", "2s", "1m30s", "0s", "1.5ms", "5 s", "-1s", "250us"]
HEADERS = ["end-user", "x-user", "cookie", "End-User", "x y", ""]
STATUSES = [200, 404, 500, 503, 199, 600]


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


string_match = st.one_of(
    st.builds(lambda v: {"exact": v}, st.sampled_from(["jason", "/api", "a", ""])),
    st.builds(lambda v: {"prefix": v}, st.sampled_from(["/static", "/", "x"])),
    st.builds(lambda v: {"regex": v}, st.sampled_from(["^a.*", "(", ".*"])),
    st.just({"exact": "a", "prefix": "b"}),
)
match = st.builds(
    lambda uri, headers, query, method, without, source, port: _drop_none(
        {"uri": uri, "headers": headers, "queryParams": query, "method": method, "withoutHeaders": without,
         "sourceLabels": source, "port": port}
    ),
    maybe(string_match),
    maybe(st.dictionaries(st.sampled_from(HEADERS), string_match, max_size=2)),
    maybe(st.dictionaries(st.sampled_from(["u", "flag", "a b"]), string_match, max_size=1)),
    maybe(st.sampled_from(["GET", "POST", "FETCH"])),
    maybe(st.dictionaries(st.sampled_from(HEADERS), string_match, max_size=1)),
    maybe(st.just({"app": "client"})),
    maybe(st.sampled_from([8080, 9080, 0])),
)  # fmt: skip
destination = st.builds(
    lambda v, w: _drop_none({"version": v, "weight": w}),
    st.sampled_from(VERSIONS),
    maybe(st.sampled_from([0, 10, 20, 50, 80, 100, -1, 3])),
)
retries = st.builds(
    lambda a, p, on: _drop_none({"attempts": a, "perTryTimeout": p, "retryOn": on}),
    st.sampled_from([0, 1, 3, -1]),
    maybe(st.sampled_from(DURATIONS)),
    maybe(st.lists(st.sampled_from(["5xx", "reset", "503", "bogus"]), max_size=2)),
)
fault = st.builds(
    lambda d, a: _drop_none({"delay": d, "abort": a}),
    maybe(st.builds(lambda t, p: {"fixedDelay": t, "percentage": p}, st.sampled_from(DURATIONS), st.sampled_from([0, 50.5, 100, 101]))),
    maybe(st.builds(lambda s, p: {"httpStatus": s, "percentage": p}, st.sampled_from(STATUSES), st.sampled_from([0, 10, 100, -3]))),
)  # fmt: skip
route = st.builds(
    lambda m, to, timeout, r, f, mirror: _drop_none(
        {"match": m, "to": to, "timeout": timeout, "retries": r, "fault": f, "mirror": mirror}
    ),
    maybe(st.lists(match, min_size=1, max_size=2)),
    st.lists(destination, min_size=1, max_size=3),
    maybe(st.sampled_from(DURATIONS)),
    maybe(retries),
    maybe(fault),
    maybe(
        st.builds(
            lambda v, p: {"version": v, "percentage": p}, st.sampled_from(VERSIONS), st.sampled_from([10, 12.5, 100])
        )
    ),
)
load_balancer = st.sampled_from(
    [{"simple": "ROUND_ROBIN"}, {"simple": "LEAST_REQUEST"}, {"simple": "FASTEST"},
     {"consistentHash": {"httpHeaderName": "x-user"}}, {"consistentHash": {"useSourceIp": True}},
     {"consistentHash": {"httpCookie": {"name": "s", "ttl": "1h"}}}, {}]
)  # fmt: skip
circuit_breaker = st.builds(
    lambda mc, c5, it, mep: _drop_none(
        {"maxConnections": mc, "consecutive5xxErrors": c5, "interval": it, "maxEjectionPercent": mep}
    ),
    maybe(st.sampled_from([1, 100, 0])),
    maybe(st.sampled_from([1, 5])),
    maybe(st.sampled_from(DURATIONS)),
    maybe(st.sampled_from([10, 100, 101])),
)
security = st.fixed_dictionaries(
    {},
    optional={
        "peerAuthentication": st.builds(
            lambda m, p: _drop_none({"mode": m, "portLevelMtls": p}),
            st.sampled_from(["STRICT", "PERMISSIVE", "DISABLE", "OFF"]),
            maybe(st.lists(st.builds(lambda port, mode: {"port": port, "mode": mode},
                                     st.sampled_from([8080, 9090]), st.sampled_from(["DISABLE", "STRICT"])), max_size=2)),
        ),
        "tls": st.sampled_from([{"mode": "ISTIO_MUTUAL"}, {"mode": "DISABLE"}, {"mode": "SIMPLE", "sni": "x"}]),
        "authorization": st.lists(
            st.builds(
                lambda action, rules: {"action": action, "rules": rules},
                st.sampled_from(["ALLOW", "DENY", "AUDIT", "NOPE"]),
                st.lists(st.fixed_dictionaries({}, optional={
                    "principals": st.lists(st.sampled_from(["cluster.local/ns/a/sa/b", "*", "bad principal"]), max_size=2),
                    "namespaces": st.lists(st.sampled_from(["apps", "istio-system", "Bad"]), max_size=2),
                    "methods": st.lists(st.sampled_from(["GET", "POST", "YELL"]), max_size=2),
                    "paths": st.lists(st.sampled_from(["/api/*", "*/info", "/a*b", "/"]), max_size=2),
                    "ports": st.lists(st.sampled_from([8080, 70000]), max_size=1),
                }), max_size=2),
            ),
            max_size=2,
        ),
        "requestAuthentication": st.builds(
            lambda iss, uri, req: {"jwtRules": [_drop_none({"issuer": iss, "jwksUri": uri})], "requireJwt": req},
            st.sampled_from(["https://issuer.example.com", "bad issuer"]),
            maybe(st.sampled_from(["https://issuer.example.com/jwks", "ftp://x"])),
            st.booleans(),
        ),
        "rateLimit": st.builds(
            lambda mt, fi: {"maxTokens": mt, "fillInterval": fi},
            st.sampled_from([1, 100, 0]),
            st.sampled_from(DURATIONS),
        ),
    },
)  # fmt: skip
app = st.builds(
    lambda versions, ports, routes, bg, expose, lb, cb, sec: _drop_none(
        {
            "versions": {v: {"image": "example/app:1", "replicas": 1} for v in versions},
            "ports": ports,
            "routes": routes,
            "blueGreen": bg,
            "expose": expose,
            "loadBalancer": lb,
            "circuitBreaker": cb,
            "localityFailover": {"failover": [{"from": "eu", "to": "us"}]} if cb and lb == {} else None,
            **sec,
        }
    ),
    st.lists(st.sampled_from(VERSIONS), min_size=1, max_size=3, unique=True),
    maybe(st.sampled_from([[{"port": 8080}], [{"name": "grpc", "port": 9090, "protocol": "grpc"}],
                           [{"port": 8080}, {"name": "metrics", "port": 9090, "protocol": "tcp"}], [{"name": "http", "port": 80, "protocol": "tcp"}]])),
    maybe(st.lists(route, max_size=3)),
    maybe(st.builds(lambda a, p: _drop_none({"active": a, "preview": p, "previewMatch": {"headers": {"x-preview": {"exact": "1"}}} if p else None}),
                    st.sampled_from(VERSIONS), maybe(st.sampled_from(VERSIONS)))),
    maybe(st.builds(lambda hosts, paths: {"hosts": hosts, "paths": paths},
                    st.sampled_from([["*"], ["shop.example.com"], ["bad host"]]), st.lists(string_match, min_size=1, max_size=2))),
    maybe(load_balancer),
    maybe(circuit_breaker),
    security,
)  # fmt: skip
apps_section = st.builds(
    lambda target, services, bookinfo, pa: _drop_none(
        {"enabled": True, "target": target, "services": services, "bookinfo": bookinfo, "peerAuthentication": pa}
    ),
    st.sampled_from(["istio", "gatewayApi"]),
    st.dictionaries(st.sampled_from(["web", "api", "reviews", "Bad_Name"]), app, max_size=2),
    maybe(st.builds(lambda s, m: {"scenario": s, "mtls": m},
                    st.sampled_from(["default", "all-v1", "jason-v2", "ratings-delay-jason", "reviews-v3", "nope"]), st.booleans())),
    maybe(st.sampled_from([{"mode": "STRICT"}, {"mode": "PERMISSIVE"}])),
)  # fmt: skip


# --- configs meant to be valid ---------------------------------------------------------------
#
# ``valid_apps_section`` draws sections that respect every rule the model checks (versions that
# exist, weights summing to 100 for istio, whole-millisecond durations for gatewayApi, retries
# that fit in the route timeout, no consistent hash across weighted routes, Istio-only features
# only with the istio target …), so that most examples reach rendering and schema validation.
# ``valid_apps_case`` pairs a section with an ingress that can serve it (an istio-target section
# exposing an app needs an ingress gateway).

APP_NAMES = ["web", "api", "shop", "cart"]
VALID_VERSIONS = ["v1", "v2", "v3", "canary"]
#: (text, milliseconds): whole milliseconds, valid for both targets.
WHOLE_MS = [("1ms", 1), ("10ms", 10), ("50ms", 50), ("250ms", 250), ("1s", 1000), ("2s", 2000),
            ("1m30s", 90_000), ("1h", 3_600_000)]  # fmt: skip
#: Istio also takes fractions and mixed units.
ISTIO_ONLY_MS = [("0.5s", 500), ("1.5ms", 1.5), ("1s500ms", 1500)]
HEADER_NAMES = ["end-user", "x-user", "x-canary", "x-request-id", "user-agent"]
QUERY_NAMES = ["u", "flag", "Debug", "v"]
PORT_SETS = [
    [{"port": 8080}],
    [{"name": "grpc", "port": 9090, "protocol": "grpc"}],
    [{"port": 8080}, {"name": "metrics", "port": 9090, "protocol": "tcp"}],
    [{"name": "web", "port": 80, "targetPort": 8080}, {"name": "admin", "port": 8081, "protocol": "http2"}],
]
BOOKINFO_SCENARIOS_ANY = ["default", "all-v1", "reviews-v1-v2-80-20", "reviews-v1-v3-50-50", "reviews-v2-v3-50-50",
                          "reviews-v3", "jason-v2", "jason-v2-default-v3"]  # fmt: skip
#: Scenarios with fault injection: istio only.
BOOKINFO_SCENARIOS_ISTIO = ["ratings-delay-jason", "ratings-abort-jason", "reviews-timeout"]


def _duration(target: str) -> st.SearchStrategy[tuple[str, float]]:
    return st.sampled_from(WHOLE_MS + (ISTIO_ONLY_MS if target == "istio" else []))


def _split(draw: st.DrawFn, n: int, total: int = 100) -> list[int]:
    """n non-negative integers summing to ``total`` (not all on one side only by chance)."""
    cuts = sorted(draw(st.lists(st.integers(0, total), min_size=n - 1, max_size=n - 1)))
    bounds = [0, *cuts, total]
    return [bounds[i + 1] - bounds[i] for i in range(n)]


valid_string_value = st.sampled_from(["jason", "alice", "1", "canary", "Mozilla/5.0", "a b"])
valid_path_match = st.one_of(
    st.builds(lambda v: {"exact": v}, st.sampled_from(["/", "/api", "/api/v1/products", "/login"])),
    st.builds(lambda v: {"prefix": v}, st.sampled_from(["/", "/static", "/api/"])),
)
valid_uri_match = st.one_of(
    valid_path_match, st.builds(lambda v: {"regex": v}, st.sampled_from(["^/api/v[0-9]+/.*", "/items/[0-9]+"]))
)
valid_value_match = st.one_of(
    st.builds(lambda v: {"exact": v}, valid_string_value),
    st.builds(lambda v: {"prefix": v}, st.sampled_from(["ja", "Mozilla", "x-"])),
    st.builds(lambda v: {"regex": v}, st.sampled_from(["^ja.*", "[a-z]+", "(alice|bob)"])),
)
cookie_match = st.builds(
    lambda name, value: {"cookie": {"regex": f"^(.*?;\\s*)?({name}={value})(;.*)?$"}},
    st.sampled_from(["session", "canary", "user"]),
    st.sampled_from(["1", "beta", "jason"]),
)


@st.composite
def valid_match(draw: st.DrawFn, target: str, ports: list[int]) -> dict[str, Any]:
    """A non-empty match; Istio-only fields only for the istio target."""
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        out["uri"] = draw(valid_uri_match)
    headers = draw(
        st.one_of(
            st.dictionaries(st.sampled_from(HEADER_NAMES), valid_value_match, max_size=2),
            cookie_match,
        )
    )
    if headers:
        out["headers"] = headers
    if draw(st.booleans()):
        out["queryParams"] = draw(
            st.dictionaries(st.sampled_from(QUERY_NAMES), valid_value_match, min_size=1, max_size=2)
        )
    if draw(st.booleans()):
        out["method"] = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]))
    if target == "istio":
        if draw(st.booleans()):
            free = [h for h in HEADER_NAMES if h not in headers]
            out["withoutHeaders"] = draw(
                st.dictionaries(st.sampled_from(free), valid_value_match, min_size=1, max_size=1)
            )
        if draw(st.integers(0, 3)) == 0:
            out["sourceLabels"] = draw(st.sampled_from([{"app": "client"}, {"app": "web", "version": "v1"}]))
        if draw(st.integers(0, 3)) == 0:
            out["port"] = draw(st.sampled_from(ports))
    if not out:
        out["headers"] = {"end-user": {"exact": "jason"}}
    return out


@st.composite
def valid_route(
    draw: st.DrawFn, target: str, versions: list[str], ports: list[int], *, catch_all: bool, single: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not catch_all:
        out["match"] = draw(st.lists(valid_match(target, ports), min_size=1, max_size=2))
    elif draw(st.booleans()):
        out["match"] = [{}] if draw(st.booleans()) else []
    if draw(st.integers(0, 4)) == 0:
        out["name"] = draw(st.sampled_from(["primary", "canary", "r1"]))
    n = 1 if single else draw(st.integers(1, len(versions)))
    chosen = draw(st.permutations(versions))[:n]
    if n == 1:
        weight = draw(st.sampled_from([None, None, 100]))
        out["to"] = [_drop_none({"version": chosen[0], "weight": weight})]
    elif target == "istio":
        out["to"] = [{"version": v, "weight": w} for v, w in zip(chosen, _split(draw, n), strict=True)]
    else:  # proportional weights, not all 0
        weights = draw(st.lists(st.integers(0, 1000), min_size=n, max_size=n).filter(any))
        out["to"] = [{"version": v, "weight": w} for v, w in zip(chosen, weights, strict=True)]
    timeout = draw(maybe(_duration(target)))
    if target == "istio" and draw(st.booleans()):
        attempts = draw(st.integers(0, 5))
        retries: dict[str, Any] = {"attempts": attempts}
        per_try = draw(maybe(_duration(target)))
        if per_try is not None:
            retries["perTryTimeout"] = per_try[0]
            if timeout is not None and timeout[1] < (attempts + 1) * per_try[1]:
                total = (attempts + 1) * per_try[1]
                timeout = (f"{int(total)}ms" if total == int(total) else f"{total}ms", total)
        if draw(st.booleans()):
            retries["retryOn"] = draw(
                st.lists(st.sampled_from(["5xx", "reset", "connect-failure", "gateway-error", "503", "retriable-4xx"]),
                         min_size=1, max_size=3, unique=True)
            )  # fmt: skip
        out["retries"] = retries
    if timeout is not None:
        out["timeout"] = timeout[0]
    if target == "istio" and draw(st.integers(0, 2)) == 0:
        fault: dict[str, Any] = {}
        if draw(st.booleans()):
            fault["delay"] = _drop_none(
                {"fixedDelay": draw(_duration(target))[0],
                 "percentage": draw(maybe(st.sampled_from([0, 0.5, 10, 50, 100])))}
            )  # fmt: skip
        if not fault or draw(st.booleans()):
            fault["abort"] = _drop_none(
                {"httpStatus": draw(st.sampled_from([200, 400, 429, 500, 503, 599])),
                 "percentage": draw(maybe(st.sampled_from([0, 1, 12.5, 100])))}
            )  # fmt: skip
        out["fault"] = fault
    if draw(st.integers(0, 3)) == 0:
        pct = draw(maybe(st.sampled_from([0, 10, 50, 100] + ([12.5, 0.1] if target == "istio" else []))))
        out["mirror"] = _drop_none({"version": draw(st.sampled_from(versions)), "percentage": pct})
    return out


valid_load_balancer = st.one_of(
    st.builds(lambda a: {"simple": a}, st.sampled_from(["ROUND_ROBIN", "LEAST_REQUEST", "RANDOM", "PASSTHROUGH"])),
    st.builds(lambda h: {"consistentHash": {"httpHeaderName": h}}, st.sampled_from(HEADER_NAMES)),
    st.just({"consistentHash": {"useSourceIp": True}}),
    st.builds(lambda q: {"consistentHash": {"httpQueryParameterName": q}}, st.sampled_from(QUERY_NAMES)),
    st.builds(
        lambda name, ttl, path: {"consistentHash": {"httpCookie": _drop_none({"name": name, "ttl": ttl, "path": path})}},
        st.sampled_from(["session", "user_id"]),
        maybe(st.sampled_from(["1h", "30m", "0s", "10s"])),
        maybe(st.sampled_from(["/", "/app"])),
    ),
)  # fmt: skip


@st.composite
def valid_circuit_breaker(draw: st.DrawFn, outlier: bool) -> dict[str, Any]:
    fields = {
        "maxConnections": st.integers(1, 10_000),
        "connectTimeout": st.sampled_from(["10ms", "1s", "250ms"]),
        "http1MaxPendingRequests": st.integers(1, 1000),
        "http2MaxRequests": st.integers(1, 1000),
        "maxRequestsPerConnection": st.integers(1, 100),
        "maxRetries": st.integers(0, 10),
        "consecutive5xxErrors": st.integers(0, 20),
        "interval": st.sampled_from(["1ms", "10s", "1m"]),
        "baseEjectionTime": st.sampled_from(["30s", "1m", "5ms"]),
        "maxEjectionPercent": st.integers(0, 100),
    }
    out = draw(st.fixed_dictionaries({}, optional=fields))
    if outlier and not ({"consecutive5xxErrors", "interval", "baseEjectionTime", "maxEjectionPercent"} & set(out)):
        out["consecutive5xxErrors"] = draw(st.integers(1, 10))
    if not out:
        out["maxConnections"] = 100
    return out


valid_locality_failover = st.builds(
    lambda failover, priority: {k: v for k, v in (("failover", failover), ("failoverPriority", priority)) if v}
    or {"failover": [{"from": "us-east1", "to": "us-west1"}]},
    st.lists(st.sampled_from([{"from": "us-east1", "to": "us-west1"}, {"from": "eu-west1", "to": "eu-central1"},
                              {"from": "us-west1", "to": "us-east1"}]), max_size=2, unique_by=lambda f: f["from"]),
    st.lists(st.sampled_from(["topology.kubernetes.io/region", "topology.kubernetes.io/zone", "topology.istio.io/subzone"]),
             max_size=2, unique=True),
)  # fmt: skip

valid_authz_rule = st.fixed_dictionaries(
    {},
    optional={
        "principals": st.lists(st.sampled_from(["cluster.local/ns/apps/sa/web", "*", "cluster.local/ns/x/*"]),
                               min_size=1, max_size=2, unique=True),
        "namespaces": st.lists(st.sampled_from(["apps", "istio-system", "team-a*"]), min_size=1, max_size=2, unique=True),
        "requestPrincipals": st.lists(st.sampled_from(["https://issuer.example.com/alice", "*"]), min_size=1, max_size=1),
        "methods": st.lists(st.sampled_from(["GET", "POST", "DELETE"]), min_size=1, max_size=2, unique=True),
        "paths": st.lists(st.sampled_from(["/api/*", "*/info", "/", "*", "/healthz"]), min_size=1, max_size=2, unique=True),
        "notPaths": st.lists(st.sampled_from(["/admin/*", "/debug"]), min_size=1, max_size=1),
        "ports": st.lists(st.sampled_from([8080, 9090, 443]), min_size=1, max_size=2, unique=True),
    },
)  # fmt: skip


@st.composite
def valid_authorization(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for i in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["ALLOW", "DENY", "AUDIT"]))
        rules = draw(st.lists(valid_authz_rule, min_size=0 if action == "ALLOW" else 1, max_size=2))
        policy: dict[str, Any] = {"action": action, "rules": rules}
        if draw(st.booleans()):
            policy["name"] = f"p{i}"
        out.append(policy)
    return out


valid_jwt_rule = st.builds(
    lambda issuer, keys, aud, fwd: _drop_none({"issuer": issuer, **keys, "audiences": aud or None,
                                               "forwardOriginalToken": fwd}),
    st.sampled_from(["https://issuer.example.com", "https://accounts.example.org", "issuer-1"]),
    st.sampled_from([{}, {"jwksUri": "https://issuer.example.com/.well-known/jwks.json"},
                     {"jwks": '{"keys": []}'}]),
    st.lists(st.sampled_from(["web", "api.example.com"]), max_size=2, unique=True),
    maybe(st.booleans()),
)  # fmt: skip
valid_request_authentication = st.builds(
    lambda rules, req: {"jwtRules": rules, "requireJwt": req},
    st.lists(valid_jwt_rule, min_size=1, max_size=2, unique_by=lambda r: r["issuer"]),
    st.booleans(),
)
valid_rate_limit = st.builds(
    lambda mt, tpf, fi: _drop_none({"maxTokens": mt, "tokensPerFill": tpf, "fillInterval": fi}),
    st.integers(1, 10_000),
    maybe(st.integers(1, 1000)),
    maybe(st.sampled_from(["50ms", "0.05s", "1s", "1m", "1.5s"])),
)


@st.composite
def valid_app(draw: st.DrawFn, name: str, target: str, namespace_strict: bool) -> dict[str, Any]:
    versions = draw(st.lists(st.sampled_from(VALID_VERSIONS), min_size=1, max_size=3, unique=True))
    ports_cfg = draw(maybe(st.sampled_from(PORT_SETS)))
    ports = [p["port"] for p in ports_cfg] if ports_cfg else [8080]
    container_ports = [p.get("targetPort", p["port"]) for p in ports_cfg] if ports_cfg else [8080]
    out: dict[str, Any] = {
        "versions": {
            v: _drop_none(
                {"image": f"example/app:{v}", "replicas": draw(st.integers(0, 3)),
                 "env": draw(st.sampled_from([None, {"LOG_LEVEL": "debug"}])),
                 "labels": draw(st.sampled_from([None, {"team": "shop"}]))}
            )
            for v in versions
        },
    }  # fmt: skip
    if ports_cfg is not None:
        out["ports"] = ports_cfg
    if draw(st.integers(0, 4)) == 0:
        out["serviceAccount"] = f"{name}-sa"  # one identity per app
    lb = draw(maybe(valid_load_balancer))
    consistent = lb is not None and "consistentHash" in lb
    shape = draw(st.sampled_from(["routes", "routes", "routes", "blueGreen", "none"]))
    if shape == "routes":
        n = draw(st.integers(1, 3))
        last_catch_all = draw(st.booleans())
        out["routes"] = [
            draw(valid_route(target, versions, ports, catch_all=last_catch_all and i == n - 1, single=consistent))
            for i in range(n)
        ]
    elif shape == "blueGreen":
        active = draw(st.sampled_from(versions))
        bg: dict[str, Any] = {"active": active}
        others = [v for v in versions if v != active]
        if others and draw(st.booleans()):
            bg["preview"] = draw(st.sampled_from(others))
            if draw(st.booleans()):
                bg["previewMatch"] = draw(valid_match(target, ports))
        out["blueGreen"] = bg
    if draw(st.integers(0, 2)) == 0:
        out["expose"] = _drop_none(
            {"paths": draw(st.lists(valid_path_match, min_size=1, max_size=3)),
             "hosts": draw(maybe(st.sampled_from([["*"], ["shop.example.com"], ["*.example.com", "example.com"]]))),
             "port": draw(maybe(st.sampled_from(ports)))}
        )  # fmt: skip
    if lb is not None:
        out["loadBalancer"] = lb
    failover = draw(st.integers(0, 3)) == 0
    if failover:
        out["localityFailover"] = draw(valid_locality_failover)
    if failover or draw(st.integers(0, 2)) == 0:
        out["circuitBreaker"] = draw(valid_circuit_breaker(outlier=failover))
    pa = None
    if draw(st.integers(0, 2)) == 0:
        pa = {"mode": draw(st.sampled_from(["STRICT", "PERMISSIVE", "DISABLE", "UNSET"]))}
        modes = st.sampled_from(["STRICT", "PERMISSIVE", "DISABLE"])
        levels = draw(st.lists(st.sampled_from(container_ports), max_size=2, unique=True))
        if levels:
            pa["portLevelMtls"] = [{"port": p, "mode": draw(modes)} for p in levels]
        out["peerAuthentication"] = pa
    strict = namespace_strict or (
        pa is not None and (pa["mode"] == "STRICT" or any(p["mode"] == "STRICT" for p in pa.get("portLevelMtls", [])))
    )
    if draw(st.integers(0, 3)) == 0:
        tls_modes = [{"mode": "ISTIO_MUTUAL"}, {"mode": "SIMPLE", "sni": "web.example.com"},
                     {"mode": "MUTUAL", "credentialName": "client-cert"}]  # fmt: skip
        out["tls"] = draw(st.sampled_from(tls_modes + ([] if strict else [{"mode": "DISABLE"}])))
    if draw(st.integers(0, 2)) == 0:
        out["authorization"] = draw(valid_authorization())
    if draw(st.integers(0, 3)) == 0:
        out["requestAuthentication"] = draw(valid_request_authentication)
    if draw(st.integers(0, 3)) == 0:
        out["rateLimit"] = draw(valid_rate_limit)
    return out


@st.composite
def _valid_apps_section(draw: st.DrawFn) -> dict[str, Any]:
    target = draw(st.sampled_from(["istio", "gatewayApi"]))
    pa = draw(maybe(st.sampled_from([{"mode": "STRICT"}, {"mode": "PERMISSIVE"}, {"mode": "DISABLE"}])))
    strict = pa is not None and pa["mode"] == "STRICT"
    names = draw(st.lists(st.sampled_from(APP_NAMES), min_size=0, max_size=3, unique=True))
    services = {name: draw(valid_app(name, target, strict)) for name in names}
    out: dict[str, Any] = {"enabled": True, "target": target, "services": services}
    if draw(st.integers(0, 3)) == 0 or not services:
        scenarios = BOOKINFO_SCENARIOS_ANY + (BOOKINFO_SCENARIOS_ISTIO if target == "istio" else [])
        bookinfo: dict[str, Any] = {"scenario": draw(st.sampled_from(scenarios)), "mtls": draw(st.booleans())}
        if draw(st.integers(0, 3)) == 0:
            bookinfo["expose"] = False
        if draw(st.integers(0, 3)) == 0:
            v1 = draw(st.integers(0, 100))
            bookinfo["weights"] = {"reviews": {"v1": v1, "v3": 100 - v1}}
        out["bookinfo"] = bookinfo
    if pa is not None:
        out["peerAuthentication"] = pa
    if draw(st.integers(0, 3)) == 0:
        out["namespace"] = draw(st.sampled_from(["shop", "team-a"]))
    return out


valid_apps_section = _valid_apps_section()


def _exposes(section: dict[str, Any]) -> bool:
    bookinfo = section.get("bookinfo")
    return any("expose" in app for app in section["services"].values()) or (
        bookinfo is not None and bookinfo.get("expose", True)
    )


def _ingresses_for(section: dict[str, Any]) -> st.SearchStrategy[tuple[dict[str, Any], Any]]:
    from tests.properties.check import INGRESSES

    choices = INGRESSES
    if section["target"] == "istio" and _exposes(section):
        choices = [i for i in INGRESSES if i is not None]  # exposing through Istio needs an ingress
    return st.tuples(st.just(section), st.sampled_from(choices))


#: (section, ingress) pairs meant to be accepted.
valid_apps_case = valid_apps_section.flatmap(_ingresses_for)
