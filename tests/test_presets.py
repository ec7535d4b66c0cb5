"""presets: each classroom scenario shows, with the core's real numbers, what its text claims.

Expectations come from NUMERICS.md or from an independent float64 computation on the
pipeline's own q and k, never from the weights the code under test returns.
"""

from dataclasses import replace
import math

import numpy as np
import pytest

from maskattn import MaskAttnError
from maskattn.explain import classify_row, verdicts
from maskattn.masks import classify_mask, describe_mask
from maskattn.pipeline import compute
from maskattn.presets import PRESETS, get_preset, preset_names
from maskattn.state import Inputs, from_query_params, to_query_params
from maskattn.text import spell

SLUGS = preset_names()


def run(slug):
    return compute(get_preset(slug).inputs)


def float64_softmax(z):
    """An independent stable softmax in float64, row by row."""
    z = np.asarray(z, np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def raw_logits(result):
    """q·kᵀ (/√d if scaled) in float64 from the pipeline's unrounded q and k."""
    logits = result.q @ result.k.T                                          # (T, T)
    return logits / math.sqrt(result.q.shape[-1]) if result.inputs.scale else logits


def said(result) -> str:
    return " ".join(verdicts(result))


# --- the list itself ---------------------------------------------------------------------------

def test_every_issue_case_is_covered_and_names_are_unique():
    assert len(SLUGS) == len(set(SLUGS)) >= 8
    for needed in ("tutorial", "padding-batch", "decoder-mask", "constant-minus-1", "constant-minus-10",
                   "float16-nan", "float16-fill", "float16-1e4", "fully-masked-nan", "fully-masked-uniform",
                   "fully-masked-zeros", "wrong-polarity", "negative-logits",
                   # issue 13: every mask a practitioner meets
                   "left-padding", "packed-documents", "packed-leak", "sliding-window", "prefix-lm", "drawn-seed",
                   # issue 19: a mask is a bias of −∞, and the masks beyond the causal window
                   "longformer-global", "llama4-chunks", "shared-prefix", "alibi", "mask-is-bias"):
        assert needed in SLUGS


@pytest.mark.parametrize("preset", PRESETS, ids=SLUGS)
def test_preset_is_complete_data(preset):
    assert isinstance(preset.inputs, Inputs)
    assert preset.title and preset.context.endswith(".") and "?" in preset.question
    assert preset.inputs != Inputs(), "a preset must change something"
    assert not hasattr(preset.inputs, "presentation"), "presets leave the view (presentation mode) to the teacher"


@pytest.mark.parametrize("preset", PRESETS, ids=SLUGS)
def test_preset_survives_a_shared_link(preset):
    # a preset is only shareable if its URL form reads back to exactly the same state
    inputs, view, notices = from_query_params(to_query_params(preset.inputs))
    assert notices == []
    assert inputs == preset.inputs


@pytest.mark.parametrize("preset", PRESETS, ids=SLUGS)
def test_preset_computes_without_error(preset):
    result = compute(preset.inputs)
    assert result.notices == ()
    assert result.steps.weights.shape == (len(result.labels),) * 2


def test_unknown_preset_names_the_choices():
    with pytest.raises(MaskAttnError, match="unknown preset 'float8'.*float16-nan"):
        get_preset("float8")


# --- each preset shows what its text claims ------------------------------------------------------

def test_tutorial_batch_masks_the_zero_ids_exactly():
    r = run("tutorial")
    # the tutorial's create_padding_mask([[7, 6, 0, 0, 1], ...])[0] is [0, 0, 1, 1, 0]
    assert r.tokens == ("7", "6", "0", "0", "1")
    np.testing.assert_array_equal(r.mask, np.tile([0, 0, 1, 1, 0], (5, 1)))
    w = r.steps.weights.astype(np.float64)
    assert np.all(w[:, 2:4] == 0.0)                     # exactly 0, not tiny
    expected = float64_softmax(raw_logits(r)[:, [0, 1, 4]])
    np.testing.assert_allclose(w[:, [0, 1, 4]], expected, rtol=1e-4)
    assert r.inputs.mask_value == -1e9 and r.steps.method == "add" and r.steps.dtype == "float32"
    assert "exactly 0" in said(r)


def test_padding_batch_blocks_pad_keys_but_not_pad_queries():
    r = run("padding-batch")
    assert r.batch.shape[0] == 3 and r.tokens == ("hello", "world") + ("<pad>",) * 4
    w = r.steps.weights.astype(np.float64)
    assert np.all(w[:, 2:] == 0.0)
    assert np.all(w[2:, :2].sum(axis=-1) > 0.999)       # padded queries still attend to the words
    assert "still attend to the real tokens" in said(r)


def test_decoder_mask_is_the_elementwise_maximum_of_both_masks():
    r = run("decoder-mask")
    T = 6
    look_ahead = np.triu(np.ones((T, T)), k=1)          # the tutorial's create_look_ahead_mask
    padding = np.tile([0, 0, 1, 1, 1, 1], (T, 1))
    np.testing.assert_array_equal(r.mask, np.maximum(padding, look_ahead))
    assert ((look_ahead == 1) & (padding == 1)).any()   # some cells are blocked by both
    w = r.steps.weights.astype(np.float64)
    assert np.all(w[r.mask == 1] == 0.0) and w[0, 0] == 1.0
    assert not r.fully_masked.any()


@pytest.mark.parametrize("slug, constant, low, high", [
    ("constant-minus-1", -1.0, 0.5, 1.0),               # most of each row's weight is on pads
    ("constant-minus-10", -10.0, 4e-4, 1.3e-3),         # 0.05 % to 0.13 %, as the context says
])
def test_a_small_constant_leaks(slug, constant, low, high):
    r = run(slug)
    assert r.inputs.mask_value == constant
    # independent: float64 softmax of logits + mask * constant
    expected = float64_softmax(raw_logits(r) + r.mask * constant)
    expected_leak = (expected * r.mask).sum(axis=-1)
    np.testing.assert_allclose(r.leaked, expected_leak, rtol=1e-3)
    assert np.all((low < r.leaked) & (r.leaked < high))
    assert "not negative enough" in said(r)


def test_float16_with_minus_1e9_is_nan_everywhere():
    r = run("float16-nan")
    assert np.isnan(r.steps.weights.astype(np.float64)).all()
    assert r.steps.mask_value == -math.inf                # NUMERICS.md: float16(-1e9) = -inf
    assert "0 x -inf = NaN" in said(r)


@pytest.mark.parametrize("slug", ["float16-fill", "float16-1e4"])
def test_float16_fixes_give_exact_zeros_and_no_nan(slug):
    r = run(slug)
    assert r.steps.dtype == "float16"
    w = r.steps.weights.astype(np.float64)
    assert not np.isnan(w).any()
    assert np.all(w[r.mask == 1] == 0.0)
    np.testing.assert_allclose(r.row_sums, 1.0, atol=2e-3)  # float16 rounding, each step
    expected = float64_softmax(np.where(r.mask == 1, -np.inf, raw_logits(r)))
    np.testing.assert_allclose(w, expected, atol=2e-3)


def test_the_two_float16_fixes_are_the_nan_case_with_one_change():
    nan = get_preset("float16-nan").inputs
    assert get_preset("float16-fill").inputs == Inputs(**{**nan.__dict__, "method": "fill"})
    assert get_preset("float16-1e4").inputs == Inputs(**{**nan.__dict__, "constant": "-1e4"})


@pytest.mark.parametrize("slug, kind", [
    ("fully-masked-nan", "NaN"), ("fully-masked-uniform", "uniform"), ("fully-masked-zeros", "zeros"),
])
def test_fully_padded_rows_come_out_as_named(slug, kind):
    r = run(slug)
    full = r.fully_masked
    np.testing.assert_array_equal(full, [False, False, True, True, True, True])
    w = r.steps.weights.astype(np.float64)
    for row in np.flatnonzero(full):
        assert classify_row(w[row]) == kind
    if kind == "uniform":
        np.testing.assert_allclose(w[full], 1 / 6, rtol=1e-6)
    elif kind == "zeros":
        assert np.all(w[full] == 0.0) and np.all(r.steps.output.astype(np.float64)[full] == 0.0)
    else:
        assert np.isnan(w[full]).all()
    # the real rows are fine in all three
    expected = float64_softmax(raw_logits(r)[:2, :2])
    np.testing.assert_allclose(w[:2, :2], expected, rtol=1e-4)
    assert np.all(w[:2, 2:] == 0.0)
    assert f"comes out {kind}" in said(r)


def test_wrong_polarity_attends_only_to_the_padding():
    r = run("wrong-polarity")
    attention_mask = np.array([1, 1, 1, 0, 0])            # Hugging Face: 1 = attend
    # passed as the tutorial's mask (1 = blocked) it blocks the real tokens
    np.testing.assert_array_equal(r.mask, np.tile(attention_mask, (5, 1)))
    w = r.steps.weights.astype(np.float64)
    assert np.all(w[:, :3] == 0.0)
    np.testing.assert_allclose(w[:, 3:].sum(axis=-1), 1.0, rtol=1e-6)
    assert not np.isnan(w).any()                          # silent: nothing looks broken
    # the verdict names the bug first: the blocked real positions and the attended pads, and the fix
    first = verdicts(r)[0]
    assert first.startswith("The mask points the wrong way") and "0·1, 1·1, 2·1" in first and "3·0, 4·0" in first
    assert "1 - attention_mask" in first and not any("still attend to the real tokens" in v for v in verdicts(r))


def test_the_polarity_verdict_stays_quiet_on_a_mask_that_points_the_right_way():
    for inputs in (Inputs(text="1 1 1 0 0", pad_token="0"), Inputs(), Inputs(text="1 1 1 0 0", pad_token="1",
                                                                         padding=False)):
        assert not any(v.startswith("The mask points the wrong way") for v in verdicts(compute(inputs)))


def test_negative_real_logits_lose_to_the_constant():
    r = run("negative-logits")
    logits = raw_logits(r)                                # float64, no √d scaling
    constant = r.inputs.mask_value
    assert constant == -30.0 and r.steps.method == "fill" and not r.inputs.scale
    # the first query's only visible key scores below the constant (the context says −43.7)
    assert logits[0, 0] < constant - 10
    assert round(logits[0, 0], 1) == -43.7
    assert logits.min() < -44 + 1 and logits.min() > -60   # "reach −44" (about)
    w = r.steps.weights.astype(np.float64)
    assert w[0, 0] < 1e-6                                 # it gives its own key almost nothing
    np.testing.assert_allclose(w[0, 1:], 0.2, rtol=1e-5)  # and the five future keys share the rest
    # -1e4 would have hidden them: the same logits with a safe constant
    safe = float64_softmax(np.where(r.mask == 1, -1e4, logits))
    assert safe[0, 0] == 1.0
    assert "Row 0·the leaks 1" in said(r)


# --- issue 13: the newer masks, each against a mask built cell by cell from its rule -------------

def rule_mask(T, blocked):
    """A (T, T) mask from a per-cell rule: a direct loop, independent of maskattn.masks."""
    return np.array([[1.0 if blocked(i, j) else 0.0 for j in range(T)] for i in range(T)])


def test_left_padding_leaves_the_first_rows_nothing_and_they_are_nan_in_float16():
    r = run("left-padding")
    assert r.tokens == ("<pad>",) * 4 + ("hello", "world")
    pad = [t == "<pad>" for t in r.tokens]
    np.testing.assert_array_equal(r.mask, rule_mask(6, lambda i, j: j > i or pad[j]))
    w = r.steps.weights.astype(np.float64)
    assert np.isnan(w[:4]).all() and not np.isnan(w[4:]).any()             # rows 0-3 NaN, the words fine
    expected = float64_softmax(np.where(r.mask[4:] == 1, -np.inf, raw_logits(r)[4:]))
    np.testing.assert_allclose(w[4:], expected, atol=2e-3)
    # the question's premise: in the next layer the words weigh the pads' NaN outputs by 0, and 0 × NaN = NaN
    assert np.isnan(w[4:] @ r.steps.output.astype(np.float64)).all()
    assert "are left padding and see no key at all" in said(r)


def segments(result):
    return [d for d, line in enumerate(result.inputs.text.splitlines(), start=1) for _ in line.split()]


def test_packed_documents_see_only_their_own_earlier_tokens():
    r = run("packed-documents")
    seg = segments(r)
    assert len(r.tokens) == len(seg) == 12 and r.batch.shape == (1, 12)
    np.testing.assert_array_equal(r.mask, rule_mask(12, lambda i, j: j > i or seg[i] != seg[j]))
    w = r.steps.weights.astype(np.float64)
    crossing = [sum(w[i, j] for j in range(12) if seg[j] != seg[i]) for i in range(12)]
    assert crossing == [0.0] * 12
    hello = r.tokens.index("hello")
    assert w[hello, hello] == 1.0 and w[0, 0] == 1.0                        # each document starts afresh
    assert "No weight crosses documents" in said(r)


def test_packing_without_a_document_mask_leaks_into_every_later_document():
    leak, clean = run("packed-leak"), run("packed-documents")
    seg = segments(leak)
    np.testing.assert_array_equal(leak.mask, rule_mask(12, lambda i, j: j > i))
    w = leak.steps.weights.astype(np.float64)
    crossing = np.array([sum(w[i, j] for j in range(12) if seg[j] != seg[i]) for i in range(12)])
    first = np.array(seg) == 1
    assert np.all(crossing[~first] > 0) and np.all(crossing[first] == 0)
    # the first sentence is unchanged, bit for bit
    np.testing.assert_array_equal(w[first], clean.steps.weights.astype(np.float64)[first])
    worst = int(np.argmax(crossing))
    assert spell(crossing[worst], digits=3) in said(leak)


def test_sliding_window_of_3_over_12_tokens_and_its_off_by_one():
    r = run("sliding-window")
    assert len(r.tokens) == 12 and r.inputs.window == 3 and r.inputs.window_rule == "keys"
    np.testing.assert_array_equal(r.mask, rule_mask(12, lambda i, j: not i - 3 < j <= i))
    assert ((r.mask == 0).sum(axis=-1) == [1, 2] + [3] * 10).all()
    other = compute(replace(r.inputs, window_rule="distance"))           # FlashAttention / JAX count
    np.testing.assert_array_equal(other.mask, rule_mask(12, lambda i, j: not i - 3 <= j <= i))
    assert r.mask[11, 8] == 1 and other.mask[11, 8] == 0                 # query twelve, key nine
    assert "it also sees key 8 (nine)" in said(r)


def test_prefix_lm_looks_both_ways_in_the_prefix_only():
    r = run("prefix-lm")
    P = r.inputs.prefix_length
    assert " ".join(r.tokens[:P]) == "translate English to French :"
    np.testing.assert_array_equal(r.mask, rule_mask(len(r.tokens), lambda i, j: not (j < P or j <= i)))
    chat, dort = r.tokens.index("chat"), r.tokens.index("dort")
    assert r.mask[0, 1:P].sum() == 0 and r.mask[chat, dort] == 1
    w = r.steps.weights.astype(np.float64)
    assert w[0, 1:P].sum() > 0 and w[chat, dort] == 0.0
    assert "is bidirectional" in said(r)


def test_the_seeds_drawn_mask_is_no_padding_mask():
    r = run("drawn-seed")
    seed = [[0, 0, 1], [1, 0, 0], [0, 1, 0]]                              # the seed question's matrix
    np.testing.assert_array_equal(r.mask, seed)
    assert classify_mask(seed) == "arbitrary" and "never scatters ones" in describe_mask(seed)
    w = r.steps.weights.astype(np.float64)
    assert np.all(w[r.mask == 1] == 0.0)
    np.testing.assert_allclose(w, float64_softmax(np.where(r.mask == 1, -np.inf, raw_logits(r))), rtol=1e-5)


# --- issue 19: the masks beyond the causal window, and a bias ------------------------------------------------------

def test_longformer_window_is_two_sided_and_cls_is_seen_from_afar():
    r = run("longformer-global")
    assert r.tokens[0] == "[CLS]" and r.tokens[11] == "eleven"
    np.testing.assert_array_equal(r.mask, rule_mask(12, lambda i, j: not (abs(i - j) <= 2 or i == 0 or j == 0)))
    w = r.steps.weights.astype(np.float64)
    assert 0.4 < w[11, 0] < 0.6                                             # "about half its weight"
    assert (w[0] > 0).all()                                                 # [CLS] sees every key
    assert "two-sided" in said(r) and "Global token 0·[CLS]" in said(r)


def test_llama4_chunks_cut_five_off_from_four():
    r = run("llama4-chunks")
    five, four = r.tokens.index("five"), r.tokens.index("four")
    np.testing.assert_array_equal(r.mask, rule_mask(12, lambda i, j: not (j <= i and i // 4 == j // 4)))
    assert np.flatnonzero(r.mask[five] == 0).tolist() == [five]              # itself only
    assert r.steps.weights[five, four] == 0 and r.steps.weights[five, five] == 1
    assert "opens a new chunk" in said(r)


def test_shared_prefix_completions_never_see_each_other():
    r = run("shared-prefix")
    assert " ".join(r.tokens[:5]) == "the capital of France is"
    perhaps = r.tokens.index("perhaps")
    assert np.flatnonzero(r.mask[perhaps] == 0).tolist() == [0, 1, 2, 3, 4, 8, 9, 10]
    w = r.steps.weights.astype(np.float64)
    assert w[8:, 5:8].sum() == 0 and w[5:8, 8:].sum() == 0                  # no weight between the siblings
    assert "exactly 0" in said(r)


def test_alibi_head_1_tilts_twelve_away_from_one_and_the_mask_still_blocks():
    r = run("alibi")
    assert r.steps.bias[11, 0] == -5.5 and r.steps.bias[11, 11] == 0        # m = 0.5: −0.5 × 11 positions
    expected = float64_softmax(np.where(r.mask == 1, -1e9, raw_logits(r) + r.steps.bias.astype(np.float64)))
    np.testing.assert_allclose(r.steps.weights.astype(np.float64), expected, rtol=2e-6, atol=1e-7)
    assert r.steps.weights[11, 0] > 0 and (r.steps.weights[np.triu_indices(12, 1)] == 0).all()
    plain = compute(replace(r.inputs, bias="off")).steps.weights
    assert r.steps.weights[11, 0] < plain[11, 0]                            # down-weighted, not removed
    assert "a mask is the bias −∞" in said(r)


def test_mask_is_bias_opens_the_masks_page_and_its_numbers_hold():
    from maskattn.ui.cache import bias_sweep
    preset = get_preset("mask-is-bias")
    assert preset.page == "masks" and preset.link.startswith("masks?") and preset.section == "bias"
    sweep = bias_sweep(preset.inputs, 0)
    limit, row = sweep.limit, sweep.row
    assert row == 11 and (limit.row[:, :, limit.key] > 0).any()           # query 0 sees one key: the last row is used
    weight = dict(zip(limit.steps, limit.weight[limit.dtypes.index("float32")]))
    assert weight[-10.0] > 0 and weight[-1e9] == 0 and weight[-math.inf] == 0   # −10 only shrinks; −1e9 masks
    assert limit.first_zero("float16") > limit.first_zero("float32")              # float16 underflows sooner
