"""Real-browser fixtures: one Streamlit server per test session, Debian's Chromium via Playwright.

Run alone with ``python -m pytest -m browser``. Without /usr/bin/chromium the
tests are skipped with a reason, except under CI (``CI=true``) where a missing
browser is a failure: CI must really run them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
import common  # noqa: E402  (benchmarks/common.py: the server start and Chromium's flags, shared)
from common import CHROMIUM, CHROMIUM_ARGS, stop_server  # noqa: E402,F401  (stop_server: for the tests)
#: generous: on a busy 2-core machine the first load (the Plotly bundle) can take many seconds
TIMEOUT_MS = 90_000
#: screenshots and downloads from the browser tests land here (ignored by git)
ARTIFACTS = ROOT / "artifacts" / "browser"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group("browser"))   # one worker drives Chromium; the other the rest


def _require_browser():
    if os.path.exists(CHROMIUM):
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: .ci/run must install Debian's chromium before the tests")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium) — browser tests skipped")


def start_server(script: str = "app.py", port: int | None = None, extra_args=(),
                 address: str = "127.0.0.1") -> tuple[subprocess.Popen, str]:
    """``benchmarks/common.start_server`` (one server start for the benchmarks and the tests), its log among
    the artifacts, on a loopback ``address``; returns (process, base URL)."""
    proc, port, _ = common.start_server(script, port, extra_args, log_dir=ARTIFACTS, address=address)
    return proc, common.server_url(port, address)


@pytest.fixture(scope="session")
def app_url():
    """Base URL of one app server shared by the whole test session."""
    _require_browser()
    proc, url = start_server()
    yield url
    stop_server(proc)


@pytest.fixture(scope="session")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh browser context and page; console errors are collected on ``page.console_errors``."""
    context = browser.new_context(viewport={"width": 1600, "height": 1200}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    pg.console_errors = []
    pg.on("console", lambda m: pg.console_errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    yield pg
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def wait_idle(page, timeout: float = TIMEOUT_MS) -> None:
    """Wait until the app has finished its current run and no element is stale."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)
    page.wait_for_function("document.querySelectorAll('[data-stale=\"true\"]').length === 0",
                           timeout=timeout)


def chart_json(page, index: int):
    """The Plotly figure of the index-th chart on the page, as drawn (typed arrays decoded)."""
    return page.evaluate(
        """(i) => { const el = document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')[i];
                   return el ? {data: el._fullData.map(t => ({type: t.type, name: t.name,
                                 z: t.z ? Array.from(t.z, r => Array.from(r)) : null})),
                                title: el.layout.title && el.layout.title.text} : null; }""", index)
