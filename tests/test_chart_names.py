"""Every chart on every page has an accessible name, built by the core from its own numbers, and no two charts on
a page share one (a screen reader reads the name, not a stream of cell numbers)."""

import numpy as np
import pytest

from apptest_helpers import fresh
from app_pages import app_pages

from maskattn.alt import heatmap_alt
from maskattn.pipeline import compute
from maskattn.state import Inputs

STATES = {"default": {}, "float16 causal": {"dtype": "float16", "causal": "1"},
          "presentation": {"present": "1", "causal": "1"},
          "bias and the masks beyond": {"tokens": "a b c d e f g h", "bias": "alibi", "window": "2", "wright": "1",
                                        "global": "0"}}


@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize("page", [p.path for p in app_pages()])
def test_every_chart_has_its_own_name(page, state):
    at = fresh(**STATES[state]).run()
    if page != "pages/playground.py":
        at.switch_page(page).run()
    assert not at.exception
    names = [c.proto.alt for c in at.get("plotly_chart")]
    assert all(names), f"a chart without a name on {page}"
    assert len(names) == len(set(names)), f"two charts share a name on {page}: {names}"


def test_the_weights_name_says_what_the_masked_keys_get_from_the_numbers():
    at = fresh(causal="1").run()
    result = compute(Inputs(causal=True))
    name = next(c.proto.alt for c in at.get("plotly_chart") if c.proto.alt.startswith("softmax weights"))
    masked = int((result.mask == 1).sum())
    assert f"{masked} masked cells, all exactly 0" in name
    assert name.startswith("softmax weights, the cat sat") and "6 queries × 6 keys" in name


def test_a_leak_and_nan_are_named():
    leak = heatmap_alt("softmax weights", "", np.array([[0.6, 0.4]]), ["a", "b"], ["a"], mask=np.array([[0, 1]]),
                       kind="weights", dtype="float32")
    assert "the largest weight on one 0.4" in leak
    nan = heatmap_alt("masked logits", "", np.array([[np.nan, -np.inf]]), ["a", "b"], ["a"], kind="scores")
    assert "1 NaN cell" in nan and "1 infinite cell" in nan
