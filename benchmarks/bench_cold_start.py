"""Cold start: server process start → first full render in Chromium, ours versus the floor page.

Each trial starts a fresh ``streamlit run`` (a new process: imports, first script run) and
a fresh browser context (no cache), and times: the server answering ``/_stcore/health``,
and the page with every chart drawn by Plotly and the script idle. Trials alternate
between the app (its default page, the 3-sentence example: 6×6 heatmaps) and
``floor_app.py`` at T = 6 (the same figure sizes).

Run:  python benchmarks/bench_cold_start.py [--trials 3]
Target: ours ≤ 1.3 × the floor's cold start.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CHROMIUM, CHROMIUM_ARGS, machine, start_server, stop_server  # noqa: E402

TARGET_RATIO = 1.3
FLOOR_T = 6
DRAWN_JS = """() => {
  const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
  const app = document.querySelector('[data-testid="stApp"]');
  return charts.length > 0 && charts.every(c => { const el = c.querySelector('.js-plotly-plot');
                                                  return el && el._fullData && el._fullData.length; })
         && app && app.dataset.testScriptState === 'notRunning';
}"""


def trial(browser, script: str, path: str) -> tuple[float, float]:
    t0 = time.perf_counter()
    proc, port, healthy = start_server(script)
    try:
        context = browser.new_context(viewport={"width": 1600, "height": 1200})
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}/{path}")
        page.wait_for_function(DRAWN_JS, timeout=240_000, polling=50)
        total = time.perf_counter() - t0
        context.close()
    finally:
        stop_server(proc)
    return healthy, total


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    results = {"ours": [], "floor": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for i in range(args.trials):
            order = (("ours", "app.py", ""), ("floor", "benchmarks/floor_app.py", f"?T={FLOOR_T}"))
            for name, script, path in (order if i % 2 == 0 else order[::-1]):
                results[name].append(trial(browser, script, path))
        browser.close()
    print(f"# Cold start (process start → all charts drawn) — {machine()}")
    print(f"# command: python benchmarks/bench_cold_start.py --trials {args.trials}\n")
    print("| app | healthy after (median s) | first full render (median s) | trials |")
    print("|---|---:|---:|---:|")
    med = {}
    for name, runs in results.items():
        med[name] = statistics.median(t for _, t in runs)
        print(f"| {name} | {statistics.median(h for h, _ in runs):.2f} | {med[name]:.2f} | {len(runs)} |")
    ratio = med["ours"] / med["floor"]
    print(f"\nours / floor = {ratio:.2f} — {'meets' if ratio <= TARGET_RATIO else 'MISSES'} the ≤ {TARGET_RATIO} target")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
