"""The mask-constant lab: every number it shows.

One query row of logits ``(Tk,)`` and its mask row ``(Tk,)`` (1 = blocked) go in;
tables (lists of records or arrays, no pandas) and sentences come out. All the
arithmetic is done by ``attention.attention_steps`` (through ``row_steps``) and
``numerics``: this module only arranges the results and names what they show.

The seed question in four lines (NUMERICS.md: logits ``[3.2, 1.0, -0.5, 2.0]``,
last two masked, float32):

>>> logits, mask = [3.2, 1.0, -0.5, 2.0], [0.0, 0.0, 1.0, 1.0]
>>> [round(float(w), 4) for w in row_steps(logits, mask, mask_value=-1.0).weights[0]]
[0.8125, 0.09, 0.0074, 0.09]
>>> [round(float(w), 4) for w in row_steps(logits, mask, mask_value=-1e9).weights[0]]
[0.9002, 0.0998, 0.0, 0.0]
>>> sweep = sweep_constants(logits, mask, constants=[-1.0, -1e9])
>>> [spell(x, digits=3) for x in sweep.at("float16").leaked]   # -1e9 is -inf in float16: 0 * -inf = NaN
['0.0975', 'NaN']
"""

from __future__ import annotations

from dataclasses import dataclass
import math
import re

import numpy as np

from . import numerics as nx
from .attention import DEFAULT_MASK_VALUE, METHODS, AttentionSteps, attention_steps, leaked_mass
from .errors import MaskAttnError
from .fully_masked import classify_row, fully_masked_reason
from .masks.basic import binary_mask
from .text import spell
from .tokens import MAX_TOKENS_PER_SEQUENCE

#: the sweep: constants -10**0 ... -10**38 on a log grid, then -inf. Every dtype's exp
#: underflows (and float16's constant overflows) within the first DENSE_DECADES decades for
#: ordinary logits, so the grid is denser there; each point costs a full attention_steps run.
SWEEP_DECADES: tuple[int, int] = (0, 38)
SWEEP_POINTS_PER_DECADE = 1
DENSE_DECADES = 4
DENSE_POINTS_PER_DECADE = 6
#: limits of the grid: 10**308 is float64's largest power of ten; 100 points a decade is plenty
MAX_DECADE = 308
MAX_POINTS_PER_DECADE = 100
#: a typed row of logits may have at most this many keys (the Playground's limit)
MAX_KEYS = MAX_TOKENS_PER_SEQUENCE
#: the default typed row and its masked keys (NUMERICS.md's leaking example)
EXAMPLE_LOGITS: tuple[float, ...] = (3.2, 1.0, -0.5, 2.0)
EXAMPLE_MASKED: tuple[int, ...] = (2, 3)
#: the naive-softmax example from NUMERICS.md: exp(100) overflows float32
NAIVE_EXAMPLE: tuple[float, ...] = (100.0, 90.0)

#: the lab's method comparison: label -> (attention method, constant or None for "the current one")
LAB_METHODS: dict[str, tuple[str, float | None]] = {
    "add": ("add", None),
    "fill": ("fill", None),
    "add −inf": ("add", -math.inf),
    "fill −inf": ("fill", -math.inf),
    "safe": ("safe", None),
    "attend_all": ("attend_all", None),
    "multiply_weights": ("multiply_weights", None),
    "zero_logits": ("zero_logits", None),
}
assert {m for m, _ in LAB_METHODS.values()} == set(METHODS)

#: the logits "survive" the constant when their differences move by less than this share of their spread
SURVIVE_TOLERANCE = 1e-3
#: decimal digits kept when a float64 number is printed (narrower dtypes print their shortest form)
_FLOAT64_DIGITS = 12
_SCI_DIGITS = 6


# --------------------------------------------------------------------------- input


def parse_logits(text, dtype="float32", *, max_keys: int = MAX_KEYS) -> np.ndarray:
    """A user-typed row of scores as a float64 array ``(Tk,)``.

    Numbers are separated by commas, semicolons or spaces; a typographic minus
    (−) is accepted. Every number must be finite and within ``dtype``'s range.

    >>> parse_logits("3.2, 1, −0.5 2e0").tolist()
    [3.2, 1.0, -0.5, 2.0]
    >>> parse_logits("1, inf")
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: score 2 is 'inf': every score must be a finite number
    >>> parse_logits("70000", "float16")
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: score 1 is 70000, outside the float16 range ±65504
    """
    if not isinstance(text, str):
        raise MaskAttnError(f"scores must be typed as text, got {type(text).__name__}")
    parts = [p for p in re.split(r"[,;\s]+", text.replace("−", "-").strip()) if p]
    if not parts:
        raise MaskAttnError(f"type at least one score, e.g. 3.2, 1.0, -0.5, 2.0; got {text[:40]!r}")
    if len(parts) > max_keys:
        raise MaskAttnError(f"at most {max_keys} scores, got {len(parts)}")
    dtype = _dtype(dtype)
    limit = float(nx.finfo(dtype).max)
    values = []
    for i, part in enumerate(parts, start=1):
        try:
            value = float(part)
        except ValueError:
            raise MaskAttnError(f"score {i} is {part[:20]!r}, not a number") from None
        if not math.isfinite(value):
            raise MaskAttnError(f"score {i} is {part[:20]!r}: every score must be a finite number")
        if abs(value) > limit:
            raise MaskAttnError(f"score {i} is {part[:20]}, outside the {dtype} range ±{spell(limit, digits=6)}")
        values.append(value)
    return np.array(values, dtype=np.float64)                       # (Tk,)


def row_mask(n_keys: int, masked) -> np.ndarray:
    """A mask row ``(Tk,)`` float32 with 1.0 at the ``masked`` key positions.

    >>> row_mask(4, [2, 3]).tolist()
    [0.0, 0.0, 1.0, 1.0]
    >>> row_mask(2, [5])
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: masked key 5 does not exist: the row has keys 0 to 1
    """
    mask = np.zeros(int(n_keys), dtype=np.float32)                  # (Tk,)
    for j in masked:
        if not isinstance(j, (int, np.integer)) or not 0 <= j < n_keys:
            raise MaskAttnError(f"masked key {j!r} does not exist: the row has keys 0 to {n_keys - 1}")
        mask[j] = 1.0
    return mask


def _numbers(values, name: str) -> np.ndarray:
    """``values`` as a float64 array, or MaskAttnError naming ``name`` (ragged lists, text, objects)."""
    try:
        array = np.asarray(values)
        if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool
                                          or array.dtype.kind == "V"):
            raise TypeError
        return array.astype(np.float64)
    except (TypeError, ValueError, OverflowError):
        raise MaskAttnError(f"{name} must be numbers, got {str(values)[:60]!r}") from None


def _row(logits, name: str = "logits") -> np.ndarray:
    """One non-empty row ``(Tk,)`` of finite numbers (NaN and ±inf refused: they are results, not inputs)."""
    x = _numbers(logits, name)
    if x.ndim != 1 or x.size == 0:
        raise MaskAttnError(f"{name} must be one row (Tk,), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise MaskAttnError(f"{name} must be finite, got {x[~np.isfinite(x)][0]!r}")
    return x


def _dtype(dtype) -> str:
    """A dtype name from ``numerics.DTYPE_NAMES``; anything else is MaskAttnError.

    ``np.dtype`` raises ValueError, TypeError or even SyntaxError on odd strings ('01', '0{').
    """
    try:
        return nx.dtype_name(dtype)
    except MaskAttnError:
        raise
    except (TypeError, ValueError, SyntaxError):
        raise MaskAttnError(f"dtype must be one of {', '.join(nx.DTYPE_NAMES)}, got {str(dtype)[:20]!r}") from None


def _dtypes(dtypes) -> list[str]:
    if isinstance(dtypes, str) or not hasattr(dtypes, "__iter__"):
        raise MaskAttnError(f"dtypes must be a list of names from {', '.join(nx.DTYPE_NAMES)}, got {dtypes!r}")
    names = [_dtype(d) for d in dtypes]
    if not names:
        raise MaskAttnError("dtypes must name at least one dtype")
    return names


def _constant(constant) -> float:
    """A mask constant as a float (``-inf`` allowed, NaN and non-numbers refused)."""
    try:
        c = float(constant)
    except (TypeError, ValueError, OverflowError):
        raise MaskAttnError(f"the constant must be a number, got {str(constant)[:40]!r}") from None
    if math.isnan(c):
        raise MaskAttnError(f"the constant must be a number, got {constant!r}")
    return c


def _row_inputs(logits, mask) -> tuple[np.ndarray, np.ndarray]:
    x = _row(logits)
    m = binary_mask(_numbers(mask, "mask"), "mask")
    if m.shape != x.shape:
        raise MaskAttnError(f"mask row {m.shape} must match the logits {x.shape}")
    return x, m


# --------------------------------------------------------------------------- one row


def row_steps(logits, mask, *, mask_value=DEFAULT_MASK_VALUE, dtype="float32", method="add") -> AttentionSteps:
    """``attention_steps`` for a row of logits you already have: ``(Tk,)`` -> steps of shape ``(1, Tk)``.

    With ``q = [[1]]``, ``k = logits`` as a column and no √d scaling, ``q·kᵀ`` is
    exactly the logits rounded to ``dtype``; everything after (mask, softmax)
    is the library's own code.

    >>> s = row_steps([1.0, 2.0, 3.0], [0.0, 0.0, 1.0])
    >>> s.logits.tolist(), [round(float(w), 5) for w in s.weights[0]]
    ([[1.0, 2.0, 3.0]], [0.26894, 0.73106, 0.0])
    """
    x, m = _row_inputs(logits, mask)
    return _row_steps(x, m, mask_value, _dtype(dtype), method)


def _row_steps(x: np.ndarray, m: np.ndarray, mask_value, dtype, method) -> AttentionSteps:
    """``row_steps`` on inputs already checked by ``_row_inputs``."""
    q = np.ones((1, 1))                                             # (Tq=1, d=1)
    k = x[:, None]                                                  # (Tk, d=1)
    v = np.zeros((x.size, 1))                                       # (Tk, dv=1)
    return attention_steps(q, k, v, m[None, :], mask_value=mask_value, dtype=dtype, method=method,
                           scale=False)


# --------------------------------------------------------------------------- the sweep


def constant_grid(decades: tuple[int, int] = SWEEP_DECADES, per_decade: int = SWEEP_POINTS_PER_DECADE,
                  *, dense_decades: int = DENSE_DECADES, dense_per_decade: int = DENSE_POINTS_PER_DECADE,
                  include_inf: bool = True) -> np.ndarray:
    """Constants ``-10**a`` for ``a`` from ``decades[0]`` to ``decades[1]`` on a log grid, then ``-inf``.

    The first ``dense_decades`` decades get ``dense_per_decade`` points each, the rest ``per_decade``.

    >>> [spell(c, digits=3) for c in constant_grid((0, 2), 2, dense_decades=0)]
    ['-1', '-3.16', '-10', '-31.6', '-100', '-inf']
    >>> g = constant_grid()
    >>> g.size, spell(g[1], digits=3), spell(g[-2], digits=6), spell(g[-1], digits=6)
    (60, '-1.47', '-1e38', '-inf')
    """
    try:
        lo, hi = (int(d) for d in decades)
    except (TypeError, ValueError):
        raise MaskAttnError(f"decades must be two whole numbers (lo, hi), got {decades!r}") from None
    if not 0 <= lo < hi <= MAX_DECADE:
        raise MaskAttnError(f"decades must satisfy 0 <= lo < hi <= {MAX_DECADE}, got {decades!r}")
    for name, n in (("per_decade", per_decade), ("dense_per_decade", dense_per_decade)):
        if not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_POINTS_PER_DECADE:
            raise MaskAttnError(f"{name} must be a whole number from 1 to {MAX_POINTS_PER_DECADE}, got {n!r}")
    if not isinstance(dense_decades, (int, np.integer)) or dense_decades < 0:
        raise MaskAttnError(f"dense_decades must be a whole number >= 0, got {dense_decades!r}")
    split = min(lo + dense_decades, hi)
    dense = np.linspace(lo, split, (split - lo) * dense_per_decade + 1)          # (N1,)
    sparse = np.linspace(split, hi, (hi - split) * per_decade + 1)[1:]          # (N2,)
    grid = -(10.0 ** np.concatenate([dense, sparse]))
    return np.append(grid, -math.inf) if include_inf else grid


@dataclass(frozen=True)
class ConstantSweep:
    """Leaked mass for one row, tidy: one entry per (dtype, constant), all arrays ``(N,)``."""

    dtype: np.ndarray          # (N,) str
    constant: np.ndarray       # (N,) float64, the constant as given
    cast_constant: np.ndarray  # (N,) float64, the constant rounded to dtype (may be -inf)
    leaked: np.ndarray         # (N,) float64 total weight on masked keys; NaN where the row is NaN
    method: str

    @property
    def is_nan(self) -> np.ndarray:
        return np.isnan(self.leaked)

    @property
    def is_zero(self) -> np.ndarray:
        return self.leaked == 0.0

    def at(self, dtype) -> "ConstantSweep":
        """The entries of one dtype, in constant order."""
        keep = self.dtype == _dtype(dtype)
        return ConstantSweep(self.dtype[keep], self.constant[keep], self.cast_constant[keep],
                             self.leaked[keep], self.method)

    def records(self) -> list[dict]:
        """One dict per entry (for a table or a CSV)."""
        return [{"dtype": str(d), "constant": float(c), "constant in dtype": float(cc),
                 "leaked mass": float(lk), "NaN": bool(math.isnan(lk)), "exactly 0": bool(lk == 0.0)}
                for d, c, cc, lk in zip(self.dtype, self.constant, self.cast_constant, self.leaked)]


def sweep_constants(logits, mask, *, method: str = "add", constants=None,
                    dtypes=nx.DTYPE_NAMES) -> ConstantSweep:
    """Leaked mass of one row for every constant in ``constants`` (default ``constant_grid()``) and dtype.

    Each point is a full ``attention_steps`` run. Constants that round to the
    same value in a dtype give the same result, so each distinct rounded value
    is computed once (in float16 everything beyond 65504 is one run of -inf).

    >>> s = sweep_constants([3.2, 1.0, -0.5, 2.0], [0, 0, 1, 1], constants=[-1.0, -1e4, -1e9])
    >>> [spell(x, digits=3) for x in s.at("float32").leaked]
    ['0.0974', '0', '0']
    """
    x, m = _row_inputs(logits, mask)
    constants = constant_grid() if constants is None else _numbers(constants, "constants")
    if constants.ndim != 1 or np.isnan(constants).any():
        raise MaskAttnError(f"constants must be a 1-D list of numbers (no NaN), got {constants!r}")
    names, given, rounded, leaked = [], [], [], []
    for dtype in _dtypes(dtypes):
        cast = nx.cast(constants, dtype).astype(np.float64)           # (N,)
        distinct, where = np.unique(cast, return_inverse=True)
        weights = np.concatenate([_row_steps(x, m, c, dtype, method).weights
                                  for c in distinct])                 # (distinct, Tk)
        per_value = leaked_mass(weights, m)                           # (distinct,)
        names += [dtype] * constants.size
        given.append(constants)
        rounded.append(cast)
        leaked.append(per_value[where.ravel()])
    return ConstantSweep(np.array(names), np.concatenate(given), np.concatenate(rounded),
                         np.concatenate(leaked), method)


def underflow_constant(logits, mask, dtype) -> float:
    """About where the leaked mass reaches exactly 0: the constant ``c`` with ``x_j + c - m = underflow``.

    ``m`` is the largest unmasked logit and ``x_j`` the largest masked one, so every
    masked key's exponent is below ``underflow_threshold(dtype)`` once ``c`` is below this.
    Rounding may move the true point a little; NaN when no key (or every key) is masked.

    >>> round(underflow_constant([3.2, 1.0, -0.5, 2.0], [0, 0, 1, 1], "float32"), 2)
    -102.77
    """
    x, m = _row_inputs(logits, mask)
    if not (m == 1).any() or (m == 1).all():
        return math.nan
    return nx.underflow_threshold(_dtype(dtype)) + float(x[m == 0].max()) - float(x[m == 1].max())


def overflow_constant(dtype) -> float:
    """The most negative constant that still fits in ``dtype`` (``-finfo.max``); beyond it the cast gives -inf.

    >>> overflow_constant("float16")
    -65504.0
    """
    return -float(nx.finfo(_dtype(dtype)).max)


# --------------------------------------------------------------------------- facts per dtype


def constant_facts(constant, logits, dtypes=nx.DTYPE_NAMES) -> list[dict]:
    """What happens to ``constant`` in each dtype, computed (one record per dtype).

    Keys: ``dtype``, ``constant in dtype``, ``0 × constant``, ``exp underflows below``,
    ``spacing at constant``, ``largest change in a difference`` (how far rounding moved
    any ``x_j - x_max`` once the constant was added), ``logits survive`` (that change
    is below ``SURVIVE_TOLERANCE`` of the logits' spread, and nothing became ±inf).

    >>> f = {r["dtype"]: r for r in constant_facts(-1e9, [1.0, 2.0, 3.0])}
    >>> f["float16"]["constant in dtype"], f["float16"]["0 × constant"]
    (-inf, nan)
    >>> f["float32"]["spacing at constant"], f["float32"]["largest change in a difference"]
    (64.0, 2.0)
    >>> f["float32"]["logits survive"], f["float64"]["logits survive"]
    (False, True)
    """
    c = _constant(constant)
    x = _row(logits)
    records = []
    for dtype in _dtypes(dtypes):
        cast = nx.cast(c, dtype)
        error = difference_error(x, c, dtype)
        records.append({
            "dtype": dtype,
            "constant in dtype": nx.to_float(cast),
            "0 × constant": nx.to_float(nx.multiply(0.0, cast, dtype)),
            "exp underflows below": nx.underflow_threshold(dtype),
            "spacing at constant": nx.spacing(c, dtype),
            "largest change in a difference": error,
            "logits survive": logits_survive(x, c, dtype),
        })
    return records


def difference_error(logits, constant, dtype) -> float:
    """How far adding ``constant`` in ``dtype`` moves the logits' differences ``x_j - x_max`` (max over j).

    Softmax only sees differences, so this is what the constant costs a row with
    every key masked. NaN when a sum is not finite.

    >>> round(difference_error([0.0, 57.735], -1e9, "float32"), 3)   # 57.735 rounds to 64 near -1e9
    6.265
    >>> difference_error([0.0, 57.735], -1e9, "float64") < 1e-6
    True
    """
    dtype = _dtype(dtype)
    x = nx.cast(_row(logits), dtype)                                 # (Tk,)
    shifted = nx.add(x, nx.cast(_constant(constant), dtype), dtype).astype(np.float64)
    x = x.astype(np.float64)
    if not np.isfinite(shifted).all():
        return math.nan
    top = int(np.argmax(x))
    return float(np.max(np.abs((shifted - shifted[top]) - (x - x[top]))))


def logits_survive(logits, constant, dtype) -> bool:
    """True when the row's differences survive being added to ``constant`` (see ``difference_error``).

    >>> logits_survive([1.0, 2.0, 3.0], -1e9, "float32"), logits_survive([1.0, 2.0, 3.0], -1e9, "float64")
    (False, True)
    """
    x = _row(logits)
    error = difference_error(x, constant, dtype)
    spread = float(x.max() - x.min())
    return bool(error <= SURVIVE_TOLERANCE * max(spread, 1.0))


# --------------------------------------------------------------------------- methods


@dataclass(frozen=True)
class MethodOutcome:
    """One masking method applied to the lab's row."""

    label: str                 # a key of LAB_METHODS
    method: str                # the attention method
    constant: float            # the constant after rounding to dtype
    weights: np.ndarray        # (Tk,) in dtype
    row_sum: float             # exact float64 sum of the weights
    leaked: float              # weight on masked keys (NaN when the row is NaN)
    has_nan: bool
    verdict: str               # one line, plain text


def _method_verdict(label: str, method: str, steps: AttentionSteps, mask: np.ndarray, leaked: float,
                    row_sum: float) -> str:
    dtype, constant = steps.dtype, steps.mask_value
    blocked = mask == 1
    if math.isnan(leaked):
        if method == "add" and np.isnan(steps.mask_term.astype(np.float64)).any():
            return (f"NaN: the constant is {spell(constant, digits=6)} in {dtype}, and every unmasked key computes "
                    f"0 × {spell(constant, digits=6)} = NaN, which poisons the whole row.")
        if blocked.all() and constant == -math.inf:
            return "NaN: every score is -inf, so the row max is -inf and -inf - (-inf) = NaN."
        return "NaN: a NaN reached the scores."
    if not blocked.any():
        return "nothing is masked in this row: every method gives the plain softmax."
    if method == "multiply_weights":
        return (f"wrong: masked keys get 0, but the row now sums to {spell(row_sum, digits=4)}, not 1 "
                "(the weights were normalised before the mask removed some).")
    if method == "safe" and blocked.all():
        return "zeros: with every key masked there is nothing to attend to, so the safe softmax returns 0."
    if method == "zero_logits":
        if leaked > 0:
            return (f"wrong: masked logits set to 0 still get exp(0 - max) > 0, so {spell(leaked, digits=3)} of the "
                    "weight lands on masked keys.")
        return "masked logits set to 0 happen to get no weight here, but exp(0 - max) is not 0 in general."
    if blocked.all():
        return f"every key is masked; the row comes out {classify_row(steps.weights[0])} (see the table below)."
    if leaked > 0:
        return (f"leaks {spell(leaked, digits=3)} of the weight onto masked keys: {spell(constant, digits=6)} is not negative enough "
                f"to push exp below {dtype}'s underflow point {nx.underflow_threshold(dtype):.2f}.")
    return "correct: masked keys get exactly 0 and the rest is the softmax of the unmasked keys."


def compare_methods(logits, mask, *, mask_value=DEFAULT_MASK_VALUE, dtype="float32") -> list[MethodOutcome]:
    """Every entry of ``LAB_METHODS`` applied to one row, with a one-line verdict each.

    >>> out = {o.label: o for o in compare_methods([3.2, 1.0, -0.5, 2.0], [0, 0, 1, 1])}
    >>> out["add"].verdict
    'correct: masked keys get exactly 0 and the rest is the softmax of the unmasked keys.'
    >>> out["add −inf"].has_nan, round(out["multiply_weights"].row_sum, 4)
    (True, 0.7732)
    """
    dtype = _dtype(dtype)
    x, m = _row_inputs(logits, mask)
    outcomes = []
    for label, (method, fixed) in LAB_METHODS.items():
        constant = mask_value if fixed is None else fixed
        steps = row_steps(x, m, mask_value=constant, dtype=dtype, method=method)
        w = steps.weights[0]                                        # (Tk,)
        wide = w.astype(np.float64)
        leaked = float(leaked_mass(w, m))
        row_sum = float(wide.sum())
        outcomes.append(MethodOutcome(label, method, steps.mask_value, w, row_sum, leaked,
                                      bool(np.isnan(wide).any()),
                                      _method_verdict(label, method, steps, m, leaked, row_sum)))
    return outcomes


# --------------------------------------------------------------------------- fully masked rows


def fully_masked_table(logits, *, mask_value=DEFAULT_MASK_VALUE, dtypes=nx.DTYPE_NAMES,
                       methods=tuple(LAB_METHODS)) -> list[dict]:
    """The row with **every** key masked, for each of ``methods`` (labels of ``LAB_METHODS``) and each dtype.

    Records: ``method``, ``dtype``, ``result`` (one of ``fully_masked.ROW_KINDS``),
    ``weights`` (float64 array), ``reason`` (one sentence).

    >>> t = fully_masked_table([0.0, 57.735, 0.0, 0.0])     # the tutorial's q=[0,10,0]
    >>> {(r["method"], r["dtype"]): r["result"] for r in t if r["method"] == "add"}
    {('add', 'float16'): 'NaN', ('add', 'bfloat16'): 'uniform', ('add', 'float32'): 'near one-hot', ('add', 'float64'): 'unmasked softmax'}
    >>> fully_masked_table([1.0, 2.0], methods=("fill",), dtypes=("float32",))[0]["result"]
    'uniform'
    """
    x = _row(logits)
    if isinstance(methods, str) or not all(isinstance(m, str) and m in LAB_METHODS for m in methods):
        raise MaskAttnError(f"methods must be labels of {', '.join(LAB_METHODS)}, got {methods!r:.80}")
    everything = np.ones(x.shape, dtype=np.float32)                 # (Tk,)
    dtypes = _dtypes(dtypes)
    plain = {dtype: row_steps(x, np.zeros(x.shape), dtype=dtype, method="fill").weights[0]   # no 0 × −inf
             for dtype in dtypes}
    records = []
    for label in methods:
        method, fixed = LAB_METHODS[label]
        constant = mask_value if fixed is None else fixed
        for dtype in dtypes:
            steps = row_steps(x, everything, mask_value=constant, dtype=dtype, method=method)
            w = steps.weights[0].astype(np.float64)
            # "the unmasked softmax" only when the logits really survived the constant;
            # otherwise a near one-hot row that merely looks like it is named for what it is
            kept = method in ("add",) and logits_survive(x, steps.mask_value, dtype)
            kind = classify_row(w, plain[dtype] if kept or method != "add" else None)
            records.append({"method": label, "dtype": dtype, "result": kind, "weights": w,
                            "reason": fully_masked_reason(kind, method, dtype, steps.mask_value)})
    return records


# --------------------------------------------------------------------------- naive vs stable


def naive_vs_stable(logits, dtype="float32") -> list[dict]:
    """Per key: the naive ``exp(z)`` and weight next to the stable ``exp(z - m)`` and weight.

    >>> rows = naive_vs_stable([100.0, 90.0], "float32")
    >>> [(r["exp(z)"], r["naive weight"]) for r in rows]
    [(inf, nan), (inf, nan)]
    >>> [round(r["stable weight"], 5) for r in rows]
    [0.99995, 5e-05]
    """
    dtype = _dtype(dtype)
    z = nx.cast(_row(logits), dtype)                                 # (Tk,)
    naive = nx.naive_softmax(z, dtype)                              # (Tk,)
    naive_exps = nx.exp(z, dtype)                                   # (Tk,) what the naive form divides
    stable = nx.softmax_steps(z, dtype)
    return [{"z": nx.to_float(z[j]), "exp(z)": nx.to_float(naive_exps[j]), "naive weight": nx.to_float(naive[j]),
             "z - m": nx.to_float(stable.shifted[j]), "exp(z - m)": nx.to_float(stable.exps[j]),
             "stable weight": nx.to_float(stable.weights[j])} for j in range(z.size)]


def exp_overflow_point(dtype) -> float:
    """About where ``exp`` overflows ``dtype`` (``ln(finfo.max)``): the naive softmax's limit.

    >>> [round(exp_overflow_point(t), 2) for t in nx.DTYPE_NAMES]
    [11.09, 88.72, 88.72, 709.78]
    """
    return math.log(float(nx.finfo(_dtype(dtype)).max))


# --------------------------------------------------------------------------- sentences


def lab_summary(sweep: ConstantSweep, current: ConstantSweep, logits, mask) -> list[str]:
    """Sentences about the sweep, with the row's own numbers (plain text)."""
    x, m = _row_inputs(logits, mask)
    out = []
    if not (m == 1).any():
        return ["No key of this row is masked, so nothing can leak: pick masked keys to see the constant matter."]
    if (m == 1).all():
        out.append("Every key of this row is masked: the leaked mass is the whole row (or NaN) for any "
                   "constant. See the fully masked table below.")
        return out
    method = sweep.method
    for dtype in nx.DTYPE_NAMES:
        here = current.at(dtype)
        if not here.leaked.size:
            continue
        c, cc, lk = here.constant[0], here.cast_constant[0], here.leaked[0]
        if math.isnan(lk):
            why = (f"{spell(c, digits=6)} becomes {spell(cc, digits=6)} and 0 × {spell(cc, digits=6)} = NaN on the unmasked keys"
                   if method == "add" and math.isinf(cc) else "a NaN reaches the scores")
            out.append(f"{dtype}: NaN at the constant {spell(c, digits=6)}, because {why}.")
        elif lk == 0:
            out.append(f"{dtype}: exactly 0 at {spell(c, digits=6)}: every masked exponent is below "
                       f"{nx.underflow_threshold(dtype):.2f}.")
        else:
            out.append(f"{dtype}: {spell(lk, digits=3)} of the weight leaks at {spell(c, digits=6)}.")
    f32 = sweep.at("float32")
    finite = np.isfinite(f32.constant)
    zero = f32.constant[(f32.leaked == 0) & finite]
    leaking = f32.constant[(f32.leaked > 0) & finite]
    if method in ("add", "fill") and zero.size and leaking.size:
        out.append(f"In float32 the leak reaches exactly 0 between {spell(leaking.min(), digits=3)} and {spell(zero.max(), digits=3)} "
                   f"on this grid; from the row's own numbers, at about {spell(underflow_constant(x, m, 'float32'), digits=4)} "
                   f"({nx.underflow_threshold('float32'):.2f} plus its largest unmasked logit minus its largest "
                   "masked one).")
    f16 = sweep.at("float16")
    nan16 = f16.constant[f16.is_nan & np.isfinite(f16.constant)]
    if nan16.size:
        out.append(f"In float16 every constant beyond {spell(overflow_constant('float16'), digits=6)} becomes -inf"
                   + (": with method add, 0 × -inf = NaN." if method == "add" else "."))
    return out
