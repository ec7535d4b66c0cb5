"""masks.basic: the tutorial's padding and look-ahead masks, combination, causal alignment."""

import ast
from pathlib import Path
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from maskattn import (MaskAttnError, combine_masks, create_causal_mask, create_look_ahead_mask,
                      create_padding_mask, create_query_padding_mask, fully_masked_rows)
from maskattn.masks import check_int


def test_padding_mask_matches_the_tutorial():
    # the tutorial's example: x = [[7, 6, 0, 0, 1], [1, 2, 3, 0, 0], [0, 0, 0, 4, 5]]
    mask = create_padding_mask(np.array([[7, 6, 0, 0, 1], [1, 2, 3, 0, 0], [0, 0, 0, 4, 5]]))
    assert mask.shape == (3, 1, 1, 5)
    assert mask.dtype == np.float32
    assert mask[:, 0, 0].tolist() == [[0, 0, 1, 1, 0], [0, 0, 0, 1, 1], [1, 1, 1, 0, 0]]


def test_look_ahead_mask_matches_the_tutorial():
    # 1 - tf.linalg.band_part(tf.ones((3, 3)), -1, 0)
    expected = 1 - np.tril(np.ones((3, 3)))
    np.testing.assert_array_equal(create_look_ahead_mask(3), expected)
    assert create_look_ahead_mask(0).shape == (0, 0)


def test_combined_mask_is_the_tutorials_maximum():
    seq = np.array([[5, 6, 0]])
    combined = combine_masks(create_look_ahead_mask(3), create_padding_mask(seq))
    assert combined.shape == (1, 1, 3, 3)
    np.testing.assert_array_equal(combined[0, 0], [[0, 1, 1], [0, 0, 1], [0, 0, 1]])


def test_query_padding_makes_fully_masked_rows():
    seq = np.array([[5, 0]])
    combined = combine_masks(create_padding_mask(seq), create_query_padding_mask(seq))
    assert fully_masked_rows(combined[0, 0]).tolist() == [False, True]


def test_inputs_are_not_modified():
    seq = np.array([[1, 0, 2]])
    before = seq.copy()
    create_padding_mask(seq)
    a = create_look_ahead_mask(3)
    a_before = a.copy()
    combine_masks(a, create_padding_mask(seq))
    np.testing.assert_array_equal(seq, before)
    np.testing.assert_array_equal(a, a_before)


@pytest.mark.parametrize("tq, tk", [(1, 4), (2, 5), (4, 4), (3, 3)])
def test_causal_alignment(tq, tk):
    top_left = create_causal_mask(tq, tk)
    bottom_right = create_causal_mask(tq, tk, align="bottom_right")
    for i in range(tq):
        for j in range(tk):
            assert top_left[i, j] == (j > i)
            assert bottom_right[i, j] == (j > i + tk - tq)
    assert not bottom_right[-1].any()             # the newest query sees every cached key
    if tq == tk:
        np.testing.assert_array_equal(top_left, create_look_ahead_mask(tq))
        np.testing.assert_array_equal(bottom_right, top_left)


@pytest.mark.parametrize("call, match", [
    (lambda: create_padding_mask([1, 2, 0]), r"shape \(B, T\), got shape \(3,\)"),
    (lambda: create_padding_mask([["a", "b"]]), "token ids"),
    (lambda: create_look_ahead_mask(2.5), "2.5"),
    (lambda: create_look_ahead_mask(True), "True"),
    (lambda: create_causal_mask(2, 3, align="middle"), "'middle'"),
    (lambda: combine_masks(np.zeros((2, 3)), np.zeros((4, 5))), r"\(2, 3\), \(4, 5\)"),
])
def test_bad_input_names_the_value(call, match):
    with pytest.raises(MaskAttnError, match=match):
        call()


def test_combine_nothing_is_none():
    assert combine_masks() is None


def test_check_int_accepts_only_integers_in_range():
    assert check_int(np.int64(3), "window", 1) == 3
    with pytest.raises(MaskAttnError, match="window must be an integer from 1 to 4, got 5"):
        check_int(5, "window", 1, 4)
    with pytest.raises(MaskAttnError, match="size must be a non-negative integer, got 3.0"):
        check_int(3.0, "size")


MASKS_PACKAGE = Path(__file__).parents[1] / "maskattn" / "masks"


def test_the_masks_package_imports_no_ui_library():
    """tests/test_layers.py reads maskattn/*.py only; the masks package is one folder down."""
    modules = sorted(p.stem for p in MASKS_PACKAGE.glob("*.py") if p.stem != "__init__")
    assert {"basic", "patterns", "spec", "drawn", "verdicts"} <= set(modules)
    code = ("import sys\n" + "".join(f"import maskattn.masks.{m}\n" for m in modules)
            + "print(','.join(m for m in ('streamlit', 'plotly', 'pandas', 'torch', 'jax') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""
    for path in MASKS_PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                assert not any(n.split(".")[0] in ("streamlit", "plotly", "pandas") for n in names), path.name


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 3), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_combine_is_the_elementwise_maximum_of_the_broadcast_parts(B, T, seed):
    rng = np.random.default_rng(seed)
    parts = [rng.integers(0, 2, shape).astype(np.float32)
             for shape in ((B, 1, 1, T), (B, 1, T, 1), (T, T), (B, 1, T, T))]
    combined = combine_masks(*parts)
    assert combined.shape == (B, 1, T, T) and combined.dtype == np.float32
    full = [np.broadcast_to(p, (B, 1, T, T)) for p in parts]
    np.testing.assert_array_equal(combined, np.maximum.reduce(full))
    assert set(np.unique(combined)) <= {0.0, 1.0}
    blocked_anywhere = np.logical_or.reduce([f == 1 for f in full])       # max of 0/1 masks is OR of "blocked"
    np.testing.assert_array_equal(combined == 1, blocked_anywhere)
