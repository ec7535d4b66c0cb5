"""Every page that app.py lists in ``PAGES``, in Chromium: load, drive the sidebar, check the figures.

For each page: open its URL, check every Plotly chart (a title, axis titles, a heatmap's cell
count equal to its label counts), then drive the shared controls — the sidebar's mask toggles
and the dtype selectbox — checking after each that the page finished without an exception and
that the causal mask zeroed the weights above the diagonal (NUMERICS.md: exactly 0 in float32
with −1e9). No console error at any point; a screenshot per page lands in the artifacts folder.
A page added to ``PAGES`` is covered without touching this file.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from conftest import wait_idle

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from app_pages import app_pages  # noqa: E402

PAGES = app_pages()
SIDEBAR_TOGGLES = ("Padding mask", "…also mask padded queries", "Causal (look-ahead) mask")

#: every drawn chart: title, axis titles, and per heatmap trace its z shape and label counts
CHARTS_JS = """
() => [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')].map(el => {
  const L = el._fullLayout || {};
  const axisTitle = a => (L[a] && L[a].title && L[a].title.text) || '';
  return {
    title: (el.layout && el.layout.title && el.layout.title.text) || '',
    x_title: axisTitle('xaxis'), y_title: axisTitle('yaxis'),
    heatmaps: (el._fullData || []).filter(t => t.type === 'heatmap').map(t => ({
      rows: t.z.length, cols: t.z.length ? t.z[0].length : 0,
      nx: t.x ? t.x.length : -1, ny: t.y ? t.y.length : -1,
      first_row: Array.from(t.z[0] || []), name: t.name})),
  };
})
"""


def wait_drawn(page) -> None:
    """Idle, and every chart on the page drawn by Plotly."""
    wait_idle(page)
    page.wait_for_timeout(500)
    page.wait_for_function("""() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
        .every(c => { const el = c.querySelector('.js-plotly-plot'); return el && el._fullData; })""",
                           timeout=60_000)
    wait_idle(page)


def check_page(page) -> list[dict]:
    assert page.locator('[data-testid="stException"]').count() == 0, \
        page.locator('[data-testid="stException"]').first.inner_text()
    charts = page.evaluate(CHARTS_JS)
    for chart in charts:
        assert chart["title"].strip(), f"a chart without a title: {chart}"
        assert chart["x_title"].strip() and chart["y_title"].strip(), f"axis titles missing: {chart['title']}"
        for hm in chart["heatmaps"]:
            assert hm["rows"] > 0 and hm["cols"] > 0, chart["title"]
            assert hm["nx"] in (-1, hm["cols"]) and hm["ny"] in (-1, hm["rows"]), \
                f"{chart['title']}: {hm['rows']}x{hm['cols']} cells but {hm['ny']} row / {hm['nx']} column labels"
    return charts


def click_toggle(page, label: str) -> None:
    page.locator(f'[data-testid="stSidebar"] [data-testid="stCheckbox"]:has-text("{label}") label').first.click()
    page.wait_for_timeout(200)
    wait_drawn(page)


def choose(page, label: str, option: str) -> None:
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text=label).first
    # scrolled first: when the click itself scrolls the sidebar, the dropdown closes again at once
    box.scroll_into_view_if_needed()
    box.locator('input[role="combobox"]').click()
    page.locator('[role="option"]').filter(has_text=option).first.click()
    page.wait_for_timeout(200)
    wait_drawn(page)


@pytest.mark.parametrize("app_page", PAGES, ids=[p.url_path for p in PAGES])
def test_every_page_loads_and_follows_the_sidebar(page, app_url, artifacts, app_page):
    url = app_url + "/" + ("" if app_page.default else app_page.url_path)
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.goto(url)
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=60_000)
    wait_drawn(page)
    before = check_page(page)
    page.screenshot(path=str(artifacts / f"every-page-{app_page.url_path}.png"), full_page=True)
    # every chart carries its accessible name (built by maskattn.alt from its numbers), none shared
    names = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                                   .map(el => el.getAttribute('aria-label'))""")
    assert all(names) and len(names) == len(set(names)), names

    for label in SIDEBAR_TOGGLES:
        click_toggle(page, label)
        check_page(page)
    assert "causal=1" in page.url and "padding=0" in page.url and "qpad=1" in page.url, page.url
    after = check_page(page)
    # weights heatmaps now follow the causal mask: the first query sees only itself
    for chart in after:
        if chart["title"] == "softmax weights":
            row = chart["heatmaps"][0]["first_row"]
            assert row[0] == 1.0 and all(w == 0.0 for w in row[1:]), row
    assert len(after) >= len(before) > 0 or not before, "charts disappeared after the toggles"

    choose(page, "Number type", "float16")
    assert "dtype=float16" in page.url
    check_page(page)
    page.screenshot(path=str(artifacts / f"every-page-{app_page.url_path}-causal-float16.png"), full_page=True)
    # opened at /<page>, Streamlit's frontend first probes /<page>/_stcore/{host-config,health}
    # for a base path (404) and then uses /_stcore: framework behaviour, not an app error
    probes = [u for u in missing if re.search(r"/[^/]+/_stcore/(host-config|health)$", u)]
    assert missing == probes, f"missing resources: {missing}"
    errors = [e for e in page.console_errors if not (probes and "status of 404" in e)]
    assert not errors, errors
