"""The Proof page in a real browser: the learner's minute.

Open the page, shake the padding and see the real tokens' outputs come out bit-for-bit identical in
float32 with the tutorial's −1e9; switch the constant to −10 in the sidebar and see them move, by the
number the core computes for the same noise.
"""

from __future__ import annotations

import re
import time

import numpy as np
from conftest import TIMEOUT_MS, wait_idle

from maskattn import proof
from maskattn.pipeline import compute
from maskattn.state import Inputs
from maskattn.text import spell

ALERT = '[data-testid="stMain"] [data-testid="stAlert"]'


def wait_drawn(page) -> None:
    wait_idle(page)
    page.wait_for_function("""() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
        .every(c => { const el = c.querySelector('.js-plotly-plot'); return el && el._fullData; })""",
                           timeout=TIMEOUT_MS)


def seed_shown(page) -> int:
    caption = page.get_by_text(re.compile(r"standard normal draw \(seed \d+\)")).first.inner_text()
    return int(re.search(r"seed (\d+)", caption).group(1))


def drawn_z(page, title: str) -> np.ndarray:
    z = page.evaluate("""(title) => { const el = [...document.querySelectorAll('.js-plotly-plot')]
        .find(e => e.layout.title.text === title); return Array.from(el._fullData[0].z, r => Array.from(r)); }""",
                      title)
    return np.array(z, dtype=np.float32)


def leak(inputs: Inputs, seed: int):
    r = compute(inputs)
    return proof.leak_test_tokens(list(r.tokens), r.mask, amount=1e6, rng=seed, mask_value=inputs.mask_value)


def test_the_learners_minute(page, app_url, artifacts):
    started = time.monotonic()
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.goto(app_url + "/proof")
    page.wait_for_selector('[data-testid="stMain"] h1:has-text("Proof: masked keys are ignored")', timeout=TIMEOUT_MS)
    wait_drawn(page)
    assert seed_shown(page) == 0

    page.get_by_role("button", name="Shake the padding").click()
    page.wait_for_function("""() => /seed [1-9]\\d*/.test(document.querySelector('[data-testid="stMain"]').innerText)""",
                           timeout=TIMEOUT_MS)
    wait_drawn(page)
    seed = seed_shown(page)
    verdict = page.locator(ALERT).filter(has_text="Bit-for-bit identical")
    assert verdict.count() == 1, page.locator(ALERT).all_inner_texts()
    assert "float32" in page.locator('[data-testid="stMain"]').inner_text()
    tutorial = leak(Inputs(), seed)
    assert tutorial.passed and np.all(tutorial.delta[tutorial.shielded] == 0)
    np.testing.assert_array_equal(drawn_z(page, "output after noise of size 1e6"),
                                  tutorial.after.output[tutorial.shielded].T.astype(np.float32))
    page.screenshot(path=str(artifacts / "proof-shaken-float32.png"), full_page=True)

    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Mask constant").first
    box.scroll_into_view_if_needed()     # a click that scrolls the sidebar closes the dropdown again at once
    box.locator('input[role="combobox"]').click()
    page.locator('[role="option"]').filter(has_text="−10 (too small)").first.click()
    page.locator(ALERT).filter(has_text="Not identical").first.wait_for(timeout=TIMEOUT_MS)
    wait_drawn(page)
    assert "const=-10" in page.url
    assert seed_shown(page) == seed                                 # the same noise, another constant
    small = leak(Inputs(constant="-10"), seed)
    moved = spell(np.max(small.delta[small.leaks]), digits=3)
    text = page.locator(ALERT).filter(has_text="Not identical").first.inner_text()
    assert f"moved by {moved}" in text, text
    np.testing.assert_array_equal(drawn_z(page, "output after noise of size 1e6"),
                                  small.after.output[small.shielded].T.astype(np.float32))
    elapsed = time.monotonic() - started
    page.screenshot(path=str(artifacts / "proof-constant-minus-10.png"), full_page=True)
    (artifacts / "proof-learners-minute.txt").write_text(f"seed {seed}: {elapsed:.1f} s from opening the page "
                                                         f"to the moved outputs at -10 ({moved})\n")
    assert page.locator('[data-testid="stException"]').count() == 0
    # opened at /proof, Streamlit's frontend first probes /proof/_stcore/... for a base path (404): framework
    # behaviour, as in test_every_page.py; nothing else may be missing or fail
    probes = [u for u in missing if re.search(r"/proof/_stcore/(host-config|health)$", u)]
    assert missing == probes, missing
    errors = [e for e in page.console_errors if not (probes and "status of 404" in e)]
    assert not errors, errors
