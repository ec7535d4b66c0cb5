"""The sidebar's controls for the masks beyond the causal window and the position bias, through AppTest.

AppTest 1.67 keeps the frame's sidebar widgets only on the first run (see test_pages_playground.py): each test
starts from a URL and changes one control at most.
"""

import json

import numpy as np
from apptest_helpers import AppTest   # noqa: F401 (with Streamlit's Keras clean-up skipped)

from apptest_helpers import chart, decode, fresh

from maskattn.pipeline import compute
from maskattn.state import Inputs
from maskattn.ui import Key

TWELVE = "one two three four five six seven eight nine ten eleven twelve"


def said(at) -> str:
    return " ".join(m.value.replace("\\", "") for m in [*at.markdown, *at.caption, *at.info, *at.warning])


def test_a_window_offers_keys_ahead_and_a_two_sided_window_draws_what_the_core_computes():
    at = fresh(tokens=TWELVE, padding="0", window="2", wright="1", wrule="distance").run()
    assert not at.exception, at.exception
    ahead = at.sidebar.number_input(key=Key.WINDOW_RIGHT)
    assert ahead.value == 1 and not ahead.disabled
    weights = decode(chart(at, "softmax weights")["data"][0]["z"])
    expected = compute(Inputs(text=TWELVE, padding=False, window=2, window_right=1, window_rule="distance"))
    np.testing.assert_array_equal(weights.astype(np.float64), expected.steps.weights.astype(np.float64))
    assert (weights[0, 2:] == 0).all() and weights[0, 1] > 0                 # one key ahead, no more
    assert "The window is two-sided" in said(at)


def test_keys_ahead_are_off_while_the_causal_mask_is_on_and_the_page_says_why():
    at = fresh(tokens=TWELVE, window="2", wright="1", causal="1").run()
    assert at.sidebar.number_input(key=Key.WINDOW_RIGHT).disabled
    assert "keys ahead are not applied" in said(at)


def test_global_tokens_lift_the_window_and_a_typo_keeps_the_last_good_positions():
    at = fresh(tokens=TWELVE, padding="0", window="2", wright="1", **{"global": "0"}).run()   # two-sided: no future
    box = at.sidebar.text_input(key=Key.GLOBAL_TEXT)
    assert box.value == "0"
    weights = decode(chart(at, "softmax weights")["data"][0]["z"])
    assert (weights[:, 0] > 0).all() and (weights[0] > 0).all()             # token 0 seen by all, and sees all
    box.input("0, x").run()
    assert not at.exception
    errors = " ".join(e.value for e in at.sidebar.error)
    assert "whole numbers from 0" in errors and "Kept the previous positions: 0" in errors
    assert at.session_state[Key.GLOBAL_TOKENS] == "0"


def test_chunks_and_a_shared_prefix_are_applied_and_explained():
    at = fresh(tokens=TWELVE, padding="0", chunk="4").run()
    weights = decode(chart(at, "softmax weights")["data"][0]["z"])
    assert weights[4, 3] == 0 and weights[4, 4] == 1                         # "five" opens a chunk
    assert "opens a new chunk" in said(at)
    at = fresh(tokens=TWELVE, padding="0", shared="4", completions="2").run()
    assert at.sidebar.number_input(key=Key.COMPLETIONS).value == 2
    weights = decode(chart(at, "softmax weights")["data"][0]["z"])
    assert weights[8:, 4:8].sum() == 0                                       # the second completion never sees the first
    assert "share the prefix" in said(at)


def test_a_position_bias_has_a_head_the_titles_and_the_verdict_say_so():
    at = fresh(tokens=TWELVE, padding="0", causal="1", bias="alibi", bhead="2").run()
    assert not at.exception, at.exception
    assert at.sidebar.slider(key=Key.BIAS_HEAD).value == 2
    assert "masked logits z = x + bias + mask × c" in [json.loads(c.proto.spec)["layout"]["title"]["text"]
                                                        for c in at.get("plotly_chart")]
    assert "The ALiBi bias of head 2 adds" in said(at)
    weights = decode(chart(at, "softmax weights")["data"][0]["z"])
    expected = compute(Inputs(text=TWELVE, padding=False, causal=True, bias="alibi", bias_head=2)).steps.weights
    np.testing.assert_array_equal(weights.astype(np.float64), expected.astype(np.float64))


def test_attend_all_gives_a_fully_masked_row_its_keys_back():
    at = fresh(tokens="a b\nc", qpad="1", seq="1", method="attend_all").run()
    assert not at.exception
    weights = decode(chart(at, "softmax weights")["data"][0]["z"])
    assert np.isclose(weights[1].astype(np.float64).sum(), 1) and (weights[1] > 0).all()
    assert "given every key back" in said(at)


def test_tampered_links_to_the_new_controls_are_refused_by_name():
    at = fresh(tokens=TWELVE, window="2", **{"global": "<script>", "bias": "rope", "bhead": "99", "chunk": "-1"}).run()
    assert not at.exception
    notices = said(at)
    for name in ("global=", "bias=", "bhead=", "chunk="):
        assert f"Ignored URL parameter {name}" in notices, name


def test_a_typed_bias_with_minus_inf_is_a_mask_and_a_bad_matrix_is_refused_with_the_old_one_kept():
    at = fresh(tokens="a b c", padding="0", bias="typed", biasm="0,-inf,0;0,0,-1;-1,-2,0").run()
    assert not at.exception, at.exception
    box = at.sidebar.text_area(key=Key.BIAS_TEXT)
    assert box.value == "0 -inf 0\n0 0 -1\n-1 -2 0"
    weights = decode(chart(at, "softmax weights")["data"][0]["z"])
    assert weights[0, 1] == 0 and weights[0, 0] > 0                          # −inf in the bias: a mask
    assert "there the bias is a mask" in said(at)
    box.input("0 1\n2").run()
    assert not at.exception
    assert "must be square" in " ".join(e.value for e in at.sidebar.error)
    assert at.session_state[Key.BIAS_MATRIX] == "0,-inf,0;0,0,-1;-1,-2,0"    # the last good matrix is kept


def test_a_typed_bias_of_another_size_is_named_and_left_out():
    at = fresh(tokens="a b c", bias="typed", biasm="0,-1;-1,0").run()
    assert "The typed bias is 2×2 but the sequences have 3 tokens" in said(at)
    at = fresh(tokens="a b c", bias="typed").run()
    assert "No bias matrix is typed yet" in said(at)
