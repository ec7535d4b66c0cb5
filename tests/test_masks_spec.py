"""masks.spec: MaskSpec builds every combination of masks in one place, like the parts built by hand."""

import dataclasses
import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from maskattn import MaskAttnError, MaskSpec, combine_masks, fully_masked_rows, tokenize
from maskattn.masks import MASK_PARTS, WINDOW_RULES

IDS = np.array([[0, 5, 6, 7, 8, 0], [3, 0, 4, 4, 0, 0]])          # pads at both ends and in the middle
SEGMENTS = np.array([[0, 1, 1, 2, 2, 0], [1, 0, 2, 3, 0, 0]])
DRAWN = ((0, 0, 1, 0, 0, 0), (1, 0, 0, 0, 0, 1), (0, 1, 0, 0, 1, 0),
         (0, 0, 0, 0, 0, 0), (1, 1, 1, 1, 1, 1), (0, 0, 0, 1, 0, 0))


def by_hand(spec: MaskSpec, ids, segment_ids, pad_id=0):
    """The combined mask cell by cell, from the rules in the docstrings (1 = blocked)."""
    B, T = ids.shape
    out = np.zeros((B, 1, T, T))
    for b, i, j in itertools.product(range(B), range(T), range(T)):
        blocked = spec.padding and ids[b, j] == pad_id
        blocked |= spec.query_padding and ids[b, i] == pad_id
        if spec.prefix_length is not None:
            blocked |= j >= spec.prefix_length and j > i                # prefix LM replaces the look-ahead
        elif spec.causal or spec.window is not None:
            blocked |= j > i
        if spec.window is not None:
            reach = spec.window - 1 if spec.window_rule == "keys" else spec.window
            blocked |= i - j > reach
        blocked |= spec.segments and segment_ids[b, i] != segment_ids[b, j]
        blocked |= spec.drawn is not None and spec.drawn[i][j] == 1
        out[b, 0, i, j] = float(blocked)
    return out


ALL_SPECS = [MaskSpec(padding=p, query_padding=q, causal=c, window=w, window_rule=r, prefix_length=pl,
                      segments=s, drawn=d)
             for p, q, c, (w, r), pl, s, d in itertools.product(
                 (False, True), (False, True), (False, True),
                 [(None, "keys"), *itertools.product((1, 2, 9), WINDOW_RULES)],
                 (None, 0, 3, 6), (False, True), (None, DRAWN))]


def test_every_combination_matches_the_parts_built_by_hand():
    assert len(ALL_SPECS) == 2 * 2 * 2 * 7 * 4 * 2 * 2
    for spec in ALL_SPECS:
        built = spec.build(IDS, segment_ids=SEGMENTS)
        parts = spec.parts(IDS, segment_ids=SEGMENTS)
        if not parts:
            assert built is None, spec                                  # the tutorial's `if mask is not None`
            continue
        assert built.shape == (2, 1, 6, 6) and built.dtype == np.float32, spec
        np.testing.assert_array_equal(built, by_hand(spec, IDS, SEGMENTS), err_msg=spec.describe())
        np.testing.assert_array_equal(built, np.broadcast_to(combine_masks(*parts.values()), built.shape))


def test_parts_come_in_their_own_shapes_and_order():
    spec = MaskSpec(padding=True, query_padding=True, causal=True, window=2, segments=True, drawn=DRAWN)
    parts = spec.parts(IDS, segment_ids=SEGMENTS)
    assert list(parts) == ["padding", "query_padding", "look_ahead", "window", "document", "drawn"]
    assert list(parts) == [name for name in MASK_PARTS if name in parts]
    assert {name: part.shape for name, part in parts.items()} == {
        "padding": (2, 1, 1, 6), "query_padding": (2, 1, 6, 1), "look_ahead": (6, 6),
        "window": (6, 6), "document": (2, 1, 6, 6), "drawn": (6, 6)}
    assert all(part.dtype == np.float32 for part in parts.values())
    prefix = MaskSpec(causal=True, prefix_length=2).parts(IDS)
    assert list(prefix) == ["prefix"]                                   # the prefix LM replaces the look-ahead


def test_nothing_on_is_no_mask_at_all():
    assert MaskSpec().build(IDS) is None
    assert MaskSpec().parts(IDS) == {}
    assert MaskSpec().describe() == "no mask"


def test_left_padding_and_causal_fully_mask_the_first_rows():
    batch = tokenize("the cat sat on the mat\nhello world", padding_side="left")
    mask = MaskSpec(padding=True, causal=True).build(batch.ids)
    pads = batch.ids[1] == 0
    assert pads.tolist() == [True] * 4 + [False] * 2
    assert fully_masked_rows(mask[1, 0]).tolist() == pads.tolist()      # every leading pad query: no key
    assert not fully_masked_rows(mask[0, 0]).any()
    right = MaskSpec(padding=True, causal=True).build(tokenize("the cat sat on the mat\nhello world").ids)
    assert not fully_masked_rows(right).any()                           # right padding: never


def test_packed_rows_are_kept_apart_only_with_segments():
    batch = tokenize("a b c\nd e\nf g h i", packed=True)
    with_documents = MaskSpec(causal=True, segments=True).build(batch.ids, segment_ids=batch.segment_ids)
    without = MaskSpec(causal=True).build(batch.ids, segment_ids=batch.segment_ids)
    seg = batch.segment_ids[0]
    across = seg[:, None] != seg[None, :]
    assert np.all(with_documents[0, 0][across] == 1)
    assert not np.all(without[0, 0][across] == 1)                       # later documents see earlier ones


@settings(max_examples=40, deadline=None)
@given(st.builds(MaskSpec, padding=st.booleans(), query_padding=st.booleans(), causal=st.booleans(),
                 window=st.none() | st.integers(1, 8), window_rule=st.sampled_from(list(WINDOW_RULES)),
                 prefix_length=st.none() | st.integers(0, 6), segments=st.booleans()))
def test_specs_are_hashable_values(spec):
    twin = MaskSpec(**{field.name: getattr(spec, field.name) for field in dataclasses.fields(MaskSpec)})
    assert twin == spec and hash(twin) == hash(spec)
    assert {spec: 1}[twin] == 1                                         # usable as a cache key
    built = spec.build(IDS, segment_ids=SEGMENTS)
    assert built is None or set(np.unique(built)) <= {0.0, 1.0}
    if built is not None and spec.is_causal and spec.prefix_length is None:
        assert np.all(built[:, 0][:, *np.triu_indices(6, 1)] == 1)       # causal patterns block the future


def test_drawn_masks_are_normalised_to_tuples():
    as_list = MaskSpec(drawn=[[0, 1], [0, 0]])
    as_array = MaskSpec(drawn=np.array([[0.0, 1.0], [0.0, 0.0]]))
    assert as_list == as_array and as_list.drawn == ((0, 1), (0, 0))
    assert hash(as_list) == hash(as_array)


def test_describe_names_every_part():
    spec = MaskSpec(padding=True, query_padding=True, window=3, window_rule="distance", segments=True,
                    drawn=DRAWN)
    assert spec.describe() == ("padding + query padding + look-ahead + sliding window 3 (q − kv ≤ 3: 4 keys)"
                               " + documents + a drawn 6×6 mask")


@pytest.mark.parametrize("kwargs, match", [
    (dict(window=0), "window must be None or an integer >= 1, got 0"),
    (dict(window=2.5), "got 2.5"),
    (dict(window=True), "got True"),
    (dict(prefix_length=-1), "prefix_length must be None or an integer >= 0, got -1"),
    (dict(prefix_length="3"), "got '3'"),
    (dict(window_rule="inclusive"), "'inclusive'"),
    (dict(padding="yes"), "padding must be True or False, got 'yes'"),
    (dict(drawn=[[0, 1, 0], [0, 0, 1]]), r"square .* got shape \(2, 3\)"),
    (dict(drawn=[[0, 2], [0, 0]]), "got 2 at row 1, column 2"),
])
def test_bad_specs_name_the_value(kwargs, match):
    with pytest.raises(MaskAttnError, match=match):
        MaskSpec(**kwargs)


@pytest.mark.parametrize("spec, kwargs, match", [
    (MaskSpec(prefix_length=7), {}, "prefix_length must be at most the sequence length 6, got 7"),
    (MaskSpec(segments=True), {}, "segment_ids .* got None"),
    (MaskSpec(segments=True), dict(segment_ids=[[1, 1, 1]]), r"shape of ids \(2, 6\), got shape \(1, 3\)"),
    (MaskSpec(segments=True), dict(segment_ids=np.full((2, 6), 1.5)), "integers, got 1.5"),
    (MaskSpec(drawn=((0, 1), (0, 0))), {}, "2×2 but the sequences have 6 tokens"),
])
def test_bad_batches_name_the_value(spec, kwargs, match):
    with pytest.raises(MaskAttnError, match=match):
        spec.build(IDS, **kwargs)


def test_bad_ids_name_the_shape():
    with pytest.raises(MaskAttnError, match=r"shape \(B, T\), got shape \(6,\)"):
        MaskSpec(causal=True).build(IDS[0])


_junk = st.one_of(st.none(), st.booleans(), st.integers(-3, 9), st.floats(allow_nan=True), st.text(max_size=4),
                  st.lists(st.lists(st.integers(-1, 9), max_size=4), max_size=3))


@settings(max_examples=150, deadline=None)
@given(st.fixed_dictionaries({}, optional={name: _junk for name in (
    "padding", "query_padding", "causal", "window", "window_rule", "prefix_length", "segments", "drawn")}),
       _junk, _junk)
def test_hostile_specs_and_batches_give_a_mask_or_a_clear_message(kwargs, ids, segment_ids):
    try:
        spec = MaskSpec(**kwargs)
        spec.describe()
        spec.build(ids, segment_ids=segment_ids)
    except MaskAttnError:
        pass
