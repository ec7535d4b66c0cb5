"""conventions: converters on the frameworks' shapes, polarity checks, fully masked rows, KV-cache causal masks.

Expectations come from NUMERICS.md (Conventions, Fully masked rows) and from
independent NumPy computations, never from the converters themselves.
"""

import math

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from maskattn import conventions as cv, frameworks
from maskattn import numerics as nx
from maskattn.errors import MaskAttnError
from maskattn.masks import MaskSpec, combine_masks, create_look_ahead_mask, create_padding_mask

SEQ = np.array([[7, 6, 0, 0], [1, 2, 3, 0]])                       # (B=2, T=4), pad id 0
PAD = create_padding_mask(SEQ)                                      # (2, 1, 1, 4)
LOOK = create_look_ahead_mask(4)                                    # (4, 4)
COMBINED = combine_masks(PAD, LOOK)                                 # (2, 1, 4, 4)

masks01 = hnp.arrays(np.float32, hnp.array_shapes(min_dims=2, max_dims=4, max_side=5),
                     elements=st.sampled_from([0.0, 1.0]))


def softmax64(z):
    """Reference softmax in float64 over the last axis (independent of maskattn)."""
    z = np.asarray(z, np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# --- the table, generated from the registry -------------------------------------------------------

def test_table_has_one_row_per_framework_and_polarities_match_numerics_md():
    # NUMERICS.md, Conventions: 1 = blocked only in the TF tutorial and nn.MultiheadAttention
    polarity = {fw.key: fw.convention.one_means for fw in frameworks.all_frameworks()}
    assert {k for k, v in polarity.items() if v == "blocked"} == {"tf_tutorial", "torch_mha"}
    assert polarity["torch_sdpa_float"] == "added"
    rows = cv.conventions_table("bfloat16")
    assert len(rows) == len(frameworks.keys()) and all(row["source"] for row in rows)
    assert "constant in bfloat16" in rows[0] and rows[0]["constant in bfloat16"] == "-998244352 (bfloat16)"


def test_unknown_framework_names_the_value():
    with pytest.raises(MaskAttnError, match="'pytorch'"):
        cv.from_convention([[1]], "pytorch")


# --- converters on the frameworks' shapes ----------------------------------------------------------

def test_sdpa_bool_is_the_logical_not_and_keeps_broadcast_shapes():
    assert cv.to_sdpa_bool(PAD).shape == (2, 1, 1, 4)
    assert cv.to_sdpa_bool(PAD)[0, 0, 0].tolist() == [True, True, False, False]
    assert cv.to_sdpa_bool(LOOK).tolist()[0] == [True, False, False, False]   # query 0 sees key 0 only


def test_combining_with_maximum_equals_logical_and_of_attend_masks():
    # the tutorial's tf.maximum of "blocked" is the AND of "attend" (De Morgan)
    attend = cv.to_attend_bool(PAD) & cv.to_attend_bool(LOOK)                  # (2, 1, 4, 4)
    assert np.array_equal(attend, cv.to_attend_bool(COMBINED))


def test_mha_masks_are_true_where_blocked_with_the_layer_shapes():
    kpm = cv.to_mha_key_padding_mask(PAD)
    assert kpm.shape == (2, 4) and kpm.dtype == bool
    assert kpm.tolist() == [[False, False, True, True], [False, False, False, True]]
    assert cv.to_mha_attn_mask(LOOK).tolist()[0] == [False, True, True, True]
    assert cv.to_mha_attn_mask(COMBINED).shape == (2, 4, 4)                    # (B·H, Tq, Tk)
    with pytest.raises(MaskAttnError, match=r"\(4,\)"):
        cv.to_mha_attn_mask(np.zeros(4))


def test_hugging_face_2d_and_4d():
    am = cv.to_hf_attention_mask(PAD)
    assert am.dtype == np.int64 and am.tolist() == [[1, 1, 0, 0], [1, 1, 1, 0]]
    assert np.array_equal(cv.from_hf_attention_mask(am), PAD)
    for dtype, minimum in (("float16", -65504.0), ("bfloat16", float(ml_dtypes.finfo(ml_dtypes.bfloat16).min)),
                           ("float32", float(np.finfo(np.float32).min))):
        four = cv.to_hf_4d(COMBINED, dtype)
        assert four.shape == (2, 1, 4, 4) and four.dtype.name == dtype
        wide = four.astype(np.float64)
        assert set(np.unique(wide)) == {0.0, minimum}
        # a cell blocked by both padding and causal is min once, never min + min = -inf (PR #17306)
        assert wide[0, 0, 0, 3] == minimum and np.isfinite(wide).all()
    assert cv.to_hf_4d(PAD, "float32", num_queries=4).shape == (2, 1, 4, 4)


def test_keras_and_jax_shapes():
    keras = cv.to_keras_attention_mask(PAD, num_queries=4)
    assert keras.shape == (2, 4, 4) and keras.dtype == bool
    assert keras[1, 2].tolist() == [True, True, True, False]
    assert cv.to_jax_mask(LOOK).shape == (1, 1, 4, 4)
    assert cv.to_jax_mask(COMBINED).shape == (2, 1, 4, 4)


def test_additive_masks_use_where_not_multiplication():
    bias = cv.to_sdpa_float(LOOK, "float16")
    assert not np.isnan(bias.astype(np.float64)).any()                 # mask * -inf would put NaN at 0 * -inf
    with np.errstate(invalid="ignore"):
        assert np.isnan(LOOK.astype(np.float16) * np.float16(-np.inf)).any()   # the trap it avoids
    assert bias.astype(np.float64)[0].tolist() == [0.0, -math.inf, -math.inf, -math.inf]
    with pytest.raises(MaskAttnError, match="5.0"):
        cv.to_additive(LOOK, "float32", constant=5.0)


@settings(max_examples=60, deadline=None)
@given(masks01, st.sampled_from(frameworks.keys()), st.sampled_from(["float16", "bfloat16", "float32"]))
def test_every_convention_round_trips(mask, key, dtype):
    values = frameworks.get(key).convention.to_library(mask, dtype)
    assert values.shape == mask.shape
    assert np.array_equal(cv.from_convention(values, key), mask)


@settings(max_examples=40, deadline=None)
@given(masks01)
def test_attend_and_blocked_bools_are_complements(mask):
    assert np.array_equal(cv.to_attend_bool(mask), ~cv.to_blocked_bool(mask))


@pytest.mark.parametrize("bad", [[[0.0, 2.0]], [[0.5, 1.0]], [["a", "b"]]])
def test_converters_refuse_non_binary_masks(bad):
    with pytest.raises(MaskAttnError):
        cv.to_sdpa_bool(bad)


def test_from_additive_refuses_positive_and_nan():
    with pytest.raises(MaskAttnError, match="1.0"):
        cv.from_additive([[0.0, 1.0]])
    with pytest.raises(MaskAttnError, match="nan"):
        cv.from_additive([[float("nan")]])


# --- polarity check ------------------------------------------------------------------------------

@pytest.mark.parametrize("source", cv.polarity_sources())
@pytest.mark.parametrize("target", frameworks.keys())
def test_polarity_is_ok_exactly_when_both_read_one_the_same_way(source, target):
    written = np.array([[1, 0, 1], [0, 0, 1]])
    check = cv.check_polarity(written, source, target)
    reads = frameworks.get(target).convention.one_means
    same = frameworks.get(source).convention.one_means == reads
    assert check.ok is same
    if reads == "added":
        assert check.seen is None and check.bias.tolist() == written.tolist()
    elif same:
        assert np.array_equal(check.seen, check.meant)
    else:
        assert np.array_equal(check.seen, 1 - check.meant)                 # exactly inverted
        assert "Inverted" in check.message


def test_sdpa_mask_into_mha_attends_to_the_future():
    # the classic port: a causal mask built for SDPA (True = attend) handed to nn.MultiheadAttention
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((3, 4, 8))
    attend = np.tril(np.ones((4, 4), bool))
    check = cv.check_polarity(attend, "torch_sdpa", "torch_mha")
    right, wrong = cv.polarity_weights(check, q, k, v, dtype="float64")
    logits = q @ k.T / math.sqrt(8)
    expected = softmax64(np.where(attend, logits, -np.inf))
    assert np.allclose(right, expected, rtol=1e-12)
    assert np.all(np.asarray(wrong)[:3][np.tril_indices(3, -1)] == 0)   # the past is blocked instead
    assert np.isnan(np.asarray(wrong, np.float64)[3]).all()             # the last row has nothing left: NaN (MHA)
    assert np.asarray(wrong, np.float64)[0, 1:].sum() == pytest.approx(1.0)   # the first query sees only the future


def test_float_mask_of_ones_is_added_not_masking():
    rng = np.random.default_rng(1)
    q, k, v = rng.standard_normal((3, 3, 4))
    check = cv.check_polarity([[1, 0, 0]] * 3, "keras3", "torch_sdpa_float")
    _, wrong = cv.polarity_weights(check, q, k, v, dtype="float64")
    logits = q @ k.T / 2.0 + np.array([1.0, 0.0, 0.0])                 # SDPA adds the float mask
    assert np.allclose(wrong, softmax64(logits), rtol=1e-12)
    assert (np.asarray(wrong) > 0).all()                                 # nothing is blocked


@pytest.mark.parametrize("source,target", [("jax", "tf"), ("torch_sdpa_float", "jax")])
def test_polarity_refuses_unknown_names(source, target):
    with pytest.raises(MaskAttnError, match=repr(target if source == "jax" else source)):
        cv.check_polarity([[1]], source, target)


# --- pasted masks --------------------------------------------------------------------------------

def test_parse_mask_text_accepts_printouts():
    torch_print = "tensor([[ True, False],\n        [ True,  True]])"
    assert cv.parse_mask_text(torch_print, (2, 2)).tolist() == [[True, False], [True, True]]
    assert cv.parse_mask_text("1., 0.\n0., 1.", (2, 2)).tolist() == [[True, False], [False, True]]
    assert cv.parse_mask_text(cv.format_mask_text([[1, 0], [0, 0]]), (2, 2)).tolist() == [[True, False],
                                                                                          [False, False]]


@pytest.mark.parametrize("text,match", [("1 0\n0", r"2 rows of 2 values"), ("", "got no rows"),
                                        ("1 x", "'x'"), ("<b>1</b> 0", "'<b>1</b>'")])
def test_parse_mask_text_errors_name_the_problem(text, match):
    with pytest.raises(MaskAttnError, match=match):
        cv.parse_mask_text(text, (2, 2))


# --- fully masked rows (NUMERICS.md, "Fully masked rows have no agreed answer") ---------------------

TUTORIAL_K = np.array([[10, 0, 0], [0, 10, 0], [0, 0, 10], [0, 0, 10]], np.float32)
TUTORIAL_V = np.array([[1, 0], [10, 0], [100, 5], [1000, 6]], np.float32)


def test_fully_masked_rows_on_the_tutorial_example_per_framework_and_dtype():
    q = np.array([[0, 10, 0]], np.float32)
    logits = q.astype(np.float64) @ TUTORIAL_K.T / math.sqrt(3)                 # (1, 4)
    out = {(o.framework, o.dtype): o for o in cv.fully_masked_outcomes(logits, 0)}
    assert len(out) == sum(len(fw.dtypes) for fw in frameworks.all_frameworks())
    tf32 = out["tf_tutorial", "float32"].weights.astype(np.float64)
    assert tf32[1] == pytest.approx(1.0) and tf32[0] == pytest.approx(1.6e-28, rel=0.05)   # nearly one-hot
    assert out["tf_tutorial", "float64"].kind == "unmasked softmax"
    assert np.allclose(out["tf_tutorial", "float64"].weights, softmax64(logits)[0], rtol=1e-9)
    assert out["tf_tutorial", "bfloat16"].kind == "uniform" and out["tf_tutorial", "float16"].kind == "NaN"
    assert out["annotated_transformer", "float32"].weights.tolist() == [0.25] * 4
    assert out["annotated_transformer", "float16"].kind == "raises"
    assert "c10::Half" in out["annotated_transformer", "float16"].reason
    for dtype in nx.DTYPE_NAMES:   # the list, per dtype
        assert out["keras3", dtype].kind == "zeros" and out["keras3_fused", dtype].kind == "uniform"
        assert out["torch_sdpa", dtype].kind == "zeros" and out["torch_mha", dtype].kind == "NaN"
        assert out["hf_sdpa", dtype].kind == "zeros" and out["jax", dtype].kind == "uniform"
    # float16: float16.min / 2 + 57.7 is rounded to a multiple of 16, finfo.min + 57.7 to 32: not uniform
    assert out["keras2", "float16"].weights.tolist() == out["hf_eager", "float16"].weights.tolist() == [0, 1, 0, 0]


def test_fully_masked_outcomes_errors_name_the_value():
    with pytest.raises(MaskAttnError, match="2"):
        cv.fully_masked_outcomes([[1.0, 2.0]], 2)
    with pytest.raises(MaskAttnError, match=r"\(2,\)"):
        cv.fully_masked_outcomes([1.0, 2.0], 0)
    assert cv.with_fully_masked_row(np.zeros((2, 3)), -1).tolist() == [[0, 0, 0], [1, 1, 1]]


# --- causal masks with Tq != Tk --------------------------------------------------------------------

def test_bottom_right_equals_the_last_rows_of_full_causal_attention():
    rng = np.random.default_rng(2)
    q, k, v = rng.standard_normal((3, 7, 8))
    full = softmax64(np.where(np.tril(np.ones((7, 7), bool)), q @ k.T / math.sqrt(8), -np.inf))   # (7, 7)
    for tq in (1, 3, 7):
        cross = cv.kv_cache_attention(q, k, v, tq, align="bottom_right", dtype="float64", method="fill",
                                      mask_value=-math.inf)
        assert cross.query_positions.tolist() == list(range(7 - tq, 7))
        assert np.allclose(cross.steps.weights, full[7 - tq:], rtol=1e-12)
    top = cv.kv_cache_attention(q, k, v, 2, align="top_left", dtype="float64")
    assert top.steps.weights[0].tolist() == [1.0, 0, 0, 0, 0, 0, 0]        # query 5 sees only key 0


def test_kv_cache_key_mask_and_errors():
    x = np.eye(4)
    cross = cv.kv_cache_attention(x, x, x, 2, key_mask=[0, 0, 0, 1])
    assert cross.mask.tolist() == [[0, 0, 0, 1], [0, 0, 0, 1]]
    with pytest.raises(MaskAttnError, match="5"):
        cv.kv_cache_attention(x, x, x, 5)
    with pytest.raises(MaskAttnError, match=r"\(3,\)"):
        cv.kv_cache_attention(x, x, x, 1, key_mask=[0, 0, 1])


def test_a_two_sided_window_is_said_by_a_left_right_setting_only():
    rows = {r["framework"]: r for r in cv.newer_masks_table(MaskSpec(window=3, window_right=2))}
    assert rows[frameworks.get("jax").title]["sliding window"] == "✓ local_window_size=(2, 2)"
    assert rows[frameworks.get("hf_sdpa").title]["sliding window"] == "and_mask_function"   # looks back only: a rule
    with_globals = {r["framework"]: r for r in cv.newer_masks_table(MaskSpec(window=3, window_right=2,
                                                                             global_tokens=(0,)))}
    assert with_globals[frameworks.get("jax").title]["sliding window"] == "bool mask"        # the window as a rule
