"""The Playground's pictures in a real browser at 1280×720 with the sidebar open.

- no two numbers printed in a stage heatmap overlap, and each stays inside its cell;
- hovering a weights cell shows that cell's exact value;
- a masked cell that leaks is not painted like a masked cell that does not (pixels compared),
  and it carries the red leak flag.
"""

from urllib.parse import quote

import numpy as np
import pytest
from PIL import Image

from conftest import TIMEOUT_MS, wait_idle

from maskattn.pipeline import compute
from maskattn.state import Inputs
from maskattn.text import spell

VIEWPORT = {"width": 1280, "height": 720}
STAGE_TITLES = ("raw logits x = q·kᵀ/√d", "mask term: mask × (", "masked logits z = x + mask × c", "softmax weights")

#: per chart: its title, each cell's label box, each cell's box (CSS pixels, page coordinates)
LABEL_BOXES = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')].map(el => {
    const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis, box = el.getBoundingClientRect();
    const half = Math.abs(xa.l2p(1) - xa.l2p(0)) / 2, halfy = Math.abs(ya.l2p(1) - ya.l2p(0)) / 2;
    const labels = [...el.querySelectorAll('g.heatmap-label text')]
        .filter(t => t.textContent.length)
        .map(t => { const r = t.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom, t.textContent]; });
    return {title: el.layout.title.text, labels: labels, half: half, halfy: halfy,
            x0: box.left + xa._offset, y0: box.top + ya._offset};
})"""

CELL_CENTRE = """([title, row, col]) => {
    const el = [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')]
        .find(e => e.layout.title && e.layout.title.text === title);
    el.scrollIntoView({block: 'center'});
    const box = el.getBoundingClientRect(), xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
    return {x: box.left + xa._offset + xa.l2p(col), y: box.top + ya._offset + ya.l2p(row),
            w: Math.abs(xa.l2p(1) - xa.l2p(0)), h: Math.abs(ya.l2p(1) - ya.l2p(0))};
}"""


@pytest.fixture
def small_page(browser):
    """1280×720 with the sidebar open: the projector and most laptops."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    pg.console_errors = []
    pg.on("console", lambda m: pg.console_errors.append(m.text) if m.type == "error" else None)
    yield pg
    context.close()


def open_playground(page, app_url, query=""):
    page.goto(f"{app_url}/{query}")
    page.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')]
        .filter(e => e._fullData).length >= 5""", timeout=TIMEOUT_MS)
    wait_idle(page)
    sidebar = page.locator('[data-testid="stSidebar"]').bounding_box()
    assert sidebar and sidebar["width"] > 200 and sidebar["x"] >= 0                      # the sidebar is open
    assert page.locator('[data-testid="stException"]').count() == 0


def overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("query", ["", "?dtype=float16", "?const=-1", "?const=-1&tokens=the%20cat%20sat%20on%20the%20mat%0Ahi",
                                   "?tokens=" + quote(" ".join(f"w{i}" for i in range(64)))])
def test_numbers_in_stage_heatmaps_never_touch(small_page, app_url, artifacts, query):
    open_playground(small_page, app_url, query)
    charts = [c for c in small_page.evaluate(LABEL_BOXES) if c["title"].startswith(STAGE_TITLES)]
    assert len(charts) == 4
    printed = 0
    for chart in charts:
        boxes = chart["labels"]
        printed += len(boxes)
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert not overlaps(a, b), (chart["title"], a, b)
            # inside its own cell: the label's width is less than a cell
            assert a[2] - a[0] < 2 * chart["half"], (chart["title"], a)
    if "w63" not in query:
        assert printed > 0                                     # small inputs do print their numbers
    small_page.screenshot(path=str(artifacts / f"pictures-1280{query[:20].replace('?', '-').replace('&', '-')}.png"))
    assert not small_page.console_errors, small_page.console_errors


def test_hovering_a_weights_cell_shows_its_exact_value(small_page, app_url):
    open_playground(small_page, app_url, "?dtype=bfloat16&const=-1")
    expected = compute(Inputs(dtype="bfloat16", constant="-1"))
    for row, col in ((0, 1), (2, 4)):
        point = small_page.evaluate(CELL_CENTRE, ["softmax weights", row, col])
        small_page.mouse.move(point["x"] + point["w"] * 0.3, point["y"] + point["h"] * 0.3)   # off-centre
        value = spell(expected.steps.weights[row, col], "bfloat16")
        # wait for this cell's label: under load the previous cell's label is still up for a moment
        hover = small_page.locator(".hoverlayer .hovertext").filter(has_text=expected.labels[row])
        hover.first.wait_for(timeout=20_000)
        text = hover.first.text_content()
        assert value in text and expected.labels[row] in text.replace("&lt;", "<"), text
        if expected.mask[row, col]:
            assert "masked" in text


def pixel(image: Image.Image, x: float, y: float) -> np.ndarray:
    return np.asarray(image.convert("RGB").getpixel((int(x), int(y))), dtype=float)


def masked_cell_colour(page, artifacts, name):
    """The colour of masked cell (0, 3) of the weights panel, sampled away from its number and its flag."""
    point = page.evaluate(CELL_CENTRE, ["softmax weights", 0, 3])
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path))
    image = Image.open(path)
    colour = pixel(image, point["x"] - point["w"] * 0.36, point["y"] + point["h"] * 0.36)
    flag = pixel(image, point["x"] + point["w"] * 0.40, point["y"] - point["h"] * 0.40)
    return colour, flag


@pytest.mark.parametrize("sequence", [0, 2])
def test_a_leaking_masked_cell_is_not_painted_like_one_that_does_not_leak(small_page, app_url, artifacts, sequence):
    """Default text, constant -1: sequence 1 leaks 0.02 onto key 3 of row 0, sequence 3 about 0.01."""
    open_playground(small_page, app_url, f"?seq={sequence}")
    tight, no_flag = masked_cell_colour(small_page, artifacts, f"weights-masked-exact-zero-{sequence}")
    open_playground(small_page, app_url, f"?seq={sequence}&const=-1")
    leaky, flag = masked_cell_colour(small_page, artifacts, f"weights-masked-leaking-{sequence}")
    leak = compute(Inputs(constant="-1", sequence=sequence)).steps.weights[0, 3]
    assert 0.005 < leak < 0.03                                   # a small leak: the hard case
    assert np.abs(tight - leaky).max() > 20, (tight, leaky)       # the picture itself shows the leak
    red = np.array([0xE4, 0x1A, 0x1C], dtype=float)
    assert np.abs(flag - red).max() < 40, flag                    # and the leak flag is there
    assert np.abs(no_flag - red).max() > 80, no_flag              # but not on a cell that does not leak


def test_a_row_click_outlines_the_row_on_every_stage(small_page, app_url):
    open_playground(small_page, app_url)
    point = small_page.evaluate(CELL_CENTRE, ["masked logits z = x + mask × c", 2, 1])
    small_page.mouse.click(point["x"], point["y"])
    small_page.wait_for_function("() => location.search.includes('row=2')", timeout=TIMEOUT_MS)
    wait_idle(small_page)
    rows = small_page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')]
        .filter(e => e.layout.shapes && e.layout.shapes.some(s => s.type === 'rect'))
        .map(e => e.layout.shapes.filter(s => s.type === 'rect').map(s => s.y0))""")
    assert len(rows) == 4 and all(r == [1.5, 1.5] for r in rows)


def test_pictures_use_the_room_at_1280_with_the_sidebar_open(browser, app_url):
    """At 1280×720 with the sidebar open: 12 tokens number every weights cell (panels grow, one per row when two no
    longer fit); 64 tokens get cells of at least 8 px; 256 tokens thin their axis labels instead of touching."""
    from urllib.parse import quote
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        for T, check in ((12, "numbers"), (64, "cells"), (256, "ticks")):
            text = " ".join(f"w{i}" for i in range(T))
            page.goto(f"{app_url}/?tokens={quote(text)}&causal=1")
            page.wait_for_selector('[data-testid="stPlotlyChart"]', timeout=TIMEOUT_MS)
            wait_idle(page)
            info = page.evaluate("""() => { const el = [...document.querySelectorAll(
                '[data-testid="stPlotlyChart"] .js-plotly-plot')].find(e => e.layout.title.text === 'softmax weights');
                const t = el._fullData[0]; const xa = el._fullLayout.xaxis;
                const shown = [...el.querySelectorAll('.heatmaplayer text')].filter(
                    n => getComputedStyle(n).display !== 'none' && n.textContent !== '');
                return {cols: t.z[0].length, cell: xa._length / t.z[0].length, texts: shown.length,
                        ticks: (xa.tickvals || []).length}; }""")
            if check == "numbers":
                assert info["texts"] == T * T, info                 # every weights cell shows its number
            elif check == "cells":
                assert info["cell"] >= 8, info
            else:
                assert info["ticks"] * 11 <= info["cell"] * T, info  # labels at least a label's height apart
    finally:
        context.close()
