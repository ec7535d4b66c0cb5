"""attention: the tutorial's function, faithful numerics in every dtype, and properties."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from maskattn import (DTYPE_NAMES, METHODS, MaskAttnError, attention_steps, create_look_ahead_mask,
                      create_padding_mask, leaked_mass, scaled_dot_product_attention)

# the TensorFlow tutorial's own example (tensorflow/text docs/tutorials/transformer.ipynb)
TEMP_K = np.array([[10, 0, 0], [0, 10, 0], [0, 0, 10], [0, 0, 10]], dtype=np.float32)   # (4, 3)
TEMP_V = np.array([[1, 0], [10, 0], [100, 5], [1000, 6]], dtype=np.float32)              # (4, 2)


@pytest.mark.parametrize("q, weights, output", [
    ([[0, 10, 0]], [[0, 1, 0, 0]], [[10, 0]]),            # aligns with the second key
    ([[0, 0, 10]], [[0, 0, 0.5, 0.5]], [[550, 5.5]]),      # repeated keys share the weight
    ([[10, 10, 0]], [[0.5, 0.5, 0, 0]], [[5.5, 0]]),       # between the first two keys
])
def test_tutorial_published_examples(q, weights, output):
    out, w = scaled_dot_product_attention(np.array(q, np.float32), TEMP_K, TEMP_V)
    assert out.dtype == w.dtype == np.float32
    np.testing.assert_allclose(w, weights, atol=1e-6)      # the tutorial prints with suppress=True
    np.testing.assert_allclose(out, output, atol=1e-4)


def test_tutorial_batch_of_queries():
    temp_q = np.array([[0, 0, 10], [0, 10, 0], [10, 10, 0]], dtype=np.float32)
    out, w = scaled_dot_product_attention(temp_q, TEMP_K, TEMP_V)
    np.testing.assert_allclose(w, [[0, 0, 0.5, 0.5], [0, 1, 0, 0], [0.5, 0.5, 0, 0]], atol=1e-6)
    np.testing.assert_allclose(out, [[550, 5.5], [10, 0], [5.5, 0]], atol=1e-4)


def test_fully_masked_tutorial_row_is_quantized_not_uniform():
    """NUMERICS.md: q=[0,10,0], every key masked, float32: [1.6e-28, 1, 1.6e-28, 1.6e-28]."""
    _, w = scaled_dot_product_attention([[0, 10, 0]], TEMP_K, TEMP_V, mask=np.ones((1, 4)))
    np.testing.assert_allclose(w, [[1.6e-28, 1, 1.6e-28, 1.6e-28]], rtol=0.01)
    # the reason: 57.735 is added to -1e9 and rounds to a multiple of 64
    assert math.exp(-64) == pytest.approx(1.6e-28, rel=0.01)


@pytest.mark.parametrize("dtype, expect", [
    ("float16", "nan"), ("bfloat16", "uniform"), ("float64", "unmasked")])
def test_fully_masked_tutorial_row_other_dtypes(dtype, expect):
    mask = np.ones((1, 4))
    _, w = scaled_dot_product_attention([[0, 10, 0]], TEMP_K, TEMP_V, mask=mask, dtype=dtype)
    w = w.astype(np.float64)
    if expect == "nan":
        assert np.isnan(w).all()
    elif expect == "uniform":
        np.testing.assert_allclose(w, 0.25)
    else:
        _, unmasked = scaled_dot_product_attention([[0, 10, 0]], TEMP_K, TEMP_V, dtype="float64")
        np.testing.assert_allclose(w, unmasked, rtol=1e-6)


@pytest.mark.parametrize("method, expect", [("fill", "uniform"), ("safe", "zeros")])
def test_fully_masked_row_by_method(method, expect):
    _, w = scaled_dot_product_attention([[0, 10, 0]], TEMP_K, TEMP_V, mask=np.ones((1, 4)), method=method)
    np.testing.assert_allclose(w, 0.25 if expect == "uniform" else 0.0)


def test_minus_inf_fill_is_fine_but_minus_inf_add_is_nan():
    mask = np.array([[0, 0, 1, 1]], np.float32)
    _, filled = scaled_dot_product_attention([[0, 10, 0]], TEMP_K, TEMP_V, mask, mask_value=-math.inf,
                                             method="fill")
    _, added = scaled_dot_product_attention([[0, 10, 0]], TEMP_K, TEMP_V, mask, mask_value=-math.inf)
    assert filled[0, 2] == filled[0, 3] == 0 and not np.isnan(filled).any()
    assert np.isnan(added).all()                     # 0 * -inf = NaN on the unmasked keys


def test_float16_tutorial_constant_poisons_every_row():
    mask = create_look_ahead_mask(3)
    q = np.eye(3, dtype=np.float32)
    steps = attention_steps(q, q, q, mask, dtype="float16")
    assert steps.mask_value == -math.inf
    assert np.isnan(steps.weights.astype(float)).all()   # even row 2, which masks nothing


def test_leaking_constants_match_numerics_md():
    """logits [3.2, 1.0, -0.5, 2.0], last two masked, float32."""
    logits = np.array([[3.2, 1.0, -0.5, 2.0]])
    mask = np.array([[0, 0, 1, 1]])
    # q = logits, k = identity, no scaling: q·kᵀ reproduces the logits exactly
    def weights(constant):
        return attention_steps(logits, np.eye(4), np.eye(4), mask, mask_value=constant, scale=False).weights
    np.testing.assert_allclose(weights(-1), [[0.8125, 0.0900, 0.0074, 0.0900]], atol=1e-4)
    leak = leaked_mass(weights(-10), mask)[0]
    assert 1e-6 < leak < 1.2e-4
    for constant in (-1e4, -1e9):
        np.testing.assert_allclose(weights(constant), [[0.9002, 0.0998, 0, 0]], atol=1e-4)
        assert leaked_mass(weights(constant), mask)[0] == 0.0


def test_very_negative_real_logits_beat_a_small_constant():
    logits = np.array([[-2e6, -2e6 - 1, 0.0]])
    mask = np.array([[0, 0, 1]])
    w = attention_steps(logits, np.eye(3), np.eye(3), mask, mask_value=-1e6, scale=False).weights
    assert w[0, 2] > 0.99                            # the masked key wins: -1e6 fails
    w = attention_steps(logits, np.eye(3), np.eye(3), mask, mask_value=-1e9, scale=False).weights
    assert w[0, 2] == 0


def test_multiply_weights_and_zero_logits_are_wrong_on_purpose():
    logits = np.array([[1.0, 2.0, 3.0]])
    mask = np.array([[0, 0, 1]])
    w = attention_steps(logits, np.eye(3), np.eye(3), mask, method="multiply_weights", scale=False).weights
    assert w[0, 2] == 0 and w.sum() < 0.5             # rows no longer sum to 1
    w = attention_steps(logits, np.eye(3), np.eye(3), mask, method="zero_logits", scale=False).weights
    assert w[0, 2] > 0                               # exp(0 - max) still gets weight


def test_cross_attention_and_broadcast_batch_heads():
    rng = np.random.default_rng(0)
    q = rng.standard_normal((2, 3, 5, 4))            # (B, H, Tq, d)
    k = rng.standard_normal((2, 3, 7, 4))            # (B, H, Tk, d)
    v = rng.standard_normal((2, 3, 7, 6))            # (B, H, Tk, dv)
    mask = create_padding_mask(np.array([[1] * 6 + [0], [1] * 4 + [0] * 3]))   # (B, 1, 1, Tk)
    out, w = scaled_dot_product_attention(q, k, v, mask, dtype="float64")
    assert out.shape == (2, 3, 5, 6) and w.shape == (2, 3, 5, 7)
    assert np.all(w[1, :, :, 4:] == 0) and np.all(w[0, :, :, 6] == 0)
    # independent float64 reference
    logits = q @ np.swapaxes(k, -1, -2) / np.sqrt(4) + mask * -1e9
    ref = np.exp(logits - logits.max(-1, keepdims=True))
    ref /= ref.sum(-1, keepdims=True)
    np.testing.assert_allclose(w, ref, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(out, ref @ v, rtol=1e-10)


@pytest.mark.parametrize("kwargs, match", [
    (dict(q=np.ones((2, 3)), k=np.ones((2, 4)), v=np.ones((2, 1))), r"depth d: q \(2, 3\), k \(2, 4\)"),
    (dict(q=np.ones((2, 3)), k=np.ones((2, 3)), v=np.ones((5, 1))), r"Tk: k \(2, 3\), v \(5, 1\)"),
    (dict(q=np.ones(3), k=np.ones((2, 3)), v=np.ones((2, 1))), r"shape \(3,\)"),
    (dict(mask=np.ones((4, 4))), r"mask of shape \(4, 4\) does not broadcast"),
    (dict(mask=np.full((2, 2), 0.5)), "got 0.5"),
    (dict(mask_value=float("nan")), "NaN"),
    (dict(mask_value="big"), "'big'"),
    (dict(dtype="float8"), "'float8'"),
    (dict(method="mul"), "'mul'"),
])
def test_bad_input_names_the_value(kwargs, match):
    args = dict(q=np.ones((2, 3)), k=np.ones((2, 3)), v=np.ones((2, 1)))
    args.update(kwargs)
    with pytest.raises(MaskAttnError, match=match):
        scaled_dot_product_attention(args.pop("q"), args.pop("k"), args.pop("v"), **args)


def test_bool_masks_are_tutorial_convention():
    _, w = scaled_dot_product_attention(np.eye(2), np.eye(2), np.eye(2), np.array([[False, True], [False, False]]))
    assert w[0, 1] == 0 and w[1, 1] > 0


# ---- properties ---------------------------------------------------------------------------

@st.composite
def attention_inputs(draw):
    tq, tk, d = draw(st.integers(1, 6)), draw(st.integers(1, 6)), draw(st.integers(1, 5))
    vals = st.floats(-8, 8, allow_nan=False, width=32)
    q = draw(hnp.arrays(np.float32, (tq, d), elements=vals))
    k = draw(hnp.arrays(np.float32, (tk, d), elements=vals))
    v = draw(hnp.arrays(np.float32, (tk, 2), elements=vals))
    mask = draw(hnp.arrays(np.float32, (tq, tk), elements=st.sampled_from([0.0, 1.0])))
    return q, k, v, mask


@settings(max_examples=150, deadline=None)
@given(attention_inputs())
def test_masked_weights_are_exactly_zero_in_float32(inputs):
    q, k, v, mask = inputs
    w = scaled_dot_product_attention(q, k, v, mask)[1]
    keeps_a_key = (mask == 0).any(axis=-1)
    assert np.all(w[keeps_a_key][mask[keeps_a_key] == 1] == 0)
    assert np.all(leaked_mass(w, mask)[keeps_a_key] == 0)
    np.testing.assert_allclose(w[keeps_a_key].sum(-1), 1, atol=1e-5)


@settings(max_examples=150, deadline=None)
@given(attention_inputs(), st.sampled_from(DTYPE_NAMES), st.sampled_from(list(METHODS)))
def test_inputs_are_never_modified(inputs, dtype, method):
    copies = [a.copy() for a in inputs]
    attention_steps(*inputs, dtype=dtype, method=method)
    for a, b in zip(inputs, copies):
        np.testing.assert_array_equal(a, b)


@settings(max_examples=150, deadline=None)
@given(attention_inputs(), st.floats(-20, 20, allow_nan=False))
def test_unmasked_rows_are_shift_invariant(inputs, shift):
    q, k, v, _ = inputs
    base = attention_steps(q, k, v, dtype="float64", scale=False)
    # adding a constant to every logit of a row: append a feature that is 1 in k and `shift` in q
    q2 = np.hstack([q, np.full((q.shape[0], 1), shift)])
    k2 = np.hstack([k, np.ones((k.shape[0], 1))])
    shifted = attention_steps(q2, k2, v, dtype="float64", scale=False)
    np.testing.assert_allclose(shifted.weights, base.weights, rtol=1e-9, atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(attention_inputs(), st.sampled_from(DTYPE_NAMES))
def test_every_stage_is_in_the_dtype(inputs, dtype):
    steps = attention_steps(*inputs, dtype=dtype)
    for name in ("logits", "mask", "masked_logits", "row_max", "shifted", "exps", "row_sum", "weights", "output"):
        assert getattr(steps, name).dtype.name == dtype, name


@settings(max_examples=100, deadline=None)
@given(attention_inputs())
def test_float32_matches_float64_reference_within_rounding(inputs):
    q, k, v, mask = inputs
    assume((mask == 0).any(axis=-1).all())
    w32 = scaled_dot_product_attention(q, k, v, mask)[1].astype(np.float64)
    w64 = scaled_dot_product_attention(q, k, v, mask, dtype="float64")[1]
    np.testing.assert_allclose(w32, w64, atol=2e-5)


@pytest.mark.parametrize("d", [8, 32])
def test_float64_is_float64_throughout_against_pytorch_autograd(d):
    """√d is taken in float64 for float64 (not rounded through float32, as the tutorial's tf.sqrt is for float32):
    logits, weights and gradients agree with PyTorch autograd in float64 to 1e-11 relative, d = 8 and 32."""
    torch = pytest.importorskip("torch")
    from maskattn.proof import attention_grads
    rng = np.random.default_rng(d)
    q, k, v = (rng.standard_normal((2, 5, d)) for _ in range(3))
    mask = np.array([0, 0, 0, 1, 1], np.float64)[None, None, :]           # (1, 1, Tk)
    d_out = rng.standard_normal((2, 5, d))
    steps = attention_steps(q, k, v, mask, dtype="float64")
    grads = attention_grads(q, k, v, mask, d_output=d_out, dtype="float64")
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    logits = tq @ tk.transpose(-1, -2) / torch.sqrt(torch.tensor(float(d), dtype=torch.float64))
    weights = torch.softmax(logits + torch.tensor(mask) * -1e9, dim=-1)
    (weights @ tv * torch.tensor(d_out)).sum().backward()

    def close(ours, theirs):
        theirs = theirs.detach().numpy()
        assert np.all(np.abs(ours - theirs) <= 1e-11 * np.maximum(np.abs(theirs), 1e-300) + 1e-300), \
            np.abs(ours - theirs).max()

    close(steps.logits, logits)
    close(steps.weights, weights)
    for ours, theirs in ((grads.dq, tq.grad), (grads.dk, tk.grad), (grads.dv, tv.grad)):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-11, atol=1e-14)
