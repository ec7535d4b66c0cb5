"""The masks beyond the causal window, and additive biases, against direct loops and the real libraries.

Two-sided windows (JAX ``local_window_size=(left, right)``, Hugging Face's bidirectional window),
chunked attention (transformers ``chunked_causal_mask_function`` with left padding), global tokens
and a shared prefix (FlexAttention ``create_mask`` with ``or_masks``), documents from position ids
(transformers ``find_packed_sequence_indices``), ALiBi (BLOOM's ``build_alibi_tensor``), T5's
buckets (``T5Attention._relative_position_bucket``), and a bias added to the logits (PyTorch autograd,
JAX and Keras ``dot_product_attention(bias=...)``).
"""

from __future__ import annotations

import math

from hypothesis import given, settings, strategies as st
import numpy as np
import pytest

from maskattn import attention_steps
from maskattn.bias import (BIAS_KINDS, alibi_bias, alibi_slopes, position_bias, t5_bias, t5_relative_position_bucket,
                           t5_stand_in_table)
from maskattn.errors import MaskAttnError
from maskattn.masks import MaskSpec
from maskattn.masks.patterns import (create_chunked_mask, create_shared_prefix_mask,
                                     create_sliding_window_mask, create_two_sided_window_mask, global_overlay,
                                     left_padding, lift_global, segment_ids_from_position_ids, split_evenly)
from maskattn.proof import attention_grads

SIZES = st.integers(1, 12)


def loop_two_sided(T, left, right, rule):
    reach = left - 1 if rule == "keys" else left
    return np.array([[0.0 if -right <= i - j <= reach else 1.0 for j in range(T)] for i in range(T)], np.float32)


def loop_chunked(T, chunk, offset):
    return np.array([[0.0 if j <= i and (i - offset) // chunk == (j - offset) // chunk else 1.0 for j in range(T)]
                     for i in range(T)], np.float32)


# --- direct loops and properties --------------------------------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(SIZES, st.integers(1, 14), st.integers(0, 14), st.sampled_from(["keys", "distance"]))
def test_two_sided_window_is_the_loop_and_right_zero_is_the_causal_window(T, left, right, rule):
    mask = create_two_sided_window_mask(T, left, right, rule)
    assert mask.tolist() == loop_two_sided(T, left, right, rule).tolist()
    if right == 0:
        assert mask.tolist() == create_sliding_window_mask(T, left, rule).tolist()


@settings(max_examples=150, deadline=None)
@given(SIZES, st.integers(1, 14), st.integers(0, 12))
def test_chunked_mask_is_the_loop_and_each_query_sees_at_most_a_chunk(T, chunk, offset):
    mask = create_chunked_mask(T, chunk, offset)
    assert mask.tolist() == loop_chunked(T, chunk, offset).tolist()
    assert ((mask == 0).sum(axis=-1) <= chunk).all()
    assert (np.diag(mask) == 0).all()                                   # every query sees itself


@settings(max_examples=150, deadline=None)
@given(SIZES, st.data())
def test_global_tokens_open_exactly_their_rows_and_columns(T, data):
    positions = data.draw(st.lists(st.integers(0, T - 1), max_size=3))
    base = create_two_sided_window_mask(T, 2, 1)
    lifted = lift_global(base, positions)
    for i in range(T):
        for j in range(T):
            expected = 0.0 if i in positions or j in positions else base[i, j]
            assert lifted[i, j] == expected
    assert (lifted <= base).all()                                       # global tokens only ever open cells


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 5), st.lists(st.integers(1, 4), min_size=1, max_size=4))
def test_shared_prefix_each_completion_sees_the_prefix_and_itself_causally(prefix, lengths):
    mask = create_shared_prefix_mask(prefix, lengths)
    part = np.repeat(np.arange(len(lengths) + 1), [prefix, *lengths])
    T = prefix + sum(lengths)
    for i in range(T):
        for j in range(T):
            attend = j <= i and (part[j] == 0 or part[j] == part[i])
            assert mask[i, j] == (0.0 if attend else 1.0), (i, j)


def test_split_evenly_gives_the_longer_runs_first_and_refuses_too_many():
    assert split_evenly(7, 3) == (3, 2, 2) and sum(split_evenly(40, 7)) == 40
    with pytest.raises(MaskAttnError, match="3 completions need at least 3 tokens"):
        split_evenly(2, 3)


def test_mask_spec_combines_the_new_parts_and_refuses_what_cannot_go_together():
    ids = [[0, 0, 5, 6, 7, 8, 9]]
    spec = MaskSpec(padding=True, window=2, window_right=2, global_tokens=(2,))
    expected = np.maximum(lift_global(create_two_sided_window_mask(7, 2, 2), [2]), (np.array(ids) == 0)[0][None, :])
    assert spec.build(ids)[0, 0].tolist() == expected.tolist()          # global tokens never open the pads
    chunked = MaskSpec(chunk=2).build(ids)[0, 0]
    assert chunked.tolist() == create_chunked_mask(7, 2, offset=2).tolist()   # chunks start after the left pads
    for bad, message in [(dict(window_right=1), "set window"), (dict(window=2, window_right=1, causal=True), "causal"),
                         (dict(global_tokens=(1,)), "lift a sliding window or chunks"),
                         (dict(shared_prefix=2, segments=True), "use one of them"),
                         (dict(chunk=0), "chunk must be None or an integer >= 1"),
                         (dict(window=2, global_tokens=(-1,)), "whole numbers >= 0")]:
        with pytest.raises(MaskAttnError, match=message):
            MaskSpec(**bad)


def test_position_ids_restarting_make_documents():
    assert segment_ids_from_position_ids([[0, 1, 2, 0, 1, 0]]).tolist() == [[0, 0, 0, 1, 1, 2]]
    assert segment_ids_from_position_ids([[5, 6, 7]]).tolist() == [[0, 0, 0]]         # one sequence, offset
    assert left_padding([[0, 0, 0], [1, 0, 2]]).tolist() == [3, 0]


# --- the real libraries -----------------------------------------------------------------------------------------

@pytest.mark.jax
@pytest.mark.parametrize("T, reach, right", [(6, 1, 1), (7, 2, 3), (5, 1, 4), (8, 3, 0)])
def test_two_sided_window_is_jax_local_window_size(T, reach, right):
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp
    d = 4 * ((T + 3) // 4)                                                  # JAX wants v as deep as q and k
    q = jnp.ones((1, T, 1, d), jnp.float32)
    k = jnp.ones((1, T, 1, d), jnp.float32)
    v = jnp.eye(T, d, dtype=jnp.float32)[None, :, None, :]                  # output row = the weights
    w = np.asarray(jax.nn.dot_product_attention(q, k, v, local_window_size=(reach, right)))[0, :, 0, :T]
    ours = create_two_sided_window_mask(T, reach, right, "distance")
    assert ((w == 0).astype(np.float32)).tolist() == ours.tolist()


@pytest.mark.transformers
@pytest.mark.parametrize("w", [1, 2, 4])
def test_hugging_face_bidirectional_window_is_a_two_sided_window_in_distance(w):
    pytest.importorskip("transformers")
    from transformers.masking_utils import sdpa_mask, sliding_window_bidirectional_mask_function
    T = 9
    attend = sdpa_mask(batch_size=1, q_length=T, kv_length=T, mask_function=sliding_window_bidirectional_mask_function(w),
                       allow_is_causal_skip=False).numpy()[0, 0]
    assert (~attend).astype(np.float32).tolist() == create_two_sided_window_mask(T, w, w, "distance").tolist()


@pytest.mark.transformers
@pytest.mark.parametrize("chunk", [1, 2, 3, 5])
def test_chunked_mask_with_left_padding_is_hugging_faces(chunk):
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from transformers.masking_utils import chunked_causal_mask_function, sdpa_mask
    ids = np.array([[0, 0, 0, 4, 5, 6, 7, 8, 9], [4, 5, 6, 7, 8, 9, 1, 2, 3], [0, 4, 5, 6, 7, 8, 9, 1, 2]])
    attention_mask = torch.tensor(ids != 0)
    pads = (attention_mask.cumsum(dim=-1) == 0).sum(dim=-1)                   # create_chunked_causal_mask's count
    assert pads.tolist() == left_padding(ids).tolist()
    attend = sdpa_mask(batch_size=3, q_length=9, kv_length=9, mask_function=chunked_causal_mask_function(chunk, pads),
                       attention_mask=attention_mask, allow_is_causal_skip=False).numpy()[:, 0]
    ours = MaskSpec(padding=True, chunk=chunk).build(ids)[:, 0]                    # (B, T, T)
    assert (~attend).astype(np.float32).tolist() == ours.tolist()
    example = sdpa_mask(batch_size=1, q_length=5, kv_length=5,                  # the docstring's own example
                        mask_function=chunked_causal_mask_function(3, torch.zeros(1, dtype=int)),
                        allow_is_causal_skip=False).numpy()[0, 0]
    assert (~example).astype(np.float32).tolist() == create_chunked_mask(5, 3).tolist()


@pytest.mark.transformers
@pytest.mark.parametrize("position_ids", [[[0, 1, 0, 1, 2, 0, 1, 2, 3]], [[0, 1, 2, 3, 0, 1, 2, 0, 0]],
                                          [[0, 1, 2], [0, 0, 1]]])
def test_documents_from_position_ids_are_hugging_faces(position_ids):
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from transformers.masking_utils import find_packed_sequence_indices
    theirs = find_packed_sequence_indices(torch.tensor(position_ids))
    ours = segment_ids_from_position_ids(position_ids)
    assert theirs is not None and theirs.tolist() == ours.tolist()


def _flex_mask(mask_mod, T):
    pytest.importorskip("torch")
    from torch.nn.attention.flex_attention import create_mask
    return (~create_mask(mask_mod, 1, None, T, T, device="cpu").numpy()[0, 0]).astype(np.float32)


@pytest.mark.torch
@pytest.mark.parametrize("positions", [(0,), (0, 5), (3, 4, 8)])
def test_global_tokens_are_flex_attentions_or_masks(positions):
    pytest.importorskip("torch")
    import torch
    from torch.nn.attention.flex_attention import and_masks, or_masks
    T, left, right = 10, 2, 1
    is_global = torch.zeros(T, dtype=torch.bool)
    is_global[list(positions)] = True
    window = and_masks(lambda b, h, q, kv: q - kv <= left, lambda b, h, q, kv: kv - q <= right)
    global_ = lambda b, h, q, kv: is_global[q] | is_global[kv]
    theirs = _flex_mask(or_masks(window, global_), T)
    spec = MaskSpec(window=left, window_rule="distance", window_right=right, global_tokens=positions)
    assert spec.build([list(range(1, T + 1))])[0, 0].tolist() == theirs.tolist()
    assert global_overlay(T, positions).tolist() == (~torch.vmap(torch.vmap(
        lambda q, kv: global_(0, 0, q, kv), (None, 0)), (0, None))(torch.arange(T), torch.arange(T)).numpy()
        ).astype(np.float32).__rsub__(1).tolist()


@pytest.mark.torch
@pytest.mark.parametrize("prefix, completions", [(3, 2), (1, 3), (4, 1), (0, 4)])
def test_shared_prefix_is_the_flex_attention_document_rule_over_causal(prefix, completions):
    pytest.importorskip("torch")
    import torch
    from torch.nn.attention.flex_attention import and_masks
    T = 10
    lengths = split_evenly(T - prefix, completions)
    part = torch.tensor(np.repeat(np.arange(completions + 1), [prefix, *lengths]))
    theirs = _flex_mask(and_masks(lambda b, h, q, kv: kv <= q,
                                  lambda b, h, q, kv: (part[kv] == 0) | (part[q] == part[kv])), T)
    spec = MaskSpec(shared_prefix=prefix, completions=completions)
    assert spec.build([list(range(1, T + 1))])[0, 0].tolist() == theirs.tolist()


# --- biases -----------------------------------------------------------------------------------------------------

@pytest.mark.transformers
@pytest.mark.parametrize("heads", [1, 4, 6, 8, 12, 16])
def test_alibi_is_blooms_up_to_one_number_per_row(heads):
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from transformers.models.bloom.modeling_bloom import build_alibi_tensor
    T = 7
    theirs = build_alibi_tensor(torch.ones(1, T, dtype=torch.long), heads, torch.float64).numpy()  # (H, 1, T): m·j
    slopes = theirs[:, 0, 1] / 1.0                                          # the bias of key 1 is m · 1
    np.testing.assert_allclose(alibi_slopes(heads), slopes, rtol=1e-6)
    ours = alibi_bias(T, heads)                                             # (H, T, T): −m·(i − j)
    shifted = np.broadcast_to(theirs, (heads, T, T)) - np.arange(T)[None, :, None] * slopes[:, None, None]
    np.testing.assert_allclose(ours, shifted, rtol=1e-6, atol=1e-6)       # m·j − m·i (BLOOM's slopes in float32)


@pytest.mark.transformers
@pytest.mark.parametrize("bidirectional", [True, False])
def test_t5_buckets_are_t5s(bidirectional):
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from transformers.models.t5.modeling_t5 import T5Attention
    rel = torch.arange(-300, 301)
    theirs = T5Attention._relative_position_bucket(rel, bidirectional=bidirectional).numpy()
    assert t5_relative_position_bucket(rel.numpy(), bidirectional=bidirectional).tolist() == theirs.tolist()


def test_t5_bias_reads_the_table_by_bucket_and_the_stand_in_falls_with_distance():
    table = t5_stand_in_table(8)                                            # (32, 8)
    bias = t5_bias(40, 8)                                                   # (8, 40, 40)
    assert bias[0, 5, 5] == 0 and bias[0, 5, 4] == table[1, 0] and bias[0, 4, 5] == table[17, 0]
    row = bias[2, 39, :40]                                                  # keys before the last query
    assert (np.diff(row) >= 0).all()                                        # nearer keys: never a lower bias
    assert len(set(row[:20].tolist())) < 20                                 # far keys share buckets
    with pytest.raises(MaskAttnError, match="shape"):
        t5_bias(4, 8, table=np.zeros((32, 3)))


def test_every_bias_kind_is_built_and_an_unknown_one_is_refused():
    for kind in BIAS_KINDS:
        if kind == "typed":                                                  # its own matrix, not a formula
            with pytest.raises(MaskAttnError, match="parse_bias_matrix"):
                position_bias(kind, 5)
            continue
        bias = position_bias(kind, 5, head=3)
        assert bias is None if kind == "off" else (bias.shape == (5, 5) and np.isfinite(bias).all())
    with pytest.raises(MaskAttnError, match="head must be"):
        position_bias("alibi", 5, head=9)


RNG = np.random.default_rng(7)
Q, K, V = RNG.normal(size=(2, 5, 8)), RNG.normal(size=(2, 6, 8)), RNG.normal(size=(2, 6, 3))
BIAS = RNG.normal(size=(2, 5, 6)) * 2
MASK = (RNG.random(size=(1, 5, 6)) < 0.3).astype(np.float32)
D_OUT = RNG.normal(size=(2, 5, 3))


@pytest.mark.torch
@pytest.mark.parametrize("dtype, tolerance", [("float64", 1e-11), ("float32", 1e-5)])
@pytest.mark.parametrize("method", ["add", "fill", "attend_all"])
def test_bias_outputs_and_gradients_are_pytorch_autograds(dtype, tolerance, method):
    torch = pytest.importorskip("torch")
    from test_proof import torch_grads
    g = attention_grads(Q, K, V, MASK, d_output=D_OUT, dtype=dtype, method=method, bias=BIAS)
    theirs = torch_grads(torch, Q, K, V, MASK, D_OUT, mask_value=-1e9, dtype=dtype, method=method, bias=BIAS)
    for name, ours in (("output", g.steps.output), ("dq", g.dq), ("dk", g.dk), ("dv", g.dv), ("dbias", g.dbias)):
        ours = ours.astype(np.float64)
        scale = max(np.max(np.abs(theirs[name])), 1e-300)
        assert np.max(np.abs(ours - theirs[name])) / scale <= tolerance, name


@pytest.mark.jax
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bias_with_a_mask_and_causal_is_jax_dot_product_attention(dtype):
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp
    T = 6
    q, k, v, bias = K[1, :T], K[0, :T], V[0, :T], np.pad(BIAS[0], ((0, 1), (0, 0)))[:T, :T]
    pad = np.array([0, 0, 0, 0, 1, 1], np.float32)                            # the last two keys are padding
    causal = np.triu(np.ones((T, T), np.float32), 1)
    mask = np.maximum(pad[None, :], causal)
    from framework_adapters import x64
    with x64(dtype):
        dt = jnp.float64 if dtype == "float64" else jnp.float32
        v_eye = jnp.eye(T, 8, dtype=dt)[None, :, None, :]                         # output row = the weights
        w = np.asarray(jax.nn.dot_product_attention(
            jnp.asarray(q, dt)[None, :, None], jnp.asarray(k, dt)[None, :, None], v_eye,
            bias=jnp.asarray(bias, dt)[None, None], mask=jnp.asarray(pad == 0)[None, None, None, :],
            is_causal=True))[0, :, 0, :T]
    ours = attention_steps(q, k, v, mask, dtype=dtype, method="fill", bias=bias).weights.astype(np.float64)
    # JAX's XLA path runs softmax in float32 for every dtype ("always carried out in fp32"), float64 too: float32's
    # precision is all a float64 comparison with JAX can show (PyTorch autograd checks float64 to 1e-11 above)
    np.testing.assert_allclose(ours, w, rtol=2e-6, atol=1e-7)
    assert (w[ours == 0] == 0).all() and (w[ours > 0] > 0).all()            # the same keys blocked, bias or not


@pytest.mark.keras
def test_bias_is_keras_ops_dot_product_attention():
    import os
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    keras = pytest.importorskip("keras")
    T = 5
    q, k, v, bias = Q[0, :T], K[0, :T], np.eye(T), BIAS[0, :T, :T]
    mask = np.zeros((T, T), np.float32)
    mask[:, 3] = 1
    out = keras.ops.dot_product_attention(q[None, :, None].astype(np.float32), k[None, :, None].astype(np.float32),
                                          v[None, :, None].astype(np.float32), bias=bias[None, None].astype(np.float32),
                                          mask=(mask == 0)[None, None])
    ours = attention_steps(q, k, v, mask, method="fill", bias=bias).weights
    np.testing.assert_allclose(np.asarray(out)[0, :, 0], ours, rtol=2e-6, atol=1e-7)


def test_a_bias_of_minus_inf_is_a_mask_and_bad_biases_are_refused():
    rng = np.random.default_rng(3)
    q, k, v = rng.normal(size=(4, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    mask = np.array([[0, 1, 0, 0, 1]] * 4, np.float32)
    for dtype in ("float16", "bfloat16", "float32", "float64"):
        by_bias = attention_steps(q, k, v, bias=np.where(mask == 1, -np.inf, 0.0), dtype=dtype)
        by_mask = attention_steps(q, k, v, mask, dtype=dtype, method="fill", mask_value=-np.inf)
        assert by_bias.weights.tobytes() == by_mask.weights.tobytes(), dtype
    for bad, message in [([[math.nan] * 5] * 4, "NaN"), ([[math.inf] * 5] * 4, r"\+inf"), (np.zeros((3, 3)), "broadcast"),
                         ([["a"] * 5] * 4, "numbers")]:
        with pytest.raises(MaskAttnError, match=message):
            attention_steps(q, k, v, bias=bad)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.floats(-50, 50), st.sampled_from(["float32", "float64"]))
def test_a_bias_shared_by_a_row_changes_nothing(T, shift, dtype):
    """Softmax ignores a number added to every key of a row: BLOOM's m·j and ALiBi's −m·(i − j) are one bias."""
    rng = np.random.default_rng(T)
    q, k, v = rng.normal(size=(T, 4)), rng.normal(size=(T, 4)), rng.normal(size=(T, 2))
    alibi = alibi_bias(T, 1)[0]
    a = attention_steps(q, k, v, bias=alibi, dtype="float64").weights
    b = attention_steps(q, k, v, bias=alibi + shift, dtype="float64").weights
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_attend_all_gives_a_row_with_no_key_every_key_back():
    """Hugging Face's SDPA path before transformers 5 (``AttentionMaskConverter._unmask_unattended``): a row whose
    mask is all blocked is multiplied by 0, so it attends to every key with its raw logits."""
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=(3, 2))
    mask = np.array([[0, 1, 1], [1, 1, 1], [0, 0, 1]], np.float32)
    steps = attention_steps(q, k, v, mask, method="attend_all")
    plain = attention_steps(q, k, v)
    assert steps.weights[1].tolist() == plain.weights[1].tolist()           # the empty row: every key, unmasked
    fill = attention_steps(q, k, v, mask, method="fill")
    assert steps.weights[[0, 2]].tolist() == fill.weights[[0, 2]].tolist()  # the other rows: the fill
    assert not np.isnan(attention_steps(q, k, v, mask, method="attend_all", mask_value=-np.inf,
                                        dtype="float16").weights).any()


#: a script run by transformers 4.46's own AttentionMaskConverter._unmask_unattended (in its own folder, see .ci/run)
_UNMASK_UNATTENDED = """
import json, sys, types
sys.path.insert(0, sys.argv[1])
sys.modules["transformers.dependency_versions_check"] = types.ModuleType("skipped")  # its pins are for 4.46's tokenizers
import torch
from transformers.modeling_attn_mask_utils import AttentionMaskConverter
blocked = torch.tensor(json.loads(sys.argv[2]), dtype=torch.bool)
min_dtype = torch.finfo(torch.float32).min
expanded = torch.where(blocked, min_dtype, 0.0)[None, None]                   # (B, 1, Tq, Tk) as 4.46 builds it
fixed = AttentionMaskConverter._unmask_unattended(expanded, min_dtype=min_dtype)
q, k = (torch.tensor(json.loads(a), dtype=torch.float32)[None, None] for a in sys.argv[3:5])
w = torch.nn.functional.scaled_dot_product_attention(q, k, torch.eye(k.shape[-2])[None, None], attn_mask=fixed)
print(json.dumps(w[0, 0].tolist()))
"""


@pytest.mark.transformers
def test_attend_all_is_what_transformers_4_sdpa_path_did():
    """Run transformers 4.46's own ``_unmask_unattended`` (CI installs it in a folder of its own: it cannot share the
    environment with transformers 5, which dropped it) and compare the weights with ``method="attend_all"``."""
    import json
    import os
    import subprocess
    import sys
    folder = os.environ.get("MASKATTN_TRANSFORMERS4")
    if not folder:
        pytest.skip("set MASKATTN_TRANSFORMERS4 to a folder with transformers==4.46.3 (.ci/run installs it)")
    pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    q, k = rng.normal(size=(4, 8)), rng.normal(size=(4, 8))
    blocked = np.array([[0, 1, 1, 1], [1, 1, 1, 1], [0, 0, 1, 1], [1, 1, 1, 1]], bool)
    out = subprocess.run([sys.executable, "-c", _UNMASK_UNATTENDED, folder, json.dumps(blocked.tolist()),
                          json.dumps(q.tolist()), json.dumps(k.tolist())], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    theirs = np.array(json.loads(out.stdout.strip().splitlines()[-1]))
    ours = attention_steps(q, k, np.eye(4), blocked.astype(np.float32), method="attend_all",
                           mask_value=float(np.finfo(np.float32).min)).weights
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)
    plain = attention_steps(q, k, np.eye(4)).weights
    np.testing.assert_allclose(theirs[[1, 3]], plain[[1, 3]], rtol=1e-5, atol=1e-7)   # every key, unmasked


def test_the_bias_sweep_is_an_independent_softmax_and_zero_where_exp_underflows():
    """bias_limit against a float64 softmax written here, and its first exact 0 in float32 where NUMERICS.md puts
    float32's underflow: exp(x) is 0 for x below about −103.97 (the smallest subnormal is 2^−149)."""
    from maskattn.bias import bias_limit
    logits = np.array([2.0, 1.0, 0.5, -0.25])
    limit = bias_limit(logits, 1)
    f64 = limit.dtypes.index("float64")
    for s, step in enumerate(limit.steps):
        z = logits.copy()
        z[1] += step
        expected = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        np.testing.assert_allclose(limit.row[f64, s], expected, rtol=1e-12, atol=0)
    f32 = limit.dtypes.index("float32")
    shifted = [logits[1] + step - max(logits[0], logits[1] + step) for step in limit.steps]   # z_key − row max
    for s, gap in enumerate(shifted):
        assert (limit.weight[f32, s] == 0) == (gap < -104.0), (limit.steps[s], gap)   # no step lands in (−104, −103)
