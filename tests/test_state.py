"""state: Inputs defaults, the mask constant, and the URL codec."""

import math
from dataclasses import fields, replace

import pytest
from hypothesis import given, settings, strategies as st

from maskattn import MaskAttnError, MaskSpec
from maskattn.masks import compact_mask, parse_compact_mask
from maskattn.state import (CONSTANT_PRESETS, INPUT_URL_KEYS, URL_KEYS, VIEW_URL_KEYS, Inputs, View,
                            from_query_params, parse_constant, resolve_constant, sequence_in_batch, to_query_params)

NON_DEFAULT = Inputs(text="a b\nc", pad_token="[PAD]", sequence=1, padding=False, mask_queries=True,
                     causal=True, constant="custom", custom_constant=-3.5e38, method="fill",
                     dtype="bfloat16", scale=False, d_model=64, seed=123, positional=False,
                     qk_mode="shared", padding_side="left", window=3, window_rule="distance", prefix_length=2,
                     packed=True, document_mask=False, drawn="01-00", window_right=1, chunk=4, global_tokens="0,5",
                     shared_prefix=3, completions=3, bias="t5_causal", bias_head=4, bias_matrix="0,-1;-inf,0")
NON_DEFAULT_VIEW = View(row=3, presentation=True, preset="wrong-polarity", layer=2, head=7)


def test_every_field_has_a_url_key_and_the_example_sets_them_all():
    assert set(INPUT_URL_KEYS) == {f.name for f in fields(Inputs)}
    assert set(VIEW_URL_KEYS) == {f.name for f in fields(View)}
    assert len(set(URL_KEYS.values())) == len(URL_KEYS)            # no parameter name is used twice
    for value in (NON_DEFAULT, NON_DEFAULT_VIEW):
        defaults = type(value)()
        for f in fields(value):
            assert getattr(value, f.name) != getattr(defaults, f.name), f.name


def test_round_trip_of_every_field():
    params = to_query_params(NON_DEFAULT, NON_DEFAULT_VIEW)
    assert len(params) == len(URL_KEYS)
    assert from_query_params(params) == (NON_DEFAULT, NON_DEFAULT_VIEW, [])


def test_view_is_not_part_of_the_inputs():
    """A row click or presentation toggle must never change the compute and figure cache key."""
    assert not {f.name for f in fields(Inputs)} & {f.name for f in fields(View)}
    inputs, view, _ = from_query_params({"row": "4", "present": "1", "causal": "1"})
    assert inputs == Inputs(causal=True) and view == View(row=4, presentation=True)
    assert hash(inputs) == hash(Inputs(causal=True))


def test_links_from_before_the_split_open_the_same_state():
    """Shared links that exist today keep their parameter names."""
    old_link = {"tokens": "a b", "causal": "1", "dtype": "float16", "row": "2", "present": "1", "const": "-1e4"}
    inputs, view, notices = from_query_params(old_link)
    assert notices == []
    assert (inputs.text, inputs.causal, inputs.dtype, inputs.constant) == ("a b", True, "float16", "-1e4")
    assert view == View(row=2, presentation=True)


def test_defaults_leave_the_url_empty():
    assert to_query_params(Inputs()) == {}
    assert to_query_params(Inputs(), View()) == {}
    assert from_query_params({}) == (Inputs(), View(), [])


@pytest.mark.parametrize("key, raw", [
    ("dtype", "float8"), ("causal", "maybe"), ("d", "17"), ("seed", "-1"), ("seed", "1e3"),
    ("value", "nan"), ("value", "abc"), ("const", "-1e12"), ("method", "<script>"), ("pad", "a b"),
    ("tokens", "   "), ("row", "x"), ("seq", "99999999"), ("qk", ""),
    # the masks of issue 13
    ("padside", "middle"), ("padside", "LEFT"), ("window", "-1"), ("window", "257"), ("window", "2.5"),
    ("wrule", "both"), ("prefix", "x"), ("prefix", "1e3"), ("packed", "maybe"), ("docmask", "2"),
    ("drawn", "012-100-010"), ("drawn", "01-10-1"), ("drawn", "0 1; 1 0"), ("drawn", "-".join(["0" * 65] * 65)),
    ("drawn", "<script>"),
])
def test_bad_values_fall_back_with_a_notice_naming_the_parameter(key, raw):
    s, view, notices = from_query_params({key: raw})
    assert s == Inputs() and view == View()
    assert len(notices) == 1 and f"{key}=" in notices[0]


def test_unknown_parameters_are_ignored_and_lists_take_the_last():
    s, _, notices = from_query_params({"utm_source": "x", "embed": "true", "dtype": ["float16", "float64"]})
    assert s == replace(Inputs(), dtype="float64") and notices == []


def test_custom_infinities_survive_the_url():
    for value in (-math.inf, math.inf, -1e-300):
        s = Inputs(constant="custom", custom_constant=value)
        assert from_query_params(to_query_params(s))[0] == s


def test_constants():
    assert resolve_constant("finfo.min", 0, "bfloat16") == pytest.approx(-3.3895e38, rel=1e-4)
    assert resolve_constant("-inf", 0, "float32") == -math.inf
    assert Inputs().mask_value == -1e9
    assert set(CONSTANT_PRESETS) >= {"-1e9", "-1e4", "-1e6", "-10", "-1", "0", "finfo.min", "-inf", "custom"}
    assert parse_constant("−1e4") == -1e4          # a typographic minus works too
    with pytest.raises(MaskAttnError, match="'1,5'"):
        parse_constant("1,5")
    with pytest.raises(MaskAttnError, match="'x'"):
        resolve_constant("x", 0, "float32")


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(URL_KEYS.values()) + ["junk", "x"]),
                       st.one_of(st.text(max_size=30), st.lists(st.text(max_size=5), max_size=3))))
def test_any_query_string_gives_valid_state(params):
    s, view, notices = from_query_params(params)
    # whatever came in, the result round-trips and every refusal is explained
    assert from_query_params(to_query_params(s, view))[:2] == (s, view)
    assert all(n.startswith("Ignored URL parameter") for n in notices)


# --- issue 13: the new mask fields ------------------------------------------------------------------

_MASK_FIELDS = st.fixed_dictionaries({
    "padding": st.booleans(), "mask_queries": st.booleans(), "causal": st.booleans(),
    "padding_side": st.sampled_from(["right", "left"]), "window": st.integers(0, 256),
    "window_rule": st.sampled_from(["keys", "distance"]), "prefix_length": st.integers(0, 256),
    "packed": st.booleans(), "document_mask": st.booleans(),
    "drawn": st.one_of(st.just(""), st.integers(1, 6).flatmap(
        lambda n: st.lists(st.lists(st.integers(0, 1), min_size=n, max_size=n), min_size=n, max_size=n)
        .map(compact_mask))),
})


@settings(max_examples=200, deadline=None)
@given(_MASK_FIELDS)
def test_every_mask_combination_is_a_state_in_the_url(fields_):
    inputs = Inputs(**fields_)
    params = to_query_params(inputs)
    assert from_query_params(params) == (inputs, View(), [])
    assert all(isinstance(v, str) for v in params.values())
    # defaults are left out: a parameter appears exactly when its field differs from the default
    assert {key for name, key in INPUT_URL_KEYS.items() if getattr(inputs, name) != getattr(Inputs(), name)} \
        == set(params)


def test_new_mask_parameters_have_short_readable_names():
    params = to_query_params(Inputs(padding_side="left", window=3, window_rule="distance", prefix_length=2,
                                    packed=True, document_mask=False, drawn="001-100-010"))
    assert params == {"padside": "left", "window": "3", "wrule": "distance", "prefix": "2", "packed": "1",
                      "docmask": "0", "drawn": "001-100-010"}


def test_mask_spec_follows_the_fields():
    assert Inputs().mask_spec == MaskSpec(padding=True)
    spec = NON_DEFAULT.mask_spec
    assert (spec.padding, spec.query_padding, spec.causal, spec.window, spec.window_rule, spec.prefix_length,
            spec.segments, spec.drawn) == (False, True, True, 3, "distance", 2, False, ((0, 1), (0, 0)))
    assert Inputs(packed=True).mask_spec.segments and not Inputs(packed=False).mask_spec.segments
    assert Inputs(window=0, prefix_length=0).mask_spec.window is None


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 12).flatmap(lambda n: st.lists(st.lists(st.integers(0, 1), min_size=n, max_size=n),
                                                      min_size=n, max_size=n)))
def test_compact_mask_text_round_trips(rows):
    text = compact_mask(rows)
    assert parse_compact_mask(text) == tuple(map(tuple, rows))
    assert set(text) <= {"0", "1", "-"}                                    # URL-safe as it is


def test_mask_names_name_every_new_mask():
    assert Inputs().mask_names() == ["padding"]
    assert NON_DEFAULT.mask_names() == ["left pads", "padded queries", "causal", "window 3 (q − kv ≤ 3)",
                                        "prefix 2", "packed, no document mask", "chunks of 4", "global 0,5",
                                        "drawn 2×2", "T5 buckets (causal) bias, head 4"]
    assert Inputs(window=3, window_right=2, global_tokens="1").mask_names() == [
        "padding", "window 3", "2 ahead", "global 1"]
    assert Inputs(window=3, window_right=2, shared_prefix=2).mask_names() == [    # causal: no keys ahead
        "padding", "window 3", "shared prefix 2, 2 completions"]


def test_a_sequence_past_the_typed_batch_is_refused_by_name():
    """A hand-edited seq= beyond the batch gets a notice naming it, and sequence 0 is shown."""
    inputs, notices = sequence_in_batch(from_query_params({"seq": "99"})[0])     # the default text has 3 lines
    assert inputs.sequence == 0
    assert notices == ["Ignored URL parameter seq=99: the text has 3 sequences (0 to 2)."]
    assert sequence_in_batch(Inputs(sequence=2)) == (Inputs(sequence=2), [])
    packed, notices = sequence_in_batch(Inputs(sequence=1, packed=True))          # packed: one row
    assert packed.sequence == 0 and "1 sequence (0 to 0)" in notices[0]
