"""Additive attention biases: a number added to each score before softmax; a mask is the bias −∞.

``attention_steps(..., bias=...)`` adds a ``(..., Tq, Tk)`` bias to the scaled logits before
the mask term. Where the bias is −inf the key gets weight exactly 0 — the bias *is* a mask
there; a finite bias only tilts the weights. Two position biases are built here:

- **ALiBi** (Press et al., "Train Short, Test Long", 2022): head ``h`` of ``H`` adds
  ``−m_h · (i − j)`` with the geometric slopes ``m_h`` of the paper's ``get_slopes``;
  ``symmetric=True`` adds ``−m_h · |i − j|`` (the encoder form).
- **T5 relative-position buckets** (Raffel et al., 2020): the offset ``j − i`` falls in one of
  ``num_buckets`` buckets (exact for small offsets, logarithmic up to ``max_distance``), and each
  bucket has one learned number per head. No model is loaded here, so a **fixed stand-in table**
  is used and said to be one: bucket ``b`` gets ``−m_h ×`` its rank in distance (0 for the
  nearest), ``m_h`` the ALiBi slopes.

>>> alibi_slopes(4).tolist()
[0.25, 0.0625, 0.015625, 0.00390625]
>>> alibi_bias(3, 1)[0].tolist()                      # one head: slope 2^-8
[[0.0, 0.00390625, 0.0078125], [-0.00390625, 0.0, 0.00390625], [-0.0078125, -0.00390625, 0.0]]
>>> t5_relative_position_bucket(np.array([-1, 0, 1, 20]), bidirectional=True).tolist()
[1, 0, 17, 26]
"""

from __future__ import annotations

from dataclasses import dataclass
import math
import re

import numpy as np

from .attention import attention_steps
from .errors import MaskAttnError
from .masks.basic import check_int
from .numerics import DTYPE_NAMES, to_float
from .text import spell, spell_signed, spell_weight
from .masks.patterns import segment_id_array

#: the position biases the app offers: name -> how it is made, for menus and captions
BIAS_KINDS: dict[str, str] = {
    "off": "no bias",
    "alibi": "ALiBi, causal form: −m·(i − j) (BLOOM, MPT: m·j per key, the same softmax)",
    "alibi_symmetric": "ALiBi, symmetric: −m·|i − j| (encoders)",
    "t5": "T5 buckets, bidirectional (encoder), fixed stand-in table",
    "t5_causal": "T5 buckets, causal (decoder), fixed stand-in table",
    "typed": "a bias matrix you type: any numbers, −inf masks its cell",
}
#: a typed bias matrix has at most this many rows (as many as a drawn mask)
MAX_TYPED_BIAS = 64
#: the same kinds in a word or two (menus, subtitles, verdicts)
BIAS_NAMES: dict[str, str] = {"off": "no bias", "alibi": "ALiBi", "alibi_symmetric": "ALiBi (symmetric)",
                              "t5": "T5 buckets", "t5_causal": "T5 buckets (causal)", "typed": "typed"}
assert set(BIAS_NAMES) == set(BIAS_KINDS)
#: heads the app's biases have (ALiBi's slopes depend on it)
BIAS_HEADS = 8
#: T5's defaults (t5-small … t5-11b): 32 buckets, offsets up to 128 told apart
T5_NUM_BUCKETS, T5_MAX_DISTANCE = 32, 128


def alibi_slopes(n_heads: int) -> np.ndarray:
    """ALiBi's per-head slopes, ``(H,)`` float64: Press et al.'s ``get_slopes``.

    For a power of two, the geometric sequence starting at ``2^(−8/H)`` with that ratio; otherwise
    the slopes of the nearest lower power of two, then every other slope of the next one.

    >>> alibi_slopes(8)[[0, -1]].tolist()
    [0.5, 0.00390625]
    >>> len(alibi_slopes(12)), round(float(alibi_slopes(12)[8]), 6)
    (12, 0.707107)
    """
    n_heads = check_int(n_heads, "n_heads", 1)

    def power_of_2(n: int) -> list[float]:
        start = 2.0 ** (-(2.0 ** -(math.log2(n) - 3)))
        return [start * start ** i for i in range(n)]

    if math.log2(n_heads).is_integer():
        return np.array(power_of_2(n_heads))
    closest = 2 ** math.floor(math.log2(n_heads))
    return np.array(power_of_2(closest) + alibi_slopes(2 * closest)[0::2][:n_heads - closest].tolist())


def _offsets(size: int) -> np.ndarray:
    pos = np.arange(check_int(size, "size", 1))
    return pos[np.newaxis, :] - pos[:, np.newaxis]                  # (Tq, Tk) j − i: the key's offset


def alibi_bias(size: int, n_heads: int = BIAS_HEADS, *, symmetric: bool = False) -> np.ndarray:
    """ALiBi for ``size`` positions: ``(H, T, T)`` float64, ``−m_h · (i − j)`` (or ``−m_h · |i − j|``).

    The causal form leaves future keys a *positive* bias; a causal mask blocks them anyway (and
    BLOOM's ``m · j`` per key differs from it by one number per row, which softmax ignores).

    >>> alibi_bias(2, 2, symmetric=True)[1].tolist()
    [[0.0, -0.00390625], [-0.00390625, 0.0]]
    """
    offsets = _offsets(size)                                        # (T, T)
    distance = -np.abs(offsets) if symmetric else offsets
    return 0.0 + alibi_slopes(n_heads)[:, np.newaxis, np.newaxis] * distance[np.newaxis]   # (H, T, T), no −0


def t5_relative_position_bucket(relative_position, *, bidirectional: bool = True, num_buckets: int = T5_NUM_BUCKETS,
                                max_distance: int = T5_MAX_DISTANCE) -> np.ndarray:
    """T5's bucket of each offset ``key − query``: Mesh TensorFlow's ``_relative_position_bucket``.

    Bidirectional: half the buckets for keys after the query. Half of each side's buckets are exact
    (offsets 0 … 7 of 16); the rest grow logarithmically up to ``max_distance``, past which all share the last.

    >>> t5_relative_position_bucket(np.array([-3, -200, 5]), bidirectional=False).tolist()
    [3, 31, 0]
    """
    rel = segment_id_array(relative_position, "relative_position")                   # whole numbers, checked
    num_buckets = check_int(num_buckets, "num_buckets", 2)
    max_distance = check_int(max_distance, "max_distance", 1)
    bucket = np.zeros(rel.shape, dtype=np.int64)
    if bidirectional:
        num_buckets //= 2
        bucket += (rel > 0).astype(np.int64) * num_buckets
        n = np.abs(rel)
    else:
        n = -np.minimum(rel, 0)
    max_exact = num_buckets // 2
    with np.errstate(divide="ignore"):
        large = max_exact + (np.log(np.maximum(n, 1) / max_exact) / math.log(max_distance / max_exact)
                             * (num_buckets - max_exact)).astype(np.int64)
    large = np.minimum(large, num_buckets - 1)
    return bucket + np.where(n < max_exact, n, large)


def t5_stand_in_table(n_heads: int = BIAS_HEADS, *, bidirectional: bool = True,
                      num_buckets: int = T5_NUM_BUCKETS) -> np.ndarray:
    """The fixed table that stands in for T5's learned one: ``(num_buckets, H)``, bucket ``b`` of head ``h``
    is ``−m_h × rank(b)`` (its distance rank on its side), ``m_h`` the ALiBi slopes.

    >>> t5_stand_in_table(2, num_buckets=4)[:, 0].tolist()    # buckets 0, 1 (before), 2, 3 (after)
    [0.0, -0.0625, 0.0, -0.0625]
    """
    side = num_buckets // 2 if bidirectional else num_buckets
    rank = np.arange(num_buckets) % side                            # (num_buckets,)
    return 0.0 - rank[:, np.newaxis] * alibi_slopes(n_heads)[np.newaxis, :]          # 0.0 - : no −0


def t5_bias(size: int, n_heads: int = BIAS_HEADS, *, bidirectional: bool = True, table=None) -> np.ndarray:
    """T5's relative position bias for ``size`` positions: ``(H, T, T)`` float64, ``table[bucket(j − i), h]``.

    ``table``: ``(num_buckets, H)`` (a model's learned ``relative_attention_bias.weight``); by default the
    stand-in of ``t5_stand_in_table``.

    >>> t5_bias(3, 1, table=np.arange(32.0)[:, None])[0].tolist()
    [[0.0, 17.0, 18.0], [1.0, 0.0, 17.0], [2.0, 1.0, 0.0]]
    """
    if table is None:
        table = t5_stand_in_table(n_heads, bidirectional=bidirectional)
    table = np.asarray(table, dtype=np.float64)
    if table.ndim != 2 or table.shape[1] != n_heads:
        raise MaskAttnError(f"table must have shape (num_buckets, {n_heads}), got shape {table.shape}")
    buckets = t5_relative_position_bucket(_offsets(size), bidirectional=bidirectional,
                                          num_buckets=table.shape[0])                # (T, T)
    return np.moveaxis(table[buckets], -1, 0)                                        # (H, T, T)


def position_bias(kind: str, size: int, head: int = 1, n_heads: int = BIAS_HEADS) -> np.ndarray | None:
    """The app's bias ``kind`` (a key of ``BIAS_KINDS``) for one head (1-based), ``(T, T)`` float64; None when off.

    >>> position_bias("alibi", 2, head=1).tolist()
    [[0.0, 0.5], [-0.5, 0.0]]
    >>> position_bias("rope", 2)
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: bias must be one of off, alibi, alibi_symmetric, t5, t5_causal, typed, got 'rope'
    """
    if kind not in BIAS_KINDS:
        raise MaskAttnError(f"bias must be one of {', '.join(BIAS_KINDS)}, got {kind!r}")
    head = check_int(head, "head", 1, n_heads) - 1
    if kind == "off":
        return None
    if kind == "typed":
        raise MaskAttnError("a typed bias is its own matrix: parse it with parse_bias_matrix")
    if kind.startswith("alibi"):
        return alibi_bias(size, n_heads, symmetric=kind == "alibi_symmetric")[head]
    return t5_bias(size, n_heads, bidirectional=kind == "t5")[head]


def parse_bias_matrix(text: str) -> np.ndarray:
    """A typed bias: rows on lines (or split by ``;``), numbers split by spaces or commas; ``-inf`` (or ``−inf``)
    masks its cell. Square, at most ``MAX_TYPED_BIAS`` rows; NaN and +inf are refused. ``(T, T)`` float64.

    >>> parse_bias_matrix("0 -1; -inf, 0").tolist()
    [[0.0, -1.0], [-inf, 0.0]]
    >>> parse_bias_matrix("0 1; 2")
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: a bias matrix must be square: row 2 has 1 number, row 1 has 2
    """
    rows = [row for row in re.split(r"[;\n]+", str(text).replace("−", "-").strip()) if row.strip()]
    if not rows:
        raise MaskAttnError("type a bias matrix: one row per query, numbers split by spaces, such as 0 -1; -inf 0")
    if len(rows) > MAX_TYPED_BIAS:
        raise MaskAttnError(f"a bias matrix has at most {MAX_TYPED_BIAS} rows, got {len(rows)}")
    values = []
    for i, row in enumerate(rows, 1):
        items = [item for item in re.split(r"[,\s]+", row.strip().strip("[]")) if item]
        try:
            numbers = [float(item) for item in items]
        except ValueError:
            bad = next(item for item in items if not _is_number(item))
            raise MaskAttnError(f"row {i} of the bias matrix: {bad[:20]!r} is not a number (write -inf to mask "
                                "a cell)") from None
        if any(math.isnan(x) for x in numbers):
            raise MaskAttnError(f"row {i} of the bias matrix holds NaN: write a number, or -inf to mask the cell")
        if any(x == math.inf for x in numbers):
            raise MaskAttnError(f"row {i} of the bias matrix holds +inf: softmax would give NaN (inf − inf); "
                                "write -inf to mask a cell")
        values.append(numbers)
    for i, row in enumerate(values, 1):
        if len(row) != len(values):
            raise MaskAttnError(f"a bias matrix must be square: row {i} has {len(row)} number"
                                f"{'s' * (len(row) != 1)}, row 1 has {len(values[0])}"
                                if len(row) != len(values[0]) else
                                f"a bias matrix must be square: {len(values)} rows of {len(row)} numbers")
    return np.array(values, dtype=np.float64)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def compact_bias(bias) -> str:
    """A bias matrix as short URL text: numbers split by ``,``, rows by ``;`` (``parse_bias_matrix`` reads it).

    >>> compact_bias([[0.0, -1.5], [-np.inf, 0.0]])
    '0,-1.5;-inf,0'
    """
    def number(x: float) -> str:
        return "-inf" if x == -math.inf else np.format_float_positional(x, trim="-") if abs(x) < 1e6 else repr(x)
    return ";".join(",".join(number(float(x)) for x in row) for row in np.asarray(bias, dtype=np.float64))


# ------------------------------------------------------------------------------------------------
# a mask is a bias of −∞: one key's bias from 0 down to −inf, in every dtype
# ------------------------------------------------------------------------------------------------

#: the slider's stops on one key's bias, from a soft tilt to a hard mask
BIAS_STEPS: tuple[float, ...] = (0.0, -1.0, -3.0, -10.0, -30.0, -100.0, -1e4, -1e9, -math.inf)


@dataclass(frozen=True)
class BiasLimit:
    """One row of logits with one key's bias swept down ``steps``, in each dtype.

    ``weight[d, s]`` is the weight the key keeps (float64 of the dtype's value, NaN when the row is
    NaN), ``held[d, s]`` the bias as the dtype holds it, ``row[d, s]`` the whole row of weights.
    """

    logits: np.ndarray          # (Tk,) float64
    key: int
    steps: tuple[float, ...]
    dtypes: tuple[str, ...]
    weight: np.ndarray          # (D, S)
    held: np.ndarray            # (D, S)
    row: np.ndarray             # (D, S, Tk)

    def records(self) -> list[dict[str, str]]:
        """The weight the key keeps, one record per bias: ``bias`` then one column per dtype, spelled exactly.

        >>> bias_limit([2.0, 1.0], 0, biases=(0.0, -math.inf), dtypes=("float32",)).records()
        [{'bias': '0', 'float32': '0.7310586'}, {'bias': '−inf', 'float32': 'exactly 0'}]
        """
        return [{"bias": spell_signed(step)} | {dtype: spell_weight(self.weight[d, s], dtype, digits=None)
                                                for d, dtype in enumerate(self.dtypes)}
                for s, step in enumerate(self.steps)]

    def first_zero(self, dtype: str) -> float | None:
        """The first step at which the key's weight is exactly 0 in ``dtype`` (None if it never is)."""
        d = self.dtypes.index(dtype)
        zero = np.flatnonzero(self.weight[d] == 0)
        return self.steps[int(zero[0])] if zero.size else None


def bias_limit(logits, key: int, *, biases=BIAS_STEPS, dtypes=None) -> BiasLimit:
    """Sweep key ``key``'s bias through ``biases`` on a row of ``logits`` in each of ``dtypes`` (all four by default).

    Each cell is ``attention_steps`` with q = [[1]], k = the logits as a column, no √d, and the bias
    on the one key: the logits are exactly the given ones rounded to the dtype.

    >>> lim = bias_limit([2.0, 1.0, 0.5], 0, biases=(0.0, -1e4, -math.inf), dtypes=("float32",))
    >>> lim.weight.round(4).tolist(), lim.first_zero("float32")
    ([[0.6285, 0.0, 0.0]], -10000.0)
    """
    x = np.asarray(logits, dtype=np.float64)
    if x.ndim != 1 or x.size < 1:
        raise MaskAttnError(f"logits must be a row of numbers, got shape {x.shape}")
    key = check_int(key, "key", 0, x.size - 1)
    dtypes = tuple(DTYPE_NAMES if dtypes is None else dtypes)
    steps = tuple(float(s) for s in biases)
    weight = np.empty((len(dtypes), len(steps)))
    held = np.empty((len(dtypes), len(steps)))
    row = np.empty((len(dtypes), len(steps), x.size))
    for d, dtype in enumerate(dtypes):
        for s, step in enumerate(steps):
            bias = np.zeros((1, x.size))
            bias[0, key] = step
            out = attention_steps([[1.0]], x[:, np.newaxis], np.eye(x.size), bias=bias, dtype=dtype, scale=False)
            row[d, s] = out.weights[0].astype(np.float64)
            weight[d, s] = row[d, s, key]
            held[d, s] = to_float(out.bias[0, key])
    return BiasLimit(x, key, steps, dtypes, weight, held, row)


def bias_limit_of_row(logits, mask, row: int, **options) -> tuple[BiasLimit, int]:
    """``bias_limit`` on one row of ``logits (Tq, Tk)`` under ``mask`` (1 = blocked, its keys kept out as −inf), for
    the row's heaviest visible key. When ``row`` sees fewer than two keys, the row that sees the most is used
    instead (one key keeps weight 1 whatever its bias). Returns the limit and the row used.

    >>> limit, row = bias_limit_of_row([[1.0, 5.0], [2.0, 1.0]], [[0, 1], [0, 0]], 0)
    >>> row, limit.key
    (1, 0)
    """
    x = np.asarray(logits, dtype=np.float64)                                   # (Tq, Tk)
    blocked = np.broadcast_to(np.asarray(mask) == 1, x.shape)                  # (Tq, Tk)
    seen = (~blocked).sum(axis=-1)                                             # (Tq,) keys each row sees
    row = check_int(row, "row", 0, x.shape[0] - 1)
    if seen[row] < 2:
        row = int(np.argmax(seen))
    scores = np.where(blocked[row], -np.inf, x[row])                            # (Tk,)
    key = int(np.argmax(np.nan_to_num(scores, nan=-np.inf))) if seen[row] else 0   # heaviest visible: largest score
    return bias_limit(scores, key, **options), row


def bias_limit_verdict(limit: BiasLimit, dtype: str = "float32") -> str:
    """Where the key's weight becomes exactly 0, in ``dtype`` and in the others, in one or two sentences.

    >>> lim = bias_limit([2.0, 1.0, 0.5], 0, biases=(0.0, -10.0, -1e4, -math.inf))
    >>> print(bias_limit_verdict(lim))
    With no bias the key has weight 0.6285 in float32. A finite bias only shrinks it (at −10 it is still 7.681e-5); from −1e4 on, exp of the score underflows and its weight is exactly 0 — the bias has become a mask. Exactly 0 in float16 from −1e4, in bfloat16 from −1e4, in float64 from −1e4.
    """
    d = limit.dtypes.index(dtype)
    w = limit.weight[d]
    zero = limit.first_zero(dtype)
    tilt = [(s, x) for s, x in zip(limit.steps, w) if s != 0 and x > 0 and math.isfinite(s)]
    first = f"With no bias the key has weight {spell(w[0], digits=4)} in {dtype}." if limit.steps[0] == 0 else ""
    soft = (f" A finite bias only shrinks it (at {spell_signed(tilt[-1][0], digits=3)} it is still "
            f"{spell(tilt[-1][1], digits=4)})"
            if tilt else "")
    if zero is None:
        hard = f" In {dtype} it never reaches exactly 0 on these steps."
    elif math.isinf(zero):
        hard = "; only −inf gives it weight exactly 0: exp(−inf) = 0 — the bias is a mask."
    else:
        hard = (f"; from {spell_signed(zero, digits=3)} on, exp of the score underflows and its weight is exactly 0 — the "
                "bias has become a mask.")
    others = []
    for name in limit.dtypes:
        if name != dtype:
            z = limit.first_zero(name)
            others.append(f"in {name} {'never' if z is None else 'from ' + spell_signed(z, digits=3)}")
    text = (first + (soft + hard if soft else " " + hard.lstrip("; ").capitalize())).strip()
    return text + (" Exactly 0 " + ", ".join(others) + "." if others else "")
