"""Faithful floating-point numerics in float16, bfloat16, float32 and float64.

Every helper here computes the way a framework running in ``dtype`` would: the
operation is evaluated in a wider *accumulation* type (float32 for the 16-bit
types, the dtype itself otherwise) and the result is rounded back to ``dtype``.
Rounding a correctly rounded float32 result of +, -, *, / to float16/bfloat16
equals doing the operation in that type directly, so no precision is invented.

>>> [round(float(w), 5) for w in softmax([1.0, 2.0, 3.0], dtype="float32")]
[0.09003, 0.24473, 0.66524]
>>> cast(-1e9, "float16")
array(-inf, dtype=float16)
>>> round(underflow_threshold("float32"), 2)
-103.97
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import ml_dtypes
import numpy as np

from .errors import MaskAttnError

#: the number types the app offers, narrowest first
DTYPE_NAMES: tuple[str, ...] = ("float16", "bfloat16", "float32", "float64")

_DTYPES = {
    "float16": np.dtype(np.float16),
    "bfloat16": np.dtype(ml_dtypes.bfloat16),
    "float32": np.dtype(np.float32),
    "float64": np.dtype(np.float64),
}


def resolve_dtype(dtype) -> np.dtype:
    """The NumPy dtype for a name in ``DTYPE_NAMES`` (or such a dtype itself).

    >>> resolve_dtype("bfloat16").name
    'bfloat16'
    >>> resolve_dtype("int8")
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: dtype must be one of float16, bfloat16, float32, float64, got 'int8'
    """
    name = dtype_name(dtype)
    return _DTYPES[name]


def dtype_name(dtype) -> str:
    """The canonical name (``"float16"``, ``"bfloat16"``, ...) of a supported dtype."""
    if isinstance(dtype, str) and dtype in _DTYPES:
        return dtype
    try:
        name = np.dtype(dtype).name
    except (TypeError, ValueError, SyntaxError):  # numpy parses strings like "8f" as format codes
        name = None
    if name in _DTYPES:
        return name
    raise MaskAttnError(f"dtype must be one of {', '.join(DTYPE_NAMES)}, got {dtype!r}")


def as_array(x, name: str = "x") -> np.ndarray:
    """``x`` as a numeric array, or ``MaskAttnError`` naming what was wrong with it.

    Refuses ragged nested lists, strings, objects and None (NumPy would raise its own errors,
    or silently make an object array).

    >>> as_array([[1, 2], [3]], "q")
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: q must be a rectangular array of numbers, got [[1, 2], [3]]
    """
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError):
        arr = None
    ok = arr is not None and (arr.dtype.kind in "biuf" or arr.dtype == _DTYPES["bfloat16"])
    if not ok:
        shown = repr(x) if len(repr(x)) <= 60 else repr(x)[:57] + "..."
        raise MaskAttnError(f"{name} must be a rectangular array of numbers, got {shown}")
    return arr


def accumulation_dtype(dtype) -> np.dtype:
    """The type sums and products are accumulated in before rounding to ``dtype``.

    >>> accumulation_dtype("float16").name, accumulation_dtype("float64").name
    ('float32', 'float64')
    """
    return np.dtype(np.float64) if dtype_name(dtype) == "float64" else np.dtype(np.float32)


def finfo(dtype):
    """``finfo`` for every supported dtype (``ml_dtypes.finfo`` knows bfloat16)."""
    return ml_dtypes.finfo(resolve_dtype(dtype))


def sqrt_depth(depth: int, dtype) -> np.ndarray:
    """√d as the logits are divided by it in ``dtype``: taken in float32 and rounded to ``dtype`` (the tutorial's
    ``tf.math.sqrt`` of a float32 depth), except in float64, where every step is float64 (the app's exact
    reference; PyTorch and JAX scale float64 logits by a float64 √d).

    >>> float(sqrt_depth(8, "float64")) == 8 ** 0.5, float(sqrt_depth(8, "float32")) == 8 ** 0.5
    (True, False)
    """
    wide = np.float64 if resolve_dtype(dtype) == np.float64 else np.float32
    return cast(np.sqrt(wide(depth)), dtype)


def cast(x, dtype) -> np.ndarray:
    """``x`` rounded to ``dtype`` (round to nearest even; overflow gives ±inf).

    >>> cast(-1e9, "bfloat16").astype(float).item()
    -998244352.0
    """
    target = resolve_dtype(dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        return as_array(x).astype(np.float64).astype(target)


def _rounded(fn, dtype, *args):
    """Evaluate ``fn`` on ``args`` in the accumulation type, round to ``dtype``."""
    acc = accumulation_dtype(dtype)
    with np.errstate(all="ignore"):
        out = fn(*(np.asarray(a).astype(acc) for a in args))
        return np.asarray(out).astype(resolve_dtype(dtype))


def add(a, b, dtype):
    """``a + b`` rounded to ``dtype``."""
    return _rounded(np.add, dtype, a, b)


def subtract(a, b, dtype):
    """``a - b`` rounded to ``dtype``."""
    return _rounded(np.subtract, dtype, a, b)


def multiply(a, b, dtype):
    """``a * b`` rounded to ``dtype`` (so ``0 * -inf`` is NaN, as in IEEE 754)."""
    return _rounded(np.multiply, dtype, a, b)


def divide(a, b, dtype):
    """``a / b`` rounded to ``dtype``."""
    return _rounded(np.divide, dtype, a, b)


def exp(a, dtype):
    """``exp(a)`` rounded to ``dtype`` (exactly 0 below ``underflow_threshold``)."""
    return _rounded(np.exp, dtype, a)


def matmul(a, b, dtype):
    """``a @ b`` accumulated in the accumulation type, then rounded to ``dtype``."""
    return _rounded(np.matmul, dtype, a, b)


def row_sum(a, dtype, axis=-1):
    """Sum over ``axis`` (kept), accumulated wide and rounded to ``dtype``."""
    return _rounded(lambda x: np.sum(x, axis=axis, keepdims=True), dtype, a)


@dataclass(frozen=True)
class SoftmaxSteps:
    """Each stage of the stable softmax over the last axis, all in ``dtype``.

    ``row_max`` and ``row_sum`` keep the reduced axis (shape ``(..., 1)``).
    """

    row_max: np.ndarray   # (..., 1)   m = max_j z_j
    shifted: np.ndarray   # (..., N)   z_j - m
    exps: np.ndarray      # (..., N)   exp(z_j - m)
    row_sum: np.ndarray   # (..., 1)   sum_j exp(z_j - m)
    weights: np.ndarray   # (..., N)   exp(z_j - m) / sum


def softmax_steps(z, dtype="float32") -> SoftmaxSteps:
    """The stable (max-subtracted) softmax over the last axis, every step rounded.

    NaN and ±inf propagate as IEEE arithmetic says: a row of only ``-inf`` has
    ``m = -inf`` and ``-inf - (-inf) = NaN``, so its weights are NaN.

    >>> s = softmax_steps([[1.0, 2.0, 3.0]], "float32")
    >>> s.row_max.tolist(), s.shifted.tolist()
    ([[3.0]], [[-2.0, -1.0, 0.0]])
    """
    z = cast(z, dtype) if not (isinstance(z, np.ndarray) and z.dtype == resolve_dtype(dtype)) else z
    if z.ndim == 0:
        raise MaskAttnError(f"softmax needs at least one axis, got a scalar {z!r}")
    if z.shape[-1] == 0:
        raise MaskAttnError(f"softmax needs at least one entry per row, got shape {z.shape}")
    acc = accumulation_dtype(dtype)
    with np.errstate(invalid="ignore"):
        # np.max propagates NaN, like the frameworks' reduce_max
        row_max = np.max(z.astype(acc), axis=-1, keepdims=True).astype(z.dtype)  # (..., 1)
    shifted = subtract(z, row_max, dtype)                                   # (..., N)
    exps = exp(shifted, dtype)                                              # (..., N)
    total = row_sum(exps, dtype)                                            # (..., 1)
    weights = divide(exps, total, dtype)                                    # (..., N)
    return SoftmaxSteps(row_max, shifted, exps, total, weights)


def softmax(z, dtype="float32") -> np.ndarray:
    """Stable softmax over the last axis in ``dtype`` (see ``softmax_steps``)."""
    return softmax_steps(z, dtype).weights


def softmax_backward(weights, grad, dtype="float32") -> np.ndarray:
    """The softmax's backward pass over the last axis: ``w ⊙ (g − Σ_j w g)``, each step rounded.

    ``weights`` are the softmax's own output ``w``, ``grad`` is ``g = dL/dw``; the result is
    ``dL/dz``. A weight of exactly 0 gets a gradient of exactly 0 (0 × finite = 0); a NaN
    weight poisons its row through the sum.

    >>> softmax_backward([[0.25, 0.75, 0.0]], [[1.0, 0.0, 5.0]], "float32").tolist()
    [[0.1875, -0.1875, 0.0]]
    """
    w, g = cast(weights, dtype), cast(grad, dtype)
    total = row_sum(multiply(w, g, dtype), dtype)                           # (..., 1)
    return multiply(w, subtract(g, total, dtype), dtype)                    # (..., N)


def naive_softmax(z, dtype="float32") -> np.ndarray:
    """``exp(z) / sum(exp(z))`` without subtracting the row max: the textbook form.

    It overflows for large logits and divides 0 by 0 for very negative rows:

    >>> naive_softmax([100.0, 90.0], "float32").tolist()   # exp(100) = exp(90) = inf
    [nan, nan]
    >>> [round(float(w), 6) for w in softmax([100.0, 90.0], "float32")]
    [0.999955, 4.5e-05]
    """
    z = cast(z, dtype)
    if z.ndim == 0 or z.shape[-1] == 0:
        raise MaskAttnError(f"softmax needs at least one entry per row, got shape {z.shape}")
    exps = exp(z, dtype)
    return divide(exps, row_sum(exps, dtype), dtype)


def _bisect(predicate, lo: float, hi: float, steps: int = 200) -> float:
    """The boundary between ``predicate(lo) == True`` and ``predicate(hi) == False``."""
    assert predicate(lo) and not predicate(hi), (lo, hi)
    for _ in range(steps):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        if predicate(mid):
            lo = mid
        else:
            hi = mid
    return hi


def _exp_of_exact(d: float, dtype) -> float:
    """exp of the real number ``d`` (given in float64), rounded to ``dtype``."""
    if dtype_name(dtype) == "float64":
        return float(np.exp(np.float64(d)))
    return float(cast(np.exp(np.float64(d)), dtype).astype(np.float64))


def underflow_threshold(dtype, *, flush_subnormals: bool = False) -> float:
    """The value below which ``exp`` rounds to exactly 0 in ``dtype``.

    Found by bisection on the dtype's own rounding of ``exp``, not typed in.
    With ``flush_subnormals=True``, the point below which ``exp`` is smaller than
    the smallest normal number (hardware that flushes subnormals gives 0 there).

    >>> [round(underflow_threshold(t), 2) for t in DTYPE_NAMES]
    [-17.33, -92.88, -103.97, -745.13]
    >>> [round(underflow_threshold(t, flush_subnormals=True), 2) for t in DTYPE_NAMES]
    [-9.7, -87.34, -87.34, -708.4]
    """
    if flush_subnormals:
        tiny = float(finfo(dtype).tiny)
        return _bisect(lambda d: _exp_of_exact(d, dtype) < tiny, -2000.0, 0.0)
    return _bisect(lambda d: _exp_of_exact(d, dtype) == 0.0, -2000.0, 0.0)


def absorption_threshold(dtype) -> float:
    """The value below which ``1 + exp(d)`` rounds to exactly 1 in ``dtype``.

    A masked key with ``d`` below this adds nothing visible to a row that also
    has a key with weight ``exp(0) = 1``.

    ``exp(d)`` is rounded to ``dtype`` before the addition, as a framework
    would; in bfloat16 that moves the point from ln(2^-8) = -5.545 to -5.543.

    >>> [round(absorption_threshold(t), 2) for t in DTYPE_NAMES]
    [-7.62, -5.54, -16.64, -36.74]
    """
    one = lambda d: float(add(1.0, _exp_of_exact(d, dtype), dtype).astype(np.float64)) == 1.0
    return _bisect(one, -2000.0, 0.0)


def spacing(x, dtype) -> float:
    """The gap between ``x`` (rounded to ``dtype``) and the next number away from 0.

    This is why ``-1e9 + 3.7 == -1e9`` in float32: the numbers near 1e9 are 64 apart.

    >>> spacing(-1e9, "float32"), spacing(-1e9, "float64")
    (64.0, 1.1920928955078125e-07)
    >>> spacing(1.0, "bfloat16")
    0.0078125
    """
    info = finfo(dtype)
    arr = cast(x, dtype)
    if arr.size != 1:
        raise MaskAttnError(f"spacing takes one number, got shape {arr.shape}")
    value = float(arr.astype(np.float64).reshape(()))
    if not math.isfinite(value):
        return math.nan
    if value == 0.0:
        return float(info.smallest_subnormal)
    exponent = max(math.frexp(abs(value))[1] - 1, int(info.minexp))
    return math.ldexp(1.0, exponent - int(info.nmant))


def to_float(x) -> float:
    """A scalar of any supported dtype as a Python float (exact)."""
    return float(np.asarray(x).astype(np.float64))
