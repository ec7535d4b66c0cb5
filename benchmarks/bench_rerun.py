"""Server-side rerun time of the Playground at the default input, with every new mask on, T = 64 and T = 256.

Two views of the same thing:

1. **Over the wire** (what a user waits for, minus the browser's drawing): a real
   ``streamlit run app.py`` on loopback, driven through Streamlit's own websocket
   protocol (``stclient.py``). Time from sending the ``rerun_script`` BackMsg to
   receiving ``script_finished``. Two actions: toggling the causal mask (after the
   first two toggles the compute cache answers) and changing the seed (a cache miss
   every time, the worst case).
2. **In process, by stage**: the same work the page does, timed per stage — the NumPy
   pipeline, the Plotly figure builders, Plotly's JSON serialization (what
   ``st.plotly_chart`` calls) and the row-check table — to show where the time goes.

With ``--proof``: the Proof page beside the Playground instead, at the default input, one
session each on the same server, their reruns interleaved (so both see the same machine
load), the same two actions; then the Proof page's stages in process.

Run:  python benchmarks/bench_rerun.py [--reruns 20] [--port N] [--proof]
Targets: under 50 ms at the default input (issue 2); the Proof page within 1.3× the
Playground (issue 12); with every new mask on (left padding, a sliding window, a prefix LM, query
padding, a drawn mask; packed with a document mask, or not packed) close to the default input (issue 13).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import machine, start_server, stop_server, summary, tokens_text  # noqa: E402
from stclient import StreamlitSession  # noqa: E402

#: every new mask at once (issue 13); the drawn mask must have the row's length: 11 packed, 6 padded tokens
EVERY_MASK = {"padside": "left", "window": "3", "wrule": "distance", "prefix": "2", "qpad": "1"}
CASES = {
    "default": {},
    "every new mask, packed": EVERY_MASK | {"packed": "1", "drawn": "-".join(["0" * 10 + "1"] * 11)},
    "every new mask, left-padded": EVERY_MASK | {"drawn": "-".join(["000001"] * 6)},
    "T=64": {"tokens": tokens_text(64)},
    "T=256": {"tokens": tokens_text(256)},
}
TARGET_DEFAULT_MS = 50.0
#: the pages compared by --proof: name -> the page's url_path (what the browser sends as page_name)
COMPARED_PAGES = {"Playground": "", "Proof": "proof"}
TARGET_PROOF_RATIO = 1.3


async def timed_rerun(session: StreamlitSession) -> float:
    """One rerun's time in ms; a rerun that raised is not a measurement, so stop with the page's error."""
    result = await session.rerun()
    if result.exceptions:
        raise RuntimeError(f"the page raised during the benchmark: {result.exceptions}")
    return result.seconds * 1000


async def over_the_wire(port: int, query: dict, reruns: int) -> dict[str, dict]:
    session = StreamlitSession(port, query)
    first = await session.connect()
    if first.exceptions:
        raise RuntimeError(f"the page raised: {first.exceptions}")
    causal, seed = session.find("Causal"), session.find("Seed")
    toggles, seeds = [], []
    for i in range(reruns):
        session.set_bool(causal, i % 2 == 0)
        toggles.append(await timed_rerun(session))
    for i in range(reruns):
        session.states[seed.id].double_value = float(1000 + i)      # a new seed: compute cache miss
        seeds.append(await timed_rerun(session))
    await session.close()
    return {"toggle causal": summary(toggles), "new seed (uncached)": summary(seeds)}


async def pages_side_by_side(port: int, reruns: int) -> dict[str, dict[str, dict]]:
    """Each page of ``COMPARED_PAGES`` in its own session at the default input, reruns interleaved.

    The new seeds differ per page, so each of those reruns misses the shared compute cache.
    """
    sessions = {name: StreamlitSession(port, page=page) for name, page in COMPARED_PAGES.items()}
    times = {name: {"toggle causal": [], "new seed (uncached)": []} for name in sessions}
    for name, session in sessions.items():
        first = await session.connect()
        if first.exceptions:
            raise RuntimeError(f"the {name} page raised: {first.exceptions}")
    for i in range(reruns):
        for name, session in sessions.items():
            session.set_bool(session.find("Causal"), i % 2 == 0)
            times[name]["toggle causal"].append(await timed_rerun(session))
    for i in range(reruns):
        for k, (name, session) in enumerate(sessions.items()):
            session.states[session.find("Seed").id].double_value = float(1000 + 1000 * k + i)
            times[name]["new seed (uncached)"].append(await timed_rerun(session))
    for session in sessions.values():
        await session.close()
    return {name: {action: summary(t) for action, t in actions.items()} for name, actions in times.items()}


def proof_by_stage(repeat: int = 7) -> dict[str, float]:
    """Median ms per proof at the default input, in this process: the core, then its figures' JSON."""
    import numpy as np
    import plotly.io as pio

    from maskattn import figures, proof
    from maskattn.pipeline import compute
    from maskattn.state import Inputs

    r = compute(Inputs())
    mask, options = r.mask, dict(mask_value=r.inputs.mask_value, dtype=r.inputs.dtype, method=r.inputs.method)
    deleted, t_deleted = _timed(lambda: proof.delete_masked_keys(r.steps), repeat)
    _, t_row = _timed(lambda: proof.exact_vs_float_row(r.steps, 0), repeat)
    leak, t_leak = _timed(lambda: proof.leak_test_tokens(list(r.tokens), mask, amount=1e6, rng=0, **options), repeat)
    grads, t_grads = _timed(lambda: proof.attention_grads(r.q, r.k, r.v, mask, d_output=np.ones(r.steps.output.shape),
                                                          **options), repeat)
    _, t_takeaways = _timed(lambda: (deleted.takeaway(r.labels), leak.takeaway(), grads.takeaway(r.labels)), repeat)
    figs, t_figures = _timed(lambda: [*figures.deleted_figures(deleted, r.labels, mask).values(),
                                      *figures.leak_figures(leak, np.flatnonzero(leak.shielded)).values(),
                                      *figures.gradient_figures(grads, r.labels).values()], repeat)
    _, t_json = _timed(lambda: [pio.to_json(f, validate=False) for f in figs], repeat)
    return {"delete the columns": t_deleted, "exact vs float row": t_row, "leak test": t_leak,
            "backward pass": t_grads, "takeaways": t_takeaways, "figures": t_figures, "to_json": t_json}


def _timed(fn, repeat: int) -> tuple[object, float]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return result, summary(times)["p50"]


def by_stage(query: dict, repeat: int = 7) -> dict[str, float]:
    """Median ms per stage, in this process (no Streamlit)."""
    import pandas as pd
    import plotly.io as pio

    from maskattn import figures
    from maskattn.explain import row_table, verdicts
    from maskattn.pipeline import compute
    from maskattn.state import from_query_params

    settings = from_query_params(query)[0]
    result, t_compute = _timed(lambda: compute(settings), repeat)
    figs, t_figures = _timed(lambda: list(figures.playground_figures(result).values()), repeat)
    _, t_json = _timed(lambda: [pio.to_json(f, validate=False) for f in figs], repeat)
    _, t_table = _timed(lambda: (pd.DataFrame(row_table(result)), verdicts(result)), repeat)
    return {"compute": t_compute, "figures": t_figures, "to_json": t_json, "row table + verdicts": t_table}


def compare_proof(port: int, reruns: int) -> int:
    print(f"# Proof page vs Playground, server-side rerun time — {machine()}")
    print(f"# command: python benchmarks/bench_rerun.py --proof --reruns {reruns}\n")
    wire = asyncio.run(pages_side_by_side(port, reruns))
    print("| page | action | p50 ms | p95 ms | max ms |")
    print("|---|---|---:|---:|---:|")
    for name, actions in wire.items():
        for action, s in actions.items():
            print(f"| {name} | {action} | {s['p50']:.1f} | {s['p95']:.1f} | {s['max']:.1f} |")
    print()
    playground, page = wire["Playground"], wire["Proof"]
    for action in playground:
        ratio = page[action]["p50"] / playground[action]["p50"]
        verdict = "meets" if ratio <= TARGET_PROOF_RATIO else "MISSES"
        print(f"{action}: Proof / Playground p50 = {ratio:.2f} — {verdict} the ≤ {TARGET_PROOF_RATIO} target")
    print("\nThe Proof page's work in process, median ms (default input):\n")
    stages = proof_by_stage()
    print("| " + " | ".join(stages) + " |")
    print("|" + "---:|" * len(stages))
    print("| " + " | ".join(f"{v:.1f}" for v in stages.values()) + " |")
    print(f"\n# load average after: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reruns", type=int, default=20, help="reruns per action and size (default 20)")
    parser.add_argument("--port", type=int, help="use a server already running on this port")
    parser.add_argument("--proof", action="store_true", help="the Proof page beside the Playground (issue 12)")
    args = parser.parse_args(argv)

    proc = None
    port = args.port
    if port is None:
        proc, port, _ = start_server()
    try:
        if args.proof:
            return compare_proof(port, args.reruns)
        print(f"# Playground server-side rerun time — {machine()}")
        print(f"# command: python benchmarks/bench_rerun.py --reruns {args.reruns}\n")
        print("| input | action | p50 ms | p95 ms | max ms |")
        print("|---|---|---:|---:|---:|")
        wire = {}
        for name, query in CASES.items():
            wire[name] = asyncio.run(over_the_wire(port, query, args.reruns))
            for action, s in wire[name].items():
                print(f"| {name} | {action} | {s['p50']:.1f} | {s['p95']:.1f} | {s['max']:.1f} |")
        print("\nIn process, median ms per stage:\n")
        print("| input | compute | figures | to_json | row table + verdicts |")
        print("|---|---:|---:|---:|---:|")
        for name, query in CASES.items():
            st = by_stage(query)
            print(f"| {name} | " + " | ".join(f"{v:.1f}" for v in st.values()) + " |")
        p50 = wire["default"]["toggle causal"]["p50"]
        verdict = "meets" if p50 < TARGET_DEFAULT_MS else "MISSES"
        print(f"\ndefault input, toggle: p50 {p50:.1f} ms — {verdict} the < {TARGET_DEFAULT_MS:.0f} ms target")
        for name in CASES:
            if name.startswith("every new mask"):
                ratios = {action: wire[name][action]["p50"] / wire["default"][action]["p50"] for action in wire[name]}
                print(f"{name}: " + ", ".join(f"{action} {r:.2f}× the default's p50" for action, r in ratios.items()))
        print(f"# load average after: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        if proc is not None:
            stop_server(proc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
