"""broadcast: each mask part in its own shape, their maximum, and every head's masked logits."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from maskattn import MaskAttnError
from maskattn.broadcast import HEAD_CHOICES, MAX_BROADCAST_TOKENS, broadcast_masks, shape_table, split_heads
from maskattn.masks import MASK_PARTS
from maskattn.pipeline import compute
from maskattn.state import Inputs


def test_the_tutorial_parts_keep_their_own_shapes_and_their_maximum_is_b_1_t_t():
    view = broadcast_masks(Inputs(causal=True), heads=2)
    B, T = view.batch.ids.shape
    assert view.parts["padding"].shape == (B, 1, 1, T) and view.parts["look_ahead"].shape == (T, T)
    # the maximum, by broadcasting by hand: the (1, 1, T) row copied down every query of its sequence
    by_hand = np.maximum(np.repeat(view.parts["padding"], T, axis=2), view.parts["look_ahead"][None, None])
    np.testing.assert_array_equal(view.mask, by_hand)
    assert view.steps.masked_logits.shape == view.shape == (B, 2, T, T)


@pytest.mark.parametrize("heads", HEAD_CHOICES)
def test_every_head_is_a_slice_of_the_playgrounds_q_and_k(heads):
    inputs = Inputs(causal=True, dtype="float64")
    view = broadcast_masks(inputs, heads)
    d = inputs.d_model // heads
    for b in range(view.batch.ids.shape[0]):
        r = compute(Inputs(causal=True, dtype="float64", sequence=b))          # the Playground's own q, k
        for h in range(heads):
            q, k = r.q[:, h * d:(h + 1) * d], r.k[:, h * d:(h + 1) * d]
            sqrt_d = float(np.sqrt(np.float64(d)))                             # float64 throughout (numerics.sqrt_depth)
            np.testing.assert_allclose(view.steps.logits[b, h], q @ k.T / sqrt_d, rtol=1e-12)
            # one mask for every head: the (B, 1, T, T) mask copied across H
            np.testing.assert_array_equal(view.steps.mask[b, h], r.mask)


def test_every_new_part_is_named_with_its_shape():
    inputs = Inputs(mask_queries=True, causal=True, window=2, packed=True, drawn="-".join(["0" * 11] * 11))
    view = broadcast_masks(inputs, heads=4)
    B, H, T, _ = view.shape
    numbers = {"B": B, "H": H, "Tq": T, "Tk": T, "1": 1}
    for name, part in view.parts.items():
        letters = MASK_PARTS[name][1].strip("()").split(", ")
        assert part.shape == tuple(numbers[a] for a in letters), name
    table = shape_table(view)
    lines = table.splitlines()
    assert len(lines) == len(view.parts) + 3                                 # parts, maximum, logits, masked
    assert len({line.rindex(" = ") for line in lines}) == 1                  # aligned as NumPy aligns shapes
    assert lines[-1].endswith(f"({B}, {H}, {T}, {T})") and "document mask" in table


def test_no_mask_no_mask_lines():
    view = broadcast_masks(Inputs(padding=False), heads=2)
    assert view.parts == {} and view.mask is None
    assert shape_table(view).splitlines()[0].startswith("logits")


def test_long_sequences_get_shapes_but_no_heads():
    view = broadcast_masks(Inputs(text=" ".join(["w"] * (MAX_BROADCAST_TOKENS + 1))), heads=2)
    assert view.steps is None and "only the shapes" in view.notices[0]
    assert view.mask.shape == (1, 1, MAX_BROADCAST_TOKENS + 1, MAX_BROADCAST_TOKENS + 1)


@pytest.mark.parametrize("heads, match", [(3, "heads must be one of 2, 4, got 3"), (True, "got True"),
                                          ("2", "got '2'")])
def test_bad_heads_are_refused(heads, match):
    with pytest.raises(MaskAttnError, match=match):
        broadcast_masks(Inputs(), heads)


def test_a_model_width_that_does_not_split_is_refused():
    with pytest.raises(MaskAttnError, match="d_model 6 does not split into 4 heads"):
        broadcast_masks(Inputs(d_model=6), 4)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 3), st.integers(1, 5), st.sampled_from([1, 2, 4]), st.integers(1, 3))
def test_split_heads_keeps_every_number(B, T, heads, depth):
    x = np.arange(B * T * heads * depth, dtype=np.float64).reshape(B, T, heads * depth)   # (B, T, d)
    split = split_heads(x, heads)                                                          # (B, H, T, dh)
    assert split.shape == (B, heads, T, depth)
    np.testing.assert_array_equal(split.transpose(0, 2, 1, 3).reshape(B, T, -1), x)
