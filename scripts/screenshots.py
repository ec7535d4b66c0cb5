"""Regenerate the README's screenshots (docs/*.png) from the running app, in one command.

    python scripts/screenshots.py            # all pages in app.py's PAGES + presentation mode
    python scripts/screenshots.py --pages playground lab

Starts ``streamlit run app.py`` on a free loopback port, opens every page listed in
``PAGES`` in Debian's Chromium at 1280 px wide, waits until every chart is drawn and the
script is idle, and writes ``docs/<url_path>.png`` (the first 1280×900 of the page) plus
``docs/presentation.png`` (the Playground in presentation mode, causal mask on, at 1280×720,
the projector's size). Deterministic input (the app's defaults), so an unchanged app gives
the same pictures.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from app_pages import app_pages  # noqa: E402
from common import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402

DOCS = ROOT / "docs"
WIDTH, HEIGHT = 1280, 900
PRESENTATION = (1280, 720)
DRAWN_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
  return app && app.dataset.testScriptState === 'notRunning'
         && !document.querySelector('[data-stale="true"]')
         && !document.querySelector('[data-testid="stSkeleton"]')
         && document.querySelector('[data-testid="stMain"] h1')
         && charts.every(c => { const el = c.querySelector('.js-plotly-plot'); return el && el._fullData; });
}"""


def shoot(browser, url: str, path: Path, size: tuple[int, int]) -> None:
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, device_scale_factor=1)
    page = context.new_page()
    page.goto(url)
    page.wait_for_function(DRAWN_JS, timeout=120_000, polling=100)
    page.wait_for_timeout(1500)                      # fonts, KaTeX and Plotly transitions settle
    page.wait_for_function(DRAWN_JS, timeout=120_000, polling=100)
    if page.locator('[data-testid="stException"]').count():
        raise RuntimeError(f"{url} shows an exception; not taking a screenshot of it")
    page.screenshot(path=str(path))
    context.close()
    print(f"wrote {path.relative_to(ROOT)}")


def main(argv=None) -> int:
    pages = app_pages()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", nargs="*", help="url paths to shoot (default: all, plus presentation)")
    args = parser.parse_args(argv)
    wanted = set(args.pages or [p.url_path for p in pages] + ["presentation"])
    from playwright.sync_api import sync_playwright

    DOCS.mkdir(exist_ok=True)
    proc, port, _ = start_server("app.py")
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for page in pages:
                if page.url_path in wanted:
                    path = "" if page.default else page.url_path
                    shoot(browser, f"{base}/{path}", DOCS / f"{page.url_path}.png", (WIDTH, HEIGHT))
            if "presentation" in wanted:
                shoot(browser, f"{base}/?present=1&causal=1", DOCS / "presentation.png", PRESENTATION)
            browser.close()
    finally:
        stop_server(proc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
