"""The row inspector in a real browser: click a heatmap cell, the inspector follows that row."""

from conftest import wait_idle

CELL_CENTRE = """([title, row, col]) => {
    const el = [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')]
        .find(e => e.layout.title && e.layout.title.text === title);
    el.scrollIntoView({block: 'center'});
    const box = el.getBoundingClientRect(), xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
    // category axes: the linear coordinate of a category is its index
    return {x: box.left + xa._offset + xa.l2p(col), y: box.top + ya._offset + ya.l2p(row)};
}"""

#: the inspector's row, as its selectbox shows it
PICKED = """(label) => { const b = [...document.querySelectorAll('[data-testid="stSelectbox"]')]
    .find(e => e.innerText.includes('Query row')); return b && b.querySelector('input').value === label; }"""


def click_cell(page, title, row, col):
    point = page.evaluate(CELL_CENTRE, [title, row, col])
    page.mouse.click(point["x"], point["y"])


def test_clicking_a_heatmap_cell_selects_the_row(page, app_url, artifacts):
    page.goto(app_url)
    page.wait_for_selector('[data-testid="stPlotlyChart"]', timeout=60_000)
    wait_idle(page)
    page.wait_for_function(PICKED, arg="0·the", timeout=30_000)

    # row 4 ("4·<pad>"), key 1 of the softmax weights
    click_cell(page, "softmax weights", 4, 1)
    page.wait_for_function(PICKED, arg="4·<pad>", timeout=30_000)
    wait_idle(page)
    picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="Query row")
    assert picker.locator("input").input_value() == "4·<pad>"
    assert "row=4" in page.url                              # the shared link carries the row

    # another panel, another row
    click_cell(page, "raw logits x = q·kᵀ/√d", 1, 2)
    page.wait_for_function(PICKED, arg="1·cat", timeout=30_000)
    wait_idle(page)
    assert picker.locator("input").input_value() == "1·cat"
    assert page.locator('[data-testid="stException"]').count() == 0
    page.locator('[data-testid="stHeading"]').filter(has_text="Row inspector").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "inspector-row-1.png"))
    assert not page.console_errors, page.console_errors


def test_lab_page_renders_and_follows_the_constant(page, app_url, artifacts):
    page.goto(f"{app_url}/?const=-1")
    page.wait_for_selector('[data-testid="stPlotlyChart"]', timeout=60_000)
    wait_idle(page)
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Constant lab").click()
    page.wait_for_selector('[data-testid="stMetric"]', timeout=60_000)
    wait_idle(page)
    assert "/lab" in page.url and "const=-1" in page.url
    metrics = page.locator('[data-testid="stMetric"]')
    assert metrics.count() == 4
    texts = [metrics.nth(i).inner_text() for i in range(4)]
    assert all("exactly 0" not in t and "NaN" not in t for t in texts)   # -1 leaks in every dtype
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(artifacts / "lab-constant-minus-1.png"), full_page=True)
    assert not page.console_errors, page.console_errors
