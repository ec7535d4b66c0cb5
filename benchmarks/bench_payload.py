"""Websocket bytes per rerun at T = 256, per displayed heatmap cell; unchanged figures not resent.

A real server on loopback, driven through Streamlit's protocol (stclient.py), which keeps
a forward-message cache the way the browser does (it reports cached hashes, so the
server replaces a chart it already sent by a reference). Measured: the bytes of the
first load and of each causal toggle, the displayed heatmap cells (one per cell of each
heatmap chart, overlays not counted twice), how many charts came in full and how many as
a reference.

Run:  python benchmarks/bench_payload.py [--tokens 256] [--reruns 6]
Target: ≤ 8 bytes per displayed heatmap cell per rerun; unchanged figures sent as references.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine, start_server, stop_server, tokens_text  # noqa: E402
from stclient import StreamlitSession  # noqa: E402

TARGET_BYTES_PER_CELL = 8.0


def heatmap_cells(chart: dict) -> int:
    """Cells of the first heatmap trace (the values; overlays cover the same cells)."""
    for trace in chart.get("data", []):
        if trace.get("type") == "heatmap":
            z = trace["z"]
            if isinstance(z, dict):                     # a base64 typed array
                shape = z.get("shape", "")
                dims = [int(s) for s in str(shape).replace(" ", "").split(",") if s]
                n = 1
                for d in dims:
                    n *= d
                return n
            return sum(len(row) for row in z)
    return 0


async def measure(port: int, T: int, reruns: int) -> dict:
    session = StreamlitSession(port, {"tokens": tokens_text(T)})
    first = await session.connect()
    cells = {c["layout"]["title"]["text"]: heatmap_cells(c) for c in first.charts}
    causal = session.find("Causal")
    runs = []
    for i in range(reruns):
        session.set_bool(causal, i % 2 == 0)
        runs.append(await session.rerun())
    await session.close()
    displayed = sum(cells.values())
    steady = runs[2:] or runs          # after two toggles both states are in the cache
    return {"first_bytes": first.bytes, "cells": cells, "displayed": displayed,
            "rerun_bytes": statistics.median(r.bytes for r in steady),
            "first_toggle_bytes": runs[0].bytes,
            "full": statistics.median(len(r.charts) for r in steady),
            "refs": statistics.median(r.chart_refs for r in steady),
            "full_first_toggle": len(runs[0].charts), "refs_first_toggle": runs[0].chart_refs}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--reruns", type=int, default=6)
    args = parser.parse_args(argv)
    proc, port, _ = start_server()
    try:
        m = asyncio.run(measure(port, args.tokens, args.reruns))
    finally:
        stop_server(proc)
    per_cell_first = m["first_toggle_bytes"] / m["displayed"]
    per_cell = m["rerun_bytes"] / m["displayed"]
    print(f"# Payload per rerun at T = {args.tokens} — {machine()}")
    print(f"# command: python benchmarks/bench_payload.py --tokens {args.tokens} --reruns {args.reruns}\n")
    print("| what | bytes | displayed heatmap cells | bytes / cell | charts in full | charts as reference |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| first load | {m['first_bytes']:,} | {m['displayed']:,} | {m['first_bytes'] / m['displayed']:.2f} | — | — |")
    print(f"| first causal toggle (new state) | {m['first_toggle_bytes']:,} | {m['displayed']:,} | "
          f"{per_cell_first:.2f} | {m['full_first_toggle']} | {m['refs_first_toggle']} |")
    print(f"| later toggles (median) | {int(m['rerun_bytes']):,} | {m['displayed']:,} | {per_cell:.2f} | "
          f"{m['full']:.0f} | {m['refs']:.0f} |")
    print("\ncells per chart: " + ", ".join(f"{k}: {v:,}" for k, v in m["cells"].items()))
    worst = max(per_cell_first, per_cell)
    print(f"\n{'meets' if worst <= TARGET_BYTES_PER_CELL else 'MISSES'} the ≤ {TARGET_BYTES_PER_CELL:.0f} bytes/cell target "
          f"(worst {worst:.2f}); unchanged charts sent as references: {'yes' if m['refs_first_toggle'] >= 1 else 'NO'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
