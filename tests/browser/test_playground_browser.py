"""The Playground in a real browser: load, toggle the causal mask, see the weights change."""

from conftest import TIMEOUT_MS, chart_json, wait_idle


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
