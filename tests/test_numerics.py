"""numerics: casts, rounded steps, stable softmax, thresholds — checked against NUMERICS.md."""

import math

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from maskattn import MaskAttnError
from maskattn import numerics as nx

DTYPES = nx.DTYPE_NAMES


@pytest.mark.parametrize("dtype, expected", [
    ("float16", -math.inf), ("bfloat16", -998244352.0), ("float32", -1e9), ("float64", -1e9)])
def test_cast_of_tutorial_constant(dtype, expected):
    assert nx.to_float(nx.cast(-1e9, dtype)) == expected


@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_times_constant(dtype):
    product = nx.to_float(nx.multiply(0.0, nx.cast(-1e9, dtype), dtype))
    if dtype == "float16":
        assert math.isnan(product)                      # 0 * -inf
    else:
        assert product == 0.0 and math.copysign(1, product) == -1   # -0.0


@pytest.mark.parametrize("dtype, expected", [
    ("float16", -17.33), ("bfloat16", -92.88), ("float32", -103.97), ("float64", -745.13)])
def test_underflow_threshold_matches_numerics_md(dtype, expected):
    assert nx.underflow_threshold(dtype) == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("dtype, expected", [
    ("float16", -9.70), ("bfloat16", -87.34), ("float32", -87.34), ("float64", -708.40)])
def test_flush_to_zero_threshold_matches_numerics_md(dtype, expected):
    assert nx.underflow_threshold(dtype, flush_subnormals=True) == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("dtype, expected", [
    ("float16", -7.62), ("bfloat16", -5.55), ("float32", -16.64), ("float64", -36.74)])
def test_absorption_threshold_matches_numerics_md(dtype, expected):
    # bfloat16 rounds exp(d) before adding, which moves the point by 0.002 (see the docstring)
    assert nx.absorption_threshold(dtype) == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("dtype", DTYPES)
def test_underflow_threshold_is_the_boundary(dtype):
    """Brute force: just above the threshold exp is positive, just below it is 0."""
    t = nx.underflow_threshold(dtype)
    assert nx.to_float(nx.exp(t + 1e-3, dtype)) > 0
    assert nx.to_float(nx.exp(t - 1e-3, dtype)) == 0


@pytest.mark.parametrize("dtype, expected", [
    ("bfloat16", -998244352.0), ("float32", -1e9), ("float64", -999999996.3)])
def test_small_logit_lost_or_kept_next_to_constant(dtype, expected):
    assert nx.to_float(nx.add(3.7, nx.cast(-1e9, dtype), dtype)) == pytest.approx(expected, abs=1e-6)


def test_spacing_at_one_billion():
    assert nx.spacing(-1e9, "float32") == 64.0
    assert nx.spacing(-1e9, "float64") == np.spacing(np.float64(1e9))
    assert nx.spacing(1.0, "float16") == float(np.spacing(np.float16(1.0)))
    assert nx.spacing(1.0, "bfloat16") == 2.0 ** -7
    assert math.isnan(nx.spacing(-math.inf, "float32"))


@pytest.mark.parametrize("dtype, expected", [
    ("bfloat16", [0.2695, 0.7305, 0.0]), ("float32", [0.26894, 0.73106, 0.0]),
    ("float64", [0.26894, 0.73106, 0.0])])
def test_partly_masked_softmax_matches_numerics_md(dtype, expected):
    z = nx.add([1.0, 2.0, 3.0], nx.multiply([0.0, 0.0, 1.0], nx.cast(-1e9, dtype), dtype), dtype)
    np.testing.assert_allclose(nx.softmax(z, dtype).astype(float), expected, atol=1e-3)


def test_partly_masked_softmax_float16_is_nan():
    z = nx.add([1.0, 2.0, 3.0], nx.multiply([0.0, 0.0, 1.0], nx.cast(-1e9, "float16"), "float16"), "float16")
    assert np.isnan(nx.softmax(z, "float16").astype(float)).all()


@pytest.mark.parametrize("dtype, kind", [("float16", "nan"), ("bfloat16", "uniform"),
                                         ("float32", "uniform"), ("float64", "unmasked")])
def test_fully_shifted_row_matches_numerics_md(dtype, kind):
    z = nx.add([1.0, 2.0, 3.0], nx.cast(-1e9, dtype), dtype)
    w = nx.softmax(z, dtype).astype(float)
    if kind == "nan":
        assert np.isnan(w).all()
    elif kind == "uniform":
        np.testing.assert_allclose(w, [1 / 3] * 3, rtol=1e-2)
    else:
        np.testing.assert_allclose(w, nx.softmax([1.0, 2.0, 3.0], "float64"), rtol=1e-6)


def test_naive_softmax_overflows_and_stable_does_not():
    assert np.isnan(nx.naive_softmax([100.0, 90.0], "float32")).any()
    np.testing.assert_allclose(nx.softmax([100.0, 90.0], "float32"), [0.99995, 4.54e-5], rtol=1e-3)
    assert np.isnan(nx.naive_softmax([-1e9, -1e9], "float32")).all()      # 0 / 0


def test_min_plus_min_is_minus_inf_everywhere():
    for dtype in DTYPES:
        lo = nx.finfo(dtype).min
        assert nx.to_float(nx.add(lo, lo, dtype)) == -math.inf
    assert nx.to_float(nx.add(nx.finfo("float16").min, -16.0, "float16")) == -math.inf


def test_all_minus_inf_row_is_nan():
    assert np.isnan(nx.softmax([-math.inf, -math.inf], "float32")).all()


def test_each_step_is_rounded_to_dtype():
    s = nx.softmax_steps([[0.1, 0.2, 0.3]], "bfloat16")
    for arr in (s.row_max, s.shifted, s.exps, s.row_sum, s.weights):
        assert arr.dtype == np.dtype(ml_dtypes.bfloat16)


def test_bad_dtype_is_refused():
    with pytest.raises(MaskAttnError, match="'int8'"):
        nx.resolve_dtype("int8")
    with pytest.raises(MaskAttnError, match="scalar"):
        nx.softmax(1.0)


finite_rows = st.lists(st.floats(-50, 50, allow_nan=False), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(finite_rows, st.sampled_from(DTYPES))
def test_softmax_rows_sum_to_one(row, dtype):
    w = nx.softmax(row, dtype).astype(np.float64)
    assert np.all(w >= 0)
    tolerance = {"float16": 1e-2, "bfloat16": 3e-2, "float32": 1e-5, "float64": 1e-12}[dtype]
    assert abs(w.sum() - 1) <= tolerance


@settings(max_examples=200, deadline=None)
@given(finite_rows, st.floats(-1000, 1000, allow_nan=False))
def test_softmax_is_shift_invariant(row, shift):
    a = nx.softmax(np.array(row) + shift, "float64")
    b = nx.softmax(row, "float64")
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(finite_rows)
def test_softmax_matches_an_independent_reference(row):
    x = np.array(row, dtype=np.float64)
    reference = np.exp(x - x.max()) / np.exp(x - x.max()).sum()
    np.testing.assert_allclose(nx.softmax(x, "float64"), reference, rtol=1e-12, atol=1e-300)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("keys", [2, 7, 9, 33])
def test_softmax_backward_is_pytorchs(dtype, keys):
    """Given the same weights and gradient, PyTorch's softmax backward gives the same bits for rows
    of fewer than 8 keys; from 8 on the two sum Σ w g in different orders (NumPy pairwise,
    PyTorch vectorised), a rounding of the sum apart."""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: pip install torch==2.13.0")
    rng = np.random.default_rng(keys)
    w = nx.softmax(rng.standard_normal((64, keys)) * 3, dtype)
    w[:, -1] = 0                                         # a masked key: weight exactly 0
    g = nx.cast(rng.standard_normal((64, keys)), dtype)
    theirs = torch._softmax_backward_data(torch.from_numpy(g), torch.from_numpy(w), -1, getattr(torch, dtype)).numpy()
    ours = nx.softmax_backward(w, g, dtype)
    assert np.all(ours[:, -1] == 0) and np.all(theirs[:, -1] == 0)
    if keys < 8:
        assert np.array_equal(ours, theirs)
    else:
        eps = float(nx.finfo(dtype).eps)
        assert np.all(np.abs(ours - theirs) <= 4 * eps * np.abs(g).max(axis=-1, keepdims=True))


def test_softmax_backward_matches_the_jacobian():
    """dL/dz_j = sum_i g_i p_i (delta_ij - p_j), the full Jacobian, in float64."""
    rng = np.random.default_rng(1)
    z, g = rng.standard_normal((2, 5))
    p = nx.softmax(z, "float64")
    jacobian = np.diag(p) - np.outer(p, p)               # (N, N), symmetric
    np.testing.assert_allclose(nx.softmax_backward(p, g, "float64"), jacobian @ g, rtol=1e-12, atol=1e-15)
