"""A :class:`~meshstack.tools.graph.model.Graph` as SVG: same graph, byte-identical SVG.

Layout (left to right): gateways; the hosts they serve and the callers authorization names; then
the services in columns by call depth (a service an ingress route or an outside caller
reaches first, the services it may call next, …), each drawn with its versions beside it. Lines:

* colour is the edge's mTLS: green STRICT, orange PERMISSIVE (plaintext also accepted), red
  plaintext or refused; grey for a gateway's own servers (outside the mesh);
* a solid line is traffic (its width follows the weight), dashed a mirror, dotted a call
  authorization allows, red dash-dot one it denies; labels say the weight, the match, the fault,
  the timeout, the paths, the allowed methods; every node and line has a tooltip with the rest.

Why its own layout, not Graphviz: ``dot`` is a binary the package would need on every machine that
draws (a team's laptop, a pipeline), and its output depends on that binary's version and on the
fonts fontconfig finds there (dot measures text with them), so a committed picture (docs/) could not
be checked against a fresh render on another machine. The graph's shape is known (fixed columns,
services ordered by call depth, versions beside their service), which a layered layout of its own
draws in a few hundred lines: text is sized for a monospace font (0.6 em a character), every number
is rounded, everything is iterated in sorted order, nothing depends on the machine or the time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from meshstack.tools.graph.model import Edge, Graph, Node

FONT = 12
SMALL = 11
LINE = 15
SMALL_LINE = 13
PAD = 8
MARGIN = 24
ROW_GAP = 26
MIN_GAP = 70
FONT_FAMILY = "DejaVu Sans Mono, Menlo, Consolas, monospace"

COLOURS = {"strict": "#2e7d32", "permissive": "#ef6c00", "plain": "#c62828", "outside": "#546e7a"}
FILLS = {"gateway": "#e3f2fd", "caller": "#f5f5f5", "host": "#ede7f6", "service": "#ffffff", "version": "#fffde7"}
BORDERS = {"open": "#ef6c00", "restricted": "#2e7d32", "deny-all": "#c62828"}


def text_width(text: str, size: int = FONT) -> float:
    """The width of ``text`` in the monospace font the SVG asks for (0.6 em a character)."""
    return len(text) * size * 0.6


def _n(value: float) -> str:
    """A coordinate, rounded to a tenth: the same on every machine."""
    out = f"{round(value, 1):.1f}"
    return out[:-2] if out.endswith(".0") else out


@dataclass
class _Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def mid(self) -> float:
        return self.y + self.h / 2


@dataclass
class _Slot:
    """Where an edge arrives at a box's left side, and the label lines stacked above that point."""

    edge: int
    lines: list[str]

    @property
    def height(self) -> float:
        return max(18.0, len(self.lines) * SMALL_LINE + 8)


@dataclass
class _Item:
    """A thing placed in a column: a node's box, or a service's group (its box and its versions)."""

    node: str
    w: float = 0
    h: float = 0
    y: float = 0
    members: list[str] = field(default_factory=list)


# --- what each node and edge says ---------------------------------------------------------------------------


def _percent(value: Any) -> str:
    return f"{value:g}%" if isinstance(value, int | float) else "?"


def node_lines(node: Node) -> list[str]:
    """The lines of a node's box; the first is its name."""
    a = node.attrs
    if node.kind == "gateway":
        servers = ", ".join(f"{s['protocol']} :{s['port']}" for s in a.get("servers", []))
        lines = [node.label, f"gateway · {a.get('namespace')}", servers]
        if a.get("identity"):
            lines.append("sa " + str(a["identity"]).rsplit("/", 1)[-1])
        if live := a.get("live"):
            lines.append(f"pods {live['ready']}/{live['pods']} ready")
    elif node.kind == "host":
        lines = [node.label if node.label != "*" else "* (any host)", "host"]
    elif node.kind == "service":
        ports = ", ".join(f":{p['port']} {p.get('name') or ''}".rstrip() for p in a.get("ports", []))
        lines = [node.label, f"{a.get('namespace')} {ports}"]
        if mtls := a.get("mtls"):
            lines.append(f"{mtls['summary'].replace('(', '').replace(')', '')} · {mtls['client']}")
        callers = {"open": "anyone (no ALLOW policy)", "restricted": "allowed only", "deny-all": "none"}
        lines.append(f"callers: {callers.get(a.get('authorization', ''), '?')}")
        if rollout := a.get("rollout"):
            weights = " ".join(f"{v} {w}%" for v, w in rollout["weights"].items())
            lines.append(f"rollout {rollout['stable']}→{rollout['canary']}: {rollout['at']} ({rollout['phase']})")
            lines.append(f"  weights {weights}")
        if live := a.get("live"):
            lines.append(f"endpoints {live['ready']}/{live['endpoints']} ready")
    elif node.kind == "version":
        replicas = a.get("replicas")
        lines = [node.label, f"{replicas} replica{'s' if replicas != 1 else ''}" if replicas is not None else ""]
        if a.get("liveOnly"):
            lines.append("not in the stack")
        if live := a.get("live"):
            lines.append(f"pods {live['ready']}/{live['pods']} ready")
            lines.append(f"proxies {live['proxies']}/{live['pods']}")
    else:
        lines = [node.label, "caller"]
    return [line for line in lines if line]


def edge_lines(edge: Edge) -> list[str]:
    """The label of an edge, line by line."""
    a = edge.attrs
    if edge.kind == "serves":
        return [f"{a.get('protocol')} :{a.get('port')}" + (f" {a['tls']}" if a.get("tls") else "")]
    if edge.kind == "routes":
        return [
            *(_path_only(m) for m in a.get("match", [])),
            *([f"allowed by {a['allowedBy']}"] if a.get("allowedBy") else []),
        ]
    if edge.kind in ("allows", "denies"):
        ops = [" ".join(v) if k == "methods" else f"{k} {' '.join(v)}" for k, v in a.items() if k in OPERATIONS]
        return [f"{'allow' if edge.kind == 'allows' else 'deny'} {', '.join(ops) or 'all'}"]
    if edge.kind == "mirror":
        return [f"mirror {_percent(a.get('percent'))}"]
    lines: list[str] = list(a.get("match", []))
    if a.get("balanced"):
        lines.append("round robin")
    elif a.get("weight") is not None and not (a.get("match") and a["weight"] == 100):
        lines.append(_percent(a["weight"]))
    for fault in a.get("fault", []):
        what = fault["delay"] if fault["type"] == "delay" else f"HTTP {fault['status']}"
        lines.append(f"{fault['type']} {what} ({_percent(fault['percent'])})")
    if a.get("timeout"):
        lines.append(f"timeout {a['timeout']}")
    if retries := a.get("retries"):
        lines.append(f"retries {retries.get('attempts')}")
    return lines


#: The request attributes an authorization rule's ``to`` may name.
OPERATIONS = ("methods", "paths", "notPaths", "ports", "hosts")


def _path_only(match: str) -> str:
    """An ingress route's path match, short: ``/productpage``, ``/static*`` (prefix), ``~ regex``."""
    if match.startswith("path = ") and " & " not in match:
        return match.removeprefix("path = ")
    if match.startswith("path ^= ") and " & " not in match:
        return match.removeprefix("path ^= ") + "*"
    return match


def _tooltip(attrs: dict[str, Any], head: str) -> str:
    parts = [head]
    for key, value in sorted(attrs.items()):
        if isinstance(value, dict):
            text = ", ".join(f"{k}={v}" for k, v in sorted(value.items()))
        elif isinstance(value, list):
            text = "; ".join(str(v) for v in value)
        else:
            text = str(value)
        parts.append(f"{key}: {text}")
    return "\n".join(parts)


def _colour(edge: Edge) -> str:
    mtls = edge.attrs.get("mtls")
    if edge.kind == "denies":
        return COLOURS["plain"]
    if not mtls:
        return COLOURS["outside"]
    if not mtls["encrypted"]:
        return COLOURS["plain"]
    return COLOURS["strict"] if mtls["mode"] == "STRICT" else COLOURS["permissive"]


def _stroke(edge: Edge) -> tuple[float, str | None]:
    if edge.kind == "traffic":
        weight = edge.attrs.get("weight")
        return (1 + 3 * weight / 100 if isinstance(weight, int | float) else 1.6), None
    return {
        "serves": (1.2, None),
        "routes": (2.0, None),
        "mirror": (1.6, "6 4"),
        "allows": (1.6, "2 4"),
        "denies": (1.6, "8 3 2 3"),
    }[edge.kind]


# --- layout ------------------------------------------------------------------------------------------------


class _Layout:
    def __init__(self, graph: Graph) -> None:
        self.g = graph
        self.edges = list(graph.edges)
        self.lines = {nid: node_lines(n) for nid, n in graph.nodes.items()}
        self.labels = [edge_lines(e) for e in self.edges]
        self.boxes: dict[str, _Box] = {}
        self.groups: dict[str, _Box] = {}
        #: Arrival points of edges: edge index → (x, y).
        self.ports: dict[int, tuple[float, float]] = {}
        self.slots: dict[str, list[_Slot]] = {}
        self.fold_gateway_calls()
        served = {e.target for e in self.edges if e.kind in ("traffic", "mirror") and e.attrs.get("weight") != 0}
        for node in graph.of_kind("version"):
            if node.id not in served:
                self.lines[node.id].append("no traffic")

    def fold_gateway_calls(self) -> None:
        """A gateway's allowed call to a service it routes to is said on the route, not drawn twice."""
        routes = {
            (self.g.nodes[e.source].attrs["gateway"], e.target): i
            for i, e in enumerate(self.edges)
            if e.kind == "routes"
        }
        folded: set[int] = set()
        for i, edge in enumerate(self.edges):
            route = routes.get((edge.source, edge.target)) if edge.kind == "allows" else None
            if route is not None:
                r = self.edges[route]
                self.edges[route] = Edge(r.kind, r.source, r.target, {**r.attrs, "allowedBy": edge.attrs["policy"]})
                folded.add(i)
        self.edges = [e for i, e in enumerate(self.edges) if i not in folded]
        self.labels = [edge_lines(e) for e in self.edges]

    def size(self, nid: str) -> tuple[float, float]:
        lines = self.lines[nid]
        width = max(text_width(lines[0], FONT + 1), *(text_width(x, SMALL) for x in lines[1:])) + 2 * PAD
        minimum = {"gateway": 150, "caller": 120, "host": 110, "service": 150, "version": 96}[self.g.nodes[nid].kind]
        height = LINE + 4 + SMALL_LINE * (len(lines) - 1) + 2 * PAD - 4
        slots = self.slots.get(nid, [])
        return max(width, minimum), max(height, sum(s.height for s in slots) + 10)

    def depths(self) -> dict[str, int]:
        """A service's column: one past the deepest service that may call it (cycles cut)."""
        services = sorted(n.id for n in self.g.of_kind("service"))
        depth = dict.fromkeys(services, 0)
        calls = [
            (e.source, e.target)
            for e in self.edges
            if e.kind == "allows" and e.source in depth and e.source != e.target
        ]
        for _ in services:
            changed = False
            for source, target in calls:
                if depth[target] < depth[source] + 1 <= len(services) - 1:
                    depth[target] = depth[source] + 1
                    changed = True
            if not changed:
                break
        return depth

    def arrivals(self) -> None:
        """Which edges arrive at which box, in order: the slots on its left side."""
        for i, edge in enumerate(self.edges):
            lines = [] if edge.source == edge.target else self.labels[i]
            self.slots.setdefault(edge.target, []).append(_Slot(i, lines))

    def columns(self) -> list[list[_Item]]:
        g = self.g
        # The callers beside the hosts: both lead straight into the first services.
        sources = [n.id for n in g.of_kind("gateway")]
        hosts = [n.id for n in g.of_kind("host")] + [n.id for n in g.of_kind("caller")]
        depth = self.depths()
        service_cols: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
        for sid in sorted(depth):
            service_cols[depth[sid]].append(sid)
        cols: list[list[_Item]] = []
        for ids in (sources, hosts):
            if ids:
                cols.append([_Item(nid) for nid in ids])
        for ids in service_cols:
            items = []
            for sid in ids:
                versions = sorted(n.id for n in g.of_kind("version") if n.attrs["service"] == sid)
                items.append(_Item(sid, members=versions))
            cols.append(items)
        return cols

    def place(self) -> tuple[float, float]:
        self.arrivals()
        cols = self.columns()
        sizes = {nid: self.size(nid) for nid in self.g.nodes}
        inner_gap: dict[str, float] = {}
        for col in cols:
            for item in col:
                w, h = sizes[item.node]
                if not item.members:
                    item.w, item.h = w, h
                    continue
                labels = [ln for v in item.members for s in self.slots.get(v, []) for ln in s.lines]
                gap = max(MIN_GAP, max((text_width(x, SMALL) for x in labels), default=0) + 40)
                inner_gap[item.node] = gap
                versions_w = max(sizes[v][0] for v in item.members)
                versions_h = sum(sizes[v][1] for v in item.members) + 12 * (len(item.members) - 1)
                item.w = PAD * 2 + w + gap + versions_w
                item.h = PAD * 2 + max(h, versions_h)
        # Columns: x from the widest item and the labels of the edges arriving there.
        x: float = MARGIN
        col_x: list[float] = []
        for k, col in enumerate(cols):
            if k:
                arriving = [ln for item in col for s in self.slots.get(item.node, []) for ln in s.lines]
                x += max(MIN_GAP, max((text_width(t, SMALL) for t in arriving), default=0) + 40)
            col_x.append(x)
            x += max(item.w for item in col) if col else 0
        width = x + MARGIN
        # Rows: each column in the order of its predecessors' heights (barycentre), then centred.
        top: float = MARGIN + 40
        centre: dict[str, float] = {}
        heights: list[float] = []
        for k, col in enumerate(cols):
            if k:
                col.sort(key=lambda item: (self.barycentre(item, centre), item.node))
            y: float = top
            for item in col:
                item.y = y
                for nid in [item.node, *item.members]:
                    centre[nid] = y + item.h / 2
                y += item.h + ROW_GAP
            heights.append(y - ROW_GAP - top)
        tallest = max(heights, default=0)
        for k, col in enumerate(cols):
            shift = (tallest - heights[k]) / 2
            for item in col:
                self.put(item, col_x[k], item.y + shift, sizes, inner_gap.get(item.node, 0))
        for nid, slots in self.slots.items():
            box = self.boxes[nid]
            y = box.y + 5
            for slot in slots:
                y += slot.height
                self.ports[slot.edge] = (box.x, y - 4)
        return width, top + tallest

    def barycentre(self, item: _Item, centre: dict[str, float]) -> float:
        ids = {item.node, *item.members}
        ys = [centre[e.source] for e in self.edges if e.target in ids and e.source in centre and e.source not in ids]
        return sum(ys) / len(ys) if ys else float("inf")

    def put(self, item: _Item, x: float, y: float, sizes: dict[str, tuple[float, float]], gap: float) -> None:
        w, h = sizes[item.node]
        if not item.members:
            self.boxes[item.node] = _Box(x, y, w, h)
            return
        self.groups[item.node] = _Box(x, y, item.w, item.h)
        self.boxes[item.node] = _Box(x + PAD, y + PAD, w, h)
        vx = x + PAD + w + gap
        vy = y + PAD
        for v in item.members:
            vw, vh = sizes[v]
            self.boxes[v] = _Box(vx, vy, max(vw, *(sizes[m][0] for m in item.members)), vh)
            vy += vh + 12

    def start(self, edge: Edge) -> tuple[float, float]:
        box = self.groups.get(edge.source) if edge.kind in ("allows", "denies") else None
        box = box or self.boxes[edge.source]
        return box.right, box.mid


# --- writing -------------------------------------------------------------------------------------------------


def _text(x: float, y: float, text: str, size: int = SMALL, anchor: str = "start", weight: str | None = None,
          halo: bool = False, fill: str = "#212121") -> str:  # fmt: skip
    attrs = f'x="{_n(x)}" y="{_n(y)}" font-size="{size}" fill="{fill}"'
    if anchor != "start":
        attrs += f' text-anchor="{anchor}"'
    if weight:
        attrs += f' font-weight="{weight}"'
    if halo:
        attrs += ' stroke="#ffffff" stroke-width="3" paint-order="stroke"'
    return f"<text {attrs}>{escape(text)}</text>"


def _path(x1: float, y1: float, x2: float, y2: float, self_loop: bool = False, approach: float = 0) -> str:
    """A curve from (x1, y1) to (x2, y2) whose last ``approach`` pixels are level (its label sits there)."""
    if self_loop:
        return f"M {_n(x1)} {_n(y1)} C {_n(x1 + 40)} {_n(y1 - 50)}, {_n(x2 - 40)} {_n(y2 - 50)}, {_n(x2)} {_n(y2)}"
    if x2 <= x1:  # backwards (a call up the columns): over the top
        lift = 60 + abs(y2 - y1) / 4
        return f"M {_n(x1)} {_n(y1)} C {_n(x1 + 80)} {_n(y1 - lift)}, {_n(x2 - 80)} {_n(y2 - lift)}, {_n(x2)} {_n(y2)}"
    level = min(approach, max(0.0, x2 - x1 - 40))
    end = x2 - level
    dx = max(20.0, (end - x1) / 2)
    tail = f" L {_n(x2)} {_n(y2)}" if level else ""
    return f"M {_n(x1)} {_n(y1)} C {_n(x1 + dx)} {_n(y1)}, {_n(end - dx)} {_n(y2)}, {_n(end)} {_n(y2)}{tail}"


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    return [*lines, current] if current else lines


def _legend(x: float, y: float) -> tuple[list[str], float]:
    out = [_text(x, y + 12, "legend", SMALL, weight="bold")]
    entries = [
        ("traffic (width: weight)", COLOURS["strict"], 2.5, None),
        ("mirror", COLOURS["strict"], 1.6, "6 4"),
        ("call allowed by authorization", COLOURS["strict"], 1.6, "2 4"),
        ("call denied", COLOURS["plain"], 1.6, "8 3 2 3"),
    ]
    colours = [
        ("mTLS STRICT", COLOURS["strict"]),
        ("mTLS PERMISSIVE (plaintext accepted)", COLOURS["permissive"]),
        ("plaintext / refused", COLOURS["plain"]),
        ("outside the mesh (gateway server)", COLOURS["outside"]),
    ]
    row = y + 30
    for label, colour, width, dash in entries:
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<line x1="{_n(x)}" y1="{_n(row - 4)}" x2="{_n(x + 44)}" y2="{_n(row - 4)}" stroke="{colour}" '
            f'stroke-width="{_n(width)}"{dashed}/>'
        )
        out.append(_text(x + 52, row, label))
        row += 18
    row2 = y + 30
    x2 = x + 330
    for label, colour in colours:
        out.append(f'<rect x="{_n(x2)}" y="{_n(row2 - 12)}" width="14" height="10" fill="{colour}"/>')
        out.append(_text(x2 + 22, row2 - 3, label))
        row2 += 18
    return out, max(row, row2)


def to_svg(graph: Graph, title: str | None = None) -> str:
    """The SVG of ``graph`` (deterministic: the same graph gives the same bytes)."""
    layout = _Layout(graph)
    width, bottom = layout.place()
    mesh = graph.mesh
    environment = f" · environment {mesh['environment']}" if mesh.get("environment") else ""
    heading = title or (
        f"meshstack graph · stack {graph.stack}{environment} · mesh-wide mTLS {mesh.get('mtls')} · default deny "
        f"{'on' if mesh.get('defaultDeny') else 'off'}"
    )
    body: list[str] = [_text(MARGIN, MARGIN + 14, heading, FONT + 2, weight="bold")]
    if graph.mesh.get("live"):
        body.append(_text(MARGIN, MARGIN + 32, f"live: {graph.mesh['live']}", SMALL, fill="#37474f"))
    # Service groups behind everything.
    for sid, box in sorted(layout.groups.items()):
        body.append(
            f'<rect class="group" data-id={quoteattr(sid)} x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.w)}" '
            f'height="{_n(box.h)}" rx="10" fill="#fafafa" stroke="#bdbdbd" stroke-dasharray="4 3"/>'
        )
    # Edges, then the boxes over their ends, then the labels over both.
    labels: list[str] = []
    for i, edge in enumerate(layout.edges):
        x1, y1 = layout.start(edge)
        x2, y2 = layout.ports[i]
        colour = _colour(edge)
        stroke, dash = _stroke(edge)
        loop = edge.source == edge.target
        if loop:
            box = layout.boxes[edge.source]
            x1, y1, x2, y2 = box.right - 20, box.y, box.x + 20, box.y
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        approach = max((text_width(t, SMALL) for t in layout.labels[i]), default=0) + 14
        tip = _tooltip(edge.attrs, f"{edge.kind}: {edge.source} → {edge.target}")
        body.append(
            f'<g class="edge {edge.kind}" data-source={quoteattr(edge.source)} data-target={quoteattr(edge.target)}>'
            f"<title>{escape(tip)}</title>"
            f'<path d="{_path(x1, y1, x2, y2, loop, approach)}" fill="none" stroke="{colour}" stroke-width="{_n(stroke)}"'
            f'{dashed} marker-end="url(#arrow-{colour[1:]})"/></g>'
        )
        lines = layout.labels[i]
        for k, line in enumerate(lines):
            ly = y2 - 6 - (len(lines) - 1 - k) * SMALL_LINE
            if loop:
                ly = y1 - 40 - (len(lines) - 1 - k) * SMALL_LINE
                labels.append(_text((x1 + x2) / 2, ly, line, SMALL, anchor="middle", halo=True, fill=colour))
            else:
                labels.append(_text(x2 - 8, ly, line, SMALL, anchor="end", halo=True, fill=colour))
    for nid, node in graph.nodes.items():
        box = layout.boxes[nid]
        lines = layout.lines[nid]
        border = BORDERS.get(node.attrs.get("authorization", ""), "#607d8b")
        tip = _tooltip(node.attrs, f"{node.kind} {nid}")
        parts = [
            f'<g class="node {node.kind}" data-id={quoteattr(nid)}><title>{escape(tip)}</title>',
            f'<rect x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.w)}" height="{_n(box.h)}" rx="6" '
            f'fill="{FILLS[node.kind]}" stroke="{border}" stroke-width="{1.6 if node.kind == "service" else 1}"/>',
            _text(box.x + PAD, box.y + PAD + 12, lines[0], FONT + 1, weight="bold"),
        ]
        for k, line in enumerate(lines[1:]):
            parts.append(_text(box.x + PAD, box.y + PAD + 12 + LINE + k * SMALL_LINE, line, SMALL, fill="#455a64"))
        parts.append("</g>")
        body.append("".join(parts))
    body += labels
    y = bottom + 30
    if graph.warnings:
        body.append(_text(MARGIN, y, "warnings", FONT, weight="bold", fill=COLOURS["plain"]))
        y += 18
        for warning in graph.warnings:
            for k, line in enumerate(_wrap(warning, max(60, int((width - 2 * MARGIN) / (SMALL * 0.6))))):
                body.append(_text(MARGIN + (0 if k == 0 else 16), y, line, SMALL, fill=COLOURS["plain"]))
                y += SMALL_LINE
            y += 4
        y += 16
    legend, y = _legend(MARGIN, y)
    body += legend
    height = y + MARGIN
    markers = "".join(
        f'<marker id="arrow-{c[1:]}" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" '
        f'markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="{c}"/></marker>'
        for c in sorted(COLOURS.values())
    )
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(width)}" height="{_n(height)}" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" font-family={quoteattr(FONT_FAMILY)}>'
    )
    return (
        "\n".join(
            [
                head,
                f"<defs>{markers}</defs>",
                f'<rect width="{_n(width)}" height="{_n(height)}" fill="#ffffff"/>',
                *body,
                "</svg>",
            ]
        )
        + "\n"
    )


def write_svg(graph: Graph, path: Path, title: str | None = None) -> str:
    """Write the SVG of ``graph`` to ``path``; returns it."""
    text = to_svg(graph, title)
    path.write_text(text, encoding="utf-8")
    return text


__all__ = ["edge_lines", "node_lines", "text_width", "to_svg", "write_svg"]
