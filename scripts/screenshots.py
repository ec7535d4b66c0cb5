"""Regenerate the screenshots (docs/*.png) from the running app, in one command.

    python scripts/screenshots.py                 # every case below
    python scripts/screenshots.py --cases default leak

Starts ``streamlit run app.py`` on a free loopback port and shoots, in Debian's Chromium:

- the README's pictures: every page in app.py's ``PAGES`` at 1280×900 (``docs/<page>.png``) and
  presentation mode at 1280×720 (``docs/presentation.png``);
- the masks at 1280×720 with the sidebar open (``docs/masks/<case>.png``): left padding + causal in
  float16, three packed documents with causal, a sliding window of 3 over 12 tokens, a prefix LM, the
  seed's drawn mask and the broadcasting view;
- the Playground's picture check (``docs/sizes/<case>-<size>.png``): the default state, the float16
  preset, the constant −1 leak and a 64-token input, each at 1280×720 with the sidebar open and
  with it collapsed, 1920×1080, 800×900 and a 390×844 phone, scrolled to the stage panels.

It waits until every chart is drawn and the script is idle. Deterministic input, so an
unchanged app gives the same pictures.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from app_pages import app_pages  # noqa: E402
from common import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402

DOCS = ROOT / "docs"
PAGE_SIZE = (1280, 900)
PRESENTATION = (1280, 720)
#: the Playground cases the pictures issue asks to look at, as URL query strings
CASES = {
    "default": "",
    "float16": "dtype=float16",
    "leak": "const=-1",
    "tokens64": "tokens=" + quote(" ".join(f"w{i}" for i in range(64))),
}
#: the masks issue's cases at 1280×720 with the sidebar open (``docs/masks/<case>.png``): (page path, query,
#: the heading to scroll to)
LINES = quote("the cat sat on the mat\nhello world\nbirds sing at dawn")
MASK_CASES = {
    "left-padding-causal-float16": ("", f"tokens={LINES}&seq=2&causal=1&padside=left&dtype=float16",
                                    "The line, stage by stage"),
    "packed-three-documents-causal": ("", f"tokens={LINES}&causal=1&packed=1", "The line, stage by stage"),
    "sliding-window-3-of-12": ("", "tokens=" + quote("one two three four five six seven eight nine ten eleven "
                                                     "twelve") + "&padding=0&window=3", "The line, stage by stage"),
    "prefix-lm": ("", "tokens=" + quote("translate English to French : le chat dort") + "&padding=0&prefix=5",
                  "The line, stage by stage"),
    "drawn-seed": ("masks", "tokens=" + quote("the cat sat") + "&padding=0&drawn=001-100-010",
                   "Draw your own mask"),
    "broadcasting": ("masks", f"tokens={LINES}&causal=1", "How masks broadcast"),
}
SIZES = {"1280x720": (1280, 720), "1280x720-collapsed": (1280, 720), "1920x1080": (1920, 1080),
         "800x900": (800, 900), "390x844": (390, 844)}
DRAWN_JS = """(minimum) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
  return app && app.dataset.testScriptState === 'notRunning' && charts.length >= minimum
         && !document.querySelector('[data-stale="true"]')
         && !document.querySelector('[data-testid="stSkeleton"]')
         && charts.every(c => { const el = c.querySelector('.js-plotly-plot'); return el && el._fullData; });
}"""
#: scroll the main area so a heading (by default the stage panels') starts at the top of the window
TO_HEADING_JS = """(text) => {
  const heading = [...document.querySelectorAll('h1, h2, h3, h4')].find(h => h.innerText.startsWith(text));
  if (heading) heading.scrollIntoView({block: 'start'});
}"""
STAGES = "The line, stage by stage"


def shoot(browser, url: str, path: Path, size: tuple[int, int], *, minimum: int = 1, collapse: bool = False,
          to_heading: str = "") -> None:
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, device_scale_factor=1)
    page = context.new_page()
    page.goto(url)
    page.wait_for_function(DRAWN_JS, arg=minimum, timeout=120_000, polling=100)
    if collapse:                                     # the collapse button shows when the sidebar is hovered
        page.locator('[data-testid="stSidebar"]').hover()
        page.locator('[data-testid="stSidebarCollapseButton"] button').first.click()
    page.wait_for_timeout(1500)                      # fonts and Plotly transitions settle
    page.wait_for_function(DRAWN_JS, arg=minimum, timeout=120_000, polling=100)
    if to_heading:
        page.evaluate(TO_HEADING_JS, to_heading)
        page.wait_for_timeout(400)
    if page.locator('[data-testid="stException"]').count():
        raise RuntimeError(f"{url} shows an exception; not taking a screenshot of it")
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    context.close()
    print(f"wrote {path.relative_to(ROOT)}")


def main(argv=None) -> int:
    pages = app_pages()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", nargs="*", help="page url paths, 'presentation', Playground cases "
                                                   f"({', '.join(CASES)}), mask cases ({', '.join(MASK_CASES)}) "
                                                   "or 'masks-issue' for all of those; default: all")
    args = parser.parse_args(argv)
    wanted = set(args.cases or [p.url_path for p in pages] + ["presentation", *CASES, *MASK_CASES])
    from playwright.sync_api import sync_playwright

    proc, port, _ = start_server("app.py")
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for page in pages:
                if page.url_path in wanted:
                    path = "" if page.default else page.url_path
                    # minimum 0: a page without charts (the Classroom) is ready once idle; any chart it has is drawn
                    shoot(browser, f"{base}/{path}", DOCS / f"{page.url_path}.png", PAGE_SIZE, minimum=0)
            if "presentation" in wanted:
                shoot(browser, f"{base}/?present=1&causal=1", DOCS / "presentation.png", PRESENTATION, minimum=2)
            for case, query in CASES.items():
                if case not in wanted:
                    continue
                for name, size in SIZES.items():
                    shoot(browser, f"{base}/?{query}", DOCS / "sizes" / f"{case}-{name}.png", size, minimum=5,
                          collapse=name.endswith("collapsed"), to_heading=STAGES)
            for case, (path, query, heading) in MASK_CASES.items():
                if case in wanted or "masks-issue" in wanted:
                    shoot(browser, f"{base}/{path}?{query}", DOCS / "masks" / f"{case}.png", (1280, 720),
                          minimum=0, to_heading=heading)
            browser.close()
    finally:
        stop_server(proc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
