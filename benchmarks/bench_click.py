"""Click-to-render in Chromium: the Playground versus the naive floor, measured side by side in one run.

For each T: open the Playground (``?tokens=...``; at the default input, its own default text)
and ``naive_floor_app.py`` (``?T=...``), toggle the causal mask in the sidebar of each, and time
inside the page from the click until every chart that depends on the mask has been redrawn
with its new data (Plotly's ``_fullData``), the script has finished and no element is stale,
plus one animation frame (the paint). Clicks alternate between the two pages in blocks (ours,
floor, floor, ours) so that machine noise hits both alike. At the default input it also times
a row click: a click on a cell of the masked-logits panel until the inspector shows that row and
every stage panel outlines it.

Run:  python benchmarks/bench_click.py [--clicks 12] [--sizes 6 64 256] [--query "causal=1&qpad=1"] [--floor-term]
Targets (issue 10): ours ≤ 1.0 × the naive floor at the default input (T = 6); ≤ 1.3 × at
T = 64 and 256 against the floor at the same T; a row click ≤ 0.5 × a causal toggle.
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

SIZES = (6, 64, 256)
TARGET_DEFAULT, TARGET_LARGE, TARGET_ROW = 1.0, 1.3, 0.5
CLICK_TIMEOUT_MS = 60_000
TOGGLE_LABEL = "Causal (look-ahead) mask"
VIEWPORT = {"width": 1280, "height": 720}

#: a signature per chart: its title, the first and last rows of its first trace's z, and its rectangles
SIGNATURES = """() => Object.fromEntries([...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')]
  .map((el, i) => {
    const d = el._fullData || [], z = d.length && d[0].z ? d[0].z : null;
    const rows = z && z.length ? Array.from(z[0]).slice(0, 8).concat(Array.from(z[z.length - 1]).slice(-8)) : [];
    const rects = ((el.layout && el.layout.shapes) || []).filter(s => s.type === 'rect').map(s => s.y0);
    const title = (el.layout && el.layout.title && el.layout.title.text) || ('chart ' + i);
    return [title, d.length + ':' + JSON.stringify(rows) + ':' + JSON.stringify(rects)];
  }))"""

#: start the clock, then resolve with ms once ``expected`` charts changed and the app is idle
WAIT_JS = """async ([expected, timeout]) => {
  const signatures = %s;
  const before = window.__before;
  const t0 = window.__t0;
  const frame = () => new Promise(r => requestAnimationFrame(() => r()));
  while (performance.now() - t0 < timeout) {
    await frame();
    const app = document.querySelector('[data-testid="stApp"]');
    const now = signatures();
    const changed = Object.keys(now).filter(k => now[k] !== before[k]);
    const idle = app.dataset.testScriptState === 'notRunning' && !document.querySelector('[data-stale="true"]');
    if (idle && changed.length >= expected) { await frame(); return {ms: performance.now() - t0, changed}; }
  }
  return {error: 'timeout'};
}""" % SIGNATURES

ARM_JS = "() => { window.__before = (%s)(); window.__t0 = performance.now(); }" % SIGNATURES

CELL_CENTRE = """([prefix, row, col]) => {
  const el = [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')]
      .find(e => e.layout.title && e.layout.title.text.startsWith(prefix));
  el.scrollIntoView({block: 'center'});
  const box = el.getBoundingClientRect(), xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
  return {x: box.left + xa._offset + xa.l2p(col), y: box.top + ya._offset + ya.l2p(row)};
}"""


def open_app(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].some(e => e._fullData)",
                           timeout=240_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=240_000)
    page.wait_for_function("document.querySelectorAll('[data-stale=\"true\"]').length === 0", timeout=240_000)
    page.wait_for_timeout(500)


def toggle(page) -> None:
    page.locator(f'[data-testid="stSidebar"] label:has-text("{TOGGLE_LABEL}")').first.click()


def timed(page, action, expected: int) -> float:
    page.evaluate(ARM_JS)
    action(page)
    result = page.evaluate(WAIT_JS, [expected, CLICK_TIMEOUT_MS])
    if "error" in result:
        raise RuntimeError(f"the page did not redraw: {result}")
    return result["ms"]


def learn_expected(page, action, second=None) -> int:
    """How many charts an action changes, learned with generous waits (not timed); ``second`` undoes it."""
    changed = []
    for act in (action, second or action):
        before = page.evaluate(SIGNATURES)
        act(page)
        page.wait_for_timeout(4000)
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
        after = page.evaluate(SIGNATURES)
        changed.append(sum(before.get(k) != v for k, v in after.items()))
    return max(changed)


def measure_toggles(browser, ours_url: str, floor_url: str, clicks: int) -> dict:
    times, pages, expected = {"ours": [], "floor": []}, {}, {}
    for name, url in (("ours", ours_url), ("floor", floor_url)):
        pages[name] = browser.new_context(viewport=VIEWPORT).new_page()
        open_app(pages[name], url)
        expected[name] = learn_expected(pages[name], toggle)
    half = max(1, clicks // 2)
    for name in ("ours", "floor", "floor", "ours"):
        pages[name].bring_to_front()
        for _ in range(half):
            times[name].append(timed(pages[name], toggle, expected[name]))
            pages[name].wait_for_timeout(200)
    for page in pages.values():
        page.context.close()
    return {"times": times, "expected": expected}


def measure_row_clicks(browser, url: str, clicks: int) -> dict:
    """Row clicks alternate with causal toggles on the same page (rows 1 and 2 of the masked logits)."""
    page = browser.new_context(viewport=VIEWPORT).new_page()
    open_app(page, url)

    def click_row(row):
        def act(pg):
            point = pg.evaluate(CELL_CENTRE, ["masked logits", row, 0])
            pg.mouse.click(point["x"], point["y"])
        return act

    expected_row = learn_expected(page, click_row(2), click_row(1))      # ends on row 1
    expected_toggle = learn_expected(page, toggle)
    rows, toggles = [], []
    for i in range(clicks):
        rows.append(timed(page, click_row(2 - i % 2), expected_row))      # 2, 1, 2, 1, ...
        page.wait_for_timeout(200)
        toggles.append(timed(page, toggle, expected_toggle))
        page.wait_for_timeout(200)
    page.context.close()
    return {"row": rows, "toggle": toggles, "expected": (expected_row, expected_toggle)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clicks", type=int, default=12, help="timed clicks per page and size (default 12)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES),
                        help="T values; 6 is the Playground's default input")
    parser.add_argument("--query", default="", help="extra Playground URL parameters, e.g. 'qpad=1&dtype=float16'")
    parser.add_argument("--floor-term", action="store_true",
                        help="give the floor the Playground's fifth panel, the mask term (?term=1): as many "
                             "panels change per toggle on both pages")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    ours, ours_port, _ = start_server("app.py")
    floor, floor_port, _ = start_server("benchmarks/naive_floor_app.py")
    rows, misses, row_click = [], [], None
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for T in args.sizes:
                text = "" if T == 6 else f"tokens={quote(tokens_text(T))}"
                query = "&".join(q for q in (text, args.query) if q)
                ours_url = f"http://127.0.0.1:{ours_port}/" + (f"?{query}" if query else "")
                floor_url = f"http://127.0.0.1:{floor_port}/?T={T}" + ("&term=1" if args.floor_term else "")
                r = measure_toggles(browser, ours_url, floor_url, args.clicks)
                o, f = statistics.median(r["times"]["ours"]), statistics.median(r["times"]["floor"])
                target = TARGET_DEFAULT if T == 6 else TARGET_LARGE
                rows.append((T, o, f, o / f, target, len(r["times"]["ours"]), r["expected"]))
                if o / f > target:
                    misses.append(f"T={T}: ours / floor {o / f:.2f} > {target}")
                if T == 6:
                    row_click = measure_row_clicks(browser, ours_url, args.clicks)
            browser.close()
    finally:
        stop_server(ours)
        stop_server(floor)

    print(f"# Click-to-render at 1280×720 (toggle causal → every changed chart redrawn) — {machine()}")
    print(f"# command: python benchmarks/bench_click.py --clicks {args.clicks} --sizes "
          + " ".join(map(str, args.sizes)) + (f" --query '{args.query}'" if args.query else "")
          + (" --floor-term" if args.floor_term else "") + "\n")
    print("| T | ours median ms | naive floor median ms | ours / floor | target | clicks each | charts redrawn (ours, floor) |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for T, o, f, ratio, target, n, expected in rows:
        print(f"| {T} | {o:.0f} | {f:.0f} | {ratio:.2f} | ≤ {target} | {n} | {expected['ours']}, {expected['floor']} |")
    if row_click:
        r, t = statistics.median(row_click["row"]), statistics.median(row_click["toggle"])
        print(f"\nRow click (inspector) at the default input: median {r:.0f} ms vs causal toggle {t:.0f} ms on the "
              f"same page = {r / t:.2f} (target ≤ {TARGET_ROW}); charts redrawn {row_click['expected'][0]} vs "
              f"{row_click['expected'][1]}, {len(row_click['row'])} clicks each")
        if r / t > TARGET_ROW:
            misses.append(f"row click / toggle {r / t:.2f} > {TARGET_ROW}")
    print("\nall targets met" if not misses else "\nmissed: " + "; ".join(misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
