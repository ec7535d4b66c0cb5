"""Click-to-render in Chromium: the Playground versus the framework floor, in the same run.

For T = 8, 64 and 256 tokens: toggle the causal mask in the sidebar and time, inside
the page, from the click to the moment every chart that depends on the mask has been
redrawn with its new data (Plotly's ``_fullData``), the script has finished and no
element is stale, plus one animation frame (the paint). The same clicks on
``floor_app.py`` — a bare Streamlit page drawing the same figures from precomputed
values — give the floor. Clicks alternate between the two apps in blocks so that
machine noise hits both alike. Also checks that an input beyond the token cap shows
the cap notice.

Run:  python benchmarks/bench_click.py [--clicks 12] [--sizes 8 64 256]
Targets: ours / floor ≤ 1.3 at every size; medians ≤ 150 ms at T = 8, ≤ 600 ms at T = 256,
and ≤ 2 s at the cap.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import CHROMIUM, CHROMIUM_ARGS, machine, start_server, stop_server, tokens_text  # noqa: E402

SIZES = (8, 64, 256)
TARGET_RATIO = 1.3
TARGET_MS = {8: 150.0, 256: 600.0}
CAP_TARGET_MS = 2000.0
CLICK_TIMEOUT_MS = 30_000
TOGGLE_LABEL = "Causal (look-ahead) mask"

#: runs in the page: click the toggle, resolve with ms until the charts that changed are redrawn
CLICK_JS = """
async ([label, expected, timeout]) => {
  const charts = () => [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')];
  const key = el => (el.layout && el.layout.title && el.layout.title.text) || '';
  const sig = el => {
    const d = el._fullData || [];
    const z = d.length && d[0].z ? d[0].z : null;
    const first = z && z.length ? Array.from(z[0]).slice(0, 8).concat(Array.from(z[z.length - 1]).slice(-8)) : [];
    return d.length + ':' + JSON.stringify(first);
  };
  const snapshot = () => Object.fromEntries(charts().map(el => [key(el), sig(el)]));
  const before = snapshot();
  const toggle = [...document.querySelectorAll('[data-testid="stSidebar"] [data-testid="stCheckbox"] label')]
                 .find(l => l.textContent.includes(label));
  if (!toggle) return {error: 'no toggle labelled ' + label};
  const frame = () => new Promise(r => requestAnimationFrame(() => r()));
  const t0 = performance.now();
  (toggle.querySelector('input') || toggle).click();
  while (performance.now() - t0 < timeout) {
    await frame();
    const app = document.querySelector('[data-testid="stApp"]');
    const now = snapshot();
    const changed = Object.keys(now).filter(k => now[k] !== before[k]);
    const idle = app.dataset.testScriptState === 'notRunning'
                 && !document.querySelector('[data-stale="true"]');
    if (idle && changed.length >= expected) {
      await frame();                       // the frame that paints it
      return {ms: performance.now() - t0, changed: changed, charts: Object.keys(now).length};
    }
  }
  return {error: 'timeout', changed: []};
}
"""


def open_app(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .js-plotly-plot', timeout=240_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=240_000)
    page.wait_for_function("document.querySelectorAll('[data-stale=\"true\"]').length === 0", timeout=240_000)
    page.wait_for_timeout(300)


def click(page, expected: int) -> dict:
    result = page.evaluate(CLICK_JS, [TOGGLE_LABEL, expected, CLICK_TIMEOUT_MS])
    if "error" in result:
        raise RuntimeError(f"click failed: {result}")
    return result


SNAPSHOT_JS = """
() => Object.fromEntries([...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')].map(el => {
  const d = el._fullData || [];
  const z = d.length && d[0].z ? d[0].z : null;
  return [(el.layout && el.layout.title && el.layout.title.text) || '',
          d.length + ':' + JSON.stringify(z && z.length ? Array.from(z[0]).slice(0, 8) : [])];
}))
"""
SETTLE_MS = 4000


def learn_expected(page) -> int:
    """How many charts change on a toggle, learned with generous waits (two toggles, not timed)."""
    changed = []
    for _ in range(2):
        before = page.evaluate(SNAPSHOT_JS)
        page.evaluate(CLICK_JS, [TOGGLE_LABEL, 0, CLICK_TIMEOUT_MS])
        page.wait_for_timeout(SETTLE_MS)
        after = page.evaluate(SNAPSHOT_JS)
        changed.append(sum(before.get(k) != v for k, v in after.items()))
    return max(changed)


def measure(browser, ours_url: str, floor_url: str, clicks: int) -> dict[str, list[float]]:
    """Alternate blocks of clicks: ours, floor, floor, ours (so drift hits both alike)."""
    times = {"ours": [], "floor": []}
    pages = {}
    for name, url in (("ours", ours_url), ("floor", floor_url)):
        context = browser.new_context(viewport={"width": 1600, "height": 1200})
        pages[name] = context.new_page()
        open_app(pages[name], url)
    expected = {name: learn_expected(pg) for name, pg in pages.items()}
    half = max(1, clicks // 2)
    for name in ("ours", "floor", "floor", "ours"):
        pg = pages[name]
        pg.bring_to_front()
        for _ in range(half):
            times[name].append(click(pg, expected[name])["ms"])
            pg.wait_for_timeout(150)
    for pg in pages.values():
        pg.context.close()
    times["expected"] = expected
    return times


def cap_notice_shown(browser, ours_port: int) -> bool:
    """Beyond the token cap the page shows the notice that names the cap."""
    from maskattn.tokens import MAX_TOKENS_PER_SEQUENCE
    context = browser.new_context(viewport={"width": 1600, "height": 1200})
    page = context.new_page()
    open_app(page, f"http://127.0.0.1:{ours_port}/?tokens={quote(tokens_text(MAX_TOKENS_PER_SEQUENCE + 44))}")
    notice = page.locator('[data-testid="stAlert"]').filter(has_text=str(MAX_TOKENS_PER_SEQUENCE))
    shown = notice.count() > 0
    context.close()
    return shown


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clicks", type=int, default=12, help="timed clicks per app and size (default 12)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    ours, ours_port, _ = start_server("app.py")
    floor, floor_port, _ = start_server("benchmarks/floor_app.py")
    rows, misses = [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for T in args.sizes:
                ours_url = f"http://127.0.0.1:{ours_port}/?tokens={quote(tokens_text(T))}"
                floor_url = f"http://127.0.0.1:{floor_port}/?T={T}"
                t = measure(browser, ours_url, floor_url, args.clicks)
                o, f = statistics.median(t["ours"]), statistics.median(t["floor"])
                rows.append((T, o, f, o / f, len(t["ours"]), t["expected"]))
                if o / f > TARGET_RATIO:
                    misses.append(f"T={T}: ratio {o / f:.2f} > {TARGET_RATIO}")
                if T in TARGET_MS and o > TARGET_MS[T]:
                    misses.append(f"T={T}: median {o:.0f} ms > {TARGET_MS[T]:.0f} ms")
                if o > CAP_TARGET_MS:
                    misses.append(f"T={T}: median {o:.0f} ms > {CAP_TARGET_MS:.0f} ms")
            shown = cap_notice_shown(browser, ours_port)
            browser.close()
    finally:
        stop_server(ours)
        stop_server(floor)

    print(f"# Click-to-render (toggle causal → all changed charts redrawn) — {machine()}")
    print(f"# command: python benchmarks/bench_click.py --clicks {args.clicks} --sizes "
          + " ".join(map(str, args.sizes)) + "\n")
    print("| T | ours median ms | floor median ms | ours / floor | clicks each | charts redrawn (ours, floor) |")
    print("|---:|---:|---:|---:|---:|---|")
    for T, o, f, ratio, n, expected in rows:
        print(f"| {T} | {o:.0f} | {f:.0f} | {ratio:.2f} | {n} | {expected['ours']}, {expected['floor']} |")
    print(f"\nbeyond the cap ({'notice shown' if shown else 'NO NOTICE'}) ")
    if not shown:
        misses.append("no cap notice beyond the token cap")
    print("all targets met" if not misses else "missed: " + "; ".join(misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
