"""The Conventions page in a real browser: the newer masks in each framework, with every newer mask on."""

from urllib.parse import urlencode

from conftest import TIMEOUT_MS, wait_idle

#: three lines packed into one row (one typed pad), causal, a window of 3, a prefix of 2 and a drawn 9×9 mask
NEWER = {"tokens": "the cat sat\n<pad> dog ran home\nbirds sing", "packed": "1", "causal": "1", "window": "3",
         "prefix": "2", "drawn": "-".join(["000000000"] * 8 + ["100000000"])}


def test_the_newer_masks_section_shows_each_framework_and_the_code(page, app_url, artifacts):
    page.goto(f"{app_url}/conventions?{urlencode(NEWER)}")
    page.get_by_text("The newer masks in each framework").first.wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    table = page.locator('[data-testid="stTable"]').first
    table.scroll_into_view_if_needed()
    text = table.inner_text()
    assert "local_window_size=(2, 0)" in text and "sliding_window=3" in text     # the off-by-one, done
    assert "or_masks(causal, …)" in text
    codes = page.locator('[data-testid="stCode"]')
    assert "create_block_mask(mask_mod" in codes.first.inner_text()              # FlexAttention by default
    assert any("create_block_mask" in codes.nth(i).inner_text() for i in range(codes.count()))
    assert page.get_by_text("not in it yet").count() == 0
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(artifacts / "conventions-newer-masks.png"))
