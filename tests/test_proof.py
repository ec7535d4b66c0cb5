"""proof: delete the columns, exact vs float, the leak test and the backward pass.

Expectations come from NUMERICS.md, from real PyTorch autograd, from finite differences and
from independent float64 references written as direct loops, never from proof.py's own output.
"""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from maskattn import (DTYPE_NAMES, METHODS, MaskAttnError, attention_grads, attention_steps,
                      create_look_ahead_mask, create_padding_mask, create_query_padding_mask,
                      delete_masked_keys, embed, exact_vs_float, exact_vs_float_row, leak_test,
                      leak_test_tokens, project_qkv, underflow_threshold)
from maskattn import numerics as nx
from maskattn.attention import leaked_mass
from maskattn.text import spell

T, D = 6, 4
RNG = np.random.default_rng(0)
Q, K, V = RNG.standard_normal((3, T, D))                     # (T, d) each
D_OUT = RNG.standard_normal((T, D))                          # (Tq, dv)
PAD = create_padding_mask([[1, 2, 3, 4, 0, 0]])[0, 0]        # (1, T): keys 4 and 5 are padding
FULL = np.maximum(PAD, create_query_padding_mask([[1, 2, 3, 4, 0, 0]])[0, 0])   # rows 4, 5 fully masked
CAUSAL = np.maximum(create_look_ahead_mask(T), PAD)          # (T, T)
MASKS = {"padding": PAD, "fully masked rows": FULL, "causal + padding": CAUSAL}

TOKENS = ["the", "cat", "sat", "<pad>", "<pad>", "<pad>"]
TOKEN_PAD = create_padding_mask([[1, 2, 3, 0, 0, 0]])[0, 0]  # (1, T)
REAL = np.array([True, True, True, False, False, False])


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="PyTorch is not installed: pip install torch==2.13.0 "
                                               "(requirements-dev.txt)")


def f64(x):
    return np.asarray(x).astype(np.float64)


# --------------------------------------------------------------------------- the backward pass vs PyTorch


def torch_grads(torch, q, k, v, mask, d_out, *, mask_value, dtype, method, bias=None):
    """The same forward pass in torch ops, differentiated by autograd (``bias`` added to the scaled logits)."""
    dt = getattr(torch, dtype)
    tensor = lambda a: torch.tensor(f64(a)).to(dt)
    q, k, v = (tensor(a).requires_grad_() for a in (q, k, v))
    wide = torch.float64 if dtype == "float64" else torch.float32           # √d as the app takes it
    logits = q @ k.transpose(-1, -2) / torch.sqrt(torch.tensor(float(q.shape[-1]), dtype=wide)).to(dt)
    logits.retain_grad()
    b = None if bias is None else tensor(bias).requires_grad_()
    scores = logits if b is None else logits + b
    constant = tensor(mask_value)                            # rounded to dtype first, as DESIGN.md says
    m = torch.broadcast_to(tensor(mask), scores.shape)
    blocked = m == 1
    if method == "attend_all":                               # Hugging Face's old fix: rows with no key see all
        blocked = blocked & ~blocked.all(-1, keepdim=True)
    logits = scores
    if method == "add":
        z = logits + m * constant
    elif method in ("fill", "safe", "attend_all"):
        z = torch.where(blocked, constant, logits)
    elif method == "zero_logits":
        z = torch.where(blocked, torch.zeros((), dtype=dt), logits)
    else:
        z = logits
    if method == "safe" and constant.item() == -math.inf:
        w = torch._safe_softmax(z, -1)                       # PyTorch's own op (SDPA)
    elif method == "safe":
        w = torch.where(blocked.all(-1, keepdim=True), torch.zeros((), dtype=dt), torch.softmax(z, -1))
    else:
        w = torch.softmax(z, -1)
    if method == "multiply_weights":
        w = w * (1 - m)
    out = w @ v
    (out * tensor(d_out)).sum().backward()
    grads = {name: f64(t.detach().to(torch.float64).numpy()) for name, t in
             (("dlogits", logits.grad if b is None else b.grad), ("dq", q.grad), ("dk", k.grad), ("dv", v.grad),
              ("output", out))}
    if b is not None:
        grads["dbias"] = grads["dlogits"]
    return grads


#: max |ours - torch| relative to max |torch| (float32: a few ulps of different summation orders)
RELATIVE = {"float64": 1e-12, "float32": 2e-6, "bfloat16": 2e-2, "float16": 5e-3}


def assert_close_to_torch(g, theirs, dtype, *, zeros_too):
    ours = {"dlogits": g.dlogits, "dq": g.dq, "dk": g.dk, "dv": g.dv, "output": g.steps.output}
    for name, t in theirs.items():
        o = f64(ours[name])
        assert np.array_equal(np.isnan(o), np.isnan(t)), f"{name}: NaN pattern differs"
        if zeros_too:
            assert np.array_equal(o == 0, t == 0), f"{name}: exact zeros differ"
        ok = ~np.isnan(t)
        scale = np.max(np.abs(t[ok]), initial=0.0) or 1.0
        assert np.max(np.abs(o[ok] - t[ok]), initial=0.0) <= RELATIVE[dtype] * scale, name


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("method", ["add", "fill"])
@pytest.mark.parametrize("mask_value", [-1e9, -math.inf])
@pytest.mark.parametrize("mask_name", list(MASKS))
def test_grads_match_torch_autograd(torch, dtype, method, mask_value, mask_name):
    mask = MASKS[mask_name]
    g = attention_grads(Q, K, V, mask, d_output=D_OUT, mask_value=mask_value, dtype=dtype, method=method)
    theirs = torch_grads(torch, Q, K, V, mask, D_OUT, mask_value=mask_value, dtype=dtype, method=method)
    assert_close_to_torch(g, theirs, dtype, zeros_too=True)


def test_the_torch_comparison_covers_nan():
    """The grid above includes NaN cases: additive -inf and fully masked -inf rows."""
    add = attention_grads(Q, K, V, PAD, d_output=D_OUT, mask_value=-math.inf)
    assert np.isnan(f64(add.dlogits)).all()                  # 0 * -inf in every unmasked cell
    fill = attention_grads(Q, K, V, FULL, d_output=D_OUT, mask_value=-math.inf, method="fill")
    assert np.isnan(f64(fill.dv)).all()                      # NaN weights of rows 4, 5 reach every key
    assert not np.isnan(f64(fill.dlogits)).any()             # where() hands the blocked cells 0


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("method", ["safe", "multiply_weights", "zero_logits"])
@pytest.mark.parametrize("mask_value", [-1e9, -math.inf, -10.0])
def test_other_methods_match_torch_autograd(torch, dtype, method, mask_value):
    g = attention_grads(Q, K, V, FULL, d_output=D_OUT, mask_value=mask_value, dtype=dtype, method=method)
    theirs = torch_grads(torch, Q, K, V, FULL, D_OUT, mask_value=mask_value, dtype=dtype, method=method)
    assert_close_to_torch(g, theirs, dtype, zeros_too=True)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("mask_value", [-1e9, -math.inf, -10.0])
def test_16_bit_grads_are_near_torch_with_the_same_nan_pattern(torch, dtype, method, mask_value):
    """Not bit for bit: PyTorch rounds its 16-bit softmax once (next test), the core every step."""
    g = attention_grads(Q, K, V, CAUSAL, d_output=D_OUT, mask_value=mask_value, dtype=dtype, method=method)
    theirs = torch_grads(torch, Q, K, V, CAUSAL, D_OUT, mask_value=mask_value, dtype=dtype, method=method)
    assert_close_to_torch(g, theirs, dtype, zeros_too=False)
    if mask_value != -10.0 and method in ("add", "fill", "safe"):
        blocked = np.broadcast_to(CAUSAL, (T, T)) == 1
        ok = ~np.isnan(theirs["dlogits"])
        assert np.all(f64(g.dlogits)[blocked & ok] == 0) and np.all(theirs["dlogits"][blocked & ok] == 0)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_torch_rounds_its_16_bit_softmax_once(torch, dtype):
    """What PyTorch 2.13 CPU does in 16 bits: softmax and its backward run in float32 and are
    rounded once, so the core's step-by-step rounding matches it only approximately."""
    rng = np.random.default_rng(1)
    z = nx.cast(rng.standard_normal((200, 7)) * 3, dtype)
    g = nx.cast(rng.standard_normal((200, 7)), dtype)
    zt = torch.tensor(f64(z)).to(getattr(torch, dtype)).requires_grad_()
    w = torch.softmax(zt, -1)
    w.backward(torch.tensor(f64(g)).to(getattr(torch, dtype)))
    w_torch = w.detach().to(torch.float64).numpy()
    z32 = z.astype(np.float32)
    e = np.exp(z32 - z32.max(-1, keepdims=True))
    assert np.array_equal(w_torch, f64(nx.cast(e / e.sum(-1, keepdims=True), dtype)))     # one rounding
    w16, w32, g32 = nx.cast(w_torch, dtype), w_torch.astype(np.float32), g.astype(np.float32)
    once = nx.cast(w32 * (g32 - (w32 * g32).sum(-1, keepdims=True)), dtype)
    assert np.array_equal(zt.grad.to(torch.float64).numpy(), f64(once))
    steps = nx.softmax_backward(w16, g, dtype)
    assert not np.array_equal(f64(steps), f64(once))                                      # the models differ
    np.testing.assert_allclose(f64(steps), f64(once), atol=4 * float(nx.finfo(dtype).eps))


# --------------------------------------------------------------------------- the backward pass: references


def loss(q, k, v, mask, method, mask_value):
    out = attention_steps(q, k, v, mask, mask_value=mask_value, dtype="float64", method=method).output
    return float(np.sum(out * D_OUT))


def finite_difference(x, f, h=1e-6):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += h
        down[index] -= h
        grad[index] = (f(up) - f(down)) / (2 * h)
    return grad


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("mask_value", [-1e9, -10.0])
@pytest.mark.parametrize("mask_name", ["padding", "causal + padding"])
def test_grads_match_finite_differences_in_float64(method, mask_value, mask_name):
    mask = MASKS[mask_name]
    g = attention_grads(Q, K, V, mask, d_output=D_OUT, mask_value=mask_value, dtype="float64", method=method)
    fd = {"dq": finite_difference(Q, lambda x: loss(x, K, V, mask, method, mask_value)),
          "dk": finite_difference(K, lambda x: loss(Q, x, V, mask, method, mask_value)),
          "dv": finite_difference(V, lambda x: loss(Q, K, x, mask, method, mask_value))}
    for name, expected in fd.items():
        np.testing.assert_allclose(getattr(g, name), expected, rtol=1e-6, atol=1e-8, err_msg=name)


@pytest.mark.parametrize("method", ["fill", "safe"])
def test_fully_masked_rows_match_finite_differences(method):
    g = attention_grads(Q, K, V, FULL, d_output=D_OUT, dtype="float64", method=method)
    np.testing.assert_allclose(g.dq, finite_difference(Q, lambda x: loss(x, K, V, FULL, method, -1e9)),
                               rtol=1e-6, atol=1e-8)
    assert np.all(g.dq[4:] == 0)                             # a fully masked row's scores do not matter


def test_dlogits_is_dq_when_k_is_the_identity():
    """With k = I and no √d, q·kᵀ = q, so dL/dlogits must equal dL/dq (and the finite difference)."""
    g = attention_grads(Q, np.eye(D), V[:D], PAD[:, :D], d_output=D_OUT, dtype="float64", scale=False)
    np.testing.assert_array_equal(g.dlogits, g.dq)
    fd = finite_difference(Q, lambda x: float(np.sum(attention_steps(x, np.eye(D), V[:D], PAD[:, :D], dtype="float64",
                                                                     scale=False).output * D_OUT)))
    np.testing.assert_allclose(g.dlogits, fd, rtol=1e-6, atol=1e-8)


def loop_grads(q, k, v, mask, d_out, mask_value, method):
    """Independent float64 reference: scalar loops and the full softmax Jacobian ∂p_i/∂z_j = p_i(δ_ij − p_j)."""
    Tq, d = len(q), len(q[0])
    Tk, dv = len(k), len(v[0])
    s = 1 / math.sqrt(d)
    blocked = [[np.broadcast_to(mask, (Tq, Tk))[i][j] == 1 for j in range(Tk)] for i in range(Tq)]
    dq = [[0.0] * d for _ in range(Tq)]
    dk = [[0.0] * d for _ in range(Tk)]
    dvv = [[0.0] * dv for _ in range(Tk)]
    dlogits = [[0.0] * Tk for _ in range(Tq)]
    for i in range(Tq):
        logit = [sum(q[i][a] * k[j][a] for a in range(d)) * s for j in range(Tk)]
        full = all(blocked[i])
        z = [(logit[j] + (mask_value if blocked[i][j] else 0.0)) if method == "add" else
             (mask_value if blocked[i][j] else logit[j]) if method in ("fill", "safe") else
             (mask_value if blocked[i][j] and not full else logit[j]) if method == "attend_all" else
             (0.0 if blocked[i][j] else logit[j]) if method == "zero_logits" else logit[j] for j in range(Tk)]
        top = max(z)
        e = [math.exp(zj - top) for zj in z]
        p = [ej / math.fsum(e) for ej in e]
        if method == "safe" and full:
            p = [0.0] * Tk                                   # a constant row: no gradient
        w = [p[j] * (0.0 if method == "multiply_weights" and blocked[i][j] else 1.0) for j in range(Tk)]
        dw = [sum(d_out[i][c] * v[j][c] for c in range(dv)) for j in range(Tk)]
        for j in range(Tk):
            for c in range(dv):
                dvv[j][c] += w[j] * d_out[i][c]
        g = [dw[j] * (0.0 if method == "multiply_weights" and blocked[i][j] else 1.0) for j in range(Tk)]
        for j in range(Tk):
            dz = math.fsum(g[a] * p[a] * ((a == j) - p[j]) for a in range(Tk))
            dlogits[i][j] = (0.0 if method in ("fill", "safe", "zero_logits") and blocked[i][j] else
                             0.0 if method == "attend_all" and blocked[i][j] and not full else dz)
            for a in range(d):
                dq[i][a] += dlogits[i][j] * s * k[j][a]
                dk[j][a] += dlogits[i][j] * s * q[i][a]
    return {"dq": dq, "dk": dk, "dv": dvv, "dlogits": dlogits}


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("mask_name", list(MASKS))
def test_grads_match_an_independent_float64_loop(method, mask_name):
    mask = MASKS[mask_name]
    g = attention_grads(Q, K, V, mask, d_output=D_OUT, dtype="float64", method=method)
    ref = loop_grads(Q.tolist(), K.tolist(), V.tolist(), mask, D_OUT.tolist(), -1e9, method)
    for name, expected in ref.items():
        np.testing.assert_allclose(getattr(g, name), expected, rtol=1e-9, atol=1e-12, err_msg=name)


def test_grads_sum_over_broadcast_batch_axes():
    """q (Tq, d) shared by a batch of two masks: dq is the sum of the two batches' gradients."""
    masks = np.stack([PAD, np.zeros_like(PAD)])[:, None]     # (B, 1, 1, Tk)
    g = attention_grads(Q, K, V, masks, d_output=np.stack([D_OUT, D_OUT])[:, None], dtype="float64")
    assert g.dq.shape == Q.shape and g.dk.shape == K.shape and g.dv.shape == V.shape
    assert g.dlogits.shape == (2, 1, T, T)
    parts = [attention_grads(Q, K, V, m[0], d_output=D_OUT, dtype="float64") for m in masks]
    np.testing.assert_allclose(g.dq, parts[0].dq + parts[1].dq, rtol=1e-12)
    np.testing.assert_allclose(g.dv, parts[0].dv + parts[1].dv, rtol=1e-12)


@pytest.mark.parametrize("d_output, shape", [(np.ones((T, D + 1)), r"\(6, 5\)"), (np.ones(D), r"\(4,\)"),
                                              (np.ones((2, T, D)), r"\(2, 6, 4\)")])
def test_d_output_of_the_wrong_shape_names_both_shapes(d_output, shape):
    with pytest.raises(MaskAttnError, match=r"output's shape \(6, 4\), got shape " + shape):
        attention_grads(Q, K, V, PAD, d_output=d_output)


def test_d_output_must_be_numbers():
    with pytest.raises(MaskAttnError, match="d_output must be a rectangular array of numbers"):
        attention_grads(Q, K, V, PAD, d_output="ones")


@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_every_gradient_is_in_the_dtype(dtype):
    g = attention_grads(Q, K, V, PAD, d_output=D_OUT, dtype=dtype, method="fill")
    for name in ("d_output", "dweights", "dmasked_logits", "dlogits", "dq", "dk", "dv"):
        assert getattr(g, name).dtype.name == dtype, name


def test_grads_takeaway_quotes_the_numbers():
    labels = [f"{i}·t{i}" for i in range(T)]
    clean = attention_grads(Q, K, V, PAD, d_output=D_OUT).takeaway(labels)
    assert clean.startswith("All 12 masked cells of dL/dlogits in rows that keep a key are exactly 0 in float32")
    assert "keys 4·t4, 5·t5, which no query may see, get dL/dK and dL/dV rows of exactly 0" in clean
    leaky = attention_grads(Q, K, V, PAD, d_output=D_OUT, mask_value=-10)
    worst = np.max(np.abs(f64(leaky.dlogits)[:, 4:]))
    assert f"not 0: up to {spell(worst, digits=3)}" in leaky.takeaway(labels)
    nan = attention_grads(Q, K, V, PAD, d_output=D_OUT, dtype="float16").takeaway(labels)
    assert "0 × -inf = NaN in float16" in nan and "6 of 6 rows of dL/dlogits" in nan
    full = attention_grads(Q, K, V, FULL, d_output=D_OUT, mask_value=-math.inf, method="fill").takeaway(labels)
    assert "every score is -inf" in full and "0 of 6 rows of dL/dlogits" in full and "6 of dL/dV" in full


@st.composite
def partly_masked(draw, key_padding=False):
    tq, tk, d = draw(st.integers(1, 5)), draw(st.integers(2, 6)), draw(st.integers(1, 4))
    vals = st.floats(-4, 4, allow_nan=False, width=32)
    q = draw(hnp.arrays(np.float32, (tq, d), elements=vals))
    k = draw(hnp.arrays(np.float32, (tk, d), elements=vals))
    v = draw(hnp.arrays(np.float32, (tk, 2), elements=vals))
    if key_padding:
        keys = draw(hnp.arrays(np.float32, (tk,), elements=st.sampled_from([0.0, 1.0])))
        assume(0 < keys.sum() < tk)
        mask = np.broadcast_to(keys, (tq, tk)).copy()
    else:
        mask = draw(hnp.arrays(np.float32, (tq, tk), elements=st.sampled_from([0.0, 1.0])))
        assume((mask == 0).any(axis=-1).all())               # every row keeps a key
    return q, k, v, mask


@settings(max_examples=60, deadline=None)
@given(partly_masked(), st.sampled_from(["add", "fill"]), st.integers(0, 2**32 - 1))
def test_masked_cells_of_dlogits_are_exactly_zero_in_float32(inputs, method, seed):
    q, k, v, mask = inputs
    d_out = np.random.default_rng(seed).standard_normal((q.shape[0], 2))
    g = attention_grads(q, k, v, mask, d_output=d_out, method=method)
    assert np.all(g.dlogits[mask == 1] == 0)
    unseen = (mask == 1).all(axis=0)                         # keys no query attends
    assert np.all(g.dv[unseen] == 0) and np.all(g.dk[unseen] == 0)


# --------------------------------------------------------------------------- delete the columns


@pytest.mark.parametrize("dtype, expected", [("float64", [0.26894, 0.73106, 0]), ("float32", [0.26894, 0.73106, 0]),
                                             ("bfloat16", [0.2695, 0.7305, 0])])
def test_deleted_columns_match_numerics_md(dtype, expected):
    """softmax([1,2,3] + [0,0,1]*(-1e9)) = the softmax of [1, 2], bit for bit."""
    p = delete_masked_keys([[1.0, 2.0, 3.0]], [[0, 0, 1]], dtype=dtype)
    assert p.kinds.tolist() == ["identical"] and p.max_difference == 0
    np.testing.assert_allclose(f64(p.deleted[0]), expected, atol=5e-5)
    assert np.array_equal(f64(p.weights), f64(p.deleted))


def test_float16_masked_softmax_is_nan_but_the_deleted_one_is_not():
    p = delete_masked_keys([[1.0, 2.0, 3.0]], [[0, 0, 1]], dtype="float16")
    assert p.kinds.tolist() == ["NaN"] and "0 × -inf = NaN in float16" in p.reasons[0]
    assert math.isnan(p.max_difference) and not np.isnan(f64(p.deleted)).any()
    assert "1 of 1 rows of the masked softmax are NaN" in p.takeaway()


def test_too_small_constant_differs_by_the_leaked_weight():
    """NUMERICS.md: logits [3.2, 1.0, -0.5, 2.0], last two masked, -10 leaks about 1e-6 and 1.2e-5."""
    p = delete_masked_keys([[3.2, 1.0, -0.5, 2.0]], [[0, 0, 1, 1]], mask_value=-10)
    assert p.kinds.tolist() == ["differs"]
    assert p.difference[0, 2] == pytest.approx(1e-6, rel=0.1)
    assert p.difference[0, 3] == pytest.approx(1.2e-5, rel=0.1)
    assert spell(p.max_difference, digits=3) in p.takeaway() and "keep weight" in p.takeaway()


def test_summation_order_happens_and_is_named():
    """Zeros add exactly, but NumPy's pairwise sum groups terms by position (8 accumulators from
    8 terms on), so deleting the masked zeros regroups the sum: found, not assumed."""
    rng = np.random.default_rng(7)
    z = rng.standard_normal((200, 12)) * 3                   # (Tq, Tk)
    mask = (rng.random((200, 12)) < 0.4).astype(np.float32)
    mask[:, 0] = 0                                           # every row keeps a key
    p = delete_masked_keys(z, mask)
    rows = np.flatnonzero(p.kinds == "summation order")
    assert rows.size > 0 and set(p.kinds) <= {"identical", "summation order"}
    steps = attention_steps(np.ones((200, 1, 1)), z[..., None], np.zeros((200, 12, 1)), mask[:, None], scale=False)
    for r in rows:
        keep = mask[r] == 0
        alone = nx.softmax_steps(nx.cast(z[r][keep], "float32"), "float32")
        assert np.array_equal(alone.exps, steps.exps[r, 0][keep])            # the same exponentials
        assert np.all(steps.exps[r, 0][~keep] == 0)                          # masked ones exactly 0
        assert alone.row_sum[0] != steps.row_sum[r, 0, 0]                    # only the sum differs
        assert p.row_difference[r] <= 2 * np.spacing(np.float32(1))
    assert "sum ran over 12 terms instead of" in p.reasons[rows[0]]
    assert "different number of terms" in p.takeaway()


@settings(max_examples=60, deadline=None)
@given(partly_masked(), st.sampled_from(["add", "fill"]))
def test_fewer_than_8_keys_are_always_identical_in_float32(inputs, method):
    """Below 8 terms NumPy sums in order, so the zeros cannot regroup anything."""
    q, k, v, mask = inputs
    steps = attention_steps(q, k, v, mask, method=method)
    p = delete_masked_keys(steps)
    assert p.kinds.tolist() == ["identical"] * q.shape[0]
    assert np.all(f64(steps.weights)[mask == 1] == 0)


@pytest.mark.parametrize("method, shape", [("add", "near one-hot"), ("fill", "uniform")])
def test_fully_masked_row_says_what_the_masked_softmax_gave(method, shape):
    """NUMERICS.md: the tutorial's q = [0, 10, 0] with every key masked, float32."""
    k = np.array([[10, 0, 0], [0, 10, 0], [0, 0, 10], [0, 0, 10]], np.float32)
    steps = attention_steps([[0, 10, 0]], k, np.eye(4), np.ones((1, 4)), method=method)
    p = delete_masked_keys(steps)
    assert p.kinds.tolist() == ["fully masked"] and f"gave {shape} weights" in p.reasons[0]
    assert np.all(f64(p.deleted) == 0) and math.isnan(p.max_difference)
    assert p.takeaway() == f"Every row is fully masked: {p.reasons[0]}."


def test_all_minus_inf_row_is_nan_and_explained():
    p = delete_masked_keys([[1.0, 2.0], [3.0, 4.0]], [[0, 1], [1, 1]], mask_value=-math.inf, method="fill")
    assert p.kinds.tolist() == ["identical", "NaN"]
    assert "every score is -inf" in p.reasons[1]


def test_steps_and_logits_give_the_same_proof():
    steps = attention_steps(Q, K, V, CAUSAL)
    a, b = delete_masked_keys(steps), delete_masked_keys(steps.logits, steps.mask)
    for name in ("weights", "deleted", "difference", "kinds", "n_unmasked"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_steps_carry_their_own_mask():
    steps = attention_steps(Q, K, V, PAD)
    with pytest.raises(MaskAttnError, match="AttentionSteps alone"):
        delete_masked_keys(steps, PAD)


def test_deleted_softmax_matches_an_independent_float64_loop():
    z = RNG.standard_normal((5, 7)) * 4
    mask = (RNG.random((5, 7)) < 0.5).astype(float)
    mask[:, 3] = 0
    p = delete_masked_keys(z, mask, dtype="float64")
    for i in range(5):
        kept = [z[i][j] for j in range(7) if mask[i][j] == 0]
        top = max(kept)
        total = math.fsum(math.exp(x - top) for x in kept)
        expected = [0.0 if mask[i][j] else math.exp(z[i][j] - top) / total for j in range(7)]
        np.testing.assert_allclose(p.deleted[i], expected, rtol=4e-16 * 8, atol=0)


def test_batch_axes_and_row_counts():
    z = RNG.standard_normal((2, 3, 4, 5))                    # (B, H, Tq, Tk)
    mask = create_padding_mask([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])   # (B, 1, 1, Tk)
    p = delete_masked_keys(z, mask)
    assert p.deleted.shape == z.shape and p.kinds.shape == (2, 3, 4)
    assert np.all(p.n_unmasked[0] == 3) and np.all(p.n_unmasked[1] == 5)


@pytest.mark.parametrize("logits, mask, match", [
    ([1.0, 2.0], None, r"shape \(2,\)"),
    ([[1.0, 2.0]], [[0, 1, 1]], r"mask of shape \(1, 3\) does not broadcast to logits of shape \(1, 2\)"),
    ([[1.0, 2.0]], [[0, 0.5]], "got 0.5"),
])
def test_delete_bad_input_names_the_value(logits, mask, match):
    with pytest.raises(MaskAttnError, match=match):
        delete_masked_keys(logits, mask)


# --------------------------------------------------------------------------- exact vs float


def test_e_to_the_minus_1e9_against_mpmath():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    exact = mpmath.exp(-10**9)
    e = exact_vs_float(-1e9, "float32")
    n = int(mpmath.floor(mpmath.log10(exact)))
    assert e.exponent == n == -434294482
    assert e.mantissa == pytest.approx(float(exact / mpmath.mpf(10) ** n), rel=1e-14)
    assert e.log10_text == mpmath.nstr(mpmath.log10(exact), 22)[:len(e.log10_text)]
    assert e.log10_text.startswith("-434294481.9")          # the 10^-434294481.9…
    assert e.value == 0.0 and e.below_subnormal


@settings(max_examples=80, deadline=None)
@given(st.floats(-1e12, 700, allow_nan=False))
def test_exact_magnitude_matches_mpmath(x):
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50
    exact = mpmath.exp(mpmath.mpf(x))                        # mpf(x) is the float exactly
    n = int(mpmath.floor(mpmath.log10(exact)))
    mantissa = float(exact / mpmath.mpf(10) ** n)
    e = exact_vs_float(x, "float64")
    if e.exponent == n:
        assert e.mantissa == pytest.approx(mantissa, rel=1e-13)
    else:                                                    # a mantissa of 9.999… rounded up to 10
        assert e.exponent == n + 1 and mantissa > 9.9999999999 and e.mantissa < 1.0000000001


@settings(max_examples=80, deadline=None)
@given(st.floats(-700, 700, allow_nan=False))
def test_exact_magnitude_matches_math_exp_where_representable(x):
    e = exact_vs_float(x, "float64")
    assert e.mantissa * 10.0 ** e.exponent == pytest.approx(math.exp(x), rel=1e-13)
    assert e.value == pytest.approx(math.exp(x), rel=1e-15)  # NumPy's exp and libm's may differ by an ulp


@pytest.mark.parametrize("dtype, threshold", [("float16", -17.33), ("bfloat16", -92.88), ("float32", -103.97),
                                              ("float64", -745.13)])
def test_thresholds_and_tutorial_constant_follow_numerics_md(dtype, threshold):
    e = exact_vs_float(-1e9, dtype)
    assert e.value == 0.0 and e.underflow_threshold == pytest.approx(threshold, abs=0.01)
    assert e.smallest_subnormal == float(nx.finfo(dtype).smallest_subnormal)
    assert e.smallest_normal == float(nx.finfo(dtype).tiny)
    assert e.x_in_dtype == (-math.inf if dtype == "float16" else nx.to_float(nx.cast(-1e9, dtype)))
    assert "stores exactly 0" in e.takeaway()


def test_subnormal_normal_and_zero_in_float32():
    kept = exact_vs_float(-100.0, "float32")                 # e^-100 = 3.7e-44: subnormal in float32
    assert kept.below_normal and not kept.below_subnormal
    assert 0 < kept.value < kept.smallest_normal and "subnormal" in kept.takeaway()
    gone = exact_vs_float(-104.0, "float32")                 # below -103.97: exactly 0
    assert gone.value == 0 and gone.below_subnormal
    plain = exact_vs_float(-5.0, "float32")
    assert plain.value == pytest.approx(math.exp(-5), rel=1e-7) and "representable" in plain.takeaway()


@pytest.mark.parametrize("x, value", [(-math.inf, 0.0), (math.inf, math.inf)])
def test_infinite_exponents(x, value):
    e = exact_vs_float(x, "float32")
    assert e.exponent is None and e.mantissa is None and e.value == value


def test_nan_exponent_is_explained_not_refused():
    e = exact_vs_float(float("nan"), "float32")
    assert math.isnan(e.value) and "NaN" in e.takeaway()


@pytest.mark.parametrize("x, dtype, match", [("big", "float32", "'big'"), (None, "float32", "None"),
                                             (-1.0, "int8", "'int8'")])
def test_exact_vs_float_bad_input(x, dtype, match):
    with pytest.raises(MaskAttnError, match=match):
        exact_vs_float(x, dtype)


def test_row_version_lists_each_masked_key():
    steps = attention_steps(Q, K, V, CAUSAL)
    r = exact_vs_float_row(steps, 1)                         # query 1 masks keys 2..5
    assert r.keys == (2, 3, 4, 5) and not r.fully_masked
    np.testing.assert_array_equal(r.shifted, f64(steps.shifted[1, 2:]))
    assert np.all(r.exps == 0) and r.underflow_threshold == underflow_threshold("float32")
    assert [e.x for e in r.exact] == r.shifted.tolist()
    assert "exactly 0" in r.takeaway()


def test_row_version_too_small_constant_and_fully_masked_row():
    r = exact_vs_float_row(attention_steps(Q, K, V, PAD, mask_value=-10), 0)
    assert np.all(r.exps > 0) and f"{spell(np.max(r.exps), digits=3)} and it keeps weight" in r.takeaway()
    full = exact_vs_float_row(attention_steps(Q, K, V, FULL), 5)
    assert full.fully_masked and "the row max m is a masked score too" in full.takeaway()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=2, max_size=6), st.sampled_from(DTYPE_NAMES),
       st.floats(-1e5, -1, allow_nan=False))
def test_exp_is_exactly_zero_below_the_threshold(row, dtype, constant):
    steps = attention_steps([[1.0]], np.array(row)[:, None], np.zeros((len(row), 1)), [[0] + [1] * (len(row) - 1)],
                            mask_value=constant, dtype=dtype, method="fill", scale=False)
    r = exact_vs_float_row(steps, 0)
    far = np.abs(r.shifted - r.underflow_threshold) > 1e-3 * max(1, abs(r.underflow_threshold))
    assert np.array_equal((r.exps == 0)[far], (r.shifted < r.underflow_threshold)[far])


@pytest.mark.parametrize("row, match", [(6, "got 6"), ((0, 1), r"got \(0, 1\)"), (-1, "got -1")])
def test_row_version_bad_row(row, match):
    with pytest.raises(MaskAttnError, match=match):
        exact_vs_float_row(attention_steps(Q, K, V, PAD), row)


def test_row_version_needs_steps():
    with pytest.raises(MaskAttnError, match="got ndarray"):
        exact_vs_float_row(np.zeros((2, 2)), 0)


# --------------------------------------------------------------------------- the leak test


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
@pytest.mark.parametrize("method", ["add", "fill", "safe"])
@pytest.mark.parametrize("amount", [1.0, 1e3, 1e6])
def test_shaking_the_padding_leaves_real_tokens_bit_for_bit(dtype, method, amount):
    r = leak_test_tokens(TOKENS, TOKEN_PAD, amount=amount, rng=int(amount), dtype=dtype, method=method)
    assert r.unchanged[REAL].all() and r.shielded[REAL].all() and np.all(r.delta[REAL] == 0)
    assert r.perturbed_queries.tolist() == (~REAL).tolist() and np.all(r.delta[~REAL] > 0)
    assert r.passed and "bit for bit unchanged" in r.takeaway()
    assert not np.array_equal(r.before.logits, r.after.logits)   # the padding really moved


def test_a_too_small_constant_leaks_and_the_report_says_by_how_much():
    r = leak_test_tokens(TOKENS, TOKEN_PAD, amount=1e6, mask_value=-10)
    assert not r.unchanged[REAL].any() and r.leaks[REAL].all() and not r.passed
    text = r.takeaway()
    assert f"moved by {spell(np.max(r.delta[REAL]), digits=3)}" in text and "constant -10 in float32" in text


def test_a_flipped_mask_shields_nothing():
    r = leak_test_tokens(TOKENS, 1 - TOKEN_PAD, amount=1e3)
    assert not r.shielded.any() and not r.unchanged[REAL].any()
    assert "pointing the other way" in r.takeaway()
    assert f"moved by up to {spell(np.max(r.delta[REAL]), digits=3)}" in r.takeaway()


def test_float16_nan_is_not_unchanged():
    r = leak_test_tokens(TOKENS, TOKEN_PAD, amount=1.0, dtype="float16")
    assert np.isnan(r.delta).all() and not r.unchanged.any() and not r.passed
    assert "is NaN, because before shaking its mask term is 0 × -inf = NaN in float16" in r.takeaway()


def test_float16_fill_survives_small_noise_but_not_overflowing_values():
    assert leak_test_tokens(TOKENS, TOKEN_PAD, amount=100, dtype="float16", method="fill").passed
    r = leak_test_tokens(TOKENS, TOKEN_PAD, amount=1e6, dtype="float16", method="fill")
    assert np.isnan(f64(r.after.output[REAL])).all() and not np.isnan(f64(r.after.weights[REAL])).any()
    assert "0 times inf is NaN" in r.takeaway()          # weight exactly 0 times V = inf


def test_huge_keys_outweigh_an_additive_constant():
    """1e30 noise makes a masked score ~1e30, and 1e30 + (-1e9) = 1e30: add leaks, fill does not."""
    added = leak_test_tokens(TOKENS, TOKEN_PAD, amount=1e30)
    assert not added.unchanged[REAL].any() and "outweigh the constant" in added.takeaway()
    assert leak_test_tokens(TOKENS, TOKEN_PAD, amount=1e30, method="fill").unchanged[REAL].all()


@pytest.mark.parametrize("t", range(1, 6))
def test_the_future_cannot_leak(t):
    r = leak_test_tokens(TOKENS, create_look_ahead_mask(6), positions=[t], amount=1e6, rng=t)
    assert r.shielded.tolist() == [i < t for i in range(6)]
    assert r.unchanged[:t].all() and np.all(r.delta[t:] > 0)
    assert "bit for bit unchanged" in r.takeaway()


def test_key_and_value_rows_of_padding_keys():
    r = leak_test(Q, K, V, PAD, amount=1e6)
    assert r.positions == (4, 5) and r.unchanged.all() and r.passed
    assert "K and V rows of keys 4, 5" in r.takeaway()


def test_causal_keys_only_shield_earlier_queries():
    r = leak_test(Q, K, V, create_look_ahead_mask(T), amount=1e6)
    assert r.positions == (1, 2, 3, 4, 5)                     # no key is blocked for every query
    assert r.shielded.tolist() == [True] + [False] * 5 and r.unchanged[0] and not r.unchanged[1:].any()
    r = leak_test(Q, K, V, create_look_ahead_mask(T), keys=[3], amount=1e6)
    assert r.unchanged.tolist() == [True, True, True, False, False, False]


def test_nothing_to_shake_without_a_mask():
    r = leak_test(Q, K, V, None)
    assert r.positions == () and not r.passed and r.takeaway() == "Nothing was shaken: no key is masked."


def loop_outputs(q, k, v, mask):
    """Independent float64 reference: attention as a direct loop with math.exp, the tutorial's add."""
    out = []
    for i in range(len(q)):
        z = [sum(a * b for a, b in zip(q[i], k[j])) / math.sqrt(len(q[i])) + mask[j] * -1e9 for j in range(len(k))]
        e = [math.exp(x - max(z)) for x in z]
        out.append([sum(e[j] * v[j][c] for j in range(len(k))) / sum(e) for c in range(len(v[0]))])
    return np.array(out)


def test_leak_test_tokens_matches_an_independent_loop():
    r = leak_test_tokens(TOKENS, TOKEN_PAD, amount=1e6, rng=3, dtype="float64")
    x = embed([TOKENS], 16)[0]
    shaken = x.copy()
    shaken[3:] += 1e6 * np.random.default_rng(3).standard_normal((3, 16))
    pad = TOKEN_PAD[0].tolist()
    before, after = (loop_outputs(*[a.tolist() for a in project_qkv(e)], pad) for e in (x, shaken))
    np.testing.assert_allclose(r.before.output, before, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r.after.output[REAL], after[REAL], rtol=1e-10, atol=1e-12)
    assert np.array_equal(before[REAL], after[REAL])         # the loop agrees: exp(-1e9) is 0.0


@pytest.mark.parametrize("amount, match", [
    (float("nan"), "finite number, got NaN"), (float("inf"), "finite number, got inf"),
    (-float("inf"), "finite number, got -inf"), (2e30, "at most 1e30 in size, got 2e30"),
    (-5e31, "got -5e31"), ("big", "must be a number, got 'big'"), (None, "got None")])
def test_bad_perturbations_are_refused(amount, match):
    with pytest.raises(MaskAttnError, match=match):
        leak_test_tokens(TOKENS, TOKEN_PAD, amount=amount)
    with pytest.raises(MaskAttnError, match=match):
        leak_test(Q, K, V, PAD, amount=amount)


def test_edge_amounts_are_accepted():
    assert leak_test(Q, K, V, PAD, amount=1e30).amount == 1e30
    assert leak_test(Q, K, V, PAD, amount=-1e6).passed
    assert leak_test(Q, K, V, PAD, amount=0).passed


def test_noise_of_size_zero_moves_nothing_and_the_takeaway_says_no_more():
    report = leak_test_tokens(TOKENS, TOKEN_PAD, amount=0)
    assert report.unchanged.all() and report.passed
    assert "changed as" not in report.takeaway()
    assert "changed as queries too" in leak_test_tokens(TOKENS, TOKEN_PAD, amount=1.0).takeaway()


@pytest.mark.parametrize("kwargs, match", [(dict(keys=[6]), "from 0 to 5, got 6"), (dict(keys="x"), "got 'x'"),
                                           (dict(keys=[-1]), "got -1")])
def test_bad_keys(kwargs, match):
    with pytest.raises(MaskAttnError, match=match):
        leak_test(Q, K, V, PAD, **kwargs)


def test_one_sequence_only():
    with pytest.raises(MaskAttnError, match=r"one sequence.*q \(2, 6, 4\)"):
        leak_test(np.stack([Q, Q]), K, V, PAD)
    with pytest.raises(MaskAttnError, match="got the string"):
        leak_test_tokens("the cat <pad>", TOKEN_PAD)
    with pytest.raises(MaskAttnError, match="positions from 0 to 5, got 9"):
        leak_test_tokens(TOKENS, TOKEN_PAD, positions=[9])


def test_the_seed_decides_the_noise():
    a, b = leak_test(Q, K, V, PAD, rng=1), leak_test(Q, K, V, PAD, rng=np.random.default_rng(1))
    assert np.array_equal(a.after.logits, b.after.logits)
    causal = create_look_ahead_mask(T)                       # key 5 is visible to query 5
    c = leak_test(Q, K, V, causal, keys=[5], rng=2)
    assert not np.array_equal(c.after.output, leak_test(Q, K, V, causal, keys=[5], rng=1).after.output)


def test_inputs_are_never_modified():
    copies = [a.copy() for a in (Q, K, V, PAD)]
    leak_test(Q, K, V, PAD)
    attention_grads(Q, K, V, PAD, d_output=D_OUT)
    for a, b in zip((Q, K, V, PAD), copies):
        np.testing.assert_array_equal(a, b)


@settings(max_examples=60, deadline=None)
@given(partly_masked(key_padding=True), st.sampled_from(["add", "fill"]), st.floats(0, 1e6),
       st.integers(0, 2**32 - 1))
def test_shielded_queries_never_move_in_float32(inputs, method, amount, seed):
    q, k, v, mask = inputs
    r = leak_test(q, k, v, mask, amount=amount, rng=seed, method=method)
    assert r.shielded.all() and r.unchanged.all()


@pytest.mark.parametrize("amount, cause", [
    (1e4, "its own query vector changed, so did its scores against the keys it may see"),
    (1e6, "its own scores against the masked keys reach"),
    (1e30, "is NaN, because after shaking a score is +inf"),
])
def test_a_shaken_pad_query_is_explained_by_what_really_moved_it(amount, cause):
    """At 1e4 a pad query moves because its own vector moved; at 1e6 because q_pad·k_pad outweighs −1e9 (its masked
    keys take the weight); at 1e30 it is NaN. Each sentence says which, from the numbers."""
    from maskattn.pipeline import compute
    from maskattn.state import Inputs
    r = compute(Inputs())
    report = leak_test_tokens(list(r.tokens), r.mask, amount=amount)
    text = report.takeaway(r.labels)
    assert cause in text, text
    assert "up to NaN" not in text
    if amount == 1e6:                                  # the weight the sentence quotes is the one computed
        own = np.flatnonzero(report.perturbed_queries)
        worst = own[np.argmax(report.delta[own])]
        assert f"take weight {spell(leaked_mass(report.after.weights, report.after.mask)[worst], digits=3)}" in text
