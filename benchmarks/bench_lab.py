"""Server-side rerun time of the Constant lab page for a 64-key row (target: under 200 ms).

Two views:

1. **Over the wire**: a real ``streamlit run app.py`` on loopback, driven through Streamlit's
   websocket protocol (``stclient.py``) on the ``lab`` page, with 64 tokens (48 words + 16
   ``<pad>``, padding mask on, so the row has 16 masked keys). Time from ``rerun_script`` to
   ``script_finished``. Actions: toggling the zoom (the sweep and the fully-masked table come
   from the page's cache: what moving through the page costs) and a new seed in the sidebar
   (new logits: the sweep is recomputed, the worst case).
2. **In process, by stage**: the page's own calls timed one by one — the sweep (60 constants
   × 4 dtypes, each distinct rounded constant a full ``attention_steps``), the current point,
   the facts, the 7 methods, the 28-cell fully-masked table, the figures and their JSON.

Run:  python benchmarks/bench_lab.py [--reruns 15] [--port N]
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

T_WORDS, T_PADS = 48, 16
TARGET_MS = 200.0


def lab_text() -> str:
    return tokens_text(T_WORDS) + " <pad>" * T_PADS


async def over_the_wire(port: int, reruns: int) -> dict[str, dict]:
    # a first session on the entrypoint: until app.py has called st.navigation once, a fresh
    # server treats pages/ as legacy multipage mode and would run the lab page without app.py
    warm = StreamlitSession(port, {})
    await warm.connect()
    await warm.close()

    session = StreamlitSession(port, {"tokens": lab_text()}, page="lab")
    first = await session.connect()
    if first.exceptions or not any("Weight left on masked keys" in str(c.get("layout", {}).get("title"))
                                   for c in first.charts):
        raise RuntimeError(f"the lab page did not render its sweep: {first.exceptions or first.alerts}")
    zoom, seed = session.find("Zoom in"), session.find("Seed")
    toggles, seeds = [], []
    for i in range(reruns):
        session.set_bool(zoom, i % 2 == 0)
        toggles.append((await session.rerun()).seconds * 1000)
    for i in range(reruns):
        session.states[seed.id].double_value = float(2000 + i)      # new logits: sweep cache miss
        seeds.append((await session.rerun()).seconds * 1000)
    await session.close()
    return {"toggle zoom (sweep cached)": summary(toggles), "new seed (sweep recomputed)": summary(seeds)}


def _timed(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return result, summary(times)["p50"]


def by_stage(repeat: int = 5) -> dict[str, float]:
    """Median ms per stage of the lab page, in this process (no Streamlit)."""
    import numpy as np
    import plotly.io as pio

    from maskattn import DTYPE_NAMES, figures, lab
    from maskattn.pipeline import compute
    from maskattn.state import Inputs

    result = compute(Inputs(text=lab_text()))
    logits, mask = result.steps.logits[0].astype(float), result.mask[0]    # (64,), 16 masked
    assert logits.size == T_WORDS + T_PADS and int(mask.sum()) == T_PADS
    c = -1e9
    sweep, t_sweep = _timed(lambda: lab.sweep_constants(logits, mask), repeat)
    current, t_current = _timed(lambda: lab.sweep_constants(logits, mask, constants=[c]), repeat)
    _, t_facts = _timed(lambda: (lab.constant_facts(c, logits), lab.lab_summary(sweep, current, logits, mask)),
                        repeat)
    outcomes, t_methods = _timed(lambda: lab.compare_methods(logits, mask, mask_value=c), repeat)
    _, t_full = _timed(lambda: lab.fully_masked_table(logits, mask_value=c), repeat)

    def build():
        return [figures.leaked_mass_figure(
                    lab.constant_grid(), {d: sweep.at(d).leaked for d in DTYPE_NAMES}, current=c,
                    current_leaked={d: current.at(d).leaked[0] for d in DTYPE_NAMES},
                    underflow={d: lab.underflow_constant(logits, mask, d) for d in DTYPE_NAMES},
                    overflow={d: lab.overflow_constant(d) for d in DTYPE_NAMES}, title="sweep"),
                figures.heatmap(np.stack([o.weights for o in outcomes]), result.labels,
                                [o.label for o in outcomes], title="weights per method", kind="weights",
                                zrange=(0.0, 1.0))]

    figs, t_figures = _timed(build, repeat)
    _, t_json = _timed(lambda: [pio.to_json(f, validate=False) for f in figs], repeat)
    return {"sweep (cached on the page)": t_sweep, "fully masked (cached)": t_full, "current point": t_current,
            "facts + sentences": t_facts, "7 methods": t_methods, "figures": t_figures, "to_json": t_json}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reruns", type=int, default=15, help="reruns per action (default 15)")
    parser.add_argument("--port", type=int, help="use a server already running on this port")
    args = parser.parse_args(argv)

    proc, port = None, args.port
    if port is None:
        proc, port, _ = start_server()
    try:
        print(f"# Constant lab server-side rerun time, 64-key row — {machine()}")
        print(f"# command: python benchmarks/bench_lab.py --reruns {args.reruns}\n")
        wire = asyncio.run(over_the_wire(port, args.reruns))
        print("| action | p50 ms | p95 ms | max ms |")
        print("|---|---:|---:|---:|")
        for action, s in wire.items():
            print(f"| {action} | {s['p50']:.1f} | {s['p95']:.1f} | {s['max']:.1f} |")
        stages = by_stage()
        print("\nIn process, median ms per stage:\n")
        print("| " + " | ".join(stages) + " |")
        print("|" + "---:|" * len(stages))
        print("| " + " | ".join(f"{v:.1f}" for v in stages.values()) + " |")
        cached = sum(v for k, v in stages.items() if "cached" not in k)
        print(f"\nin process: {sum(stages.values()):.1f} ms with an empty cache, {cached:.1f} ms with the sweep cached")
        for action, s in wire.items():
            verdict = "meets" if s["p50"] < TARGET_MS else "MISSES"
            print(f"{action}: p50 {s['p50']:.1f} ms — {verdict} the < {TARGET_MS:.0f} ms target")
    finally:
        if proc is not None:
            stop_server(proc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
