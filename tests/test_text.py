"""text.spell: one way to spell a number on screen, in hover, in CSV and in LaTeX."""

import math

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from maskattn import MaskAttnError
from maskattn.numerics import cast
from maskattn.text import NEAR_ZERO, difference, fit, spell, to_latex

NP = {"float16": np.float16, "bfloat16": ml_dtypes.bfloat16, "float32": np.float32, "float64": np.float64}


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(list(NP)))
def test_exact_spelling_reads_back_to_the_same_value_in_every_dtype(x, dtype):
    with np.errstate(over="ignore"):
        value = cast(x, dtype)
    text = spell(value, dtype)
    if not math.isfinite(float(value)):
        assert text in ("inf", "-inf")
        return
    assert cast(float(text), dtype).tobytes() == value.tobytes() or float(value) == 0
    assert "e+" not in text and "e0" not in text and "e-0" not in text         # -1e9, never -1e+09


def test_minus_1e9_is_spelled_one_way_in_every_dtype_that_holds_it():
    assert spell(-1e9, "float32") == spell(-1e9, "float64") == spell(-1e9, digits=2) == "-1e9"
    assert spell(-1e9, "bfloat16") == "-998244352"                 # NUMERICS.md: bfloat16(-1e9)
    assert spell(-1e9, "float16") == "-inf"                        # NUMERICS.md: float16(-1e9)
    assert spell(np.float32(-1e9) + np.float32(3.7), "float32") == "-1e9"      # 3.7 lost: spacing 64
    assert spell(-1e9 + 3.7, "float64") == "-999999996.3"                      # kept


def test_special_values_and_signed_zero():
    assert [spell(v) for v in (math.nan, math.inf, -math.inf, 0.0, -0.0)] == ["NaN", "inf", "-inf", "0", "-0"]
    assert spell(0.0 * -1e9) == "-0"                               # what 0 x -1e9 gives
    assert spell(np.float16(0.1), "float16") == "0.1"              # not 0.0999755859375


def test_short_spelling():
    assert spell(0.2689414, digits=2) == "0.27"
    assert spell(8.43327e-26, digits=2) == "8.4e-26"
    assert spell(123456789.0, digits=3) == "1.23e8"


def test_latex_spelling():
    assert to_latex("-1e9") == "-10^{9}"
    assert spell(1.6e-28, digits=2, latex=True) == r"1.6 \times 10^{-28}"
    assert spell(math.nan, latex=True) == r"\mathrm{NaN}" and spell(-math.inf, latex=True) == r"-\infty"


def test_difference_never_writes_a_double_minus():
    assert difference(-1e9, -0.871262, "float32") == "-1e9 + 0.871262"
    assert difference(-1e9, 2.99319, "float32") == "-1e9 - 2.99319"
    assert "- -" not in difference(-3.0, -2.0)


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True, width=32), st.integers(3, 7))
def test_fit_stays_within_its_budget_and_stays_close(x, chars):
    text = fit(x, chars, "float32")
    if text is None:
        return
    assert len(text) <= chars
    if text == NEAR_ZERO:                                          # not 0, too small for the cell: says so
        assert 0 < abs(x) < 1
        return
    if math.isfinite(x) and x != 0:
        assert float(text) == pytest.approx(x, rel=0.5)            # one significant digit at the very least
        assert math.copysign(1, float(text)) == math.copysign(1, x)


def test_bad_dtype_is_refused():
    with pytest.raises(MaskAttnError, match="dtype must be one of"):
        spell(1.0, "int8")


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-0.75, max_value=0.75, allow_nan=False, width=32), st.integers(2, 7))
def test_a_number_below_one_never_vanishes_where_its_neighbours_print(x, chars):
    """Cells print within one budget; a small value that cannot be spelled in it prints ≈0, never a blank (and never
    a plain 0, which means exactly 0)."""
    text = fit(x, chars, "float32")
    assert text is not None and len(text) <= chars
    assert (text in ("0", "-0")) == (x == 0)                       # -0 is spelled as the signed zero it is
