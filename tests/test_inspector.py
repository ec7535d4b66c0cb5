"""The row inspector's core: per-key step table, exact number text, the formula with real numbers."""


import numpy as np
import pytest

from maskattn import MaskAttnError, inspector_latex, inspector_rows, lab
from maskattn.pipeline import compute
from maskattn.state import Inputs
from maskattn.text import spell


def test_step_table_is_the_playground_row_step_by_step():
    result = compute(Inputs())                          # "the cat sat" + 3 pads, padding mask, float32
    s, row = result.steps, 1
    records = inspector_rows(s, row, result.labels)
    assert [r["key"] for r in records] == result.labels
    assert [r["masked"] for r in records] == [False, False, False, True, True, True]
    for j, r in enumerate(records):
        # each column is the value float32 holds at that step, read back exactly
        assert r["raw logit"] == float(s.logits[row, j])
        assert r["masked logit"] == float(np.float32(np.float32(s.logits[row, j]) + s.mask_term[row, j]))
        assert r["minus row max"] == float(np.float32(r["masked logit"] - s.row_max[row, 0]))
        assert r["exp"] == float(np.float32(np.exp(np.float32(r["minus row max"]))))
    np.testing.assert_allclose(sum(r["weight"] for r in records), 1.0, rtol=1e-6)
    assert [r["mask term"] for r in records[3:]] == [-1e9] * 3
    assert [r["weight"] for r in records[3:]] == [0.0] * 3
    assert [r["spacing at masked logit"] for r in records[3:]] == [64.0] * 3   # NUMERICS.md: 64 at 1e9


def test_minus_1e9_plus_3_7_is_minus_1e9_in_float32_but_not_float64():
    """NUMERICS.md: 3.7 + float32(-1e9) = -1e9 (3.7 lost); float64 keeps it (-999999996.3)."""
    for dtype, expected in (("float32", "-1e9"), ("float64", "-999999996.3")):
        s = lab.row_steps([1.0, 3.7], [0, 1], dtype=dtype)
        r = inspector_rows(s, 0, ["a", "b"])[1]
        assert spell(r["masked logit"], dtype) == expected


def test_latex_writes_out_the_masked_exponent():
    s = lab.row_steps([2.3, 1.0], [0, 1], dtype="float32")
    lines = inspector_latex(s, 0)
    assert len(lines) == 7                 # mask term, softmax, sum, then z and weight of one open and one masked key
    assert lines[-2][0] == r"z_{1} = 1 + 1 \times (-10^{9}) = 1 + (-10^{9}) = -10^{9}"   # starts at the mask term
    latex, note = lines[-1]
    assert "e^{-1000000002.3}" in latex and r"\to e^{-10^{9}}" in latex
    assert note.startswith("exp(-1000000002.3) = 0 in float32") and "-103.97" in note
    mask_line, _ = lines[0]
    assert r"z_j = x_j + \mathrm{mask}_j \times c" in mask_line and "c = -10^{9}" in mask_line
    formula, _ = lines[1]
    assert r"m = \max_k z_k = 2.3" in formula and "float32" in formula


def test_latex_for_a_leaking_key_says_not_zero():
    s = lab.row_steps([3.2, 1.0, -0.5, 2.0], [0, 0, 1, 1], mask_value=-1.0)
    _, note = inspector_latex(s, 0)[-1]
    # key 2: -0.5 - 1 - 3.2 = -4.7, exp(-4.7) = 0.0091 (NUMERICS.md: weight 0.0074)
    assert note.startswith("exp(-4.7) = 0.0091 in float32, not 0")


def test_latex_for_a_float16_nan_row_shows_where_the_nan_is_born():
    s = lab.row_steps([1.0, 2.0], [0, 1], dtype="float16")   # -1e9 is -inf: 0 * -inf = NaN
    lines = inspector_latex(s, 0, keys=[0, 1])
    (open_key, _), (_, note) = lines[-4], lines[-3]
    assert open_key == r"z_{0} = 1 + 0 \times (-\infty) = 1 + \mathrm{NaN} = \mathrm{NaN}"
    assert note.startswith("The mask term is 0 × -inf = NaN in float16")
    assert "NaN" in lines[-1][1]


def test_no_mask_means_no_mask_term_in_the_formula():
    result = compute(Inputs(padding=False, dtype="float16"))
    lines = inspector_latex(result.steps, 0)
    assert "no mask term" in lines[0][0]
    assert not any(r"\mathrm{NaN}" in latex for latex, _ in lines)


def test_latex_for_multiply_weights_shows_the_mask_factor():
    s = lab.row_steps([1.0, 2.0], [0, 1], method="multiply_weights")
    latex, _ = inspector_latex(s, 0, keys=[1])[-1]
    assert r"\times (1 - 1)" in latex and latex.endswith("= 0")


def test_latex_never_contains_user_text():
    result = compute(Inputs(text="<b>$x$</b> \\alert{1}"))
    for latex, note in inspector_latex(result.steps, 0):
        assert "alert" not in latex and "<b>" not in latex and "alert" not in note


def test_many_keys_abbreviate_the_sum():
    s = lab.row_steps(np.arange(20.0), np.zeros(20))
    total, _ = inspector_latex(s, 0)[2]
    assert r"\cdots\ (\text{20 terms})" in total


def test_bad_rows_keys_and_labels_are_refused():
    s = lab.row_steps([1.0, 2.0], [0, 1])
    with pytest.raises(MaskAttnError, match="query row 3 does not exist: there are rows 0 to 0"):
        inspector_rows(s, 3, ["a", "b"])
    with pytest.raises(MaskAttnError, match="2 keys need 2 labels, got 1"):
        inspector_rows(s, 0, ["a"])
    with pytest.raises(MaskAttnError, match="key 5 does not exist"):
        inspector_latex(s, 0, keys=[5])
