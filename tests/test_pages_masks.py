"""The sidebar's new mask controls and the Masks page through Streamlit's AppTest.

AppTest 1.67 keeps the frame's sidebar widgets only on the first run, so each sidebar test sets
its state through the URL (which also tests URL -> widgets) and changes one control at most.
Chart clicks cannot be made in AppTest: tests/browser/test_masks_browser.py clicks a cell.
"""

import json
import math
from urllib.parse import parse_qsl

import numpy as np
import pytest
from apptest_helpers import AppTest   # with Streamlit's Keras clean-up skipped (apptest_helpers)

from apptest_helpers import chart, decode, fresh

from maskattn.broadcast import broadcast_masks, shape_table
from maskattn.masks import compact_mask
from maskattn.pipeline import compute
from maskattn.presets import get_preset
from maskattn.state import Inputs
from maskattn.ui import Key

SEED = [[0, 0, 1], [1, 0, 0], [0, 1, 0]]


def open_masks(**query) -> AppTest:
    at = fresh(**query).run()
    assert not at.exception, at.exception
    at.switch_page("pages/masks.py").run()
    assert not at.exception, at.exception
    return at


def said(at) -> str:
    return " ".join(m.value.replace("\\", "") for m in [*at.markdown, *at.caption])


def titles(at) -> list[str]:
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


def mask_chart(at) -> np.ndarray:
    return decode(chart(at, "mask (1 = blocked)")["data"][0]["z"])


# --- the sidebar -------------------------------------------------------------------------------------

def test_every_new_control_reads_the_url():
    at = fresh(padside="left", window="3", wrule="distance", prefix="2", packed="1", docmask="0").run()
    assert not at.exception
    sb = at.sidebar
    assert sb.segmented_control(key="padding_side").value == "left"
    assert sb.number_input(key="window").value == 3 and sb.number_input(key="prefix_length").value == 2
    assert sb.segmented_control(key="window_rule").value == "distance"
    assert sb.toggle(key="packed").value is True and sb.toggle(key="document_mask").value is False
    inputs = Inputs(padding_side="left", window=3, window_rule="distance", prefix_length=2, packed=True,
                    document_mask=False)
    np.testing.assert_array_equal(mask_chart(at), compute(inputs).mask)


def test_dependent_controls_appear_only_when_needed():
    at = fresh().run()
    keys = {w.key for w in [*at.sidebar.segmented_control, *at.sidebar.toggle]}
    assert "window_rule" not in keys and "document_mask" not in keys       # no window, not packed
    assert {"padding_side", "packed"} <= keys


@pytest.mark.parametrize("key, value, inputs", [
    ("padding_side", "left", Inputs(padding_side="left")),
    ("window", 2, Inputs(window=2)),
    ("prefix_length", 2, Inputs(prefix_length=2)),
    ("packed", True, Inputs(packed=True)),
])
def test_each_new_control_changes_the_playgrounds_mask(key, value, inputs):
    at = fresh().run()
    kind = {"padding_side": "segmented_control", "window": "number_input", "prefix_length": "number_input",
            "packed": "toggle"}[key]
    getattr(at.sidebar, kind)(key=key).set_value(value)
    at.run()
    assert not at.exception
    expected = compute(inputs)
    np.testing.assert_array_equal(mask_chart(at), expected.mask)
    assert not np.array_equal(expected.mask, compute(Inputs()).mask)


def test_a_drawn_mask_in_the_link_applies_to_the_playground_and_can_be_removed():
    at = fresh(tokens="the cat sat", padding="0", drawn=compact_mask(SEED)).run()
    assert not at.exception
    np.testing.assert_array_equal(mask_chart(at), SEED)
    assert any("3×3 mask drawn on the Masks page is on" in c.value for c in at.sidebar.caption)
    next(b for b in at.sidebar.button if b.label == "Remove the drawn mask").click()
    at.run()
    assert at.session_state[Key.DRAWN] == ""
    assert "mask: none is on" in titles(at)


def test_a_drawn_mask_of_the_wrong_size_is_explained_not_raised():
    at = fresh(drawn=compact_mask(SEED)).run()                       # the default text has 6 tokens
    assert not at.exception and not at.error
    assert any("3×3 but the sequences have 6 tokens" in i.value for i in at.info)


# --- the Masks page ------------------------------------------------------------------------------------

def test_the_page_has_its_four_sections_and_a_clickable_mask():
    at = open_masks(causal="1")
    assert [h.value for h in at.header] == ["Draw your own mask", "How masks broadcast", "Where these masks go wrong",
                                            "A mask is a bias of −∞"]
    spec = chart(at, "your mask (1 = blocked): click a cell to toggle it")
    markers = [t for t in spec["data"] if t["type"] == "scatter" and t.get("mode") == "markers"
               and len(t["x"]) == 36]
    assert markers, "one invisible marker per cell, so a click reaches Python"
    assert "Query 0 (the) sees all 6 keys." in said(at)


def test_typing_the_seeds_matrix_draws_it_and_explains_it():
    at = open_masks()
    at.text_area(key=Key.DRAWN_TEXT).input("[0 0 1; 1 0 0; 0 1 0]")
    next(b for b in at.button if b.label == "Use this mask").click()
    at.run()
    assert not at.exception
    assert at.session_state[Key.DRAWN] == "001-100-010"
    text = said(at)
    assert "No named pattern" in text and "Query 0 sees 2 of 3 keys: 0, 1; blocked: 2." in text
    assert any("3×3 but the sequence on view has 6 tokens" in w.value for w in at.warning)
    # one click makes it fit: cut or widened with open cells
    next(b for b in at.button if b.label.startswith("Make it 6×6")).click()
    at.run()
    assert at.session_state[Key.DRAWN] == compact_mask(np.pad(SEED, (0, 3)))
    assert any("Applied in the Playground" in s.value for s in at.success)


def test_a_bad_typed_matrix_names_the_bad_cell_and_keeps_the_mask():
    at = open_masks(drawn="-".join(["0" * 6] * 6))
    at.text_area(key=Key.DRAWN_TEXT).input("0 1\n2 0")
    next(b for b in at.button if b.label == "Use this mask").click()
    at.run()
    assert not at.exception
    assert any("got '2' at row 2, column 1" in e.value for e in at.error)
    assert at.session_state[Key.DRAWN] == "-".join(["0" * 6] * 6)


def test_starting_from_the_playgrounds_mask_copies_it():
    at = open_masks(causal="1")
    next(b for b in at.button if b.label == "Start from the Playground's mask").click()
    at.run()
    assert at.session_state[Key.DRAWN] == compact_mask(compute(Inputs(causal=True)).mask.astype(int))


def test_row_by_row_editing_blocks_the_chosen_keys():
    at = open_masks(tokens="a b c", padding="0")
    at.session_state[Key.OPEN_DRAWN_ROWS] = True                      # what a click on the expander does
    at.run()
    boxes = [m for m in at.multiselect if m.label.startswith("Query")]
    assert [m.label for m in boxes] == ["Query 0·a may not see", "Query 1·b may not see", "Query 2·c may not see"]
    boxes[0].set_value([1, 2])
    at.run()
    assert not at.exception
    assert at.session_state[Key.DRAWN] == "011-000-000"
    np.testing.assert_array_equal(compute(Inputs(text="a b c", padding=False, drawn="011-000-000")).mask,
                                  [[0, 1, 1], [0, 0, 0], [0, 0, 0]])


def test_the_broadcasting_view_shows_the_shapes_and_a_grid_of_sequences_and_heads():
    at = open_masks(causal="1")
    assert at.code[0].value == shape_table(broadcast_masks(Inputs(causal=True), 2))
    names = titles(at)
    assert "padding (B, 1, 1, Tk)" in names and "look-ahead (Tq, Tk)" in names
    heads = [n for n in names if n.startswith("sequence ") and ", head " in n]
    assert len(heads) == 3 * 2 and sum(n.startswith("mask[") for n in names) == 3
    # every head of a sequence carries the same outline: the (B, 1, Tq, Tk) mask copied across H
    outlines = {n: chart(at, n)["layout"]["shapes"][1]["path"] for n in heads}
    assert outlines["sequence 1, head 1"] == outlines["sequence 1, head 2"]
    assert outlines["sequence 1, head 1"] != outlines["sequence 2, head 1"]
    at.segmented_control(key=Key.HEADS).set_value(4)
    at.run()
    assert not at.exception
    assert sum(", head " in n for n in titles(at)) == 3 * 4
    assert "(3, 4, 6, 6)" in at.code[0].value


def test_the_failure_cases_quote_their_numbers():
    at = open_masks()
    text = said(at)
    assert "Queries 0 (<pad>)–3 (<pad>) are left padding and see no key at all" in text   # "birds sing", 4 pads
    assert "Packed without a document mask" in text and "With the document mask every one of them is exactly 0" in text
    assert "The two counts differ on one key per query from query 3 on" in text


def test_open_in_the_playground_loads_the_case():
    at = open_masks()
    next(b for b in at.button if b.key == "open-left-padding").click()
    at.run()
    assert not at.exception
    assert at.session_state["padding_side"] == "left" and at.session_state["causal"] is True
    assert at.session_state["sequence"] == 2                         # the shortest line has the most pads


def test_long_sequences_get_the_shapes_and_a_note_instead_of_the_heads():
    at = open_masks(tokens=" ".join(["w"] * 40))
    assert not at.exception
    assert any("only the shapes are shown" in i.value for i in at.info)
    assert "(1, 2, 40, 40)" in at.code[0].value


def test_a_drawn_mask_of_the_wrong_size_is_said_once_with_its_fix():
    at = fresh(drawn="-".join(["0" * 40] * 40)).run()
    at.switch_page("pages/masks.py").run()
    assert not at.exception
    said = [e.value for e in list(at.warning) + list(at.info) + list(at.error) if "40×40" in e.value]
    assert len(said) == 1 and "6 tokens" in said[0], said
    assert any(b.label.startswith("Make it 6×6") for b in at.button)


# --- a mask is a bias of −∞ -----------------------------------------------------------------------------------------

def test_the_bias_slider_moves_one_key_from_a_tilt_to_a_mask():
    at = open_masks(tokens="the quick brown fox jumps", causal="1")
    slider = at.select_slider(key=Key.BIAS_STEP)
    assert slider.value == -10.0 and len(slider.options) == 9
    assert "weights: no bias vs −10 on key" in " ".join(titles(at))
    table = next(df.value for df in at.dataframe if "bias" in df.value.columns)
    assert list(table.columns) == ["bias", "float16", "bfloat16", "float32", "float64"]
    assert table.set_index("bias").loc["−1e9", "float32"] == "exactly 0"     # −1e9 is a mask in float32
    assert table.set_index("bias").loc["−10", "float32"] != "exactly 0"     # −10 only shrinks the key
    assert "the bias has become a mask" in said(at)
    slider.set_value(-math.inf).run()
    assert not at.exception
    assert "weights: no bias vs −inf on key" in " ".join(titles(at))
    spec = chart(at, next(t for t in titles(at) if t.startswith("weights: no bias vs")))
    key = spec["data"][1]["customdata"]
    assert "exactly 0" in key                                                # the biased key: weight exactly 0


def test_alibi_heads_are_drawn_side_by_side_and_follow_the_mask():
    at = open_masks(tokens="a b c d e f", causal="1")
    heads = [t for t in titles(at) if t.startswith("head ")]
    assert heads == ["head 1: m = 0.5", "head 3: m = 0.125", "head 8: m = 0.00391"]
    assert "−m·(i − j)" in said(at)
    at = open_masks(tokens="a b c d e f")                                   # not causal: the symmetric form
    assert "symmetric form −m·|i − j|" in said(at)


def test_the_mask_is_bias_preset_opens_here_with_its_story():
    link = get_preset("mask-is-bias").link
    assert link.startswith("masks?")
    at = open_masks(**dict(parse_qsl(link.split("?", 1)[1])))
    assert any(m.value.startswith("**A mask is a bias of −∞**") for m in at.markdown)


def test_one_token_says_why_a_bias_cannot_show_anything():
    at = open_masks(tokens="alone")
    assert not at.exception
    assert any("one key" in i.value for i in at.info)
