"""Tables, docs/benchmarks.md and docs/benchmarks.png from the results in benchmarks/results.

python -m benchmarks --report-only       (the same as ``python -m benchmarks.report``)
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
DOC = ROOT / "docs" / "benchmarks.md"
PNG = ROOT / "docs" / "benchmarks.png"
#: A 1-minute load average above this marks an evaluation result as measured on a loaded machine
#: (the evaluation's own process accounts for about 1 of it on this 2-core machine). An engine
#: result's load is mostly its own (the CLI, the provider, the API server, etcd, kwok), so only a
#: note marks it.
LOADED = 1.5

Results = dict[str, list[dict[str, Any]]]


def load(results: Path = RESULTS) -> Results:
    """Every kept result, by kind (``eval``, ``engine``), in order of N."""
    out: Results = {"eval": [], "engine": []}
    for path in results.glob("*.json"):
        data = json.loads(path.read_text())
        out.setdefault(data["kind"], []).append(data)
    for rows in out.values():
        rows.sort(key=lambda d: d["result"]["n"])
    return out


def _md(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _load(d: dict[str, Any]) -> float:
    r = d.get("result", d)
    loads = [r.get("load_before"), r.get("load_after"), (d.get("machine") or {}).get("load_1min")]
    return max((x for x in loads if x is not None), default=0.0)


def _loaded(d: dict[str, Any]) -> bool:
    """Measured on a busy machine: a note saying so (any note but one starting "idle"), or, for an
    evaluation, a high load average."""
    note = str(d.get("note") or "")
    return (bool(note) and not note.startswith("idle")) or (d.get("kind") == "eval" and _load(d) > LOADED)


def _mark(d: dict[str, Any]) -> str:
    return f"{_load(d):.1f}" + (" †" if _loaded(d) else "")


def eval_rows(docs: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for d in docs:
        r = d.get("result", d)
        rows.append(
            [
                str(r["n"]),
                f"{r['resources']} / {r['minimal_resources']}",
                str(r["k8s_objects"]),
                f"{r['cpu']:.2f}",
                f"{r['minimal_cpu']:.2f}",
                f"{r['ratio']:.2f}×",
                f"{r['us_per_resource'] / 1000:.1f}",
                f"{r['peak_mib']:.0f} / {r['minimal_peak_mib']:.0f}",
                f"{r['process_s']:.1f} / {r['minimal_process_s']:.1f}",
                f"{r['repeat']}",
                _mark(d),
            ]
        )
    return rows


EVAL_HEADER = [
    "N",
    "resources (meshstack / minimal)",
    "k8s objects",
    "meshstack CPU s",
    "minimal CPU s",
    "ratio",
    "ms / resource",
    "peak MiB (meshstack / minimal)",
    "process s (meshstack / minimal)",
    "runs",
    "load avg (1 min)",
]


def eval_table(rows: list[dict[str, Any]]) -> str:
    return _md(EVAL_HEADER, eval_rows(rows))


ENGINE_HEADER = [
    "N",
    "`up` from empty (default, `--checkpoints final`) s",
    "kubectl apply s",
    "apply + wait s",
    "up / (apply+wait)",
    "no-op preview s",
    "kubectl diff s",
    "preview / diff",
    "1-weight preview s",
    "rollout step s",
    "`up` from empty, `--checkpoints every` s",
]


def engine_table(docs: list[dict[str, Any]]) -> str:
    rows = []
    for d in docs:
        r = d["result"]
        rows.append(
            [
                str(r["n"]),
                f"{r['up_s']:.1f}",
                f"{r['kubectl_apply_s']:.1f}",
                f"{r['kubectl_apply_wait_s']:.1f}",
                f"{r['up_vs_kubectl']:.1f}×",
                f"{r['noop_preview_s']:.1f}",
                f"{r['kubectl_diff_s']:.1f}",
                f"{r['noop_preview_vs_diff']:.1f}×",
                f"{r['change_preview_s']:.1f} ({r['change_preview_updates']:.0f} update)",
                f"{r['rollout_step_s']:.1f} (up {r['rollout_step_up_s']:.1f})",
                f"{r['up_every_checkpoint_s']:.1f}" if "up_every_checkpoint_s" in r else "–",
            ]
        )
    return _md(ENGINE_HEADER, rows)


def text_tables(results: Results) -> str:
    parts = [
        "Program evaluation under mocks (medians; CPU = user+system of the evaluation):",
        eval_table(results["eval"]),
    ]
    if results.get("engine"):
        parts += ["", "Real engine against kubectl (embedded cluster):", engine_table(results["engine"])]
    return "\n".join(parts)


def plot(results: Results, png: Path = PNG) -> Path:
    import matplotlib  # noqa: PLC0415 - only when writing the doc

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    ev = [d["result"] for d in results["eval"]]
    engine = [d["result"] for d in results.get("engine") or []]
    panels = 3 if engine else 2
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 4), constrained_layout=True)
    ns = [r["n"] for r in ev]
    ax = axes[0]
    ax.plot(ns, [r["cpu"] for r in ev], "o-", label="meshstack")
    ax.plot(ns, [r["minimal_cpu"] for r in ev], "s--", label="minimal program")
    ax.set(xscale="log", yscale="log", xlabel="services N", ylabel="evaluation CPU s (median)")
    ax.set_title("Evaluation time under mocks")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    ax = axes[1]
    ax.plot(ns, [r["peak_mib"] for r in ev], "o-", label="meshstack")
    ax.plot(ns, [r["minimal_peak_mib"] for r in ev], "s--", label="minimal program")
    ax.set(xscale="log", xlabel="services N", ylabel="peak RSS MiB")
    ax.set_title("Peak memory (whole process)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    if engine:
        ax = axes[2]
        labels = ["up / apply+wait", "no-op preview / diff", "1-weight preview", "rollout step"]
        width = 0.8 / len(engine)
        for i, r in enumerate(engine):
            ours = [r["up_s"], r["noop_preview_s"], r["change_preview_s"], r["rollout_step_s"]]
            theirs = [r["kubectl_apply_wait_s"], r["kubectl_diff_s"], r["kubectl_diff_s"], float("nan")]
            xs = [j + i * width for j in range(len(labels))]
            ax.bar(xs, ours, width * 0.5, label=f"meshstack N={r['n']}")
            ax.bar([x + width * 0.5 for x in xs], theirs, width * 0.5, label=f"kubectl N={r['n']}", alpha=0.6)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(labels))], labels, rotation=15)
        ax.set(ylabel="seconds (log)", yscale="log")
        ax.set_title("Real engine vs kubectl")
        ax.legend(fontsize="small")
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return png


# --- the document -----------------------------------------------------------------------------------

EVAL_NOTES = """\
Where meshstack's share went, and what closed most of it (cProfile of both programs at N = 300,
then medians of five interleaved runs of each variant on an idle machine):

- **The test harness, not meshstack.** `meshstack.testing.run` read a program's exports with
  `Output.from_input(value).future()`, which makes an `Output` (and a task) for every nested value.
  meshstack exports a record per service (its rollout position, routes and versions: what
  `meshstack rollout` and `promote` read back); the minimal program exports nothing, so the
  harness's reading was charged to meshstack alone, and it cost more than the program that made the
  exports: 4,235 dicts lifted, 15.5k `Output.all` against 5.6k. The harness now awaits the Outputs
  inside the exports and walks the rest as plain data (same values, `None` for an export with an
  unknown in it, as before; `tests/test_harness_exports.py`). N = 300: 12.1 s → 9.6 s.
- **The SDK's stack trace per resource.** `register_resource` records where each resource was made:
  `traceback.extract_stack()` (every frame, each source line read through `linecache`), then a
  `pathlib` URI and a protobuf message for every frame above the resource's constructor. That is
  paid per frame per resource, so it charges a program for its own depth: meshstack's objects are
  made 18 frames deep (program, components, helpers, comprehensions), the minimal program's 12; at
  N = 300 it was 2.6 s against 1.3 s of profiled CPU. `components/stack_traces.py` builds the same
  message from a frame walk, with the URI and the frame message cached per source line
  (`tests/test_stack_traces.py` compares it with the SDK's function on every resource of the dev
  stack); meshstack's program installs it. N = 300: 9.6 s → 8.9 s, against 7.8 s for the minimal
  program (1.14×). The upstream report is [below](#upstream-the-python-sdks-stack-trace-per-resource).
- **Edges.** An app's objects wait for the mesh through their namespace (which waits for it)
  instead of an edge each to every mesh resource, and a route waits for the Deployments and
  DestinationRule it sends traffic to (`Recording.waits_for` checks the chain).
- What is left is the components themselves: 2,176 registrations against 1,866 at N = 300 (+17 %,
  the 310 components), each a registration, a `register_outputs` call and an await of its URN by
  each child. meshstack's own code (validation, render) is about 0.2 s of it.
- **Python's cyclic garbage collector.** A program builds its whole resource graph and keeps it
  until it exits, so nearly nothing the collector examines is garbage, yet with CPython's default
  thresholds (700, 10, 10) it walks the growing graph again and again: about 35-40 % of meshstack's
  evaluation at N = 100 and 1000, and the reason the per-resource cost of both programs grew about
  45 % from N = 100 to 1000 at the previous stop. meshstack's program now sets (50000, 20, 10) first
  (`stacks/collector.py`; collections still run, less often). Same process, interleaved, one pair
  of runs each: N = 100 3.1 → 2.0 s, N = 1000 32.4 → 19.5 s, peak 577 → 589 MiB at N = 1000;
  81 collections → 1 for a 20-service stack (`tests/test_collector.py`). The setting is the
  program process's own: the test harness restores its caller's thresholds after a run. The
  minimal program keeps Python's defaults; with the same setting it took 2.3 s (N = 100) and
  19.1 s (N = 1000) in the same session (2.9 s and 23.8 s without), so part of the ratio in the
  table is this setting, not meshstack's code.
- **Noise.** This machine is a VM with neighbours: the same code's CPU time moves by 15–20 %
  between runs an hour apart (the minimal program at N = 300: medians of 6.7 s and 7.8 s; in the
  engine table, `kubectl diff` of N = 100 took 7.2 s here against 4.9 s at the previous stop).
  Ratios of interleaved runs are steadier than the absolute figures.
"""


CHECKPOINTS = """\
## Checkpoints

Where the engine's time went, profiled on the N = 10 stack (engine events with timestamps, and
`pulumi up --profiling`), and what changed:

- **Checkpoints.** With a DIY backend (a file, S3), Pulumi writes the *whole* state before and
  after every resource operation. The CLI's CPU profile of an `up` from empty: 70 % in
  `SnapshotManager.saveSnapshot` (indented JSON encoding, the MD5 of each write, the `.bak`
  copy), 56 of 80 CPU seconds. Each write grows with the stack and there are two per resource, so
  an `up` from empty is quadratic: 74–90 s at N = 10 (the state is 9.7 MB, about 380 writes),
  about 700 s at N = 100. Pulumi's own remedy, journaling, exists only for Pulumi Cloud
  (pulumi/pulumi#22075, #10960 are open for DIY backends); the engine's documented alternative is
  `PULUMI_SKIP_CHECKPOINTS` (write once, at the end).
  meshstack's `checkpoints` setting (`--checkpoints`, `$MESHSTACK_CHECKPOINTS`) is `final`, the
  default, or `every` (Pulumi's). `final` writes once, at the end, also when an operation fails.
  What it changes is a job killed outright: it records nothing, and every object it created
  keeps the fields it set, owned by its server-side apply field manager (a random name
  pulumi-kubernetes gives each resource and records in the state). `meshstack recover` applies
  the stack again, adopting those objects with force; their unchanged fields would stay
  co-owned by the dead manager, so the next change of such a field (a replica count, say) would
  be an apply conflict. The cd tier showed exactly that when `final` was first tried as the
  default, and `final` was then opt-in until `recover` learnt to remove those entries
  (`meshstack/tools/field_managers.py`: `pulumi-kubernetes-*` managers the state does not
  record, and only where the stack's own manager owns every field they do; a JSON patch that
  tests each manager's name first). `tests/e2e/test_field_managers.py` shows the conflict and
  its removal on the API server; the cd tier kills a first install, recovers, and changes a field
  (istiod's replicas) the dead job had set. Under `every`, a killed job's finished operations are
  in the state and only those in flight are re-done (they are adopted the same way).
  A rollout step writes once whatever the setting: it updates one route that the state already
  holds (its field manager comes from there), and `rollout resume` recomputes the route from
  the recorded position.
- **Services.** pulumi-kubernetes awaits a Service until its endpoints have not changed for
  10 s, a fixed settle; two such waits were on the critical path (istiod's Service, then the
  gateways' and apps'), though nothing waits on a Service's endpoints: what must be ready is the
  Deployment behind it, awaited until available. meshstack's ClusterIP Services (and the charts',
  through a transform) carry pulumi-kubernetes' `pulumi.com/waitFor: jsonpath={.spec.clusterIP}`;
  LoadBalancer Services keep the wait for their address.
- **Kept:** CRDs before their objects, istiod's Deployment available before the gateways and the
  apps, each Deployment awaited until available, the guardrails on every update.
- **Not ours, left:** client QPS (raising pulumi-kubernetes' to 1000 changed nothing), the
  parallelism (64 in flight; the critical path is the chain above, not the queue).
- **The rollout step** on the 100-service stack: the state is 18 MB, and a targeted `up` read it
  three times (the update, its target, and the program's `readStackOutputs`, since replaced by
  a read from the update's own snapshot) and wrote it three times. Writing once instead of three
  times took about a second off; [the next section](#preview-and-rollout-step) has the rest.
"""


PREVIEW_AND_STEP = """\
## Preview and rollout step

Profiled on a held N = 100 cluster (engine events, the CLI's `--profiling`, timestamps from the
policy pack and the program, strace of the processes started), HEAD 6855a8e against now. On that
cluster `kubectl diff` of the same objects took 4.4–4.6 s.

| | before | now |
|---|---:|---:|
| no-op preview (`Engine.preview`) | 15.6–17.2 s | 12.5–13.3 s |
| rollout step, decision → read-back | 5.0–5.6 s | 4.2–4.8 s |

Where a preview's time goes, in order: 1.9 s before the program's first line (the CLI loads and
decrypts the 18 MB state, derives the passphrase key, the language host runs `pip list` to find
plugins, 0.33 s, and starts the policy pack, 0.3 s); the program's imports, 0.5 s; then the mesh's
chain, which the apps wait for even in a preview because a resource is registered only once
its dependencies' URNs are known (the base chart's 14 CRDs about 1.7 s, istiod's chart about 1 s);
then the 640 app objects at about 140 a second, the engine's step generation being serial; then the
stack rules. What changed:

- **The program reads the stack's previous outputs only when a rollout needs them, and after
  the platform is registered.** `readStackOutputs` makes the engine load and decrypt the whole
  state again (0.7–1.3 CPU seconds at N = 100). The program used to wait for it before
  registering anything; now it overlaps the platform's registration, and a stack without
  rollouts does not read it at all (about 1 s of a preview). Since then the read is the
  update's own snapshot, not a reload (below).
- **The policy pack** (next subsection): about 1.5 s of a preview.
- **Go's collector.** A quarter of the CLI's CPU was garbage collection while it decoded and
  re-encoded the state. The engine now runs with `GOGC=400` and a soft `GOMEMLIMIT=4GiB` unless
  the environment sets them (`meshstack.tools.engine.GO_RUNTIME`): about 0.5 s of a step, 1 s of
  a preview.
- **Imports.** A route-only step imports the typed pulumi-kubernetes classes and meshstack's
  components only when used: 0.40 s of imports instead of 0.73 s. The project mirror's stack file
  (every service's config) is read and written with libyaml.
- **The Automation API's stack is selected once per `Engine`** (and environment): selecting runs
  the CLI, about 0.4 s of every preview before.

A rollout step (before its program ran in the runner's process, below): 1.3 s until the CLI has
loaded and decrypted the state, 0.45 s for the language host's `pip list`, 0.35 s to start the
policy pack, 0.75 s until the program's first registration, 0.6 s to start and configure pulumi-kubernetes, 0.3 s for the route's check, diff
and update, about 1 s for the stack rules (`AnalyzeStack`) and the end of the program, then
1.7 s for the one write of the state and the CLI's exit (CLI `--tracing` spans on a held
N = 100 cluster, with the tracing's own overhead). Most of that is the engine's per-operation
cost on an 18 MB state, which meshstack cannot change from outside the engine.

**The step no longer reloads the state to carry the stack's outputs over.** The engine replaces
the stack's outputs with what the program registers, so a step, which registers only its route,
must register every other output again; it used to read them with `readStackOutputs` (a
`StackReference` to itself), which makes the engine load, decrypt and deserialise the whole
state a second time (0.9 CPU seconds of the CLI's 4 in a step, on its critical path). The
program now reads them from the update itself: the root stack resource is an unchanged (`same`)
step, whose state keeps the previous outputs, and `pulumi:pulumi:getResource` answers with that
state from the deployment's memory once the root's registration is done (the program passes the
root's URN as an output, so the invoke waits for it). The read is as consistent as before (the
snapshot this update started from, under its lock). Measured on a held N = 100 cluster, four
interleaved pairs: 5.1–6.3 s (median 5.9) against 6.4–7.2 s (median 6.9) a step, about a second;
a full `up` or preview of a stack with rollouts saves the same read. `getResource` answers the
state as one value, so when any recorded output is a secret the step carries every output as a
secret (the old read carried secrets in the clear; a test covers this).

**Two costs on the runner's side.** Every step made a new Automation API `PulumiCommand`, whose
constructor runs `pulumi version` whatever `skip_version_check` says (0.24 s between the runner's
decision and the `up`, seen in the scheduler's exec events); one is now made per process. And a
step's CLI runs with `GOGC=150` instead of the 400 other operations use: a step decodes the
state, changes one resource and encodes the state once, and at 400 its heap grew to several times
the decoded state, so faulting fresh memory in cost more than the collections saved. Interleaved
steps on the held cluster: 150 took 0.2–0.3 s less than 400 (medians 5.2 against 5.45 s over
ten-odd runs each); 100 and 1000 were slower than both; a preview is faster at 400 (22.3 and 23.0
s against 24.5 and 23.8 s), so only the step changes. Both together, eight interleaved pairs on a
held cluster: 5.74–7.09 s (median 5.85) against 5.99–6.93 s (median 6.60) a step.

**The step's program runs in the runner's process.** The runner already holds what the step's
program needs (the SDK, the model, the components), yet every step started the engine's Python
language host, which ran `pip list` over the virtualenv's 132 packages to find plugins (0.45 s),
then a fresh interpreter that imported the SDK and meshstack again (about 0.6 s) before the
program's first line. `Engine.targeted_up(program=…)` now serves the step's program
(`meshstack.stacks.program.step`, the same function `MESHSTACK_ROUTE_ONLY` selects in the
project's program) the way the Automation API serves an inline program: the SDK's language server
on 127.0.0.1 in the runner's process, the CLI pointed at it with `--client`, the program run with
the engine's environment over the runner's (an EKS stack's AWS endpoint and credentials are
there). The engine, the targeted update, the policy pack and the state write are unchanged.
Eight interleaved pairs on a held N = 100 cluster: 4.22–4.60 s (median 4.38) against 5.43–6.17 s
(median 5.55) a step. After inline steps a full preview finds the 819 resources `same` and the
other outputs carried over; the rollout tier's real-engine runs (gated, failing, killed between
steps and resumed) pass on this path. A runner killed mid-step behaves as before: the CLI dies
with it (its output pipe closes) and leaves its lock, which `meshstack recover` releases and
converges from (checked on the held cluster for both paths: a no-op preview after).

This VM's speed drifts between sessions and within one: `kubectl diff` of the same 100 services
took 7.2 s in one benchmark run and 8.7–8.8 s in the next ones, and the step's five runs in a
single benchmark spread over 0.6 s. The step figures above are from the same session, interleaved.

Tried for the step and not kept: reading the recorded outputs from the engine's answer to the root
stack's registration (the engine empties a component's outputs in that answer, pulumi/pulumi#5978);
having the runner pass its own copy (it would overwrite the record of another app's rollout, or a
plain `up`'s outputs, written since the runner read them: the lease is per app); registering the
route before reading the outputs, so the two overlap (5.28 s against 5.37 s, medians of four
interleaved pairs, within the noise).

### The policy pack

The engine calls the pack twice per resource on its serial path (`Remediate`, then `Analyze`)
and once per stack (`AnalyzeStack`). pulumi_policy 1.21 (Python) converts a resource's
properties from protobuf to Python, deserialises them and wraps them in unknown-checking proxies
once per *policy* in `Analyze` (five resource rules here: five times), and once per stack rule for
every resource in `AnalyzeStack`; `Remediate` converts them before finding that no policy
remediates; and every call re-reads the config environment and re-creates the SDK's runtime
settings (0.4 ms a call). The pack's handlers took about 2.4 s of a 100-service preview.

`FastAnalyzer` in `policy/__main__.py` gives the same answers with less work. During `Analyze`
and `AnalyzeStack` the policies get a `LazyStruct`: one per message and call (protobuf's upb
runtime hands out one object per sub-message, and each cached message is held, so an `id` is not
reused), each top-level key converted when a rule first reads it, so a CRD's schema or a
dashboard's JSON is never converted. `Remediate` answers with the empty response at once unless a
policy is set to `remediate`; the runtime settings are made once per process.
`tests/test_policy_pack.py` drives pulumi_policy's own servicer with and without it on every
resource of the dev stack plus a CRD, compares the answers, and checks the CRD's schema was not
converted. Handler time per preview, measured with the first version (one conversion per
message and call, before the laziness): `Analyze` 1.06 → 0.63 s, `Remediate` 0.39 s → nothing
measurable, and the stack rules converted each resource once instead of twice. The rest of the
pack's cost is the two gRPC calls per resource, about 2.5 ms together on this 2-core machine.

Report for pulumi/pulumi-policy (text to file upstream):

> **Python analyzer converts a resource's properties once per policy.** In
> `pulumi_policy/policy.py`, `Analyze` runs
> `unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(request.properties)))`
> inside the loop over policies, and `_get_provider_resource` does the same for the provider's
> properties, so a pack with *k* resource policies converts every resource *k* times;
> `AnalyzeStack` converts every resource once per stack policy, and `Remediate` converts before
> checking whether any policy is at the `remediate` level. `_configure_runtime_settings()` runs on
> every call. With five resource policies and two stack policies on an 820-resource stack this
> is about 1.5 s of handler time per preview, on the engine's serial step-generation path.
> Converting once per request (outside the loop), returning early from `Remediate` when no
> policy remediates, and configuring the runtime once would remove it; the results do not change
> since the proxies never mutate what they wrap.
"""


BEFORE = """\
## Before and after

The scale issue's table (pulumi SDK 3.184, before any of this work; the whole `pulumi preview`-like
evaluation of the N-service dev stack, ratio against the minimal program):

| N | time s | ratio | peak MiB |
|---:|---:|---:|---:|
| 10 | 3.1 | 1.01× | 94 |
| 100 | 15.7 | 1.14× | 146 |
| 500 | 158 | 1.40× | 370 |
| 1000 | 616 | 2.17× | 657 |

Real engine, N=10 (same issue): `up` from empty 140 s against `kubectl apply --server-side` 5.3 s
plus 8.4 s waiting for readiness; a no-op preview 11.4–13.6 s against `kubectl diff` 2.3–3.0 s.

Intermediate figures from the work (evaluation CPU, meshstack vs minimal):

| when | N=10 | N=100 | N=500 | N=1000 |
|---|---:|---:|---:|---:|
| SDK 3.184, first fixes | 0.96 vs 0.77 s | 6.40 vs 5.73 s | 67.2 s, 378.9 MiB vs 54.2 s, 412.8 MiB | |
| SDK 3.238, before the dependency narrowing | | 1.83 vs 1.43 s | | |
| before the harness's export reading and the stack traces (28a0494) | 0.43 vs 0.30 s (1.45×) | 2.45 vs 1.77 s (1.38×) | 13.49 vs 9.23 s (1.46×) | 29.08 vs 19.29 s (1.51×) |
| after them, before the collector setting (d293b04) | 0.36 vs 0.36 s (1.02×) | 2.16 vs 2.09 s (1.04×) | 13.35 vs 11.25 s (1.19×) | 28.79 vs 26.23 s (1.10×), 2.8 → 4.1 ms per resource from N=100 |

Real engine before the checkpoint and Service changes (the previous results, measured under load
from other jobs): N=10 `up` 89.1 s, no-op preview 12.3 s, a one-route step through a full-program
targeted `up` 15.0 s; N=100 `up` 728.6 s, no-op preview 21.2 s, that step 23.9 s. After them,
before the preview and step work (commit 1dd0f3b, idle machine): N=10 `up` 22.1 s
(`--checkpoints final`) and 81.3 s (every checkpoint), no-op preview 8.5 s, step 3.6 s; N=100
`up` 67.8 s (`final`), no-op preview 15.7 s against `kubectl diff` 4.5 s (3.5×), step 5.3 s.

Now (this page's tables above, SDK {sdk}): {now}.

Real engine now: {engine_now}.

Between the SDK 3.184 and 3.238 rows the minimal program, which contains no meshstack code, went
from 5.73 s to 1.43 s at N=100: that drop is the SDK's. The likeliest cause is the one in the next
section (every `Output` removed itself from a `deque`, O(n) each; 3.238 uses a `set`), whose
stand-alone reproduction below shows the same superlinear-to-linear change; other SDK changes
between the two versions were not isolated. meshstack's own share is the ratio column: what it
spends on its components, dependencies and validation over the floor the SDK sets.
"""

ISSUE = """\
## Upstream: `SETTINGS.outputs` in the Python SDK

**Finding (checked in this checkout's virtualenv, pulumi {sdk}):** fixed upstream. In
`pulumi/runtime/settings.py` the tracker is `self.outputs = set()` (typed `set[asyncio.Task]`), and
`Output._track` in `pulumi/output.py` does `SETTINGS.outputs.add(...)` and, when the Output's future
completes, `SETTINGS.outputs.remove(fut)` — O(1). SDK 3.184.0 had `self.outputs = deque()` with
`SETTINGS.outputs.append(future)` and `SETTINGS.outputs.remove(fut)` (O(n)). The change is
pulumi/pulumi#22946 ("Change SETTINGS.outputs to a set instead of a deque", merged 2026-05-11). No
issue needs filing against 3.238; the text below is kept as the record of the problem, for anyone
pinned to an older SDK (meshstack requires `pulumi>=3.238.0`).

> **Python SDK: `SETTINGS.outputs` is a `deque`; each `Output` removes itself with `deque.remove`, O(n), so a program's evaluation is quadratic in its number of Outputs**
>
> *Version:* pulumi (Python SDK) 3.184.0 (checked; earlier versions not checked); CPython 3.11; any language host / mocks.
>
> *What happens:* every `Output` created by the program is appended to `SETTINGS.outputs`
> (`pulumi/runtime/settings.py`: `self.outputs = deque()`), so that `wait_for_rpcs` can await the
> ones still pending at exit. When an Output's future completes, its done-callback in
> `pulumi/output.py` calls `SETTINGS.outputs.remove(fut)` under `SETTINGS.lock`. `deque.remove` is a
> linear scan, and the completed Output is usually not near the left end (many Outputs are created
> before the early ones resolve), so a program creating *k* Outputs spends O(k²) in these scans, all
> while holding the lock, on the event loop's thread.
>
> *Impact:* a program registering R resources creates many Outputs per resource (input and
> output properties, `apply`, `Output.all`, dependencies). A generated Kubernetes stack evaluated
> under mocks (no engine involved) took, with SDK 3.184: N=100 services (~800 resources) 15.7 s,
> N=500 158 s, N=1000 616 s — about N² from 500 to 1000.
>
> *Reproduction* (no resources, only Outputs, under mocks):
>
> ```python
> import sys, time
> import pulumi
> from pulumi.runtime.stack import run_pulumi_func
> from pulumi.runtime.sync_await import _sync_await
>
> class Mocks(pulumi.runtime.Mocks):
>     def new_resource(self, args): return args.name + "_id", args.inputs
>     def call(self, args): return {{}}
>
> def program(k):
>     def body():
>         for i in range(k):
>             pulumi.Output.from_input(i).apply(lambda v: v + 1)
>     return body
>
> pulumi.runtime.set_mocks(Mocks())
> for k in (10_000, 40_000):
>     t = time.perf_counter()
>     _sync_await(run_pulumi_func(program(k)))
>     print(k, f"{{time.perf_counter() - t:.2f}} s")
> ```
>
> Measured here (CPython 3.11, same machine, same run): SDK 3.184.0 — 10,000 Outputs 2.56 s,
> 40,000 Outputs 24.90 s (4× the Outputs, 9.7× the time); SDK 3.238.0 (a `set`) — 0.76 s and
> 2.92 s (3.8×).
>
> *Suggested fix:* order does not matter (`wait_for_rpcs` only loops until the collection is
> empty), so keep the pending Outputs in a `set` (O(1) `add`/`discard`); `wait_for_rpcs` copies
> and clears it, awaits with `asyncio.wait(..., FIRST_COMPLETED)`, and puts back what is not done.
> `runtime/mocks.py` and `runtime/stack.py` only use `clear`, `len` and iteration.
"""


STACK_TRACE_ISSUE = """\
## Upstream: the Python SDK's stack trace per resource

Not filed from here (no network); the text to file against pulumi/pulumi:

> **Python SDK: `register_resource` spends time per stack frame per resource on its stack trace
> (`traceback.extract_stack`, a `pathlib` URI per frame), so deeper programs pay more per resource**
>
> *Version:* pulumi (Python SDK) {sdk}; CPython 3.11.
>
> *What happens:* `pulumi/runtime/resource.py` `_get_stack_trace()` runs for every resource
> registration (and every read). It calls `traceback.extract_stack()`, which builds a
> `FrameSummary` for every frame of the stack and looks each frame's source line up through
> `linecache`, although only file names and line numbers are used. For every frame above the
> resource's constructor it then calls `pathlib.Path(filename).as_uri()` and creates a
> `SourcePosition` and a `StackFrame`. The cost is per frame, per resource, paid again for the same
> frames on every resource created in a loop.
>
> *Impact:* a program that builds its resources through components and helpers (a ComponentResource
> making resources in a comprehension, inside another component) pays for its depth on each
> resource. A Kubernetes program of 2,176 resources, 18 frames deep: 2.6 s of a 24 s profile; the
> same objects registered from a flat loop, 12 frames deep: 1.3 s.
>
> *Suggested fix:* walk `sys._getframe()` / `f_back` to the third `__init__` frame and above it
> read `f_code.co_filename` and `f_lineno` only (no `linecache`), and cache the URI per file name
> (or the `StackFrame` per file name and line: protobuf copies it into the `StackTrace`). The
> message is the same; meshstack carries this as `components/stack_traces.py`, tested against the
> SDK's function.
"""


OWN_OUTPUTS_ISSUE = """\
## Upstream: a program reading its own stack's outputs loads the whole state again

Not filed from here (no network); the text to file against pulumi/pulumi:

> **Engine: `pulumi:pulumi:readStackOutputs` for the stack being updated reloads and deserialises its
> whole checkpoint, although the deployment holds that snapshot already**
>
> *Version:* pulumi CLI v3.184.0, DIY (file) backend, passphrase secrets.
>
> *What happens:* a program that must carry its stack's outputs over from the last update (a
> targeted update that registers one resource: the engine replaces the stack's outputs with what
> the program registers, so every other output must be registered again) reads them with
> `readStackOutputs` (a `StackReference` to itself). The builtin provider asks the backend for the
> stack, which reads the checkpoint file and deserialises every resource in it, then returns the
> root stack's outputs. The deployment already loaded that same snapshot to start the update.
> The root stack's registration (a `same` step) does not help: the resource monitor empties a
> component's outputs in its answer (#5978).
>
> *Impact:* on a stack of 821 resources (17.6 MB of state) the invoke takes 0.7–0.9 s, about a
> sixth of a one-resource targeted update that a progressive-delivery loop repeats at every step.
>
> *Suggested fix:* answer `readStackOutputs` for the deployment's own stack from the snapshot the
> deployment started from (the previous outputs of the root stack resource), or return the old
> outputs in the root stack's registration answer (the reason for #5978, unregistered resource
> references, does not arise for the root stack's recorded outputs when they hold plain values).
>
> *Workaround:* once the root stack's registration is done, `pulumi:pulumi:getResource` with the
> root stack's URN answers with its `same` state, which holds the previous outputs, from memory.
> This relies on the engine keeping an unchanged component's outputs on its new state; a
> documented way to read them would be better.

meshstack carries that workaround (`stacks/program.py`, `previous_outputs`).
"""


def _now_summary(ev: list[dict[str, Any]]) -> str:
    parts = [
        f"N={r['n']} {r['cpu']:.2f} vs {r['minimal_cpu']:.2f} s ({r['ratio']:.2f}×), {r['peak_mib']:.0f} vs "
        f"{r['minimal_peak_mib']:.0f} MiB, whole process {r['process_s']:.1f} s"
        for r in (d["result"] for d in ev)
    ]
    return "; ".join(parts) or "no results kept"


def _runs(engine: list[dict[str, Any]]) -> str:
    """Each size's runs of the no-op preview, ``kubectl diff`` and the rollout step, where the result has them."""
    parts = [
        f"N = {r['n']}: preview {', '.join(f'{x:.1f}' for x in r['noop_preview_runs'])} s, diff "
        f"{', '.join(f'{x:.1f}' for x in r['kubectl_diff_runs'])} s"
        + (
            f", rollout steps {', '.join(f'{x:.1f}' for x in r['rollout_step_runs'])} s"
            if r.get("rollout_step_runs")
            else ""
        )
        for r in (d["result"] for d in engine)
        if r.get("noop_preview_runs") and r.get("kubectl_diff_runs")
    ]
    return "; ".join(parts)


def _engine_summary(engine: list[dict[str, Any]]) -> str:
    parts = [
        f"N={r['n']} `up` {r['up_s']:.0f} s against kubectl apply {r['kubectl_apply_s']:.1f} s + "
        f"{r['kubectl_apply_wait_s'] - r['kubectl_apply_s']:.1f} s wait; no-op preview {r['noop_preview_s']:.1f} s "
        f"against diff {r['kubectl_diff_s']:.1f} s; rollout step {r['rollout_step_s']:.1f} s"
        + (f"; `up` with every checkpoint {r['up_every_checkpoint_s']:.0f} s" if "up_every_checkpoint_s" in r else "")
        for r in (d["result"] for d in engine)
    ]
    return "; ".join(parts) or "not measured in this run"


def _scaling(ev: list[dict[str, Any]]) -> str:
    """How the cost per resource grows between the smallest and the largest N measured."""
    rows = [d["result"] for d in ev]
    if len(rows) < 2:
        return ""
    a, b = rows[0], rows[-1]

    def exponent(t0: float, t1: float, r0: int, r1: int) -> float:
        return math.log(t1 / t0) / math.log(r1 / r0)

    mesh = exponent(a["cpu"], b["cpu"], a["resources"], b["resources"])
    mini = exponent(a["minimal_cpu"], b["minimal_cpu"], a["minimal_resources"], b["minimal_resources"])
    return (
        f"From N={a['n']} to N={b['n']} evaluation CPU grows as resources^{mesh:.2f} for meshstack and"
        f" resources^{mini:.2f} for the minimal program (1.00 would be linear); CPU per resource goes from"
        f" {a['us_per_resource'] / 1000:.1f} to {b['us_per_resource'] / 1000:.1f} ms for meshstack and from"
        f" {1000 * a['minimal_cpu'] / a['minimal_resources']:.1f} to"
        f" {1000 * b['minimal_cpu'] / b['minimal_resources']:.1f} ms for the minimal program."
    )


def render(results: Results) -> str:
    ev, engine = results["eval"], results.get("engine") or []
    metas = [d["machine"] for d in ev + engine]
    sdk = metas[0]["pulumi_sdk"] if metas else "?"
    notes = sorted({d["note"] for d in ev + engine if d.get("note")})
    dates = sorted({m["date"] for m in metas})
    commits = sorted({str(m.get("commit") or "uncommitted")[:12] for m in metas})
    loaded = [str(d["result"]["n"]) for d in ev if _loaded(d)]
    loaded_engine = [str(d["result"]["n"]) for d in engine if _loaded(d)]
    out = [
        "# Benchmarks",
        "",
        "<!-- Generated by `python -m benchmarks` (benchmarks/report.py) from benchmarks/results/*.json:"
        " do not edit by hand; `python -m benchmarks --report-only` rewrites it. -->",
        "",
        "How meshstack scales with the number of services, measured on N-service stacks: the dev stack",
        "plus N generated services (`benchmarks/generate.py`: each with a ServiceAccount, a Service, two",
        "Deployments, a DestinationRule, a VirtualService with a 90/10 split and its `MeshApp`",
        "component). Each figure is set against a baseline doing the same work without meshstack.",
        "",
        "```",
        "make bench                                   # N = 10, 100, 500 (×3) and the real engine for N = 10, 100",
        "python -m benchmarks --sizes 10,100,500,1000 # or BENCH_SIZES=…: N = 1000 is opt-in",
        "python -m benchmarks --engine-sizes ''       # evaluation only",
        "python -m benchmarks --report-only           # rewrite this page from benchmarks/results/*.json",
        "python -m benchmarks --smoke                 # N = 10 once, checks only (part of `make test`)",
        "```",
        "",
        "Results are kept per kind and size in `benchmarks/results/{eval,engine}-n<N>.json` (a rerun of",
        "one size replaces only that file). The smoke run checks structure (both programs registered the",
        "same objects, the object count grows with N); no test asserts a timing.",
        "",
        "## Conditions",
        "",
        f"- Measured: {', '.join(dates) or '—'}; HEAD at the time: {', '.join(commits) or '—'}"
        + (" (the code moved between runs: other work was being committed meanwhile)." if len(commits) > 1 else "."),
        f"- Python {metas[0]['python'] if metas else '?'}, pulumi SDK {sdk}, pulumi-kubernetes"
        f" {metas[0]['pulumi_kubernetes'] if metas else '?'}, {metas[0]['cpus'] if metas else '?'} CPUs.",
    ]
    for note in notes:
        out.append(f"- Note recorded with the results: *{note}*.")
    if loaded or loaded_engine:
        out.append(
            f"- † **Measured while the machine was loaded** (other jobs running: a note above, or, for the"
            f" evaluation, a 1-minute load average above {LOADED:g}): evaluation N = {', '.join(loaded) or '—'}"
            + (f"; engine N = {', '.join(loaded_engine)}" if loaded_engine else "")
            + ". CPU time is less affected than wall time, but treat differences of 10–20 % as noise."
        )
    out += [
        "",
        "## Program evaluation: meshstack against a minimal program",
        "",
        "Both programs are evaluated under Pulumi's mocks (`meshstack.testing.run`), each in a fresh",
        "process. The **minimal program** registers the same objects as meshstack does for that stack —",
        "every Kubernetes object, the random passwords, the provider and the four Helm `Chart`s with the",
        "same inputs — directly with pulumi-kubernetes, with no components, dependencies or validation;",
        "it is the floor the SDK sets. meshstack registers those plus its own components (the",
        "`resources` column: meshstack / minimal; the difference is meshstack's components).",
        "",
        "*CPU* is user+system time of the evaluation itself (interpreter start and imports excluded), the",
        "median of the runs; *peak* is the process's maximum resident set (`ru_maxrss`, imports",
        "included: about 95 MiB of it is Python plus the SDKs; the minimal program's also holds its",
        "input, every object as loaded from JSON); *process* is the whole process's wall time as its",
        "parent saw it.",
        "",
        eval_table(ev),
        "",
        _scaling(ev),
        "",
        EVAL_NOTES,
        "",
        "![Evaluation time and peak memory against N; the real engine against kubectl](benchmarks.png)",
        "",
        "## Real engine against kubectl",
        "",
        "`benchmarks/engine_bench.py`, on the embedded cluster (`scripts/cluster.py`: kube-apiserver,",
        "etcd, controller-manager and kwok on 127.0.0.1), a fresh cluster per side:",
        "",
        "- kubectl: `apply --server-side` of every object of the stack (meshstack's objects and the",
        "  charts' via `helm template`; CRDs first), `wait` until every Deployment is Available, then",
        "  `kubectl diff --server-side` of the same files (a no-op);",
        "- meshstack: `up` from empty (`--checkpoints final`, the default: returns when everything is",
        "  ready; the state is written once, at the end: see [Checkpoints](#checkpoints)), a no-op",
        "  `preview`, a `preview` of one canary weight change (svc-0001 90/10 → 80/20), and the first",
        "  step of svc-0000's rollout (stable 100 % → canary 10 %) made as the runner makes it",
        "  (`EngineStack`: `pulumi up --target` of the one VirtualService with the program in its",
        "  route-only mode, run in the runner's process, the new position recorded in the stack's",
        "  outputs, the guardrails policy pack running), until the API server returns the new weights;",
        "- for N = 10, `up` from empty again on a third cluster with a checkpoint at every step",
        "  (`--checkpoints every`, Pulumi's default): what the checkpoints cost.",
        "",
    ]
    if engine:
        out += [
            engine_table(engine),
            "",
            "*Rollout step*: from the decision to the API server returning the new weights (in",
            "parentheses, the targeted `up` alone); the median of the runs listed below: the rollout's",
            "steps 10 %, 25 %, 50 %, 10 %, 25 % (each a real route change; three steps in earlier",
            "results, one before that). *1-weight preview*: the",
            "preview after changing one service's weights, with the number of updates it found (1: only",
            "that VirtualService). *No-op preview* and *kubectl diff*: the median of three runs each"
            + (f" (the runs: {_runs(engine)})." if _runs(engine) else "."),
            "",
            CHECKPOINTS,
            "",
            PREVIEW_AND_STEP,
        ]
    else:
        out += [
            "**Not measured in this run** (no `benchmarks/results/engine-n*.json`): run",
            "`python -m benchmarks --sizes 10 --engine-sizes 10,100` on an otherwise idle machine.",
            "",
        ]
    out += [
        BEFORE.format(sdk=sdk, now=_now_summary(ev), engine_now=_engine_summary(engine)),
        ISSUE.format(sdk=sdk),
        STACK_TRACE_ISSUE.format(sdk=sdk),
        OWN_OUTPUTS_ISSUE,
    ]
    return "\n".join(out)


def write(results: Results, doc: Path = DOC, png: Path = PNG) -> tuple[Path, Path]:
    if not results["eval"]:
        raise SystemExit("no results in benchmarks/results: run `python -m benchmarks` first")
    doc.write_text(render(results))
    plot(results, png)
    return doc, png


def main() -> int:
    results = load()
    print(text_tables(results))
    doc, png = write(results)
    print(f"wrote {doc} and {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
