"""Shared links in a real browser, each on a FRESH server (the first session after a start is special).

Streamlit starts in its legacy ``pages/`` mode until some session runs ``st.navigation``; a shared
link opened as the very first session must still reopen exactly its state. Each test starts its own
server with ``conftest.start_server`` instead of the shared ``app_url`` fixture.
"""

from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from conftest import start_server, stop_server, wait_idle

from maskattn.export import file_tag, read_matrix_csv
from maskattn.numerics import cast
from maskattn.pipeline import compute
from maskattn.presets import get_preset
from maskattn.state import Inputs, View, to_query_params

SHARED = {"causal": "1", "dtype": "float16", "row": "2"}
TIMEOUT = 60_000


@pytest.fixture
def fresh_url():
    """A server nobody has visited yet."""
    proc, url = start_server()
    yield url
    stop_server(proc)


def params(page) -> dict:
    return {k: v[-1] for k, v in parse_qs(urlsplit(page.url).query, keep_blank_values=True).items()}


def sidebar_toggle(page, label: str) -> bool:
    box = page.locator(f'[data-testid="stSidebar"] [data-testid="stCheckbox"]:has-text("{label}") input')
    return box.is_checked()


def sidebar_select(page, label: str) -> str:
    """The shown value of a sidebar selectbox (a combobox input)."""
    return page.locator(f'[data-testid="stSidebar"] [data-testid="stSelectbox"]:has-text("{label}") '
                        'input[role="combobox"]').input_value()


def open_page(page, title: str) -> None:
    """Click a page in the sidebar navigation and wait for it."""
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).click()
    page.wait_for_selector(f'h1:has-text("{title}")', timeout=TIMEOUT)
    wait_idle(page, TIMEOUT)


def assert_shared_state(page) -> None:
    assert sidebar_toggle(page, "Causal (look-ahead) mask") is True
    assert sidebar_toggle(page, "Padding mask") is True
    assert "float16" in sidebar_select(page, "Number type (dtype)")
    assert {k: params(page).get(k) for k in SHARED} == SHARED, page.url


def probe_404s(page) -> list[str]:
    """Record failed requests. After a reload on a page URL (/classroom) Streamlit's frontend first probes
    /classroom/_stcore/health and /classroom/_stcore/host-config for a base path; those 404s are expected."""
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    return failed


def assert_no_console_errors(page, failed: list[str]) -> None:
    probes = [u for u in failed if urlsplit(u).path.endswith(("/_stcore/health", "/_stcore/host-config"))
              and urlsplit(u).path.count("/") > 2]
    assert len(probes) == len(failed), failed
    errors = list(page.console_errors)
    for _ in probes:
        errors.remove("Failed to load resource: the server responded with a status of 404 (Not Found)")
    assert not errors, errors


def share_link(page) -> str:
    code = page.locator('[data-testid="stMain"] code', has_text="http://127.0.0.1:").first
    return code.inner_text().strip()


def test_shared_link_survives_page_switches_and_reload(fresh_url, page, artifacts):
    failed = probe_404s(page)
    page.goto(fresh_url + "/?causal=1&dtype=float16&row=2")       # the server's very first session
    page.wait_for_selector('h1:has-text("Playground")', timeout=TIMEOUT)
    wait_idle(page, TIMEOUT)
    assert_shared_state(page)

    open_page(page, "Classroom")
    assert urlsplit(page.url).path.rstrip("/").endswith("/classroom")
    assert_shared_state(page)
    link = share_link(page)
    assert link.startswith(fresh_url + "/?")                      # the Playground is the root page
    assert {k: v[-1] for k, v in parse_qs(urlsplit(link).query).items()} == SHARED

    page.reload()
    page.wait_for_selector('h1:has-text("Classroom")', timeout=TIMEOUT)
    wait_idle(page, TIMEOUT)
    assert_shared_state(page)

    open_page(page, "Playground")
    assert_shared_state(page)
    page.screenshot(path=str(artifacts / "classroom-shared-link-playground.png"))

    # the copied link opens the same state in a new tab
    # (a later session on this server: a /playground link would raise "Page not found" here)
    other = page.context.new_page()
    other.console_errors = []
    other.on("console", lambda m: other.console_errors.append(m.text) if m.type == "error" else None)
    other_failed = probe_404s(other)
    other.goto(link)
    other.wait_for_selector('h1:has-text("Playground")', timeout=TIMEOUT)
    wait_idle(other, TIMEOUT)
    assert_shared_state(other)
    assert other.get_by_text("Page not found").count() == 0
    assert_no_console_errors(page, failed)
    assert_no_console_errors(other, other_failed)


def download(page, label: str):
    with page.expect_download(timeout=TIMEOUT) as info:
        page.get_by_role("button", name=label).click()
    dl = info.value
    return dl.suggested_filename, open(dl.path(), encoding="utf-8").read()


def test_csv_downloads_hold_the_numbers_on_screen(fresh_url, page, artifacts):
    failed = probe_404s(page)
    page.goto(fresh_url + "/classroom?causal=1&dtype=float16&row=2")  # first session, straight to the page
    page.wait_for_selector('h1:has-text("Classroom")', timeout=TIMEOUT)
    wait_idle(page, TIMEOUT)
    assert_shared_state(page)                       # the frame ran: sidebar and URL state are there
    expected = compute(Inputs(causal=True, dtype="float16"))

    tag = file_tag(expected)                        # the whole state: two cases never share a file name
    name, text = download(page, "mask (CSV)")
    assert name == f"mask--{tag}.csv" and "float16" in tag and "causal" in tag
    columns, rows, mask = read_matrix_csv(text)
    assert rows == columns == ["0·the", "1·cat", "2·sat", "3·<pad>", "4·<pad>", "5·<pad>"]
    look_ahead = np.triu(np.ones((6, 6)), k=1)                    # the tutorial's create_look_ahead_mask(6)
    padding = np.tile([0, 0, 0, 1, 1, 1], (6, 1))                 # "the cat sat" + three pads
    np.testing.assert_array_equal(mask, np.maximum(look_ahead, padding))

    name, text = download(page, "weights (CSV)")
    assert name == f"weights--{tag}.csv"
    _, _, weights = read_matrix_csv(text)
    assert np.isnan(weights).all()                                # float16 and -1e9: 0 x -inf = NaN
    name, text = download(page, "raw logits (CSV)")
    _, _, logits = read_matrix_csv(text)
    np.testing.assert_array_equal(cast(logits, "float16"), expected.steps.logits)

    page.screenshot(path=str(artifacts / "classroom-page.png"))
    assert_no_console_errors(page, failed)


def test_load_a_preset_from_a_fresh_classroom_link(fresh_url, page, artifacts):
    failed = probe_404s(page)
    page.goto(fresh_url + "/classroom")
    page.wait_for_selector('h1:has-text("Classroom")', timeout=TIMEOUT)
    wait_idle(page, TIMEOUT)
    preset = get_preset("fully-masked-zeros")
    page.locator(f".st-key-load-{preset.slug} button").first.click()   # keyed elements carry st-key-<key>
    page.wait_for_selector('h1:has-text("Playground")', timeout=TIMEOUT)
    wait_idle(page, TIMEOUT)
    assert params(page) == to_query_params(preset.inputs, View(preset=preset.slug))   # the link keeps its story
    page.get_by_text("Ask the class:").first.wait_for(timeout=TIMEOUT)
    assert sidebar_toggle(page, "also mask padded queries") is True
    assert "safe" in sidebar_select(page, "Method")
    page.screenshot(path=str(artifacts / "classroom-preset-loaded.png"))
    assert_no_console_errors(page, failed)


def test_a_fresh_link_straight_to_the_playground(fresh_url, page):
    page.goto(fresh_url + "/?causal=1&dtype=float16&row=2")
    page.wait_for_selector('h1:has-text("Playground")', timeout=TIMEOUT)
    wait_idle(page, TIMEOUT)
    assert_shared_state(page)


def test_the_share_link_carries_the_address_the_page_was_opened_on_and_says_when_it_is_this_computer_only(page):
    """Served on 127.0.0.2 (another loopback host than the default): the link carries that host, and the page
    says a class cannot open it, with how to serve the app to the room."""
    proc, url = start_server(address="127.0.0.2")
    try:
        assert "127.0.0.2" in url
        page.goto(f"{url}/classroom?causal=1", timeout=TIMEOUT)
        page.wait_for_selector('h1:has-text("Classroom")', timeout=TIMEOUT)
        wait_idle(page, TIMEOUT)
        link = page.locator('[data-testid="stCode"]').first.inner_text()
        assert link.startswith("http://127.0.0.2:") and "causal=1" in link, link
        warning = page.locator('[data-testid="stAlertContentWarning"]').first.inner_text()
        assert "works only on this computer" in warning and "127.0.0.2" in warning and "0.0.0.0" in warning
    finally:
        stop_server(proc)
