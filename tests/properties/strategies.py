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
