"""masks.verdicts: left padding + causal, packing without a document mask, the window off-by-one."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from maskattn import MaskAttnError, MaskSpec, attention_steps, embed, project_qkv, tokenize
from maskattn.masks import (create_sliding_window_mask, cross_document_weight, left_padding_verdict,
                            packing_leak_verdict, window_rule_verdict)
from maskattn.tokens import position_labels
from maskattn.text import spell


def run(batch, spec, row=0, **options):
    """Attention for one row of a tokenized batch under ``spec``, as the Playground computes it."""
    mask = spec.build(batch.ids, segment_ids=batch.segment_ids)
    x = embed(batch.tokens[row:row + 1], 16)[0]                       # (T, d)
    q, k, v = project_qkv(x)
    return mask[row, 0], attention_steps(q, k, v, mask[row, 0], **options)


# --- left padding + causal ------------------------------------------------------------------------

LEFT = tokenize("the cat sat on the mat\nhello world", padding_side="left")
CAUSAL_PADDING = MaskSpec(padding=True, causal=True)


def test_left_padding_and_causal_name_the_first_rows():
    mask, _ = run(LEFT, CAUSAL_PADDING, row=1)
    labels = position_labels(LEFT.tokens[1])
    verdict = left_padding_verdict(LEFT.ids[1], mask, labels=labels)
    assert verdict.startswith("Queries 0 (0·<pad>)–3 (3·<pad>) are left padding and see no key at all")


@pytest.mark.parametrize("options, first_rows, other_rows", [
    (dict(mask_value=float("-inf"), method="fill"), "NaN", "finite"),   # softmax of -inf everywhere: 0/0
    (dict(mask_value=float("-inf")), "NaN", "NaN"),                     # add: 0 * -inf = NaN poisons every row
    (dict(mask_value=-1e9, method="fill"), "uniform", "finite"),        # where(): every logit becomes -1e9
    (dict(mask_value=-1e9), "uniform", "finite"),                       # add: logits of order 1 vanish in -1e9
    (dict(mask_value=-1e9, dtype="float16"), "NaN", "NaN"),             # -1e9 is -inf in float16
])
def test_what_the_fully_masked_first_rows_give(options, first_rows, other_rows):
    """The issue's claim, computed: NaN with -inf, uniform with -1e9."""
    _, steps = run(LEFT, CAUSAL_PADDING, row=1, **options)
    weights = steps.weights.astype(np.float64)
    if first_rows == "NaN":
        assert np.isnan(weights[:4]).all()                              # the four leading pads
    else:
        np.testing.assert_allclose(weights[:4], 1 / 6)
    assert np.isnan(weights[4:]).all() if other_rows == "NaN" else np.isfinite(weights[4:]).all()


@pytest.mark.parametrize("batch, spec, row", [
    (tokenize("the cat sat on the mat\nhello world"), CAUSAL_PADDING, 1),      # right padding
    (LEFT, MaskSpec(padding=True), 1),                                       # no causal mask
    (LEFT, CAUSAL_PADDING, 0),                                               # no pads in this row
    (LEFT, MaskSpec(causal=True), 1),                                        # pads not masked: they see pads
    (LEFT, MaskSpec(padding=True, query_padding=True), 1),                   # stuck, but not by a causal mask
])
def test_no_left_padding_verdict_when_no_row_is_stuck(batch, spec, row):
    mask = spec.build(batch.ids)
    assert left_padding_verdict(batch.ids[row], mask[row, 0]) is None


def test_one_stuck_row_is_singular():
    batch = tokenize("a b c\nd e", padding_side="left")
    verdict = left_padding_verdict(batch.ids[1], CAUSAL_PADDING.build(batch.ids)[1, 0])
    assert verdict.startswith("Query 0 is left padding and sees no key at all: the causal mask lets it see "
                              "only itself")


# --- packing without a document mask ----------------------------------------------------------------

PACKED = tokenize("the cat sat\nhello world\na b c d", packed=True, length=11)


def loop_cross_weight(weights, seg):
    return [0.0 if seg[i] == 0 else sum(weights[i, j] for j in range(len(seg)) if seg[j] not in (0, seg[i]))
            for i in range(len(seg))]


def test_cross_document_weight_matches_a_loop():
    _, steps = run(PACKED, MaskSpec(padding=True, causal=True))
    w = steps.weights.astype(np.float64)
    seg = PACKED.segment_ids[0]
    crossing = cross_document_weight(w, seg)
    np.testing.assert_allclose(crossing, loop_cross_weight(w, seg), rtol=1e-12)
    assert np.all(crossing[seg == 1] == 0)                 # causal: the first document sees nothing else
    assert np.all(crossing[seg > 1] > 0)                   # every later query leaks into earlier ones


def test_the_leak_verdict_quotes_the_worst_query():
    _, steps = run(PACKED, MaskSpec(padding=True, causal=True))
    seg = PACKED.segment_ids[0]
    crossing = cross_document_weight(steps.weights, seg)
    worst = int(np.argmax(crossing))
    labels = position_labels(PACKED.tokens[0])
    verdict = packing_leak_verdict(steps.weights, seg, labels)
    assert verdict.startswith(f"Packed without a document mask, {int((crossing > 0).sum())} of 9 queries")
    worst_weight = spell(crossing[worst], digits=3)
    assert f"query {worst} ({labels[worst]}) of document {seg[worst]} puts {worst_weight}" in verdict


def test_a_document_mask_stops_the_leak_exactly():
    _, steps = run(PACKED, MaskSpec(padding=True, causal=True, segments=True))
    assert not cross_document_weight(steps.weights, PACKED.segment_ids[0]).any()
    assert packing_leak_verdict(steps.weights, PACKED.segment_ids[0]).startswith("No weight crosses documents")


def test_nan_weights_and_single_documents():
    _, steps = run(PACKED, MaskSpec(padding=True, causal=True), dtype="float16")   # -1e9 -> -inf: NaN
    assert "NaN" in packing_leak_verdict(steps.weights, PACKED.segment_ids[0])
    assert packing_leak_verdict(np.full((3, 3), 1 / 3), [1, 1, 0]) is None


# --- the sliding window off-by-one ------------------------------------------------------------------

def test_window_verdict_names_the_key_the_counts_differ_on():
    labels = position_labels("a b c d e f g h i j k l".split())
    verdict = window_rule_verdict(12, 3, labels)
    differ = np.argwhere(create_sliding_window_mask(12, 3) != create_sliding_window_mask(12, 3, "distance"))
    i, j = differ[-1]
    assert (i, j) == (11, 8)
    assert f"from query 3 on ({len(differ)} cells)" in verdict
    assert f"query {i} ({labels[i]}) sees 9 (9·j)–11 (11·l)" in verdict
    assert f"it also sees key {j} ({labels[j]})" in verdict


def test_window_verdict_when_the_counts_agree():
    assert "both counts" in window_rule_verdict(3, 5)


@pytest.mark.parametrize("call, match", [
    (lambda: left_padding_verdict([0, 1], np.zeros((3, 3))), r"shapes \(2,\) and \(3, 3\)"),
    (lambda: left_padding_verdict([0, 1], np.zeros((2, 2)), labels=["a"]), "name the 2 tokens, got 1"),
    (lambda: cross_document_weight(np.zeros((3, 3)), [1, 2]), r"shapes \(3, 3\) and \(2,\)"),
    (lambda: packing_leak_verdict(np.zeros((2, 2)), [[1, 2]]), r"one packed row \(T,\), got shape \(1, 2\)"),
    (lambda: packing_leak_verdict(np.zeros((2, 2)), [1, 2.5]), "integers, got 2.5"),
    (lambda: window_rule_verdict(4, 0), "window must be an integer >= 1, got 0"),
])
def test_bad_input_names_the_value(call, match):
    with pytest.raises(MaskAttnError, match=match):
        call()


_junk = st.one_of(st.none(), st.integers(-3, 9), st.floats(allow_nan=True), st.text(max_size=4),
                  st.lists(st.integers(-1, 3), max_size=5),
                  st.lists(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=4), max_size=4))


@settings(max_examples=150, deadline=None)
@given(_junk, _junk, st.none() | st.lists(st.text(max_size=3), max_size=5), st.integers(-2, 6), st.integers(-2, 6))
def test_hostile_input_gives_a_verdict_or_a_clear_message(a, b, labels, size, window):
    for call in (lambda: left_padding_verdict(a, b, labels=labels), lambda: cross_document_weight(a, b),
                 lambda: packing_leak_verdict(a, b, labels), lambda: window_rule_verdict(size, window, labels)):
        try:
            result = call()
        except MaskAttnError:
            continue
        assert result is None or isinstance(result, (str, np.ndarray))
