"""tokens: splitting, padding, caps, stable vectors, positional encoding, projections."""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from maskattn import MaskAttnError, embed, positional_encoding, project_qkv, tokenize
from maskattn.tokens import (MAX_SEQUENCES, MAX_TEXT_CHARS, MAX_TOKENS_PER_SEQUENCE, position_labels,
                             token_vector)


def test_right_padding_and_pad_id_zero():
    batch = tokenize("the cat sat\nhello")
    assert batch.tokens == (("the", "cat", "sat"), ("hello", "<pad>", "<pad>"))
    assert batch.ids.tolist() == [[1, 2, 3], [4, 0, 0]]
    assert batch.lengths == (3, 1)
    assert batch.vocabulary["<pad>"] == 0


def test_typed_pad_token_is_padding():
    batch = tokenize("a <pad> b\n<pad> <pad>")
    assert batch.ids.tolist() == [[1, 0, 2], [0, 0, 0]]
    assert batch.lengths == (2, 0)


def test_custom_pad_token():
    batch = tokenize("a b\nc", pad_token="[PAD]")
    assert batch.tokens[1] == ("c", "[PAD]")
    with pytest.raises(MaskAttnError, match="'two words'"):
        tokenize("a", pad_token="two words")
    with pytest.raises(MaskAttnError, match="''"):
        tokenize("a", pad_token="")


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t"])
def test_empty_text_is_a_clear_error(text):
    with pytest.raises(MaskAttnError, match="no tokens"):
        tokenize(text)


def test_caps_cut_with_notices():
    many_lines = "\n".join(f"line{i}" for i in range(20))
    batch = tokenize(many_lines)
    assert len(batch.tokens) == MAX_SEQUENCES
    assert "20 sequences" in batch.notices[0]
    long_line = " ".join(["x"] * 5000)
    batch = tokenize(long_line)
    assert batch.ids.shape == (1, MAX_TOKENS_PER_SEQUENCE)
    assert "5,000 tokens" in batch.notices[0]
    huge = "y " * (MAX_TEXT_CHARS)
    batch = tokenize(huge)
    assert "characters" in batch.notices[0]


def test_odd_unicode_and_markup_are_just_tokens():
    text = "<script>alert(1)</script> 🙂 \u200bzero\u200b \u202eRTL \x00nul"
    batch = tokenize(text)
    assert batch.tokens[0][0] == "<script>alert(1)</script>"
    vectors = embed(batch.tokens, 8)
    assert np.isfinite(vectors).all()
    # lone surrogates cannot be UTF-8 encoded, but still hash
    assert token_vector("\ud800", 4).shape == (4,)


def test_position_labels_are_unique():
    labels = position_labels(["the", "cat", "the"])
    assert len(set(labels)) == 3


def test_token_vectors_are_identical_across_processes():
    """Python's hash() is salted per process; ours must not be."""
    code = "from maskattn.tokens import token_vector; print(token_vector('cat', 4, 7).tolist())"
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={"PYTHONHASHSEED": seed, "PATH": ""}, check=True).stdout for seed in ("1", "2")}
    assert len(runs) == 1
    assert runs.pop().strip() == str(token_vector("cat", 4, 7).tolist())


def test_seed_changes_vectors():
    assert not np.allclose(token_vector("cat", 8, 0), token_vector("cat", 8, 1))


def test_positional_encoding_is_the_tutorials_formula():
    pe = positional_encoding(50, 16)
    pos, i = 7, 5
    angle = pos / 10000 ** (2 * (i // 2) / 16)
    assert pe[pos, i] == pytest.approx(np.cos(angle))
    assert pe[pos, i - 1] == pytest.approx(np.sin(angle))
    assert pe.shape == (50, 16)


def test_shared_mode_equal_tokens_score_highest():
    x = embed([["dog", "cat", "dog", "bird"]], 32, positional=False)[0]     # (T, d)
    q, k, _ = project_qkv(x, mode="shared")
    scores = q @ k.T
    assert scores[0, 2] == pytest.approx(scores[0, 0])
    assert scores[0, 2] > scores[0, 1] and scores[0, 2] > scores[0, 3]


def test_projections_are_seeded_and_sized():
    x = embed([["a", "b"]], 8)
    q1, _, _ = project_qkv(x, seed=3)
    q2, _, _ = project_qkv(x, seed=3)
    q3, _, _ = project_qkv(x, seed=4)
    np.testing.assert_array_equal(q1, q2)
    assert not np.allclose(q1, q3)
    assert q1.shape == (1, 2, 8)
    with pytest.raises(MaskAttnError, match="'both'"):
        project_qkv(x, mode="both")
    with pytest.raises(MaskAttnError, match="0"):
        embed([["a"]], 0)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=5)
                         .filter(lambda t: t.split() == [t]), min_size=1, max_size=6), min_size=1, max_size=4))
def test_tokenize_round_trips_words(sequences):
    sequences = [[t for t in seq if t != "<pad>"] or ["w"] for seq in sequences]
    text = "\n".join(" ".join(seq) for seq in sequences)
    batch = tokenize(text)
    assert [list(row[:n]) for row, n in zip(batch.tokens, batch.lengths)] == sequences
    assert batch.ids.shape == (len(sequences), max(map(len, sequences)))


# --- left padding, packing, a fixed length --------------------------------------------------------

def test_left_padding_puts_the_pads_first():
    batch = tokenize("the cat sat\nhello", padding_side="left")
    assert batch.tokens == (("the", "cat", "sat"), ("<pad>", "<pad>", "hello"))
    assert batch.ids.tolist() == [[1, 2, 3], [0, 0, 4]]
    assert batch.lengths == (3, 1) and batch.padding_side == "left"
    assert batch.segment_ids.tolist() == [[1, 1, 1], [0, 0, 1]]
    right = tokenize("the cat sat\nhello")
    assert right.padding_side == "right" and right.segment_ids.tolist() == [[1, 1, 1], [1, 0, 0]]


def test_packing_numbers_documents_from_one():
    batch = tokenize("the cat sat\nhello world\n\na b c d", packed=True)
    assert batch.tokens == (("the", "cat", "sat", "hello", "world", "a", "b", "c", "d"),)
    assert batch.segment_ids.tolist() == [[1, 1, 1, 2, 2, 3, 3, 3, 3]]
    assert batch.lengths == (9,) and batch.packed and not batch.notices


@pytest.mark.parametrize("side, tokens, segments", [
    ("right", ("a", "b", "c", "<pad>", "<pad>"), [1, 1, 2, 0, 0]),
    ("left", ("<pad>", "<pad>", "a", "b", "c"), [0, 0, 1, 1, 2]),
])
def test_a_packed_row_padded_to_a_length(side, tokens, segments):
    batch = tokenize("a b\nc", packed=True, length=5, padding_side=side)
    assert batch.tokens == (tokens,)
    assert batch.segment_ids.tolist() == [segments]
    assert ((batch.segment_ids == 0) == (batch.ids == 0)).all()        # segment 0 exactly at the pads


def test_typed_pads_are_segment_zero():
    batch = tokenize("a <pad> b\nc", packed=True)
    assert batch.segment_ids.tolist() == [[1, 0, 1, 2]]


def test_a_length_cuts_with_a_notice():
    batch = tokenize("a b c d\ne", length=2)
    assert batch.tokens == (("a", "b"), ("e", "<pad>"))
    assert "A row had 4 tokens; every row is cut to the chosen length of 2." in batch.notices


def test_packing_keeps_the_caps_and_says_so():
    text = "\n".join(" ".join(f"w{i}_{j}" for j in range(60)) for i in range(20))
    batch = tokenize(text, packed=True)
    assert batch.ids.shape == (1, MAX_TOKENS_PER_SEQUENCE)
    assert "20 sequences" in batch.notices[0]
    assert f"The packed row had {MAX_SEQUENCES * 60:,} tokens" in batch.notices[1]
    assert batch.segment_ids[0, -1] == MAX_TOKENS_PER_SEQUENCE // 60 + 1   # the 5th document is cut


@pytest.mark.parametrize("kwargs, match", [
    (dict(padding_side="middle"), "padding_side must be one of right, left, got 'middle'"),
    (dict(packed="yes"), "packed must be True or False, got 'yes'"),
    (dict(length=0), "length must be None or an integer from 1 to 256, got 0"),
    (dict(length=2.0), "got 2.0"),
    (dict(length=MAX_TOKENS_PER_SEQUENCE + 1), f"got {MAX_TOKENS_PER_SEQUENCE + 1}"),
])
def test_bad_options_name_the_value(kwargs, match):
    with pytest.raises(MaskAttnError, match=match):
        tokenize("a b", **kwargs)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a", "b", "c", "<pad>"]), min_size=1, max_size=6), min_size=1,
                max_size=4),
       st.sampled_from(["right", "left"]), st.booleans())
def test_segment_zero_is_exactly_padding(lines, side, packed):
    batch = tokenize("\n".join(" ".join(line) for line in lines), padding_side=side, packed=packed)
    assert batch.segment_ids.shape == batch.ids.shape
    assert ((batch.segment_ids == 0) == (batch.ids == 0)).all()
    real = [[t for t in line if t != "<pad>"] for line in lines]
    assert sorted(batch.lengths) == sorted([sum(map(len, real))] if packed else map(len, real))
    if side == "left" and not packed:                                  # pads only before the real tokens
        for row, line in zip(batch.tokens, lines):
            assert list(row[len(row) - len(line):]) == line
