"""pipeline + explain: the Playground's numbers and the sentences built from them."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import maskattn.pipeline as pipeline
from maskattn import MaskAttnError, scaled_dot_product_attention
from maskattn.explain import (classify_row, left_padding_line, packing_line, prefix_line, row_table, verdicts,
                              window_line)
from maskattn.pipeline import compute
from maskattn.state import Inputs
from maskattn.text import spell


def test_default_shows_a_padded_batch():
    r = compute(Inputs())
    assert len(r.batch.tokens) >= 2 and r.batch.pad_token in r.tokens
    assert r.mask_active and r.steps.weights.shape == (len(r.labels),) * 2
    assert (r.leaked == 0).all()
    np.testing.assert_allclose(r.row_sums, 1, atol=1e-6)


def test_pipeline_equals_the_public_function_on_its_own_q_k_v():
    """The page's weights are exactly what the tutorial-contract function gives for the same Q, K, V."""
    for s in (Inputs(), Inputs(causal=True, dtype="bfloat16"), Inputs(method="fill", dtype="float16")):
        r = compute(s)
        out, w = scaled_dot_product_attention(r.q, r.k, r.v, r.mask, mask_value=s.mask_value,
                                              dtype=s.dtype, method=s.method)
        np.testing.assert_array_equal(w.astype(float), r.steps.weights.astype(float))
        np.testing.assert_array_equal(out.astype(float), r.steps.output.astype(float))


def test_causal_plus_padding_is_the_tutorials_maximum():
    r = compute(Inputs(causal=True))
    T = len(r.labels)
    real = r.batch.lengths[0]
    expected = np.maximum(np.triu(np.ones((T, T)), 1), (np.arange(T) >= real)[None, :])
    np.testing.assert_array_equal(r.mask, expected)


def test_sequence_out_of_range_falls_back_with_notice():
    r = compute(Inputs(sequence=7))
    assert r.sequence == 0 and "does not exist" in r.notices[-1]


def test_bad_text_raises():
    with pytest.raises(MaskAttnError):
        compute(Inputs(text=" "))


def test_verdict_float16_names_the_cause():
    text = " ".join(verdicts(compute(Inputs(dtype="float16"))))
    assert "-inf" in text and "0 x -inf = NaN" in text and "65504" in text


def test_verdict_exact_zero_uses_real_numbers():
    r = compute(Inputs())
    line = next(v for v in verdicts(r) if "exactly 0" in v)
    masked_row = int(np.flatnonzero((r.mask == 1).any(-1) & ~(r.mask == 1).all(-1))[0])
    assert r.labels[masked_row] in line
    assert spell(r.steps.row_max[masked_row, 0], digits=6) in line and "-103.97" in line


def test_verdict_leak_for_small_constant():
    r = compute(Inputs(constant="-1"))
    line = next(v for v in verdicts(r) if "leaks" in v)
    worst = int(np.nanargmax(r.leaked))
    assert r.labels[worst] in line and spell(r.leaked[worst], digits=3) in line


@pytest.mark.parametrize("settings, kind", [
    (Inputs(mask_queries=True), "uniform"),
    (Inputs(mask_queries=True, method="fill"), "uniform"),
    (Inputs(mask_queries=True, method="safe"), "zeros"),
    (Inputs(mask_queries=True, dtype="float64"), "unmasked softmax"),
    (Inputs(mask_queries=True, method="fill", constant="-inf"), "NaN"),
])
def test_fully_masked_rows_are_classified(settings, kind):
    r = compute(settings)
    rows = np.flatnonzero(r.fully_masked)
    assert rows.size
    statuses = {rec["status"] for rec in row_table(r) if rec["masked keys"] == len(r.labels)}
    assert statuses == {"NaN"} if kind == "NaN" else statuses == {f"fully masked: {kind}"}
    assert any(kind in v for v in verdicts(r))


def test_classify_row():
    assert classify_row([math.nan, 0.5]) == "NaN"
    assert classify_row([0.0, 0.0]) == "zeros"
    assert classify_row([0.5, 0.5]) == "uniform"
    assert classify_row([0.2, 0.8], [0.2, 0.8]) == "unmasked softmax"
    assert classify_row([1.6e-28, 1.0]) == "near one-hot"
    assert classify_row([0.3, 0.7]) == "other"


def test_positive_constant_is_flagged():
    r = compute(Inputs(constant="custom", custom_constant=3.0))
    assert any("positive" in v for v in verdicts(r))


def test_no_mask_sentence():
    assert any("No mask is on" in v for v in verdicts(compute(Inputs(padding=False))))


def test_multiply_weights_rows_do_not_sum_to_one():
    r = compute(Inputs(method="multiply_weights"))
    assert any(rec["status"] == "does not sum to 1" for rec in row_table(r))


# --- issue 13: the mask is built by one MaskSpec; the new masks and their verdicts -------------------



def reference_mask(r) -> np.ndarray:
    """The result's mask cell by cell from each rule, without maskattn.masks (1 = blocked)."""
    s, tokens = r.inputs, r.tokens
    seg = r.batch.segment_ids[r.sequence]
    T = len(tokens)
    pad = [t == r.batch.pad_token for t in tokens]
    P = min(s.prefix_length, T)
    reach = s.window - 1 if s.window_rule == "keys" else s.window
    drawn = [[int(c) for c in row] for row in s.drawn.split("-")] if s.drawn else None
    causal = s.causal or s.window or s.prefix_length

    def blocked(i, j):
        return bool((s.padding and pad[j]) or (s.mask_queries and pad[i])
                    or (causal and j > i and not (P and j < P))
                    or (s.window and i - j > reach)
                    or (s.packed and s.document_mask and seg[i] != seg[j])
                    or (drawn and len(drawn) == T and drawn[i][j]))
    return np.array([[blocked(i, j) for j in range(T)] for i in range(T)], dtype=np.float32)


def test_build_mask_is_gone_and_compute_uses_the_fitted_spec():
    assert not hasattr(pipeline, "build_mask")
    s = Inputs(causal=True, window=2, packed=True, document_mask=True)
    r = compute(s)
    spec, _ = pipeline.fitted_spec(s, len(r.labels))
    assert r.spec == spec
    np.testing.assert_array_equal(r.mask, spec.build(r.batch.ids, segment_ids=r.batch.segment_ids)[0, 0])


_TEXTS = st.sampled_from(["the cat sat\nthe dog chased the cat home\nbirds sing", "a b c d e f g h",
                          "x\ny y\nz z z", "<pad> a\nb <pad> c"])


@settings(max_examples=60, deadline=None)
@given(text=_TEXTS, fields_=st.fixed_dictionaries({
    "padding": st.booleans(), "mask_queries": st.booleans(), "causal": st.booleans(),
    "padding_side": st.sampled_from(["right", "left"]), "window": st.integers(0, 5),
    "window_rule": st.sampled_from(["keys", "distance"]), "prefix_length": st.integers(0, 10),
    "packed": st.booleans(), "document_mask": st.booleans(), "sequence": st.integers(0, 3),
    "drawn": st.sampled_from(["", "001-100-010", "0110-1001-0000-1111"]),
}))
def test_every_combination_matches_the_rules_cell_by_cell(text, fields_):
    r = compute(Inputs(text=text, **fields_))
    np.testing.assert_array_equal(r.mask, reference_mask(r))
    w = r.steps.weights.astype(np.float64)
    partly = (r.mask == 1).any(-1) & ~(r.mask == 1).all(-1)
    assert np.all(w[partly][r.mask[partly] == 1] == 0.0)        # -1e9 in float32: masked keys get exactly 0
    assert r.has_mask == bool(r.spec.parts(r.batch.ids, segment_ids=r.batch.segment_ids))


def test_left_padding_pads_first_and_packing_makes_one_row():
    r = compute(Inputs(padding_side="left", sequence=2))
    assert r.tokens == ("<pad>",) * 4 + ("birds", "sing")
    r = compute(Inputs(packed=True))
    assert r.batch.shape == (1, 11) and r.batch.segment_ids[0].tolist() == [1] * 3 + [2] * 6 + [3] * 2


def test_a_prefix_longer_than_the_tokens_is_cut_with_a_notice():
    r = compute(Inputs(text="a b c", prefix_length=9))
    assert r.spec.prefix_length == 3 and not r.mask.any()
    assert any("prefix of 9" in n and "cut to 3" in n for n in r.notices)


def test_a_drawn_mask_of_another_size_is_left_out_with_a_notice():
    r = compute(Inputs(text="a b c d", padding=False, drawn="001-100-010"))
    assert r.spec.drawn is None and not r.has_mask
    assert any("3×3" in n and "4 tokens" in n for n in r.notices)
    r = compute(Inputs(text="a b c", padding=False, drawn="001-100-010"))
    np.testing.assert_array_equal(r.mask, [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    assert r.notices == ()


def test_left_padding_verdict_names_the_stuck_rows_and_what_each_method_gives():
    r = compute(Inputs(padding_side="left", causal=True, sequence=2))
    line = left_padding_line(r)
    assert "Queries 0 (<pad>)–3 (<pad>) are left padding" in line
    # float16 add: -1e9 is -inf, 0 x -inf = NaN; safe softmax: zeros (NUMERICS.md)
    assert "add gives NaN (float16)" in line and "safe gives zeros in every dtype" in line
    assert line in verdicts(r)
    assert left_padding_line(compute(Inputs(causal=True))) is None       # right padding: no stuck rows


def test_packing_verdict_quotes_the_weight_that_crosses_documents():
    r = compute(Inputs(packed=True, causal=True, document_mask=False))
    seg = r.batch.segment_ids[0]
    w = r.steps.weights.astype(np.float64)
    crossing = np.array([w[i, seg != seg[i]].sum() for i in range(len(seg))])   # independent of the verdict
    line = packing_line(r)
    assert spell(crossing.max(), digits=3) in line and "document mask" in line
    assert "No weight crosses" in packing_line(compute(Inputs(packed=True, causal=True)))
    assert packing_line(compute(Inputs())) is None


def test_window_verdict_quotes_the_other_counts_weight():
    r = compute(Inputs(text="a b c d e f", padding=False, window=2))
    line = window_line(r)
    other = compute(Inputs(text="a b c d e f", padding=False, window=2, window_rule="distance"))
    differ = np.argwhere(other.mask != r.mask)
    assert differ.tolist() == [[2, 0], [3, 1], [4, 2], [5, 3]]            # key i - 2, from query 2 on
    w_other = other.steps.weights.astype(np.float64)
    i, j = max(differ.tolist(), key=lambda c: w_other[c[0], c[1]])
    assert f"query {r.labels[i]} would give key {r.labels[j]} a weight of {spell(w_other[i, j], digits=3)}" in line
    assert window_line(compute(Inputs())) is None


def test_prefix_verdict_counts_the_keys_ahead():
    r = compute(Inputs(text="a b c d e", padding=False, prefix_length=3))
    assert "query 0·a sees 2 keys after it" in prefix_line(r)
    assert prefix_line(compute(Inputs(text="a b", prefix_length=2))) is None    # the prefix is everything
