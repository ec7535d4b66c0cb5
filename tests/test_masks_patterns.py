"""masks.patterns: sliding window, document and prefix LM masks, against real libraries and loops."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from maskattn import (MaskAttnError, combine_masks, create_document_mask, create_look_ahead_mask,
                      create_prefix_lm_mask, create_sliding_window_mask)
from maskattn.masks import WINDOW_RULES, segment_id_array, window_overlay

FAST = settings(max_examples=60, deadline=None)


# --- independent references: a direct loop over cells (1 = blocked) ---------------------------------

def loop_window(T, w, rule="keys"):
    seen = (lambda i, j: i - w < j <= i) if rule == "keys" else (lambda i, j: i - w <= j <= i)
    return np.array([[0.0 if seen(i, j) else 1.0 for j in range(T)] for i in range(T)]).reshape(T, T)


def loop_document(seg):
    return np.array([[0.0 if a == b else 1.0 for b in seg] for a in seg])


def loop_prefix(T, p):
    return np.array([[0.0 if (j < p or j <= i) else 1.0 for j in range(T)] for i in range(T)]).reshape(T, T)


# --- PyTorch FlexAttention's create_mask (True = attend) with the same rule ---------------------------

@pytest.fixture(scope="module")
def flex():
    pytest.importorskip("torch", reason="PyTorch is not installed (requirements-dev.txt)")
    import torch
    from torch.nn.attention.flex_attention import and_masks, create_mask, or_masks

    def blocked(mask_mod, T, B=None):
        attend = create_mask(mask_mod, B, None, T, T, device="cpu")       # (B or 1, 1, T, T) bool
        return (~attend).numpy().astype(np.float32)

    def causal(b, h, q, kv):
        return q >= kv

    return torch, blocked, causal, and_masks, or_masks


@pytest.mark.torch
@pytest.mark.parametrize("T, w", [(12, 3), (6, 1), (5, 5), (4, 9), (1, 1)])
def test_sliding_window_matches_flex_attention(flex, T, w):
    torch, blocked, causal, and_masks, _ = flex
    keys = and_masks(causal, lambda b, h, q, kv: q - kv < w)          # the Hugging Face rule
    distance = and_masks(causal, lambda b, h, q, kv: q - kv <= w)     # attention-gym's generate_sliding_window
    np.testing.assert_array_equal(create_sliding_window_mask(T, w), blocked(keys, T)[0, 0])
    np.testing.assert_array_equal(create_sliding_window_mask(T, w, "distance"), blocked(distance, T)[0, 0])


@pytest.mark.torch
def test_document_mask_matches_flex_attention(flex):
    torch, blocked, causal, and_masks, _ = flex
    seg = np.array([[1, 1, 1, 2, 2, 3, 3, 3, 0], [1, 2, 2, 2, 2, 2, 0, 0, 0]])
    seg_t = torch.tensor(seg)

    def same_document(b, h, q, kv):
        return seg_t[b, q] == seg_t[b, kv]

    np.testing.assert_array_equal(create_document_mask(seg), blocked(same_document, 9, B=2)[:, 0])
    packed_causal = combine_masks(create_document_mask(seg), create_look_ahead_mask(9))
    np.testing.assert_array_equal(packed_causal, blocked(and_masks(same_document, causal), 9, B=2)[:, 0])


@pytest.mark.torch
@pytest.mark.parametrize("T, p", [(8, 3), (8, 0), (8, 1), (8, 8), (1, 1)])
def test_prefix_lm_matches_flex_attention(flex, T, p):
    torch, blocked, causal, _, or_masks = flex
    prefix_lm = or_masks(lambda b, h, q, kv: kv < p, causal)           # attention-gym's generate_prefix_lm_mask
    np.testing.assert_array_equal(create_prefix_lm_mask(T, p), blocked(prefix_lm, T)[0, 0])


def test_jax_local_window_counts_the_distance():
    """jax.nn.dot_product_attention(local_window_size=(w, 0)) sees w + 1 keys: our rule="distance"."""
    pytest.importorskip("jax", reason="jax is not installed (requirements-dev.txt)")
    import jax
    import jax.numpy as jnp
    T, w = 7, 3
    q = k = jnp.zeros((1, T, 1, T), jnp.float32)                  # equal scores: weight > 0 iff visible
    v = jnp.eye(T, dtype=jnp.float32)[None, :, None, :]           # (B, T, N, T): output row = weight row
    for window, rule in ((w, "distance"), (w - 1, "keys")):
        out = jax.nn.dot_product_attention(q, k, v, local_window_size=(window, 0), implementation="xla")
        visible = np.asarray(out)[0, :, 0, :] > 0                  # (T, T)
        np.testing.assert_array_equal(create_sliding_window_mask(T, w, rule), ~visible)


def test_hugging_face_sliding_window_counts_keys():
    """transformers' own mask functions, run through FlexAttention's create_mask (pip install transformers)."""
    pytest.importorskip("torch")
    masking_utils = pytest.importorskip("transformers.masking_utils", reason="transformers is not installed")
    import torch
    from torch.nn.attention.flex_attention import create_mask
    T, w = 9, 3
    attend = create_mask(masking_utils.sliding_window_causal_mask_function(w), None, None, T, T, device="cpu")
    np.testing.assert_array_equal(create_sliding_window_mask(T, w), (~attend[0, 0]).numpy())
    seg = torch.tensor([[1, 1, 2, 2, 2, 3, 3, 3, 0]])
    packed = masking_utils.and_masks(masking_utils.packed_sequence_mask_function(seg),
                                     masking_utils.causal_mask_function)
    attend = create_mask(packed, 1, None, T, T, device="cpu")
    expected = combine_masks(create_document_mask(seg.numpy()[0]), create_look_ahead_mask(T))
    np.testing.assert_array_equal(expected, (~attend[0, 0]).numpy())


# --- properties -----------------------------------------------------------------------------------

@FAST
@given(st.integers(0, 24), st.integers(1, 30), st.sampled_from(list(WINDOW_RULES)))
def test_window_properties(T, w, rule):
    mask = create_sliding_window_mask(T, w, rule)
    assert mask.shape == (T, T) and mask.dtype == np.float32
    assert set(np.unique(mask)) <= {0.0, 1.0}
    np.testing.assert_array_equal(mask, loop_window(T, w, rule))
    assert not np.diagonal(mask).any()                                 # every query keeps itself
    assert np.all(mask >= create_look_ahead_mask(T))                   # never opens the future
    seen = (mask == 0).sum(axis=1)
    limit = w if rule == "keys" else w + 1
    assert np.all(seen == np.minimum(np.arange(T) + 1, limit))
    if w >= T:
        np.testing.assert_array_equal(mask, create_look_ahead_mask(T))
    np.testing.assert_array_equal(np.maximum(create_look_ahead_mask(T), window_overlay(T, w, rule)), mask)


@FAST
@given(st.integers(1, 24), st.integers(1, 23))
def test_the_two_rules_differ_by_one_key_per_late_query(T, w):
    # 1 where only the distance rule sees the key
    differ = create_sliding_window_mask(T, w) - create_sliding_window_mask(T, w, "distance")
    expected = [(i, i - w) for i in range(w, T)]
    assert [tuple(ij) for ij in np.argwhere(differ)] == expected
    np.testing.assert_array_equal(create_sliding_window_mask(T, w + 1), create_sliding_window_mask(T, w, "distance"))


@FAST
@given(st.lists(st.integers(0, 4), min_size=1, max_size=16))
def test_document_properties(seg):
    mask = create_document_mask(seg)
    T = len(seg)
    assert mask.shape == (T, T) and mask.dtype == np.float32
    np.testing.assert_array_equal(mask, loop_document(seg))
    np.testing.assert_array_equal(mask, mask.T)                         # seeing is mutual
    assert not np.diagonal(mask).any()
    if len(set(seg)) == 1:
        assert not mask.any()                                           # one document: nothing blocked
    causal = combine_masks(mask, create_look_ahead_mask(T))
    np.testing.assert_array_equal(causal, np.maximum(mask, create_look_ahead_mask(T)))
    assert not np.diagonal(causal).any()


@FAST
@given(st.lists(st.lists(st.integers(1, 3), min_size=5, max_size=5), min_size=1, max_size=3))
def test_document_mask_keeps_leading_axes(seg):
    mask = create_document_mask(np.array(seg))                          # (B, T) -> (B, T, T)
    assert mask.shape == (len(seg), 5, 5)
    for b, row in enumerate(seg):
        np.testing.assert_array_equal(mask[b], loop_document(row))


@FAST
@given(st.integers(0, 20).flatmap(lambda T: st.tuples(st.just(T), st.integers(0, T))))
def test_prefix_lm_properties(args):
    T, p = args
    mask = create_prefix_lm_mask(T, p)
    assert mask.shape == (T, T) and mask.dtype == np.float32
    np.testing.assert_array_equal(mask, loop_prefix(T, p))
    assert np.all(mask <= create_look_ahead_mask(T))                    # opens the prefix, closes nothing
    if p <= 1:
        np.testing.assert_array_equal(mask, create_look_ahead_mask(T))
    if p == T:
        assert not mask.any()
    assert not mask[:, :p].any()                                        # every query sees the whole prefix


def test_inputs_are_not_modified():
    seg = np.array([1, 1, 2])
    before = seg.copy()
    create_document_mask(seg)
    np.testing.assert_array_equal(seg, before)


@pytest.mark.parametrize("call, match", [
    (lambda: create_sliding_window_mask(5, 0), "window must be an integer >= 1, got 0"),
    (lambda: create_sliding_window_mask(5, -2), "got -2"),
    (lambda: create_sliding_window_mask(5, 2.5), "got 2.5"),
    (lambda: create_sliding_window_mask(5, True), "got True"),
    (lambda: create_sliding_window_mask(5, "3"), "got '3'"),
    (lambda: create_sliding_window_mask(5, 2, rule="both"), "'both'"),
    (lambda: create_sliding_window_mask(-1, 2), "size must be a non-negative integer, got -1"),
    (lambda: create_prefix_lm_mask(4, -1), "prefix_length must be an integer from 0 to 4, got -1"),
    (lambda: create_prefix_lm_mask(4, 5), "from 0 to 4, got 5"),
    (lambda: create_prefix_lm_mask(4, 1.0), "got 1.0"),
    (lambda: create_document_mask(7), "scalar 7"),
    (lambda: create_document_mask([1, 2.5]), "integers, got 2.5"),
    (lambda: create_document_mask([1, float("nan")]), "integers, got nan"),
    (lambda: create_document_mask(["a", "b"]), "integers, got dtype <U1"),
    (lambda: create_document_mask([True, False]), "integers, got dtype bool"),
    (lambda: create_document_mask([[1, 2], [3]]), r"rectangular array of integers, got \[\[1, 2\], \[3\]\]"),
])
def test_bad_arguments_name_the_value(call, match):
    with pytest.raises(MaskAttnError, match=match):
        call()


def test_integer_valued_float_segment_ids_are_accepted():
    assert segment_id_array(np.array([1.0, 2.0])).dtype == np.int64
