"""``meshstack graph``: the mesh's graph as the stack renders it, its SVG, and the reachability warning.

The graph is read from what the real program registers under mocks (tests.harness), so each test
states what the config says and checks the graph says the same. The picture is drawn by Debian's
headless Chromium (scripts/bootstrap.sh's ``chromium`` piece): a missing browser fails the test.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from typer.testing import CliRunner

from meshstack.cli import app as cli
from meshstack.model import AppSpec, AuthorizationPolicy, AuthorizationRule, Exposure, Version
from meshstack.model.checks import MeshContext, reachability_warnings
from meshstack.testing import run
from meshstack.tools.graph.model import Edge, Graph, of_recording
from meshstack.tools.graph.svg import to_svg
from tests.harness import ROOT, Recording, run_stack, stack_values

TEAM = ROOT / "examples" / "platform-team"
RED, GREEN = (0xC6, 0x28, 0x28), (0x2E, 0x7D, 0x32)


def _cli(*args: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(cli, list(args))
    return done.exit_code, done.stdout, done.stderr


def graph_of(stack: str, **overrides: Any) -> Graph:
    return of_recording(run_stack(stack, **overrides))


def bookinfo(stack: str, **settings: Any) -> Graph:
    apps = stack_values(stack)["apps"]
    return graph_of(stack, apps={**apps, "bookinfo": {**apps["bookinfo"], **settings}})


def one(graph: Graph, kind: str, source: str, target: str, **attrs: Any) -> Edge:
    found = [e for e in graph.find(kind, source, target) if all(e.attrs.get(k) == v for k, v in attrs.items())]
    assert len(found) == 1, f"expected one {kind} edge {source} -> {target} with {attrs}, got {found}"
    return found[0]


def svc(name: str) -> str:
    return f"service:bookinfo/{name}"


def ver(name: str, version: str) -> str:
    return f"version:bookinfo/{name}/{version}"


# --- structure --------------------------------------------------------------------------------------------


def test_dev_bookinfo_canary_gateway_hosts_services_versions(dev: Recording) -> None:
    g = of_recording(dev)
    gateway = g.node("gateway:istio-ingress/ingress")
    assert gateway.attrs["identity"] == "cluster.local/ns/istio-ingress/sa/istio-ingressgateway"
    host = "host:istio-ingress/ingress/*"
    assert one(g, "serves", gateway.id, host).attrs == {"port": 80, "protocol": "HTTP"}
    route = one(g, "routes", host, svc("productpage"))
    assert route.attrs["match"] == [
        "path = /productpage", "path = /login", "path = /logout", "path ^= /static", "path ^= /api/v1/products",
    ]  # fmt: skip
    assert route.attrs["to"] == [{"version": "v1", "weight": 100}]
    assert sorted(n.label for n in g.of_kind("service")) == ["details", "productpage", "ratings", "reviews"]
    assert [n.label for n in g.of_kind("version") if n.attrs["service"] == svc("reviews")] == ["v1", "v2", "v3"]
    # reviews-v1-v2-80-20: v1 80, v2 20, v3 deployed but sent nothing.
    assert one(g, "traffic", svc("reviews"), ver("reviews", "v1")).attrs["weight"] == 80
    assert one(g, "traffic", svc("reviews"), ver("reviews", "v2")).attrs["weight"] == 20
    assert g.find("traffic", svc("reviews"), ver("reviews", "v3")) == []
    # Dev: PERMISSIVE mesh-wide, no default deny; productpage has no ALLOW policy, so anyone may call it.
    assert g.mesh["mtls"] == "PERMISSIVE" and g.mesh["defaultDeny"] is False
    assert one(g, "allows", "caller:any", svc("productpage")).attrs["mtls"]["summary"] == "mTLS (PERMISSIVE)"
    assert g.node(svc("productpage")).attrs["authorization"] == "open"
    # Only meshed workloads: the addons (istio-system, sidecar.istio.io/inject: false) are not services.
    assert not [n for n in g.of_kind("service") if n.attrs["namespace"] != "bookinfo"]


def test_jason_v2_is_a_header_match_edge_beside_the_catch_all() -> None:
    g = bookinfo("dev", scenario="jason-v2")
    jason = one(g, "traffic", svc("reviews"), ver("reviews", "v2"))
    assert jason.attrs["match"] == ["header end-user = jason"] and jason.attrs["rule"] == 0
    others = one(g, "traffic", svc("reviews"), ver("reviews", "v1"))
    assert "match" not in others.attrs and others.attrs["rule"] == 1 and others.attrs["weight"] == 100


def test_ratings_delay_jason_is_a_fault_on_the_matched_edge_only() -> None:
    g = bookinfo("dev", scenario="ratings-delay-jason")
    delayed = one(g, "traffic", svc("ratings"), ver("ratings", "v1"), rule=0)
    assert delayed.attrs["match"] == ["header end-user = jason"]
    assert delayed.attrs["fault"] == [{"type": "delay", "delay": "7s", "percent": 100}]
    assert "fault" not in one(g, "traffic", svc("ratings"), ver("ratings", "v1"), rule=1).attrs
    aborted = one(
        bookinfo("dev", scenario="ratings-abort-jason"), "traffic", svc("ratings"), ver("ratings", "v1"), rule=0
    )
    assert aborted.attrs["fault"] == [{"type": "abort", "status": 500, "percent": 100}]


def test_default_scenario_spreads_reviews_over_every_version() -> None:
    g = bookinfo("dev", scenario="default")
    edges = g.find("traffic", svc("reviews"))
    assert sorted(e.target for e in edges) == [ver("reviews", v) for v in ("v1", "v2", "v3")]
    assert all(e.attrs["balanced"] and e.attrs["weight"] is None for e in edges)


def test_mirror_timeout_retries_and_a_deny_policy_of_an_own_service() -> None:
    web = {
        "versions": {"v1": {"image": "example/web:1"}, "v2": {"image": "example/web:2"}},
        "routes": [
            {"to": [{"version": "v1"}], "mirror": {"version": "v2", "percentage": 10}, "timeout": "3s",
             "retries": {"attempts": 2, "perTryTimeout": "1s"}},
        ],
        "authorization": [{"action": "DENY", "rules": [{"namespaces": ["untrusted"], "methods": ["POST"]}]}],
    }  # fmt: skip
    g = graph_of("dev", apps={**stack_values("dev")["apps"], "services": {"web": web}})
    mirror = one(g, "mirror", "service:bookinfo/web", "version:bookinfo/web/v2")
    assert mirror.attrs["percent"] == 10 and mirror.attrs["mtls"]["summary"] == "mTLS (PERMISSIVE)"
    traffic = one(g, "traffic", "service:bookinfo/web", "version:bookinfo/web/v1")
    assert traffic.attrs["timeout"] == "3s" and traffic.attrs["retries"] == {"attempts": 2, "perTryTimeout": "1s"}
    # A DENY policy alone leaves the app open (no ALLOW applies), and says whom it shuts out.
    denied = one(g, "denies", "caller:namespace:untrusted", "service:bookinfo/web")
    assert denied.attrs["methods"] == ["POST"] and denied.attrs["policy"] == "bookinfo/web-0"
    assert one(g, "allows", "caller:any", "service:bookinfo/web").attrs["policy"] is None


def test_prod_edges_are_strict_mtls_and_the_allowed_callers_are_bookinfos(prod: Recording) -> None:
    g = of_recording(prod)
    assert g.mesh["mtls"] == "STRICT" and g.mesh["defaultDeny"] is True
    into_services = [e for e in g.edges if e.kind != "serves"]
    assert into_services and all(e.attrs["mtls"]["summary"] == "mTLS STRICT" for e in into_services)
    assert {e.attrs["mtls"]["client"] for e in g.find("traffic")} == {"ISTIO_MUTUAL"}  # bookinfo.mtls: true
    calls = {(e.source, e.target) for e in g.find("allows")}
    assert calls == {
        ("gateway:istio-ingress/ingress", svc("productpage")),  # opened to the ingress under the default deny
        (svc("productpage"), svc("details")),
        (svc("productpage"), svc("reviews")),
        (svc("reviews"), svc("ratings")),
    }
    reviews = one(g, "allows", svc("productpage"), svc("reviews"))
    assert reviews.attrs["methods"] == ["GET"] and reviews.attrs["policy"] == "bookinfo/reviews-from-productpage"
    assert reviews.attrs["source"] == "principals */sa/bookinfo-productpage"
    assert not g.of_kind("caller") and g.warnings == []


def test_a_workload_peer_authentication_and_client_tls_change_that_edge_only() -> None:
    services = {
        "legacy": {
            "versions": {"v1": {"image": "example/legacy:1"}},
            "peerAuthentication": {"mode": "PERMISSIVE", "portLevelMtls": [{"port": 8080, "mode": "DISABLE"}]},
            "tls": {"mode": "DISABLE"},
        }
    }
    g = graph_of("dev", apps={**stack_values("dev")["apps"], "services": services})
    legacy = one(g, "traffic", "service:bookinfo/legacy", "version:bookinfo/legacy/v1").attrs["mtls"]
    assert legacy == {
        "mode": "DISABLE", "by": "PeerAuthentication bookinfo/legacy", "client": "DISABLE", "encrypted": False,
        "summary": "plaintext",
    }  # fmt: skip
    assert one(g, "traffic", svc("details"), ver("details", "v1")).attrs["mtls"]["by"] == (
        "PeerAuthentication istio-system/default"
    )


def test_gateway_api_target_routes_through_per_version_services() -> None:
    g = graph_of("dev", apps={**stack_values("dev")["apps"], "target": "gatewayApi"})
    assert sorted(n.label for n in g.of_kind("service")) == ["details", "productpage", "ratings", "reviews"]
    assert one(g, "traffic", svc("reviews"), ver("reviews", "v1")).attrs["route"] == "bookinfo/reviews"
    assert one(g, "traffic", svc("reviews"), ver("reviews", "v2")).attrs["weight"] == 20
    gateway = g.node("gateway:bookinfo/bookinfo-gateway")
    assert gateway.attrs["api"] == "gatewayApi"
    assert (
        one(g, "routes", "host:bookinfo/bookinfo-gateway/*", svc("productpage")).attrs["match"][0]
        == "path = /productpage"
    )


def test_rollout_position_from_the_recorded_outputs(tmp_path: Path) -> None:
    """Where a rollout stands is the stack's ``rollouts`` output: --outputs gives the recorded one."""
    doc = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    rollout = {"stable": "v1", "canary": "v2", "steps": [10, 50, 100], "analysis": {"interval": "1m"}}
    doc["config"]["meshstack:apps"]["bookinfo"]["rollouts"] = {"reviews": rollout}
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(doc))
    code, out, err = _cli("graph", "--stack", "dev", "--root", str(tmp_path), "--json")
    assert code == 0, err
    start = json.loads(out)
    reviews = next(n for n in start["nodes"] if n["id"] == svc("reviews"))
    assert reviews["attrs"]["rollout"]["phase"] == "idle" and reviews["attrs"]["rollout"]["weights"] == {"v1": 100}
    # The runner moved it to its second step (50 %); the stack recorded that.
    apps = stack_values("dev")["apps"]
    recorded = run_stack("dev", apps={**apps, "bookinfo": {**apps["bookinfo"], "rollouts": {"reviews": rollout}}})
    fingerprint = recorded.outputs["rollouts"]["reviews"]["state"]["fingerprint"]
    moved = {
        **recorded.outputs["rollouts"]["reviews"],
        "state": {"phase": "progressing", "step": 1, "fingerprint": fingerprint},
    }
    (tmp_path / "outputs.json").write_text(json.dumps({**recorded.outputs, "rollouts": {"reviews": moved}}))
    code, out, err = _cli("graph", "--stack", "dev", "--root", str(tmp_path), "--outputs", str(tmp_path / "outputs.json"),
                          "--out", str(tmp_path / "g.svg"), "--json")  # fmt: skip
    assert code == 0, err
    g = json.loads(out)
    reviews = next(n for n in g["nodes"] if n["id"] == svc("reviews"))
    assert reviews["attrs"]["rollout"] == {
        "stable": "v1", "canary": "v2", "plan": ["10%", "50%", "promote"], "at": "50%", "phase": "progressing", "step": 1,
        "weights": {"v1": 50, "v2": 50},
    }  # fmt: skip
    weights = {
        e["target"]: e["attrs"]["weight"]
        for e in g["edges"]
        if e["kind"] == "traffic" and e["source"] == svc("reviews")
    }
    assert weights == {ver("reviews", "v1"): 50, ver("reviews", "v2"): 50}
    assert "rollout v1→v2: 50% (progressing)" in (tmp_path / "g.svg").read_text()


def test_a_teams_own_program(tmp_path: Path) -> None:
    """examples/platform-team: its __main__.py, its project's config namespace, its prod mesh."""
    code, out, err = _cli(
        "graph", "--stack", "staging", "--root", str(TEAM), "--json", "--out", str(tmp_path / "t.svg")
    )
    assert code == 0, err
    g = json.loads(out)
    edges = {(e["kind"], e["source"], e["target"]): e["attrs"] for e in g["edges"]}
    assert edges[("traffic", "service:shop/checkout", "version:shop/checkout/v1")]["weight"] == 90
    assert edges[("traffic", "service:shop/checkout", "version:shop/checkout/v2")]["weight"] == 10
    allowed = edges[("allows", "caller:namespace:shop", "service:shop/checkout")]
    assert allowed["methods"] == ["GET", "POST"] and allowed["mtls"]["summary"] == "mTLS STRICT"
    assert g["mesh"]["defaultDeny"] is True and g["warnings"] == []
    # --program names the same program as a function.
    code, again, err = _cli(
        "graph", "--stack", "staging", "--root", str(TEAM), "--program", "shop_platform:main", "--json"
    )
    assert code == 0, err
    assert {**json.loads(again), "out": None} == {**g, "out": None}


# --- reachability -----------------------------------------------------------------------------------------


ORDERS = {"versions": {"v1": {"image": "example/orders:1.0"}}}


def test_an_app_nothing_may_call_in_prod_is_a_warning_naming_it() -> None:
    rec = run_stack("prod", apps={**stack_values("prod")["apps"], "services": {"orders": ORDERS}})
    [warning] = rec.warnings
    assert warning.startswith("meshstack:apps.services.orders.authorization: nothing may call orders: ")
    assert "authorization rule naming their principals" in warning and "cluster.local/ns/<namespace>/sa/" in warning
    g = of_recording(rec)
    assert g.warnings == [warning]
    assert g.find("allows", target="service:bookinfo/orders") == []
    assert g.node("service:bookinfo/orders").attrs["authorization"] == "deny-all"  # only the mesh's allow-nothing
    # Allowing a caller (productpage's identity) clears it, and the graph draws that edge.
    allowed = {
        **ORDERS,
        "authorization": [{"rules": [{"principals": ["cluster.local/ns/bookinfo/sa/bookinfo-productpage"]}]}],
    }
    rec = run_stack("prod", apps={**stack_values("prod")["apps"], "services": {"orders": allowed}})
    assert rec.warnings == []
    assert [e.source for e in of_recording(rec).find("allows", target="service:bookinfo/orders")] == [
        svc("productpage")
    ]


def test_the_warning_of_a_sample_names_its_key_and_meshstack_graph_prints_it(tmp_path: Path) -> None:
    doc = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    doc["config"]["meshstack:apps"]["bookinfo"]["authorization"] = False
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump(doc))
    code, out, err = _cli("graph", "--stack", "prod", "--root", str(tmp_path), "--out", str(tmp_path / "p.svg"))
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert [line.split(": ")[1:3] for line in lines] == [
        ["meshstack:apps.bookinfo.authorization", name] for name in ("details", "reviews", "ratings")
    ]
    assert "3 warnings" in out
    assert "nothing may call ratings" in (tmp_path / "p.svg").read_text()


def test_the_reachability_rule() -> None:
    prod = MeshContext(environment="prod", ingress=True, default_deny=True)
    app = AppSpec(versions={"v1": Version(image="example/a:1")})
    assert [loc for loc, _ in reachability_warnings("a", app, prod)] == [["authorization"]]
    assert reachability_warnings("a", app, MeshContext(environment="dev")) == []  # nothing denied by default
    deny_all = app.model_copy(update={"authorization": [AuthorizationPolicy.deny_all()]})
    assert reachability_warnings("a", deny_all, prod) != []  # an ALLOW without rules admits no one
    rule = AuthorizationRule(principals=["cluster.local/ns/shop/sa/web"])
    assert (
        reachability_warnings("a", app.model_copy(update={"authorization": [AuthorizationPolicy.allow(rule)]}), prod)
        == []
    )
    exposed = app.model_copy(update={"expose": Exposure.of(prefix=["/"])})
    assert reachability_warnings("a", exposed, prod) == []  # opened to the ingress gateway
    assert reachability_warnings("a", exposed, MeshContext(default_deny=True, ingress=False)) != []


def test_meshapp_logs_the_warning_in_a_teams_program() -> None:
    from meshstack.components import MeshApp, MeshAppArgs, MeshPlatform, MeshPlatformArgs
    from meshstack.model import Environment, WorkloadNamespace

    def program() -> None:
        platform = MeshPlatform(
            "mesh", MeshPlatformArgs(environment=Environment.PROD, namespaces={"shop": WorkloadNamespace()})
        )
        MeshApp("orders", MeshAppArgs(app=AppSpec(versions={"v1": Version(image="example/orders:1.0")}),
                                      mesh=platform.mesh, namespace="shop"))  # fmt: skip
        pulumi.export("ok", True)

    rec = run(program, project="team")
    assert [w.split(": ", 2)[:2] for w in rec.warnings] == [["app.authorization", "nothing may call orders"]]


# --- the SVG ----------------------------------------------------------------------------------------------


def test_the_svg_is_deterministic(tmp_path: Path) -> None:
    """Two processes (each with its own hash seed: no set or dict order leaks in) write the same bytes."""
    outs = [tmp_path / "a.svg", tmp_path / "b.svg"]
    for seed, out in zip(("1", "2"), outs, strict=True):
        done = subprocess.run(
            [sys.executable, "-m", "meshstack.cli", "graph", "--stack", "prod", "--out", str(out)],
            cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    assert outs[0].read_bytes() == outs[1].read_bytes()
    text = outs[0].read_text()
    assert text.startswith("<svg ") and text.count('<g class="node ') == len(graph_of("prod").nodes)
    assert str(tmp_path) not in text


def test_the_committed_bookinfo_picture_is_a_fresh_render(dev: Recording) -> None:
    committed = (ROOT / "docs" / "bookinfo-dev.svg").read_text()
    assert committed == to_svg(of_recording(dev)), (
        "docs/bookinfo-dev.svg is stale: run `make docs` (meshstack graph --stack dev --out docs/bookinfo-dev.svg)"
    )


def test_cli_exit_codes(tmp_path: Path) -> None:
    code, out, err = _cli("graph", "--stack", "nope", "--out", str(tmp_path / "x.svg"), "--json")
    assert code == 2 and "no stack config Pulumi.nope.yaml" in err and json.loads(out)["error"]["code"] == 2
    code, _, err = _cli("graph", "--stack", "dev")
    assert code == 2 and "give --out FILE.svg, --json, or both" in err
    code, _, err = _cli("graph", "--stack", "dev", "--json", "--live", "--kubeconfig", str(tmp_path / "none"))
    assert code == 1 and f"cannot use the kubeconfig {tmp_path / 'none'}" in err
    code, _, err = _cli("graph", "--stack", "staging", "--root", str(TEAM), "--program", "shop_platform", "--json")
    assert code == 2 and "expected module:function" in err
    code, out, _ = _cli("graph", "--help")
    assert code == 0 and "Exit codes:" in out


def chromium() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if found is None:
        pytest.fail(
            "Debian's chromium is not installed: run `scripts/bootstrap.sh --only chromium` (apt-get install chromium)"
        )
    return found


def png_pixels(data: bytes) -> tuple[int, int, list[tuple[int, ...]]]:
    """Width, height and RGB(A) pixels of an 8-bit, non-interlaced PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos : pos + 4]), data[pos + 4 : pos + 8]
        chunk = data[pos + 8 : pos + 8 + length]
        header = chunk if kind == b"IHDR" else header
        idat += chunk if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
    channels = 4 if colour == 6 else 3
    raw, stride = zlib.decompress(idat), width * channels
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        line = raw[y * (stride + 1) : (y + 1) * (stride + 1)]
        kind, row = line[0], bytearray(line[1:])
        for i in range(stride):
            a = row[i - channels] if i >= channels else 0
            b, c = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                row[i] = (row[i] + a) & 0xFF
            elif kind == 2:
                row[i] = (row[i] + b) & 0xFF
            elif kind == 3:
                row[i] = (row[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(row)
        previous = row
    pixels = [tuple(r[i : i + 3]) for r in rows for i in range(0, stride, channels)]
    return width, height, pixels


def test_headless_chromium_draws_the_svg(tmp_path: Path) -> None:
    svg = tmp_path / "prod.svg"
    code, _, err = _cli("graph", "--stack", "prod", "--out", str(svg))
    assert code == 0, err
    head = svg.read_text().split(">", 1)[0]
    width, height = (int(float(head.split(f' {k}="')[1].split('"')[0])) for k in ("width", "height"))
    png = tmp_path / "prod.png"
    done = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}", f"--window-size={width},{height}",
         svg.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0 and png.exists(), done.stderr[-2000:]
    data = png.read_bytes()
    assert len(data) > 20_000, f"a {len(data)}-byte PNG is too small for this picture"
    w, h, pixels = png_pixels(data)
    assert (w, h) == (width, height)
    colours = set(pixels)
    assert len(colours) > 50, f"only {len(colours)} colours: a blank page?"
    # Prod's edges are STRICT mTLS: green lines; red only in the legend (no plaintext edge, no warning).
    green, red = (sum(1 for p in pixels if _near(p, want)) for want in (GREEN, RED))
    assert green > 500 and red < green / 5, (green, red)


def _near(rgb: tuple[int, ...], want: tuple[int, int, int]) -> bool:
    return all(abs(x - y) <= 24 for x, y in zip(rgb, want, strict=True))


def test_a_tls_host_of_the_gateway_and_a_required_jwt() -> None:
    servers = [*stack_values("prod")["gateways"]["ingress"]["servers"],
               {"port": 443, "protocol": "HTTPS", "hosts": ["shop.example.com"],
                "tls": {"mode": "SIMPLE", "credentialName": "shop-cert"}}]  # fmt: skip
    shop = {
        "versions": {"v1": {"image": "example/shop:1.0"}},
        "expose": {"hosts": ["shop.example.com"], "paths": [{"prefix": "/"}]},
        "requestAuthentication": {"jwtRules": [{"issuer": "https://id.example.com", "jwksUri": "https://id.example.com/k"}],
                                  "requireJwt": True},
    }  # fmt: skip
    g = graph_of(
        "prod",
        gateways={**stack_values("prod")["gateways"], "ingress": {"servers": servers}},
        apps={**stack_values("prod")["apps"], "services": {"shop": shop}},
    )
    gateway, host = "gateway:istio-ingress/ingress", "host:istio-ingress/ingress/shop.example.com"
    assert sorted((e.attrs["port"], e.attrs.get("tls")) for e in g.find("serves", gateway, host)) == [
        (80, None),
        (443, "SIMPLE"),
    ]
    assert [e.attrs["port"] for e in g.find("serves", gateway, "host:istio-ingress/ingress/*")] == [80]
    assert one(g, "routes", host, "service:bookinfo/shop").attrs["match"] == ["path ^= /"]
    assert one(g, "allows", gateway, "service:bookinfo/shop").attrs["policy"] == "bookinfo/shop-from-ingress"
    assert one(g, "denies", "caller:no-jwt", "service:bookinfo/shop").attrs["ports"] == ["8080"]
    assert g.warnings == []  # exposed: the ingress may call it
