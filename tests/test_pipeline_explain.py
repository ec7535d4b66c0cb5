"""pipeline + explain: the Playground's numbers and the sentences built from them."""

import math
from dataclasses import replace

import numpy as np
import pytest

from maskattn import MaskAttnError, scaled_dot_product_attention
from maskattn.explain import classify_row, fmt, row_table, verdicts
from maskattn.pipeline import compute
from maskattn.state import Inputs


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
    assert fmt(r.steps.row_max[masked_row, 0]) in line and "-103.97" in line


def test_verdict_leak_for_small_constant():
    r = compute(Inputs(constant="-1"))
    line = next(v for v in verdicts(r) if "leaks" in v)
    worst = int(np.nanargmax(r.leaked))
    assert r.labels[worst] in line and fmt(r.leaked[worst], 3) in line


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
