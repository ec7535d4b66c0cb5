"""Hostile tokens typed into the sidebar in Chromium: nothing executes, nothing is injected.

Each input carries a payload that would leave a trace if it ran (a dialog, a global variable,
an element with an inline handler). The page must show the input as text (the chart labels
and the sequence picker carry the tokens) or as a message, and never raise.
"""

from __future__ import annotations

import pytest
from conftest import wait_idle

HOSTILE = {
    "script": "<script>window.__pwned='script';alert(1)</script> cat",
    "img onerror": '<img src=x onerror="window.__pwned=\'img\';alert(2)"> dog',
    "svg onload": "<svg/onload=alert(3)> <iframe src=javascript:alert(4)>",
    "javascript link": "[click](javascript:alert(5)) javascript:alert(6)",
    "markdown image": "![x](https://evil.example/x.png) **bold** # head",
    "latex": r"$\href{javascript:alert(7)}{x}$ \(\alert{y}\)",
    "rtl and zero-width": "abc\u202edcba zero\u200bwidth \ufeffbom",
    "event attribute": '" onmouseover="alert(8)" x=" <a href="javascript:alert(9)">a</a>',
}

INJECTED_JS = """
() => ({
  pwned: window.__pwned || null,
  inline_handlers: [...document.querySelectorAll('[onerror],[onload],[onmouseover],[onclick]')]
                   .map(e => e.outerHTML.slice(0, 120)),
  scripts: [...document.querySelectorAll('script:not([src])')].map(s => s.textContent.slice(0, 120))
           .filter(t => t.includes('__pwned') || t.includes('alert(')),
  images: [...document.querySelectorAll('img')].map(i => i.getAttribute('src') || '')
          .filter(s => s === 'x' || s.includes('evil.example')),
  js_links: [...document.querySelectorAll('a[href^="javascript:"], iframe')].map(a => a.outerHTML.slice(0, 120)),
})
"""


@pytest.fixture
def dialogs(page):
    seen = []

    def on_dialog(dialog):
        seen.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return seen


def type_tokens(page, text: str) -> None:
    box = page.locator('[data-testid="stSidebar"] [data-testid="stTextArea"] textarea')
    box.fill(text)
    box.press("Control+Enter")
    page.wait_for_timeout(300)
    wait_idle(page)


def test_hostile_tokens_do_not_execute(page, app_url, artifacts, dialogs):
    page.goto(app_url)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .js-plotly-plot', timeout=60_000)
    wait_idle(page)
    for name, text in HOSTILE.items():
        type_tokens(page, text)
        found = page.evaluate(INJECTED_JS)
        assert found["pwned"] is None, f"{name}: a payload ran: {found}"
        assert not found["inline_handlers"] and not found["scripts"], f"{name}: injected element: {found}"
        assert not found["images"] and not found["js_links"], f"{name}: injected element: {found}"
        assert page.locator('[data-testid="stException"]').count() == 0, name
        shown = page.locator('[data-testid="stMain"]').inner_text() + page.locator(
            '[data-testid="stSidebar"]').inner_text()
        first = text.split()[0]
        assert first[:6] in shown or page.locator('[data-testid="stAlert"]').count() > 0 or \
            page.evaluate("""(t) => [...document.querySelectorAll('.js-plotly-plot text')]
                             .some(e => e.textContent.includes(t))""", first[:6]), \
            f"{name}: the input is neither shown as text nor answered with a message"
    page.screenshot(path=str(artifacts / "hostile-tokens.png"), full_page=True)
    assert not dialogs, f"a dialog opened: {dialogs}"
