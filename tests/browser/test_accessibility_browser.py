"""axe-core (WCAG 2.0/2.1 A and AA, and axe's best practices) finds nothing on any page, in the states a class shows;
every chart has its own accessible name."""

import sys
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from conftest import TIMEOUT_MS, wait_idle

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from app_pages import app_pages  # noqa: E402

RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}}
SIXTY_FOUR = "%20".join(f"w{i}" for i in range(64))
#: the states a class shows, beyond every page's default
STATES = {"presentation": "?present=1&causal=1", "proof presentation": "proof?present=1",
          "a preset": "?preset=wrong-polarity&tokens=1%201%201%200%200&pad=1", "64 tokens": f"?tokens={SIXTY_FOUR}",
          "float16 conventions": "conventions?dtype=float16&causal=1&window=2"}
CASES = {page.title: page.url_path for page in app_pages()} | STATES


@pytest.fixture(scope="module")
def axe():
    return Axe()


@pytest.mark.parametrize("case", list(CASES))
def test_axe_finds_nothing_and_every_chart_is_named(case, axe, browser, app_url):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        page.goto(f"{app_url}/{CASES[case]}")
        page.wait_for_selector('[data-testid="stMain"] h1, [data-testid="stMain"] h2', timeout=TIMEOUT_MS)
        wait_idle(page)
        page.wait_for_timeout(1500)                       # the last charts finish drawing
        violations = axe.run(page, options=RULES).response["violations"]
        assert not violations, [(v["id"], len(v["nodes"]), v["nodes"][0]["target"]) for v in violations]
        names = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                                       .map(el => el.getAttribute('aria-label'))""")
        assert all(names) and len(names) == len(set(names)), names
    finally:
        context.close()
