"""Server-side rerun time of the Playground at the default input, T = 64 and T = 256 tokens.

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

Run:  python benchmarks/bench_rerun.py [--reruns 20] [--port N]
Target (issue 2): under 50 ms at the default input.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import machine, start_server, stop_server, summary, tokens_text  # noqa: E402
from stclient import StreamlitSession  # noqa: E402

SIZES = {"default": None, "T=64": 64, "T=256": 256}
TARGET_DEFAULT_MS = 50.0


async def over_the_wire(port: int, T: int | None, reruns: int) -> dict[str, dict]:
    query = {} if T is None else {"tokens": tokens_text(T)}
    session = StreamlitSession(port, query)
    first = await session.connect()
    if first.exceptions:
        raise RuntimeError(f"the page raised: {first.exceptions}")
    causal, seed = session.find("Causal"), session.find("Seed")
    toggles, seeds = [], []
    for i in range(reruns):
        session.set_bool(causal, i % 2 == 0)
        toggles.append((await session.rerun()).seconds * 1000)
    for i in range(reruns):
        session.states[seed.id].double_value = float(1000 + i)      # a new seed: compute cache miss
        seeds.append((await session.rerun()).seconds * 1000)
    await session.close()
    return {"toggle causal": summary(toggles), "new seed (uncached)": summary(seeds)}


def _timed(fn, repeat: int) -> tuple[object, float]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return result, summary(times)["p50"]


def by_stage(T: int | None, repeat: int = 7) -> dict[str, float]:
    """Median ms per stage, in this process (no Streamlit)."""
    import pandas as pd
    import plotly.io as pio

    from maskattn import figures
    from maskattn.explain import row_table, verdicts
    from maskattn.pipeline import compute
    from maskattn.state import Inputs

    settings = Inputs() if T is None else Inputs(text=tokens_text(T))
    result, t_compute = _timed(lambda: compute(settings), repeat)

    figs, t_figures = _timed(lambda: list(figures.playground_figures(result).values()), repeat)
    _, t_json = _timed(lambda: [pio.to_json(f, validate=False) for f in figs], repeat)
    _, t_table = _timed(lambda: (pd.DataFrame(row_table(result)), verdicts(result)), repeat)
    return {"compute": t_compute, "figures": t_figures, "to_json": t_json, "row table + verdicts": t_table}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reruns", type=int, default=20, help="reruns per action and size (default 20)")
    parser.add_argument("--port", type=int, help="use a server already running on this port")
    args = parser.parse_args(argv)

    proc = None
    port = args.port
    if port is None:
        proc, port, _ = start_server()
    try:
        print(f"# Playground server-side rerun time — {machine()}")
        print(f"# command: python benchmarks/bench_rerun.py --reruns {args.reruns}\n")
        print("| input | action | p50 ms | p95 ms | max ms |")
        print("|---|---|---:|---:|---:|")
        wire = {}
        for name, T in SIZES.items():
            wire[name] = asyncio.run(over_the_wire(port, T, args.reruns))
            for action, s in wire[name].items():
                print(f"| {name} | {action} | {s['p50']:.1f} | {s['p95']:.1f} | {s['max']:.1f} |")
        print("\nIn process, median ms per stage:\n")
        print("| input | compute | figures | to_json | row table + verdicts |")
        print("|---|---:|---:|---:|---:|")
        for name, T in SIZES.items():
            st = by_stage(T)
            print(f"| {name} | " + " | ".join(f"{v:.1f}" for v in st.values()) + " |")
        p50 = wire["default"]["toggle causal"]["p50"]
        verdict = "meets" if p50 < TARGET_DEFAULT_MS else "MISSES"
        print(f"\ndefault input, toggle: p50 {p50:.1f} ms — {verdict} the < {TARGET_DEFAULT_MS:.0f} ms target")
    finally:
        if proc is not None:
            stop_server(proc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
