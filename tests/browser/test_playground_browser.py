"""The Playground in a real browser: load, toggle the causal mask, see the weights change."""

from conftest import TIMEOUT_MS, chart_json, wait_idle

from maskattn.export import file_tag, read_matrix_csv
from maskattn.pipeline import compute
from maskattn.state import Inputs


def weights_chart(page):
    charts = page.locator('[data-testid="stPlotlyChart"]')
    for i in range(charts.count()):
        fig = chart_json(page, i)
        if fig and fig["title"] == "softmax weights":
            return fig
    raise AssertionError("no softmax weights chart on the page")


def test_toggle_causal_changes_weights(page, app_url, artifacts):
    page.goto(app_url)
    page.wait_for_selector('[data-testid="stPlotlyChart"]', timeout=TIMEOUT_MS)
    wait_idle(page)
    before = weights_chart(page)["data"][0]["z"]
    # default sequence "the cat sat": row 0 attends to all three real tokens
    assert before[0][1] > 0 and before[0][2] > 0

    page.locator('[data-testid="stSidebar"] label:has-text("Causal (look-ahead) mask")').click()
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')]
                 .some(el => el.layout.title.text === 'softmax weights' && el._fullData[0].z[0][1] === 0)""",
        timeout=TIMEOUT_MS)
    wait_idle(page)
    after = weights_chart(page)["data"][0]["z"]
    assert after[0] == [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]      # the first token sees only itself
    assert after[1][2] == 0.0 and after[1][1] > 0
    assert "causal=1" in page.url
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(artifacts / "playground-causal.png"), full_page=True)
    assert not page.console_errors, page.console_errors


def test_expanders_build_their_content_when_opened_and_the_csv_matches(page, app_url, artifacts):
    page.goto(app_url + "/?causal=1")
    page.wait_for_selector('[data-testid="stPlotlyChart"]', timeout=TIMEOUT_MS)
    wait_idle(page)
    # the inspector's formula is typeset (KaTeX), with its note under it
    assert page.locator('[data-testid="stMarkdown"] .maskattn-formula math').count() >= 3
    assert page.get_by_text("↳").count() >= 1
    # closed expanders: no download buttons, no code yet
    assert page.get_by_role("button", name="weights (CSV)").count() == 0

    page.get_by_text("Every matrix as a table, and downloads").click()
    page.get_by_role("button", name="weights (CSV)").wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    with page.expect_download(timeout=TIMEOUT_MS) as info:
        page.get_by_role("button", name="weights (CSV)").click()
    text = open(info.value.path(), encoding="utf-8").read()
    assert info.value.suggested_filename == f"weights--{file_tag(compute(Inputs(causal=True)))}.csv"
    assert read_matrix_csv(text)[2][0].tolist() == [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]   # row 0 sees only itself

    page.get_by_text("Show the tables (screen readers, copying)").click()
    page.wait_for_function("document.querySelectorAll('[data-testid=\"stDataFrame\"]').length >= 7",
                           timeout=TIMEOUT_MS)
    page.get_by_text("The library function behind this page").click()
    page.get_by_text("def attention_steps(").first.wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(artifacts / "playground-expanders-open.png"), full_page=True)
    assert not page.console_errors, page.console_errors


def test_the_first_screen_holds_the_four_controls_and_the_answer(browser, app_url):
    """At 1280×720 with the sidebar open (a projector, most laptops), unscrolled: the padding and causal switches,
    the constant and the dtype, and the softmax weights heatmap (its top within the first 620 px), beside the
    masked logits."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        page.goto(app_url)
        page.wait_for_selector('[data-testid="stPlotlyChart"]', timeout=TIMEOUT_MS)
        wait_idle(page)
        sidebar = '[data-testid="stSidebar"]'
        boxes = [page.locator(f'{sidebar} [data-testid="stCheckbox"]').filter(has_text=label).first.bounding_box()
                 for label in ("Padding mask", "Causal (look-ahead) mask")]
        boxes += [page.locator(f'{sidebar} [data-testid="stSelectbox"]').filter(has_text=label).first.bounding_box()
                  for label in ("Mask constant", "Number type (dtype)")]
        assert all(b is not None and b["y"] + b["height"] <= 720 for b in boxes), boxes
        assert page.locator(sidebar).bounding_box()["width"] > 200                      # the sidebar is open
        tops = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll(
                   '[data-testid="stPlotlyChart"] .js-plotly-plot')].map(el => [el.layout.title.text,
                   el.getBoundingClientRect().top]))""")
        assert tops["softmax weights"] <= 620, tops
        assert tops["masked logits z = x + mask × c"] <= 620, tops                       # beside it
    finally:
        context.close()


#: the softmax weights chart's first row, in the page's JavaScript
_ROW0 = ("() => { const el = [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"] .js-plotly-plot')]"
         ".find(e => e.layout.title.text === 'softmax weights'); return el ? Array.from(el._fullData[0].z[0]) : null; }")


def _weights_row0(page):
    return page.evaluate(_ROW0)


def _row0_is(page, test: str):
    """Wait until the weights chart's row 0 passes ``test`` (JavaScript over ``row``)."""
    page.wait_for_function(f"() => {{ const row = ({_ROW0})(); return row !== null && ({test}); }}", timeout=TIMEOUT_MS)


def _causal_on(page) -> bool:
    return page.locator('[data-testid="stSidebar"] [data-testid="stCheckbox"]').filter(
        has_text="Causal (look-ahead) mask").first.locator("input").is_checked()


def _settle(page, query: str):
    page.wait_for_function("q => document.location.search === q", arg=query, timeout=TIMEOUT_MS)
    wait_idle(page)


def test_back_and_forward_restore_the_state_they_lead_to(page, app_url):
    """Every change is a history entry, and Back / Forward bring back its URL, its widgets and its figures
    together; Back past the first state leaves the app."""
    page.goto("about:blank")
    page.goto(app_url)
    page.wait_for_selector('[data-testid="stPlotlyChart"]', timeout=TIMEOUT_MS)
    wait_idle(page)
    start = _weights_row0(page)
    page.locator('[data-testid="stSidebar"] label:has-text("Causal (look-ahead) mask")').click()
    _settle(page, "?causal=1")
    causal = _weights_row0(page)
    assert causal[1] == 0 and start[1] > 0

    page.go_back()
    _settle(page, "")
    _row0_is(page, "row[1] > 0")
    assert not _causal_on(page) and _weights_row0(page) == start and page.url.rstrip("/") == app_url

    page.go_forward()
    _settle(page, "?causal=1")
    _row0_is(page, "row[1] === 0")
    assert _causal_on(page) and _weights_row0(page) == causal

    page.go_back()
    _settle(page, "")
    page.go_back()                                    # one press per change: the app is left
    page.wait_for_url("about:blank", timeout=TIMEOUT_MS)
