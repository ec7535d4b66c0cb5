"""masks.drawn: typed 0/1 matrices, the name of a mask's pattern, and what each query may see."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from maskattn import (MaskAttnError, MaskSpec, create_document_mask, create_look_ahead_mask,
                      create_padding_mask, create_prefix_lm_mask, create_query_padding_mask,
                      create_sliding_window_mask, tokenize)
from maskattn.masks import (EXAMPLE_MASK_TEXT, MASK_KINDS, classify_mask, describe_mask, explain_mask_rows,
                            parse_mask, validate_drawn)
from maskattn.masks.drawn import MAX_DRAWN_SIZE

SEED = ((0, 0, 1), (1, 0, 0), (0, 1, 0))


@pytest.mark.parametrize("text", [
    "[0 0 1; 1 0 0; 0 1 0]",                     # the seed question, MATLAB style
    "0 0 1\n1 0 0\n0 1 0",                        # plain lines
    "[[0 0 1]\n [1 0 0]\n [0 1 0]]",              # print(np.array(...)) of ints
    "[[0. 0. 1.]\n [1. 0. 0.]\n [0. 1. 0.]]",     # ... of floats
    "[[0, 0, 1], [1, 0, 0], [0, 1, 0]]",          # a Python list
    "array([[0, 0, 1],\n       [1, 0, 0],\n       [0, 1, 0]], dtype=int32)",   # repr of an array
    "  0,0,1 ;1,0,0;  0,1,0\n\n",                 # sloppy spacing and a trailing blank line
])
def test_every_way_of_typing_the_seed_matrix(text):
    assert parse_mask(text) == SEED


def test_the_example_parses():
    assert parse_mask(EXAMPLE_MASK_TEXT) == SEED


@pytest.mark.parametrize("text, match", [
    ("", "type a 0/1 matrix"),
    ("[ ; ]", "type a 0/1 matrix"),
    ("0 1\n1", "row 2 has 1 cell but row 1 has 2 cells"),
    ("0 1 0", r"square .* got shape \(1, 3\)"),
    ("0 2\n0 0", "got '2' at row 1, column 2"),
    ("0 -1\n0 0", "got '-1' at row 1, column 2"),
    ("0 0.5\n0 0", "got '0.5'"),
    ("True False\nFalse True", "got 'True' at row 1, column 1"),
    ("0 nan\n0 0", "got 'nan'"),
    ("0 <b>\n0 0", "got '<b>'"),
    ("0 " * 100_001, "characters long"),
])
def test_bad_text_gets_a_clear_message(text, match):
    with pytest.raises(MaskAttnError, match=match):
        parse_mask(text)


def test_the_size_is_capped():
    n = MAX_DRAWN_SIZE + 1
    with pytest.raises(MaskAttnError, match=f"at most {MAX_DRAWN_SIZE} rows, got {n}"):
        parse_mask("\n".join(["0 " * n] * n))


@pytest.mark.parametrize("value, match", [
    (np.zeros((2, 2), bool), "True/False"),
    ([[0, 1], [0, float("nan")]], "got nan at row 2, column 2"),
    ([["0", "1"], ["0", "0"]], "rectangular 0/1 matrix"),
    ([], r"got shape \(0,\)"),
    (None, "rectangular 0/1 matrix"),
])
def test_validate_drawn_refuses(value, match):
    with pytest.raises(MaskAttnError, match=match):
        validate_drawn(value)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 8).flatmap(lambda n: st.lists(st.lists(st.integers(0, 1), min_size=n, max_size=n),
                                                        min_size=n, max_size=n)))
def test_printing_and_parsing_round_trip(rows):
    expected = tuple(map(tuple, rows))
    assert parse_mask(str(np.array(rows))) == expected
    assert parse_mask(str(np.array(rows, dtype=float))) == expected
    assert parse_mask("; ".join(" ".join(map(str, r)) for r in rows)) == expected
    assert classify_mask(rows) in MASK_KINDS
    assert len(explain_mask_rows(rows)) == len(rows)


def _broadcast(mask, T):
    return np.broadcast_to(mask, (1, 1, T, T))[0, 0]


T = 6
IDS = [[4, 5, 6, 7, 0, 0]]
KNOWN = {
    "empty": np.zeros((T, T)),
    "everything": np.ones((T, T)),
    "look-ahead": create_look_ahead_mask(T),
    "padding-like": _broadcast(create_padding_mask(IDS), T),
    "query-padding-like": _broadcast(create_query_padding_mask(IDS), T),
    "padding-and-query-padding-like": MaskSpec(padding=True, query_padding=True).build(IDS)[0, 0],
    "look-ahead-and-padding-like": MaskSpec(padding=True, causal=True).build([[4, 0, 6, 7, 0, 0]])[0, 0],
    "sliding-window-like": create_sliding_window_mask(T, 3),
    "prefix-lm-like": create_prefix_lm_mask(T, 3),
    "document-like": create_document_mask([1, 1, 2, 2, 2, 3]),
    "look-ahead-and-document-like": MaskSpec(causal=True, segments=True).build(
        IDS, segment_ids=[[1, 1, 2, 2, 2, 3]])[0, 0],
    "reversed-look-ahead": create_look_ahead_mask(T).T,
    "inverted-look-ahead": 1 - create_look_ahead_mask(T),
    "causal-like": np.triu(np.ones((T, T)), 2),
    "arbitrary": np.array(SEED),
}


def test_every_kind_is_recognised():
    assert set(KNOWN) == set(MASK_KINDS)
    for kind, mask in KNOWN.items():
        assert classify_mask(mask) == kind, kind
        assert describe_mask(mask).endswith("."), kind


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 12).flatmap(lambda T: st.tuples(st.just(T), st.integers(1, T - 1), st.integers(2, T - 1)
                                                       if T > 2 else st.just(None))))
def test_the_masks_we_build_are_recognised_with_their_numbers(args):
    T, w, p = args
    window = create_sliding_window_mask(T, w)
    assert classify_mask(window) == "sliding-window-like"
    assert f"window of {w} key" in describe_mask(window)
    wider = "sliding-window-like" if w + 1 < T else "look-ahead"       # w + 1 keys: all of them when w + 1 >= T
    assert classify_mask(create_sliding_window_mask(T, w, "distance")) == wider
    if p is not None:
        assert classify_mask(create_prefix_lm_mask(T, p)) == "prefix-lm-like"
        assert f"prefix of {p}" in describe_mask(create_prefix_lm_mask(T, p))


def test_descriptions_quote_the_numbers():
    assert "window of 3 keys" in describe_mask(KNOWN["sliding-window-like"])
    assert "a window of 2: q − kv ≤ 2" in describe_mask(KNOWN["sliding-window-like"])
    assert "3 documents" in describe_mask(KNOWN["document-like"])
    assert "causal inside each" in describe_mask(KNOWN["look-ahead-and-document-like"])
    assert "blocked keys: 4, 5" in describe_mask(KNOWN["padding-like"])
    assert "blocked keys: 1, 4, 5" in describe_mask(KNOWN["look-ahead-and-padding-like"])
    assert "fully masked queries: 4, 5" in describe_mask(KNOWN["query-padding-like"])
    assert "padding mask never scatters ones" in describe_mask(SEED)


def test_rows_say_which_keys_each_query_sees():
    labels = tokenize("the cat sat on the mat").tokens[0]
    rows = explain_mask_rows(create_sliding_window_mask(6, 3), labels)
    assert rows[0] == "Query 0 (the) sees 1 of 6 keys: 0 (the); blocked: 1 (cat)–5 (mat)."
    assert rows[5] == "Query 5 (mat) sees 3 of 6 keys: 3 (on)–5 (mat); blocked: 0 (the)–2 (sat)."
    assert explain_mask_rows(np.zeros((2, 2)))[1] == "Query 1 sees all 2 keys."
    assert "fully masked row" in explain_mask_rows(np.ones((1, 3)))[0]
    rectangular = explain_mask_rows([[0, 1, 1], [0, 0, 1]], ["a", "b", "c"])
    assert rectangular[0].startswith("Query 0 sees 1 of 3 keys: 0 (a)")     # queries are not the keys


@pytest.mark.parametrize("call, match", [
    (lambda: explain_mask_rows(np.zeros((2, 2)), ["a"]), "name the 2 keys, got 1 labels"),
    (lambda: explain_mask_rows(np.zeros(3)), r"a \(Tq, Tk\) matrix of 0 and 1, got shape \(3,\)"),
    (lambda: classify_mask([[0, 0.5], [0, 0]]), r"only 0 \(attend\) and 1 \(blocked\), got 0.5 at row 1, column 2"),
    (lambda: classify_mask([[1, 2], [3]]), "0 and 1"),
])
def test_bad_masks_name_the_value(call, match):
    with pytest.raises(MaskAttnError, match=match):
        call()


_junk = st.one_of(
    st.text(max_size=40),
    st.lists(st.lists(st.one_of(st.integers(-2, 2), st.floats(allow_nan=True), st.booleans(), st.text(max_size=2)),
                      max_size=4), max_size=4),
    st.builds(lambda shape, seed: np.random.default_rng(seed).integers(0, 2, shape),
              st.lists(st.integers(0, 4), max_size=3).map(tuple), st.integers(0, 9)),
    st.none(), st.integers(), st.floats(allow_nan=True),
)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="01 .;,[]\n\tx-eE", max_size=60) | st.text(max_size=60))
def test_any_text_parses_or_gets_a_clear_message(text):
    try:
        mask = parse_mask(text)
    except MaskAttnError:
        return
    assert len(mask) == len(mask[0]) and {x for row in mask for x in row} <= {0, 1}


@settings(max_examples=150, deadline=None)
@given(_junk, st.none() | st.lists(st.text(max_size=3), max_size=5))
def test_hostile_masks_give_a_result_or_a_clear_message(mask, labels):
    for call in (lambda: classify_mask(mask), lambda: describe_mask(mask),
                 lambda: explain_mask_rows(mask, labels), lambda: validate_drawn(mask)):
        try:
            call()
        except MaskAttnError:
            pass
