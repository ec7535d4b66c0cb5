"""state: Inputs defaults, the mask constant, and the URL codec."""

import math
from dataclasses import fields, replace

import pytest
from hypothesis import given, settings, strategies as st

from maskattn import MaskAttnError
from maskattn.state import (CONSTANT_PRESETS, INPUT_URL_KEYS, URL_KEYS, VIEW_URL_KEYS, Inputs, View,
                            from_query_params, parse_constant, resolve_constant, to_query_params)

NON_DEFAULT = Inputs(text="a b\nc", pad_token="[PAD]", sequence=1, padding=False, mask_queries=True,
                     causal=True, constant="custom", custom_constant=-3.5e38, method="fill",
                     dtype="bfloat16", scale=False, d_model=64, seed=123, positional=False,
                     qk_mode="shared")
NON_DEFAULT_VIEW = View(row=3, presentation=True)


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
