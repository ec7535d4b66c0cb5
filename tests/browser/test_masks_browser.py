"""The Masks page in a real browser: click cells of the drawn mask, and see how masks broadcast."""

import re
from urllib.parse import parse_qs, urlsplit

from conftest import TIMEOUT_MS, wait_idle

DRAW_TITLE = "your mask (1 = blocked): click a cell to toggle it"

CELL_CENTRE = """([title, row, col]) => {
    const el = [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')]
        .find(e => e.layout.title && e.layout.title.text === title);
    el.scrollIntoView({block: 'center'});
    const box = el.getBoundingClientRect(), xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
    return {x: box.left + xa._offset + xa.l2p(col), y: box.top + ya._offset + ya.l2p(row)};
}"""

#: the drawn mask's cells as the browser drew them (z of its heatmap), once the page is idle
CELLS = """(title) => {
    const el = [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')]
        .find(e => e.layout.title && e.layout.title.text === title && e._fullData);
    return el ? Array.from(el._fullData[0].z, row => Array.from(row)) : null;
}"""


def open_page(page, url: str) -> list[str]:
    """Go to ``url``; return the list that collects the URLs that answer 404."""
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.goto(url)
    return missing


def app_errors(page, missing: list[str]) -> list[str]:
    """Console errors, except the frontend's 404 probes for a base path under /masks (see test_every_page.py)."""
    probes = [u for u in missing if re.search(r"/[^/]+/_stcore/(host-config|health)$", u)]
    assert missing == probes, f"missing resources: {missing}"
    return [e for e in page.console_errors if not (probes and "status of 404" in e)]


def drawn_param(page) -> str:
    return parse_qs(urlsplit(page.url).query).get("drawn", [""])[0]


def click_and_wait(page, row, col, expected_drawn):
    point = page.evaluate(CELL_CENTRE, [DRAW_TITLE, row, col])
    page.mouse.click(point["x"], point["y"])
    page.wait_for_function(f"() => new URLSearchParams(location.search).get('drawn') === '{expected_drawn}'",
                           timeout=TIMEOUT_MS)
    wait_idle(page)
    page.wait_for_function(f"(t) => {{ const z = ({CELLS})(t); return z && z.flat().join('') === "
                           f"'{expected_drawn.replace('-', '')}'; }}", arg=DRAW_TITLE, timeout=TIMEOUT_MS)


def test_clicking_a_cell_toggles_it_and_the_playground_uses_the_mask(page, app_url, artifacts):
    missing = open_page(page, f"{app_url}/masks?tokens=the%20cat%20sat&padding=0")
    page.wait_for_function(f"(t) => ({CELLS})(t) !== null", arg=DRAW_TITLE, timeout=TIMEOUT_MS)
    wait_idle(page)
    assert page.evaluate(CELLS, DRAW_TITLE) == [[0, 0, 0]] * 3 and drawn_param(page) == ""

    click_and_wait(page, 0, 2, "001-000-000")            # query "the" may not see "sat"
    click_and_wait(page, 0, 2, "000-000-000")            # the same cell again: toggled back
    click_and_wait(page, 0, 2, "001-000-000")
    click_and_wait(page, 1, 0, "001-100-000")
    click_and_wait(page, 2, 1, "001-100-010")            # the seed's [0 0 1; 1 0 0; 0 1 0]
    assert page.get_by_text("No named pattern").count() >= 1
    assert page.get_by_text("Query 1 (cat) sees 2 of 3 keys").count() == 1
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(artifacts / "masks-drawn-seed.png"))

    # the drawn mask is an input: the Playground draws it, and the link carries it across the page switch
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Playground").click()
    page.wait_for_function(f"(t) => {{ const z = ({CELLS})(t); return z && z.flat().join('') === '001100010'; }}",
                           arg="mask (1 = blocked)", timeout=TIMEOUT_MS)
    wait_idle(page)
    assert drawn_param(page) == "001-100-010"
    assert not app_errors(page, missing)


def test_the_broadcasting_view_renders_every_head(page, app_url, artifacts):
    missing = open_page(page, f"{app_url}/masks?causal=1")
    titles = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')]
        .filter(e => e._fullData && e.layout.title).map(e => e.layout.title.text)"""
    # Plotly draws the charts one after another: wait until every head's panel is drawn, not only the last
    page.wait_for_function(f"() => ({titles})().filter(t => t.includes(', head ')).length >= 6", timeout=TIMEOUT_MS)
    wait_idle(page)
    drawn = page.evaluate(titles)
    assert {"padding (B, 1, 1, Tk)", "look-ahead (Tq, Tk)"} <= set(drawn)
    assert sum(", head " in t for t in drawn) == 6 and sum(t.startswith("mask[") for t in drawn) == 3
    shapes = page.locator('[data-testid="stCode"]').first.inner_text()
    assert "(B, 1, 1, Tk) = (3, 1, 1, 6)" in shapes and "(B, H, Tq, Tk) = (3, 2, 6, 6)" in shapes
    # the padding row of sequence 1 is copied down every query of every head: the same masked columns
    mask = page.evaluate(CELLS, "mask[0, 0]")
    assert all(row[3:] == [1, 1, 1] for row in mask)
    page.get_by_role("heading", name="How masks broadcast").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "masks-broadcast.png"))
    assert page.locator('[data-testid="stException"]').count() == 0
    assert not app_errors(page, missing)
