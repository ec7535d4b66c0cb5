"""One way to spell a number: on screen, in hover, in CSV, in sentences and in LaTeX.

``spell(x, dtype)`` is exact: the shortest decimal that reads back to the same value in
``dtype`` (an integer-valued number is written exactly, so bfloat16's −1e9 reads
-998244352 and float32's −1e9 + 3.7 reads -1e9). ``spell(x, digits=n)`` is short: ``n``
significant digits, for sentences and heatmap cells. Both share the same spelling:
``-1e9`` (no ``+``, no leading zeros in the exponent), ``NaN``, ``inf``, ``-inf`` and
``-0`` for a negative zero (what ``0 × -1e9`` gives). ``latex=True`` typesets the same
spelling for a formula.

>>> spell(-1e9, "float32"), spell(-1e9, "bfloat16"), spell(-1e9 + 3.7, "float64")
('-1e9', '-998244352', '-999999996.3')
>>> spell(0.26894143, digits=2), spell(1.6052e-28, digits=2), spell(0.0 * -1e9)
('0.27', '1.6e-28', '-0')
>>> spell(float("nan")), spell(float("-inf"), latex=True), spell(-1e9, "float32", latex=True)
('NaN', '-\\\\infty', '-10^{9}')
"""

from __future__ import annotations

import math

import numpy as np

from . import numerics as nx
from .errors import MaskAttnError

#: how the non-finite numbers are spelled everywhere (CSV and JSON read them back with float())
NAN, POS_INF, NEG_INF = "NaN", "inf", "-inf"
#: short spelling switches to an exponent outside [1e-4, 1e6), like %g
_SHORT_EXPONENT_FROM = 6


def _tidy_exponent(text: str) -> str:
    """'1.5e+09' -> '1.5e9', '2.0e-05' -> '2e-5'."""
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


#: NumPy scalar types whose own shortest round-trip formatting is exact (bfloat16 is searched instead)
_NUMPY_SCALARS = {"float16": np.float16, "float32": np.float32, "float64": np.float64}


def _exact(value: float, dtype: str) -> str:
    """The shortest decimal that reads back to ``value`` in ``dtype`` (integers written exactly)."""
    if value.is_integer() and abs(value) < 1e17:
        full = str(int(value))
        sci = _tidy_exponent(f"{value:.16e}")
        return sci if len(sci) < len(full) and float(sci) == value else full
    if dtype in _NUMPY_SCALARS:                       # NumPy finds the shortest round trip in C
        scalar = _NUMPY_SCALARS[dtype](value)
        positional = np.format_float_positional(scalar, unique=True, trim="-")
        scientific = _tidy_exponent(np.format_float_scientific(scalar, unique=True, trim="-"))
        return min((positional, scientific), key=len)
    target = nx.cast(value, dtype)
    for digits in range(1, 18):                       # bfloat16: the fewest significant digits that round back
        text = f"{value:.{digits}g}"
        if nx.cast(float(text), dtype) == target:
            break
    positional = np.format_float_positional(float(text), trim="-")
    return min((_tidy_exponent(text), positional), key=len)


def _short(value: float, digits: int) -> str:
    text = f"{value:.{digits}g}"
    return _tidy_exponent(text)


def spell(x, dtype="float64", *, digits: int | None = None, latex: bool = False) -> str:
    """``x`` rounded to ``dtype``, as people read it: exact by default, or to ``digits`` significant digits.

    >>> spell(np.float32(0.1), "float32"), spell(0.1), spell(1000.5, "float16")
    ('0.1', '0.1', '1000.5')
    >>> spell(2.312345678, digits=6), spell(-0.3, digits=1), spell(123456789.0, digits=3)
    ('2.31235', '-0.3', '1.23e8')
    >>> spell(2.5e-7, "float32", latex=True)
    '2.5 \\\\times 10^{-7}'
    """
    dtype = nx.dtype_name(dtype)
    with np.errstate(over="ignore"):
        if isinstance(x, (float, np.floating, int, np.integer)) and dtype in _NUMPY_SCALARS:
            value = float(_NUMPY_SCALARS[dtype](x))       # the fast path: one number, a NumPy dtype
        else:
            number = nx.as_array(x, "the number to spell")
            if number.size != 1:
                raise MaskAttnError(f"spell takes one number, got shape {number.shape}")
            value = nx.to_float(nx.cast(number.reshape(()), dtype))  # the value as dtype holds it
    if math.isnan(value):
        text = NAN
    elif math.isinf(value):
        text = POS_INF if value > 0 else NEG_INF
    elif value == 0:
        text = "-0" if math.copysign(1.0, value) < 0 else "0"
    elif digits is not None:
        text = _short(value, digits)
    else:
        text = _exact(value, dtype)
    return to_latex(text) if latex else text


def to_latex(text: str) -> str:
    """A spelled number typeset for LaTeX: ∞, NaN, and ``a × 10^n`` for an exponent.

    >>> to_latex("-1e9"), to_latex("1.6e-28"), to_latex("inf"), to_latex("0.25")
    ('-10^{9}', '1.6 \\\\times 10^{-28}', '\\\\infty', '0.25')
    """
    if text in (NAN, POS_INF, NEG_INF):
        return {NAN: r"\mathrm{NaN}", POS_INF: r"\infty", NEG_INF: r"-\infty"}[text]
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    power = f"10^{{{int(exponent)}}}"
    if mantissa in ("1", "-1"):
        return ("-" if mantissa == "-1" else "") + power
    return rf"{mantissa} \times {power}"


def difference(a, b, dtype="float64", *, digits: int | None = None) -> str:
    """``a - b`` written out without a double minus: ``-1e9 + 0.87`` rather than ``-1e9 - -0.87``.

    >>> difference(-1e9, -0.871262, "float32"), difference(2.0, 3.0)
    ('-1e9 + 0.871262', '2 - 3')
    """
    right = nx.to_float(b)
    sign = "+" if (right < 0 or (right == 0 and math.copysign(1.0, right) < 0)) else "-"
    return f"{spell(a, dtype, digits=digits)} {sign} {spell(abs(right), dtype, digits=digits)}"


#: what a cell prints for a number that is not 0 but too small to spell in it (the hover has it exactly)
NEAR_ZERO = "≈0"


def fit(x, max_chars: int, dtype="float64") -> str | None:
    """The most precise short spelling of ``x`` in at most ``max_chars`` characters, or None.

    For heatmap cells: every cell of a panel gets the same budget, so numbers never touch.

    >>> fit(0.2689414, 4), fit(-0.6923, 4), fit(-1e9, 4), fit(-123.4, 3), fit(float("nan"), 3)
    ('0.27', '-0.7', '-1e9', None, 'NaN')
    >>> fit(0.00022, 4), fit(-998244352.0, 5, "bfloat16")
    ('2e-4', '-1e9')

    A number below 1 never vanishes beside numbers that print: without its leading zero
    (``.07``), or as ``≈0`` — not exactly 0 (that prints ``0``), too small for the cell.

    >>> fit(0.07, 3), fit(0.003, 3), fit(-0.003, 2), fit(123.0, 2)
    ('.07', '≈0', '≈0', None)
    """
    value = nx.to_float(nx.as_array(x, "the number to fit").reshape(()))
    if not math.isfinite(value) or value == 0:
        text = spell(value)
        return text if len(text) <= max_chars else None
    exact = spell(value, dtype)
    if len(exact) <= max_chars:
        return exact
    for digits in (4, 3, 2, 1):
        for text in (_short(value, digits), _tidy_exponent(f"{value:.{digits - 1}e}")):
            if len(text) <= max_chars:
                return text
    if abs(value) < 1:
        for digits in (3, 2, 1):                          # 0.07 -> .07 where the leading zero does not fit
            text = _short(value, digits).replace("0.", ".", 1)
            if len(text) <= max_chars and text.strip("-.0"):
                return text
        if max_chars >= 2:
            return NEAR_ZERO
    return None


#: plurals that are not the noun plus "s"
_PLURALS = {"query": "queries"}


def spell_signed(x, dtype="float64", *, digits: int | None = None) -> str:
    """``spell`` with a true minus sign (U+2212), as prose and labels print a negative number.

    >>> spell_signed(-1e9), spell_signed(-65504.0, digits=6), spell_signed(0.5)
    ('−1e9', '−65504', '0.5')
    """
    return spell(x, dtype, digits=digits).replace("-", "−")


def spell_weight(w, dtype="float64", *, digits: int | None = 3) -> str:
    """A weight (or leaked mass) as the app says it: "NaN", "exactly 0", else its digits (``digits=None``: every
    digit ``dtype`` holds).

    >>> spell_weight(float("nan")), spell_weight(0.0), spell_weight(0.123456), spell_weight(0.1, "float32", digits=None)
    ('NaN', 'exactly 0', '0.123', '0.1')
    """
    w = float(w)
    return "NaN" if math.isnan(w) else "exactly 0" if w == 0 else spell(w, dtype, digits=digits)


def count(n: int, noun: str) -> str:
    """``n`` and the noun, singular or plural: the one way positions, rows and keys are counted in text.

    >>> count(1, "query"), count(3, "query"), count(0, "key")
    ('1 query', '3 queries', '0 keys')
    """
    return f"{n} {noun if n == 1 else _PLURALS.get(noun, noun + 's')}"
