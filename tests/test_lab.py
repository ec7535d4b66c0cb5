"""lab: the constant sweep, facts, method comparison, fully masked rows, naive softmax, input parsing.

Expectations come from NUMERICS.md or from an independent float64 / brute-force computation,
never from the lab's own output.
"""

import math

import ml_dtypes
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

from maskattn import DTYPE_NAMES, MaskAttnError, attention_steps, inspector, lab, leaked_mass, underflow_threshold

LEAK_LOGITS = [3.2, 1.0, -0.5, 2.0]                   # NUMERICS.md: last two masked, float32
LEAK_MASK = [0.0, 0.0, 1.0, 1.0]
NP = {"float16": np.float16, "bfloat16": ml_dtypes.bfloat16, "float32": np.float32, "float64": np.float64}


def reference_softmax(z):
    """Exact softmax in float64 (no masking, no rounding): the independent check."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max())
    return e / e.sum()


# --------------------------------------------------------------------------- NUMERICS.md numbers

@pytest.mark.parametrize("constant, expected", [
    (-1.0, [0.8125, 0.0900, 0.0074, 0.0900]),
    (-1e4, [0.9002, 0.0998, 0.0, 0.0]),
    (-1e9, [0.9002, 0.0998, 0.0, 0.0]),
])
def test_too_small_constant_leaks_as_numerics_md_says(constant, expected):
    w = lab.row_steps(LEAK_LOGITS, LEAK_MASK, mask_value=constant, dtype="float32").weights[0]
    np.testing.assert_allclose(w.astype(float), expected, atol=5e-5)
    if expected[2] == 0:
        assert w[2] == 0 and w[3] == 0                  # exactly, not approximately


def test_minus_ten_leaks_about_1e6_and_1e5():
    w = lab.row_steps(LEAK_LOGITS, LEAK_MASK, mask_value=-10.0).weights[0].astype(float)
    assert w[2] == pytest.approx(1e-6, rel=0.15) and w[3] == pytest.approx(1.2e-5, rel=0.05)


def test_row_steps_logits_are_the_given_logits_rounded():
    x = np.array([3.7, -1e-3, 65519.0, 1e5])
    for dtype in DTYPE_NAMES:
        s = lab.row_steps(x, [0, 0, 0, 0], dtype=dtype)
        with np.errstate(over="ignore"):
            rounded = x.astype(NP[dtype]).astype(float)
        np.testing.assert_array_equal(s.logits[0].astype(float), rounded)


def test_sweep_matches_brute_force_attention_steps():
    grid = lab.constant_grid((0, 6), 2)
    sweep = lab.sweep_constants(LEAK_LOGITS, LEAK_MASK, constants=grid)
    q, k, v = np.ones((1, 1)), np.array(LEAK_LOGITS)[:, None], np.zeros((4, 1))
    for dtype in DTYPE_NAMES:
        got = sweep.at(dtype)
        for c, leaked in zip(got.constant, got.leaked):
            w = attention_steps(q, k, v, np.array([LEAK_MASK]), mask_value=c, dtype=dtype, scale=False).weights
            expected = float(np.sum(w.astype(float)[0, 2:]))
            if math.isnan(expected):
                assert math.isnan(leaked)
            else:
                assert leaked == expected


def test_sweep_is_tidy_and_covers_every_dtype_and_constant():
    sweep = lab.sweep_constants(LEAK_LOGITS, LEAK_MASK)
    grid = lab.constant_grid()
    assert grid[0] == -1.0 and grid[-2] == -1e38 and grid[-1] == -math.inf
    assert np.all(np.diff(np.log10(-grid[:-1])) > 0)          # a log grid, more negative to the right
    assert len(sweep.records()) == len(grid) * 4 == sweep.leaked.size
    for dtype in DTYPE_NAMES:
        np.testing.assert_array_equal(sweep.at(dtype).constant, grid)
    rec = sweep.records()[0]
    assert set(rec) == {"dtype", "constant", "constant in dtype", "leaked mass", "NaN", "exactly 0"}


def test_sweep_story_for_the_seed_question():
    """-1 leaks, -1e9 gives exactly 0 in float32, and NaN in float16 (NUMERICS.md)."""
    sweep = lab.sweep_constants(LEAK_LOGITS, LEAK_MASK, constants=[-1.0, -1e9, -math.inf])
    f32, f16, f64 = sweep.at("float32"), sweep.at("float16"), sweep.at("float64")
    assert f32.leaked[0] == pytest.approx(0.0074 + 0.0900, abs=2e-4)
    assert f32.leaked[1] == 0.0 and f64.leaked[1] == 0.0
    assert math.isnan(f16.leaked[1]) and f16.cast_constant[1] == -math.inf
    assert math.isnan(f32.leaked[2])                    # additive -inf: 0 * -inf = NaN


def test_sweep_with_fill_never_nans_in_float16():
    sweep = lab.sweep_constants(LEAK_LOGITS, LEAK_MASK, method="fill", constants=[-1e9, -math.inf])
    assert (sweep.leaked == 0).all()


def test_underflow_and_overflow_markers():
    # the masked exponent x_j + c - m reaches float32's underflow point -103.97
    c = lab.underflow_constant(LEAK_LOGITS, LEAK_MASK, "float32")
    assert c == pytest.approx(-103.972 + 3.2 - 2.0, abs=1e-3)
    just_above = lab.sweep_constants(LEAK_LOGITS, LEAK_MASK, constants=[c + 1.0, c - 1.0]).at("float32").leaked
    assert just_above[0] > 0 and just_above[1] == 0
    assert lab.overflow_constant("float16") == -65504.0
    assert math.isnan(lab.underflow_constant([1.0, 2.0], [1, 1], "float32"))


def test_leaked_mass_with_real_logits_below_the_constant():
    """NUMERICS.md: -1e6 fails when real logits are below -1e6."""
    logits, mask = [-2e6, -3e6, 0.0], [0, 0, 1]
    leaked = lab.sweep_constants(logits, mask, constants=[-1e6, -1e9]).at("float64").leaked
    assert leaked[0] == pytest.approx(1.0)             # the masked key is the largest score
    assert leaked[1] == 0.0


# --------------------------------------------------------------------------- facts per dtype

def test_facts_match_numerics_md():
    facts = {r["dtype"]: r for r in lab.constant_facts(-1e9, [1.0, 2.0, 3.0])}
    assert facts["float16"]["constant in dtype"] == -math.inf
    assert facts["bfloat16"]["constant in dtype"] == -998244352.0
    assert facts["float32"]["constant in dtype"] == -1e9 == facts["float64"]["constant in dtype"]
    assert math.isnan(facts["float16"]["0 × constant"])
    for name in ("bfloat16", "float32", "float64"):
        z = facts[name]["0 × constant"]
        assert z == 0 and math.copysign(1, z) == -1      # -0.0
    assert [round(facts[t]["exp underflows below"], 2) for t in DTYPE_NAMES] == [-17.33, -92.88, -103.97, -745.13]
    assert facts["float32"]["spacing at constant"] == 64.0
    assert [facts[t]["logits survive"] for t in DTYPE_NAMES] == [False, False, False, True]


def test_small_constant_keeps_the_logits_in_every_dtype():
    facts = lab.constant_facts(-10.0, [1.0, 2.0, 3.0])
    assert all(r["logits survive"] for r in facts)


# --------------------------------------------------------------------------- methods

def test_method_comparison_on_the_leaking_example():
    out = {o.label: o for o in lab.compare_methods(LEAK_LOGITS, LEAK_MASK, mask_value=-1e9, dtype="float32")}
    assert list(out) == list(lab.LAB_METHODS)
    unmasked = reference_softmax(LEAK_LOGITS[:2])
    for label in ("add", "fill", "fill −inf", "safe"):
        np.testing.assert_allclose(out[label].weights.astype(float)[:2], unmasked, rtol=1e-6)
        assert out[label].leaked == 0 and out[label].verdict.startswith("correct")
    assert out["add −inf"].has_nan and "0 × -inf = NaN" in out["add −inf"].verdict
    full = reference_softmax(LEAK_LOGITS)
    assert out["multiply_weights"].row_sum == pytest.approx(full[:2].sum(), rel=1e-6)
    assert "not 1" in out["multiply_weights"].verdict
    zeroed = reference_softmax([3.2, 1.0, 0.0, 0.0])
    assert out["zero_logits"].leaked == pytest.approx(zeroed[2:].sum(), rel=1e-5)
    assert "exp(0 - max)" in out["zero_logits"].verdict


def test_method_comparison_in_float16_tutorial_constant():
    out = {o.label: o for o in lab.compare_methods(LEAK_LOGITS, LEAK_MASK, mask_value=-1e9, dtype="float16")}
    assert out["add"].has_nan and out["add"].constant == -math.inf
    assert not out["fill"].has_nan and out["fill"].leaked == 0


def test_method_comparison_leaky_verdict():
    out = {o.label: o for o in lab.compare_methods(LEAK_LOGITS, LEAK_MASK, mask_value=-1.0)}
    assert out["add"].verdict.startswith("leaks 0.0974")


# --------------------------------------------------------------------------- fully masked rows

TUTORIAL_ROW = [0.0, 100 / math.sqrt(3), 0.0, 0.0]    # q=[0,10,0] against the tutorial's keys


def test_fully_masked_table_matches_numerics_md():
    table = {(r["method"], r["dtype"]): r for r in lab.fully_masked_table(TUTORIAL_ROW, mask_value=-1e9)}
    assert len(table) == len(lab.LAB_METHODS) * 4
    kinds = {key: r["result"] for key, r in table.items()}
    assert kinds["add", "float16"] == "NaN"
    assert kinds["add", "bfloat16"] == "uniform"
    assert kinds["add", "float32"] == "near one-hot"
    np.testing.assert_allclose(table["add", "float32"]["weights"], [1.6e-28, 1, 1.6e-28, 1.6e-28], rtol=0.02)
    assert kinds["add", "float64"] == "unmasked softmax"
    np.testing.assert_allclose(table["add", "float64"]["weights"], reference_softmax(TUTORIAL_ROW), rtol=1e-6)
    assert all(kinds["fill", t] == "uniform" for t in ("bfloat16", "float32", "float64"))
    assert all(kinds["fill −inf", t] == "NaN" and kinds["add −inf", t] == "NaN" for t in DTYPE_NAMES)
    assert all(kinds["safe", t] == "zeros" for t in DTYPE_NAMES)     # PyTorch SDPA's _safe_softmax
    assert all(kinds["zero_logits", t] == "uniform" for t in DTYPE_NAMES)
    assert "64" in table["add", "float32"]["reason"]
    assert all(r["reason"].endswith(".") for r in table.values())


def test_fully_masked_small_offsets_are_uniform_in_float32():
    """NUMERICS.md: offsets < 32 round to the same multiple of 64 near -1e9."""
    kinds = {(r["method"], r["dtype"]): r["result"] for r in lab.fully_masked_table([1.0, 2.0, 3.0])}
    assert kinds["add", "float32"] == "uniform"


# --------------------------------------------------------------------------- naive vs stable

def test_naive_softmax_overflows_stable_does_not():
    rows = lab.naive_vs_stable(lab.NAIVE_EXAMPLE, "float32")
    assert all(math.isinf(r["exp(z)"]) and math.isnan(r["naive weight"]) for r in rows)
    np.testing.assert_allclose([r["stable weight"] for r in rows], reference_softmax([100, 90]), rtol=1e-6)
    assert rows[0]["stable weight"] == pytest.approx(0.99995, abs=1e-5)


def test_naive_softmax_of_a_fully_masked_row_is_zero_over_zero():
    rows = lab.naive_vs_stable([-1e9, -1e9 + 64], "float32")
    assert all(r["exp(z)"] == 0 and math.isnan(r["naive weight"]) for r in rows)


# --------------------------------------------------------------------------- typed input

@pytest.mark.parametrize("text, expected", [
    ("3.2, 1.0, -0.5, 2.0", [3.2, 1.0, -0.5, 2.0]),
    ("  −5e6 ; 7 ", [-5e6, 7.0]),
    ("1 2\t3", [1.0, 2.0, 3.0]),
])
def test_parse_logits_accepts(text, expected):
    assert lab.parse_logits(text).tolist() == expected


@pytest.mark.parametrize("text, dtype, message", [
    ("", "float32", "at least one score"),
    ("1, nan", "float32", "'nan'"),
    ("1, -inf", "float32", "finite"),
    ("abc", "float32", "'abc', not a number"),
    ("1e39", "float32", "outside the float32 range"),
    ("-70000", "float16", "outside the float16 range ±65504"),
    (", ".join(["1"] * 300), "float32", "at most 256 scores, got 300"),
])
def test_parse_logits_refuses(text, dtype, message):
    with pytest.raises(MaskAttnError, match=message.replace("(", r"\(").replace("+", r"\+")):
        lab.parse_logits(text, dtype)


def test_bad_rows_and_masks_are_refused():
    with pytest.raises(MaskAttnError, match=r"mask row \(3,\) must match the logits \(2,\)"):
        lab.sweep_constants([1.0, 2.0], [0, 0, 1])
    with pytest.raises(MaskAttnError, match=r"mask must hold only 0 \(attend\) and 1 \(blocked\), got 2 at position 2"):
        lab.compare_methods([1.0, 2.0], [0, 2])
    with pytest.raises(MaskAttnError, match="masked key 4 does not exist"):
        lab.row_mask(3, [4])
    with pytest.raises(MaskAttnError, match="no NaN"):
        lab.sweep_constants([1.0], [0], constants=[math.nan])


# --------------------------------------------------------------------------- leaked_mass properties

finite_logits = st.lists(st.floats(-50, 50, allow_nan=False, width=32), min_size=2, max_size=12)


@settings(max_examples=60, deadline=None)
@given(finite_logits, st.data())
def test_leaked_mass_is_zero_with_minus_1e9_in_float32_when_a_key_is_kept(logits, data):
    n = len(logits)
    mask = data.draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=n, max_size=n))
    assume(0.0 in mask)                                 # the row keeps at least one key
    for method in ("add", "fill", "safe"):
        w = lab.row_steps(logits, mask, mask_value=-1e9, dtype="float32", method=method).weights
        assert leaked_mass(w, np.array([mask]))[0] == 0.0


@settings(max_examples=40, deadline=None)
@given(finite_logits, st.data(), st.sampled_from(["bfloat16", "float32", "float64"]))
def test_leaked_mass_is_monotone_in_the_constant_until_underflow(logits, data, dtype):
    n = len(logits)
    mask = data.draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=n, max_size=n))
    assume(0.0 in mask and 1.0 in mask)
    x, m = np.array(logits), np.array(mask)
    # from -1 down to past the underflow point, in float64 steps the dtype can tell apart
    end = lab.underflow_constant(x, m, dtype) - 5
    constants = -np.geomspace(1.0, -end, 40)
    leaked = lab.sweep_constants(x, m, constants=constants, dtypes=[dtype]).leaked
    assert not np.isnan(leaked).any()
    # non-increasing as the constant grows more negative (a rounding-size wobble allowed)
    tolerance = {"bfloat16": 2e-2, "float32": 1e-6, "float64": 1e-12}[dtype]
    assert np.all(np.diff(leaked) <= tolerance * np.maximum(leaked[:-1], 1e-30) + 1e-300)
    assert leaked[-1] == 0.0                            # past the underflow point: exactly 0


def test_underflow_threshold_is_the_exp_zero_point():
    """Brute force around the threshold in float32: exp is 0 just below, positive just above."""
    t = underflow_threshold("float32")
    assert np.exp(np.float32(t - 0.01)) == 0 and np.exp(np.float32(t + 0.01)) > 0


@pytest.mark.parametrize("call, message", [
    (lambda: lab.sweep_constants([[1.0], [2.0, 3.0]], [0, 1]), "logits must be numbers"),
    (lambda: lab.row_steps(["a", "b"], [0, 1]), "logits must be numbers"),
    (lambda: lab.row_steps([1.0, math.nan], [0, 1]), "logits must be finite"),
    (lambda: lab.constant_facts("abc", [1.0]), "the constant must be a number, got 'abc'"),
    (lambda: lab.constant_facts(-1e9, [1.0], dtypes="float32"), "dtypes must be a list"),
    (lambda: lab.compare_methods([1.0, 2.0], [0, 1], dtype="01"), "dtype must be one of .* got '01'"),
    (lambda: lab.parse_logits("1", "0{"), "dtype must be one of"),
    (lambda: lab.constant_grid((5, 2)), r"0 <= lo < hi <= 308"),
    (lambda: lab.constant_grid((0, 3), 0), "per_decade must be a whole number from 1 to 100"),
    (lambda: inspector.inspector_rows("steps", 0, ["a"]), "needs an AttentionSteps"),
    (lambda: inspector.inspector_rows(lab.row_steps([1.0], [0]), True, ["a"]), "query row True does not exist"),
    (lambda: inspector.inspector_rows(lab.row_steps([1.0], [0]), 0, None), "key_labels must be a list"),
    (lambda: inspector.inspector_latex(lab.row_steps([1.0], [0]), 0, keys=["x"]), "key 'x' does not exist"),
])
def test_hostile_arguments_raise_maskattn_error(call, message):
    with pytest.raises(MaskAttnError, match=message):
        call()
