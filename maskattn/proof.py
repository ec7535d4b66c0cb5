"""Proof that masked keys are ignored, four ways, every number computed.

1. ``delete_masked_keys``: the masked softmax equals the softmax of the unmasked keys alone
   (delete the columns, compare bit for bit).
2. ``exact_vs_float``: e^(z − m) of a masked key is tiny but not 0 in exact arithmetic; in the
   dtype it is exactly 0.0, and that is what makes 1. exact.
3. ``leak_test`` / ``leak_test_tokens``: shake whatever sits in masked positions (K and V rows,
   or the pad tokens' embeddings) and the outputs of queries that cannot see them do not move.
4. ``attention_grads``: the hand-derived backward pass gives masked positions a gradient of
   exactly 0, so training ignores them too.

Each result is a small frozen dataclass with the arrays and the numbers a sentence needs, and
``takeaway(labels)`` turns them into one plain-text sentence (no markup).

The tutorial's line in float32, one row, last key masked:

>>> import numpy as np
>>> proof = delete_masked_keys([[1.0, 2.0, 3.0]], [[0.0, 0.0, 1.0]])
>>> proof.deleted.tolist(), proof.kinds.tolist(), proof.max_difference
([[0.26894140243530273, 0.7310585975646973, 0.0]], ['identical'], 0.0)
>>> exact_vs_float(-1e9, "float32").exact_text, exact_vs_float(-1e9, "float32").value
('1.24953e-434294482', 0.0)
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import ROUND_FLOOR, Decimal, localcontext
from functools import lru_cache
import math

import numpy as np

from . import numerics as nx
from .attention import DEFAULT_MASK_VALUE, AttentionSteps, attention_steps, leaked_mass
from .errors import MaskAttnError
from .fully_masked import classify_row
from .text import count, spell
from .tokens import PAD_TOKEN, embed, position_labels, project_qkv

#: the largest perturbation ``leak_test`` accepts (the page's slider stops at 1e6)
MAX_PERTURBATION = 1e30
#: how a row of ``delete_masked_keys`` compares with the softmax of its unmasked keys alone
DELETE_KINDS: tuple[str, ...] = ("identical", "summation order", "differs", "NaN", "fully masked")


# --------------------------------------------------------------------------- helpers


def _name(labels, index, what: str = "row") -> str:
    """``row 2·sat`` (or ``row 2`` without labels); batch/head indices appended."""
    *lead, i = index if isinstance(index, tuple) else (index,)
    label = labels[i] if labels is not None else str(i)
    return f"{what} {label}" + (f" of batch {tuple(int(b) for b in lead)}" if lead else "")


def _names(labels, indices, what: str, limit: int = 4) -> str:
    """``queries 0·the, 1·cat``, ``query 2``, or ``5 queries`` when there are more than ``limit``."""
    indices = [int(i) for i in indices]
    if len(indices) > limit:
        return count(len(indices), what)
    listed = ", ".join(labels[i] if labels is not None else str(i) for i in indices)
    return f"{count(len(indices), what).split(' ', 1)[1]} {listed}"


def _bits(x: np.ndarray) -> np.ndarray:
    """The raw bit pattern of a float array (so 0.0 and -0.0 differ, and NaN is comparable)."""
    x = np.ascontiguousarray(x)
    return x.view(np.dtype(f"u{x.dtype.itemsize}"))


def _f64(x) -> np.ndarray:
    return np.asarray(x).astype(np.float64)


def _exact(x: float, dtype: str) -> str:
    """The shortest digits that tell ``x`` apart from its neighbours in ``dtype``.

    The 16-bit types print via float32, which holds their values exactly.

    >>> _exact(1 + 2.0 ** -23, "float32"), _exact(1 + 2.0 ** -52, "float64")
    ('1.0000001', '1.0000000000000002')
    """
    wide = np.float64(x) if nx.dtype_name(dtype) == "float64" else np.float32(x)
    return np.format_float_positional(wide, unique=True, trim="-")


def _nan_reason(steps: AttentionSteps, index) -> str:
    """Why row ``index`` of ``steps`` came out NaN, in a few words."""
    z, term = _f64(steps.masked_logits[index]), _f64(steps.mask_term[index])
    if np.isnan(term).any():
        return (f"its mask term is 0 × {spell(steps.mask_value, digits=6)} = NaN in {steps.dtype}, "
                "which poisons the whole row")
    if np.all(z == -np.inf):
        return "every score is -inf, so the row max is -inf and -inf - (-inf) = NaN"
    if np.any(z == np.inf):
        return "a score is +inf, so inf - inf = NaN when the row max is subtracted"
    return "a NaN reached its scores"


def _output_nan_reason(steps: AttentionSteps, index) -> str:
    """Why an output row is NaN: its weights are, or a value is ±inf and 0 × inf = NaN."""
    if np.isnan(_f64(steps.weights[index])).any():
        return _nan_reason(steps, index)
    return (f"a value in V is ±inf in {steps.dtype} (the noise overflowed it), and even a weight of exactly "
            "0 times inf is NaN")


# --------------------------------------------------------------------------- 1. delete the columns


@dataclass(frozen=True)
class DeletedKeys:
    """The masked softmax beside the softmax of each row's unmasked keys alone.

    ``deleted`` holds, in each row, the softmax of the unmasked logits only (in ``dtype``),
    put back at their columns with 0 at the deleted ones; a fully masked row has nothing
    left and is all 0. ``difference`` is ``weights - deleted`` in float64.

    >>> p = delete_masked_keys([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], [[0, 0, 1], [1, 1, 1]], method="fill")
    >>> p.kinds.tolist(), p.n_unmasked.tolist(), p.max_difference, p.weights[1].tolist()
    (['identical', 'fully masked'], [2, 0], 0.0, [0.3333333432674408, 0.3333333432674408, 0.3333333432674408])
    """

    weights: np.ndarray          # (..., Tq, Tk) the masked softmax, in dtype
    deleted: np.ndarray          # (..., Tq, Tk) softmax over unmasked keys alone, 0 at masked keys
    difference: np.ndarray       # (..., Tq, Tk) float64
    row_difference: np.ndarray   # (..., Tq) max |difference| per row (NaN where a row is NaN)
    kinds: np.ndarray            # (..., Tq) one of DELETE_KINDS
    reasons: np.ndarray          # (..., Tq) why, in words
    n_unmasked: np.ndarray       # (..., Tq) keys left after deleting the masked ones
    row_sum: np.ndarray          # (..., Tq) the masked softmax's denominator, float64
    deleted_sum: np.ndarray      # (..., Tq) the deleted softmax's denominator, float64 (NaN if empty)
    dtype: str
    method: str
    mask_value: float

    @property
    def max_difference(self) -> float:
        """Max |difference| over rows that keep a key (NaN if one of them is NaN)."""
        keep = self.n_unmasked > 0
        return float(np.max(self.row_difference[keep])) if keep.any() else math.nan

    def takeaway(self, labels=None) -> str:
        """One sentence that states the result with its numbers.

        >>> delete_masked_keys([[3.2, 1.0, -0.5, 2.0]], [[0, 0, 1, 1]], mask_value=-10).takeaway(["a", "b", "c", "d"])
        'The masked softmax is not the softmax of the unmasked keys: row a differs by up to 1.23e-5, because its masked keys keep weight 1.33e-5 (exp(-11.2) is not 0 in float32).'
        """
        counts = {kind: int(np.sum(self.kinds == kind)) for kind in DELETE_KINDS}
        kept = int(np.sum(self.n_unmasked > 0))
        first = lambda kind: tuple(int(i) for i in np.argwhere(self.kinds == kind)[0])
        nf = counts["fully masked"]
        full = (f"; {count(nf, 'row')} {'has' if nf == 1 else 'have'} every key masked and nothing left to compare"
                if nf else "")
        worst = lambda kind: tuple(int(i) for i in np.argwhere(
            (self.kinds == kind) & (self.row_difference == np.max(self.row_difference[self.kinds == kind])))[0])
        if counts["NaN"]:
            r = first("NaN")
            alone = ("and so is the softmax of the unmasked keys alone" if np.isnan(_f64(self.deleted)).any()
                     else "while the softmax of the unmasked keys alone is not")
            return (f"{counts['NaN']} of {self.kinds.size} rows of the masked softmax are NaN "
                    f"({_name(labels, r)}: {self.reasons[r]}), {alone}.")
        if counts["differs"]:
            r = worst("differs")
            return (f"The masked softmax is not the softmax of the unmasked keys: {_name(labels, r)} differs by up to "
                    f"{spell(self.row_difference[r], digits=3)}, because {self.reasons[r]}.")
        if counts["summation order"]:
            r = worst("summation order")
            return (f"Deleting the masked keys gives the same exponentials in all {kept} rows that keep a key and "
                    f"{counts['identical']} of them are bit for bit identical; in {counts['summation order']} the "
                    f"weights differ by up to {spell(self.row_difference[r], digits=3)} only because the sum ran over a "
                    f"different number of terms ({_name(labels, r)}: {self.reasons[r]}){full}.")
        if counts["identical"]:
            return (f"Deleting the masked keys and taking the softmax of the rest gives bit for bit the same weights "
                    f"in all {kept} rows that keep a key (max difference {spell(self.max_difference, digits=6)}){full}.")
        r = first("fully masked")
        return f"Every row is fully masked: {self.reasons[r]}."


def _steps_of_logits(logits, mask, *, mask_value, dtype, method) -> AttentionSteps:
    """``attention_steps`` for logits you already have, ``(..., Tq, Tk)``, shaped like them.

    Each row is one attention with ``q = [[1]]`` and the row as a column of keys, no √d:
    ``1 · z`` is ``z`` exactly (inf and NaN included), so the mask and softmax are the
    library's own code.
    """
    z = nx.as_array(logits, "logits")
    if z.ndim < 2 or z.shape[-1] == 0:
        raise MaskAttnError(f"logits must have shape (..., Tq, Tk) with Tk >= 1, got shape {z.shape}")
    if mask is not None:
        m = nx.as_array(mask, "mask")
        try:
            m = np.broadcast_to(m, z.shape)
        except ValueError:
            raise MaskAttnError(f"mask of shape {m.shape} does not broadcast to logits of shape {z.shape}") from None
        mask = m[..., np.newaxis, :]                                # (..., Tq, 1, Tk)
    q = np.ones(z.shape[:-1] + (1, 1))                              # (..., Tq, 1, 1)
    k = z[..., np.newaxis]                                          # (..., Tq, Tk, 1)
    v = np.zeros(z.shape + (1,))                                    # (..., Tq, Tk, 1)
    s = attention_steps(q, k, v, mask, mask_value=mask_value, dtype=dtype, method=method, scale=False)
    squeezed = {f.name: (np.squeeze(getattr(s, f.name), axis=-2) if f.name != "output" else s.output[..., 0, :])
                for f in fields(s) if isinstance(getattr(s, f.name), np.ndarray)}
    return AttentionSteps(**squeezed, dtype=s.dtype, method=s.method, mask_value=s.mask_value)


def delete_masked_keys(logits, mask=None, *, dtype="float32", mask_value=DEFAULT_MASK_VALUE,
                       method="add") -> DeletedKeys:
    """Softmax over each row's unmasked keys alone, next to the masked softmax.

    ``logits`` are scaled logits ``(..., Tq, Tk)`` with ``mask`` (1 = blocked) broadcastable
    to them; or pass an ``AttentionSteps`` alone and its logits, mask, dtype, constant and
    method are used. Each row is classified (``DELETE_KINDS``):

    - ``identical``: bit for bit the same, because every masked exp is exactly 0;
    - ``summation order``: the same exponentials, but the denominator summed over ``Tk``
      terms instead of the unmasked ones. Adding exact zeros changes no partial sum, yet
      NumPy's pairwise summation groups terms by position (8 accumulators from 8 terms on),
      so removing the zeros regroups the rest and the sum can round one step apart;
    - ``differs``: masked keys keep weight (a constant like -10), or the method is wrong;
    - ``NaN``: the masked softmax row is NaN (0 × -inf in the mask term, or all -inf);
    - ``fully masked``: no key is left, the deleted softmax is empty.

    >>> p = delete_masked_keys([[3.2, 1.0, -0.5, 2.0]], [[0, 0, 1, 1]])
    >>> p.kinds.tolist(), p.max_difference
    (['identical'], 0.0)
    >>> p = delete_masked_keys([[3.2, 1.0, -0.5, 2.0]], [[0, 0, 1, 1]], mask_value=-10)
    >>> p.kinds.tolist(), spell(p.max_difference, digits=3)
    (['differs'], '1.23e-5')
    >>> p = delete_masked_keys([[1.0, 2.0, 3.0]], [[0, 0, 1]], dtype="float16")
    >>> p.kinds.tolist(), p.reasons.tolist()
    (['NaN'], ['its mask term is 0 × -inf = NaN in float16, which poisons the whole row'])
    """
    if isinstance(logits, AttentionSteps):
        if mask is not None:
            raise MaskAttnError("pass an AttentionSteps alone (it carries its mask), or logits and a mask")
        steps = logits
    else:
        steps = _steps_of_logits(logits, mask, mask_value=mask_value, dtype=dtype, method=method)
    dt = nx.resolve_dtype(steps.dtype)
    blocked = steps.mask == 1                                       # (..., Tq, Tk)
    Tk = blocked.shape[-1]
    deleted = np.zeros(blocked.shape, dtype=dt)                     # (..., Tq, Tk)
    deleted_sum = np.full(blocked.shape[:-1], np.nan)               # (..., Tq)
    same_exps = np.zeros(blocked.shape[:-1], dtype=bool)            # (..., Tq)
    for index in np.ndindex(blocked.shape[:-1]):
        keep = ~blocked[index]
        if not keep.any():
            continue
        alone = nx.softmax_steps(steps.logits[index][keep], steps.dtype)   # (n,) the columns deleted
        deleted[index + (keep,)] = alone.weights
        deleted_sum[index] = nx.to_float(alone.row_sum[0])
        same_exps[index] = (np.array_equal(_bits(alone.exps), _bits(steps.exps[index][keep]))
                            and np.all(_f64(steps.exps[index][~keep]) == 0))

    w = _f64(steps.weights)
    difference = w - _f64(deleted)                                  # (..., Tq, Tk)
    row_difference = np.max(np.abs(difference), axis=-1)           # (..., Tq), NaN propagates
    n_unmasked = np.sum(~blocked, axis=-1)                          # (..., Tq)
    row_sum = _f64(steps.row_sum)[..., 0]                           # (..., Tq)
    identical = np.all(_bits(steps.weights) == _bits(deleted), axis=-1)
    leaked = leaked_mass(steps.weights, steps.mask)                 # (..., Tq)

    kinds = np.empty(blocked.shape[:-1], dtype=object)
    reasons = np.empty(blocked.shape[:-1], dtype=object)
    for index in np.ndindex(blocked.shape[:-1]):
        n = int(n_unmasked[index])
        if np.isnan(w[index]).any():
            kinds[index], reasons[index] = "NaN", _nan_reason(steps, index)
        elif n == 0:
            shape = classify_row(w[index])
            kinds[index] = "fully masked"
            reasons[index] = (f"every key is masked, so deleting them leaves nothing to take a softmax of, "
                              f"while the masked softmax gave {shape} weights (max {spell(w[index].max(), digits=3)})")
        elif identical[index]:
            kinds[index] = "identical"
            reasons[index] = ("no key is masked" if n == Tk else
                              f"the {Tk - n} masked keys' exp is exactly 0 in {steps.dtype}")
        elif same_exps[index]:
            kinds[index] = "summation order"
            reasons[index] = (f"the sum ran over {Tk} terms instead of {n}; the zeros add exactly, but NumPy's "
                              f"pairwise sum groups terms by position, so it rounds to {_exact(row_sum[index], steps.dtype)} "
                              f"instead of {_exact(deleted_sum[index], steps.dtype)}")
        else:
            kinds[index] = "differs"
            reasons[index] = _differs_reason(steps, index, leaked[index])
    return DeletedKeys(steps.weights, deleted, difference, row_difference, kinds.astype(str), reasons.astype(str),
                       n_unmasked, row_sum, deleted_sum, steps.dtype, steps.method, steps.mask_value)


def _differs_reason(steps: AttentionSteps, index, leaked: float) -> str:
    blocked = steps.mask[index] == 1
    if steps.method == "multiply_weights":
        total = float(np.sum(_f64(steps.weights[index])))
        return f"the weights were multiplied by the mask after softmax, so the row sums to {spell(total, digits=4)}, not 1"
    if leaked > 0:
        j = int(np.argmax(np.where(blocked, _f64(steps.exps[index]), -1)))
        why = ("masked logits are set to 0, and exp(0 - max) is not 0" if steps.method == "zero_logits"
               else f"exp({spell(steps.shifted[index][j], digits=3)}) is not 0 in {steps.dtype}")
        return f"its masked keys keep weight {spell(leaked, digits=3)} ({why})"
    return "the softmax over all keys rounds differently from the softmax over the kept ones"


# --------------------------------------------------------------------------- 2. exact vs float


@lru_cache(maxsize=None)
def _limits(dtype: str) -> tuple[float, float, float, float]:
    """smallest subnormal, smallest normal, exp's underflow point and its flush-to-zero point."""
    info = nx.finfo(dtype)
    return (float(info.smallest_subnormal), float(info.tiny), nx.underflow_threshold(dtype),
            nx.underflow_threshold(dtype, flush_subnormals=True))


@lru_cache(maxsize=8)
def _log10_e(precision: int) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = precision
        return Decimal(1).exp().log10()


def _exact_log10(x: float) -> tuple[Decimal, int, float]:
    """log10(e^x) = x·log10(e) in decimal, its floor n and the mantissa 10^(that - n) in [1, 10).

    ``x`` is a float64, so ``Decimal(x)`` is exact; the precision grows with |x| so the
    fractional part keeps ~30 correct digits even at x = -1e300.
    """
    precision = len(str(int(abs(x)))) + 30
    with localcontext() as ctx:
        ctx.prec = precision
        log10 = Decimal(x) * _log10_e(precision)
        n = int(log10.to_integral_value(rounding=ROUND_FLOOR))
        mantissa = float(Decimal(10) ** (log10 - n))
    if mantissa >= 10.0:           # 10^f rounded up to 10 as a float: carry into the exponent
        mantissa, n = mantissa / 10, n + 1
    return log10, n, mantissa


@dataclass(frozen=True)
class ExpMagnitude:
    """e^x exactly (as mantissa × 10^exponent) next to what ``dtype`` computes.

    ``exponent``/``mantissa`` are None when e^x is 0, inf or NaN exactly (x = -inf, inf, NaN).

    >>> e = exact_vs_float(-100.0, "float32")        # below the smallest normal, kept as a subnormal
    >>> e.exact_text, e.value, e.below_normal, e.below_subnormal
    ('3.72008e-44', 3.783505853677006e-44, True, False)
    """

    x: float                    # the exponent as given
    x_in_dtype: float           # x rounded to dtype: what exp receives
    dtype: str
    log10: float                # log10(e^x) (nearest float to the exact decimal)
    log10_text: str             # the same with 12 decimals, from exact decimal arithmetic
    exponent: int | None        # e^x = mantissa × 10^exponent
    mantissa: float | None      # in [1, 10)
    value: float                # exp(x) computed in dtype (exactly 0.0 below the threshold)
    smallest_subnormal: float   # the dtype's smallest positive number
    smallest_normal: float      # finfo.tiny
    underflow_threshold: float  # exp gives exactly 0 for x below this (numerics.underflow_threshold)

    @property
    def exact_text(self) -> str:
        """e^x in exact arithmetic, e.g. ``1.24953e-434294482``."""
        if self.exponent is None:
            return spell(math.exp(self.x) if not math.isnan(self.x) else math.nan, digits=6)
        if abs(self.exponent) >= 10**15:           # the mantissa's digits would be lost in the exponent's
            return f"10^{spell(self.log10, digits=9)}"
        return f"{self.mantissa:.6g}e{self.exponent}"

    @property
    def below_subnormal(self) -> bool:
        """e^x is smaller than the dtype's smallest subnormal (so it rounds to 0 or to it)."""
        return self.log10 < math.log10(self.smallest_subnormal)

    @property
    def below_normal(self) -> bool:
        """e^x is smaller than the dtype's smallest normal number."""
        return self.log10 < math.log10(self.smallest_normal)

    def takeaway(self) -> str:
        """One sentence comparing the exact value with the dtype's.

        >>> exact_vs_float(-1e9, "float32").takeaway()
        'e^-1e9 = 1.24953e-434294482 is not 0 in exact arithmetic, but it is 434294437 orders of magnitude below the smallest float32 subnormal 1.4e-45 (exp gives exactly 0 below -103.97), so float32 stores exactly 0.'
        """
        e, t = f"e^{spell(self.x, digits=6)}", self.dtype
        if math.isnan(self.x):
            return f"{e} is NaN: there is no number to round."
        if self.exponent is None:
            return f"{e} = {self.exact_text} exactly, and {t} gives {spell(self.value, digits=6)}."
        if self.value == 0:
            gap = math.log10(self.smallest_subnormal) - self.log10
            below = f"{spell(gap, digits=9 if gap >= 10 else 2)} orders of magnitude below" if gap >= 1 else "below half of"
            return (f"{e} = {self.exact_text} is not 0 in exact arithmetic, but it is {below} the smallest {t} "
                    f"subnormal {spell(self.smallest_subnormal, digits=2)} (exp gives exactly 0 below "
                    f"{self.underflow_threshold:.2f}), so {t} stores exactly 0.")
        if math.isinf(self.value):
            return f"{e} = {self.exact_text} is beyond the largest {t} number, so {t} gives inf."
        if self.below_normal:
            return (f"{e} = {self.exact_text} is below the smallest normal {t} number {spell(self.smallest_normal, digits=3)} "
                    f"but not below exp's underflow point {self.underflow_threshold:.2f}: {t} keeps it as the "
                    f"subnormal {spell(self.value, digits=3)} (hardware that flushes subnormals gives 0).")
        return f"{e} = {self.exact_text} is representable in {t}, which stores {spell(self.value, digits=7)}."


def exact_vs_float(x, dtype="float32") -> ExpMagnitude:
    """e^x as an exact decimal order of magnitude, and what ``dtype`` gives for it.

    The exact magnitude comes from x·log10(e) in decimal arithmetic, so it never underflows;
    the dtype's value is ``exp`` of (x rounded to dtype), rounded to dtype.

    >>> e = exact_vs_float(-1e9, "float32")
    >>> e.log10_text, e.exponent, round(e.mantissa, 5), e.value, e.smallest_subnormal
    ('-434294481.903251827651', -434294482, 1.24953, 0.0, 1.401298464324817e-45)
    >>> e = exact_vs_float(-5.0, "bfloat16")
    >>> e.exact_text, e.value
    ('6.73795e-3', 0.006744384765625)
    """
    try:
        x = float(x)
    except (TypeError, ValueError):
        raise MaskAttnError(f"x must be a number, got {x!r:.60}") from None
    dtype = nx.dtype_name(dtype)
    x_in_dtype = nx.to_float(nx.cast(x, dtype))
    value = nx.to_float(nx.exp(x_in_dtype, dtype))
    if math.isfinite(x):
        log10, exponent, mantissa = _exact_log10(x)
        log10_text = f"{log10:.12f}"
    else:
        log10, exponent, mantissa, log10_text = x, None, None, spell(x, digits=6)     # e^x is 0, inf or NaN
    subnormal, normal, threshold, _ = _limits(dtype)
    return ExpMagnitude(x, x_in_dtype, dtype, float(log10), log10_text, exponent, mantissa, value,
                        subnormal, normal, threshold)


@dataclass(frozen=True)
class RowUnderflow:
    """For one query row: each masked key's z − m, e^(z − m) exactly and in the dtype.

    >>> s = attention_steps([[1.0]], [[1.0], [2.0], [3.0]], [[0.0], [0.0], [0.0]], [[0, 1, 1]],
    ...                     mask_value=-10, scale=False)
    >>> r = exact_vs_float_row(s, 0)
    >>> r.keys, r.shifted.tolist(), [e.exact_text for e in r.exact], r.underflow_threshold < -103
    ((1, 2), [-9.0, -8.0], ['1.2341e-4', '3.35463e-4'], True)
    """

    row: tuple[int, ...]        # index of the row (batch/head axes first)
    keys: tuple[int, ...]       # the masked keys of the row
    shifted: np.ndarray         # (n,) z - m as computed in dtype, float64
    exps: np.ndarray            # (n,) exp(z - m) in dtype, float64
    weights: np.ndarray         # (n,) the keys' final attention weights, float64
    fully_masked: bool          # every key of the row is masked (then m is a masked score too)
    exact: tuple[ExpMagnitude, ...]
    dtype: str
    underflow_threshold: float  # exp(z - m) is exactly 0 once z - m is below this
    flush_threshold: float      # below this e^(z - m) is subnormal: 0 where subnormals are flushed

    def takeaway(self, labels=None) -> str:
        """One sentence: where the masked keys' exp became exactly 0, or why not.

        >>> s = attention_steps([[1.0]], [[1.0], [2.0], [3.0]], [[0.0], [0.0], [0.0]], [[0, 0, 1]], scale=False)
        >>> exact_vs_float_row(s, 0).takeaway()
        'The 1 masked key of row 0 sits 1e9 below the row max: e^-1e9 = 1.24953e-434294482 exactly, and since every exponent below -103.97 gives exactly 0 in float32, its weight is exactly 0.'
        """
        name = _name(labels, self.row)
        if not self.keys:
            return f"{name.capitalize()} has no masked key."
        n = len(self.keys)
        keys = f"The {n} masked key{'s' if n > 1 else ''} of {name}"
        zeroed = " (then the safe softmax sets the row's weights to 0)" if np.all(self.weights == 0) else ""
        if np.isnan(self.shifted).any():
            return f"{keys} {'have' if n > 1 else 'has'} z - m = NaN in {self.dtype}, so exp gives NaN, not 0{zeroed}."
        if self.fully_masked:
            spread = ("is 0 for every key" if self.shifted.min() == 0
                      else f"runs from {spell(self.shifted.min(), digits=4)} to 0")
            return (f"Every key of {name} is masked, so the row max m is a masked score too and z - m {spread}: "
                    f"subtracting m undoes the constant, and "
                    f"{int(np.sum(self.exps > 0))} of the {n} exps are not 0{zeroed}.")
        zero = self.exps == 0
        closest = int(np.argmax(self.shifted))                      # the masked key nearest to the max
        d = self.shifted[closest]
        if zero.all() and not math.isfinite(d):
            return (f"{keys} {'sit' if n > 1 else 'sits'} at z - m = -inf, and e^-inf is exactly 0 in any "
                    f"arithmetic: {'their weights are' if n > 1 else 'its weight is'} exactly 0.")
        if zero.all():
            gap = f"{'sit at least' if n > 1 else 'sits'} {spell(-d, digits=3)} below the row max"
            return (f"{keys} {gap}: e^{spell(d, digits=3)} = {self.exact[closest].exact_text} exactly, and since every "
                    f"exponent below {self.underflow_threshold:.2f} gives exactly 0 in {self.dtype}, "
                    f"{'their weights are' if n > 1 else 'its weight is'} exactly 0.")
        kept = int((~zero).sum())
        head = (f"None of the {n} masked keys of {name} is exactly 0" if kept == n else
                f"{kept} of the {n} masked keys of {name} {'is' if kept == 1 else 'are'} not exactly 0")
        return (f"{head} in {self.dtype}: the closest has z - m = {spell(d, digits=4)}, above the underflow point "
                f"{self.underflow_threshold:.2f}, so e^(z - m) = {spell(self.exps[closest], digits=3)} and it keeps weight"
                f"{zeroed}.")


def exact_vs_float_row(steps: AttentionSteps, row) -> RowUnderflow:
    """``exact_vs_float`` for every masked key of one query row of ``steps``.

    ``row`` indexes every axis but the last (an int for ``(Tq, Tk)`` steps).

    >>> s = attention_steps([[1.0]], [[1.0], [2.0], [3.0]], [[0.0], [0.0], [0.0]], [[0, 0, 1]], scale=False)
    >>> r = exact_vs_float_row(s, 0)
    >>> r.keys, r.shifted.tolist(), r.exps.tolist(), r.exact[0].log10_text
    ((2,), [-1000000000.0], [0.0], '-434294481.903251827651')
    """
    if not isinstance(steps, AttentionSteps):
        raise MaskAttnError(f"steps must be an AttentionSteps (from attention_steps), got {type(steps).__name__}")
    lead = steps.shifted.shape[:-1]
    index = tuple(int(i) for i in np.atleast_1d(row)) if not isinstance(row, bool) else ()
    if len(index) != len(lead) or not all(0 <= i < n for i, n in zip(index, lead)):
        raise MaskAttnError(f"row must index the query rows of shape {lead}, got {row!r}")
    keys = tuple(int(j) for j in np.flatnonzero(steps.mask[index] == 1))
    shifted = _f64(steps.shifted[index])[list(keys)]                # (n,)
    exps = _f64(steps.exps[index])[list(keys)]                      # (n,)
    weights = _f64(steps.weights[index])[list(keys)]                # (n,)
    fully_masked = len(keys) == steps.mask.shape[-1]
    return RowUnderflow(index, keys, shifted, exps, weights, fully_masked,
                        tuple(exact_vs_float(d, steps.dtype) for d in shifted), steps.dtype,
                        *_limits(steps.dtype)[2:])


# --------------------------------------------------------------------------- 3. the leak test


def check_perturbation(amount) -> float:
    """The perturbation size as a float, or ``MaskAttnError`` for NaN, ±inf and beyond 1e30.

    >>> check_perturbation(1e6)
    1000000.0
    >>> check_perturbation(float("inf"))
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: the perturbation must be a finite number, got inf
    """
    try:
        value = float(amount)
    except (TypeError, ValueError):
        raise MaskAttnError(f"the perturbation must be a number, got {amount!r:.60}") from None
    if not math.isfinite(value):
        raise MaskAttnError(f"the perturbation must be a finite number, got {spell(value, digits=6)}")
    if abs(value) > MAX_PERTURBATION:
        raise MaskAttnError(f"the perturbation must be at most {spell(MAX_PERTURBATION, digits=6)} in size, got {spell(value, digits=6)}")
    return value


@dataclass(frozen=True)
class LeakReport:
    """Outputs before and after shaking some positions, per query.

    A query is *shielded* when every changed position is masked for it and its own query
    vector did not change: then its output must come out bit for bit unchanged.

    >>> r = leak_test(np.eye(3), np.eye(3), np.eye(3), [[0, 0, 1]] * 3, mask_value=-1.0)
    >>> r.positions, r.shielded.tolist(), r.leaks.tolist(), r.passed
    ((2,), [True, True, True], [True, True, True], False)
    """

    before: AttentionSteps
    after: AttentionSteps
    delta: np.ndarray             # (Tq,) max |after - before| per query, float64 (NaN if either is NaN)
    unchanged: np.ndarray         # (Tq,) bool: the same bits and not NaN
    shielded: np.ndarray          # (Tq,) bool
    perturbed_queries: np.ndarray  # (Tq,) bool: the query's own input changed (a shaken pad token)
    positions: tuple[int, ...]    # the keys (and tokens) that were shaken
    target: str                   # what was shaken, in words ("K and V rows", "embeddings")
    amount: float
    labels: tuple[str, ...] | None = None

    @property
    def leaks(self) -> np.ndarray:
        """(Tq,) bool: shielded queries whose output moved anyway."""
        return self.shielded & ~self.unchanged

    @property
    def passed(self) -> bool:
        """Every shielded query came out bit for bit unchanged (and some query was shielded)."""
        return bool(self.positions) and bool(self.shielded.any()) and not self.leaks.any()

    def takeaway(self, labels=None) -> str:
        """One sentence: which queries stayed bit for bit the same, which moved and by how much.

        >>> q = k = v = np.eye(3)
        >>> leak_test(q, k, v, [[0, 0, 1]] * 3, amount=1e6).takeaway()
        'All 3 queries whose shaken positions are all masked are bit for bit unchanged after noise of size 1e6 was added to the K and V rows of key 2.'
        """
        labels = labels if labels is not None else self.labels
        if not self.positions:
            return "Nothing was shaken: no key is masked."
        noun = "token" if self.target == "embeddings" else "key"
        shaken = (f"after noise of size {spell(self.amount, digits=3)} was added to the {self.target} of "
                  f"{_names(labels, self.positions, noun)}")
        shielded, leaks = np.flatnonzero(self.shielded), np.flatnonzero(self.leaks)
        own = np.flatnonzero(self.perturbed_queries)
        others = np.flatnonzero(~self.shielded & ~self.perturbed_queries)
        if not shielded.size:
            parts = [f"No query has every shaken position masked (is the mask off, or pointing the other way?), "
                     f"so none is protected {shaken}"]
        elif leaks.size:
            nan = np.isnan(self.delta[leaks])
            r = int(leaks[np.argmax(nan)] if nan.any() else leaks[np.argmax(self.delta[leaks])])
            who = f"{len(leaks)} of {count(len(shielded), 'query')} whose shaken positions are all masked"
            parts = [f"{who} did not come out unchanged {shaken}: {_name(labels, r, 'query')} "
                     + (f"is NaN, because {self._nan_reason(r)}" if nan.any()
                        else f"moved by {spell(self.delta[r], digits=3)}, because {self._leak_reason(r)}")]
        else:
            one = len(shielded) == 1
            who = (f"The output{'' if one else 's'} of {_names(labels, shielded, 'query')}"
                   if len(shielded) <= 4 and labels is not None else
                   "The 1 query whose shaken positions are all masked" if one else
                   f"All {len(shielded)} queries whose shaken positions are all masked")
            parts = [f"{who} {'is' if one else 'are'} bit for bit unchanged {shaken}"]
        own = own[~self.unchanged[own]]                             # noise of size 0 changes nothing
        if own.size:
            nan = np.isnan(self.delta[own])
            r = int(own[np.argmax(nan)] if nan.any() else own[np.argmax(self.delta[own])])
            moved = ("is NaN" if nan.any() else f"moved by {spell(self.delta[r], digits=3)}")
            parts.append(("the shaken position changed as a query too" if len(own) == 1 else
                          f"the {len(own)} shaken positions changed as queries too")
                         + f": {_name(labels, r, 'query')} {moved}, because {self._own_reason(r)}")
        if others.size:
            parts.append(f"{_names(labels, others, 'query')} can see a shaken key and moved by up to "
                         f"{spell(np.max(self.delta[others]), digits=3)}")
        return "; ".join(parts) + "."

    def own_cause(self, r: int) -> str:
        """Why shaken position ``r``'s own output moved: ``"NaN"``, ``"outweighs"`` (its scores against masked
        keys beat the constant and those keys took weight) or ``"own vector"`` (only its scores against the
        keys it may see changed); ``"unchanged"`` when it did not move."""
        if self.unchanged[r]:
            return "unchanged"
        if np.isnan(self.delta[r]):
            return "NaN"
        s = self.after
        before, after = (leaked_mass(x.weights, x.mask)[r] for x in (self.before, s))
        raw = np.abs(_f64(s.logits[r])[s.mask[r] == 1])
        if s.method == "add" and raw.size and after > before and raw.max() > abs(s.mask_value):
            return "outweighs"
        return "own vector"

    def _own_reason(self, r: int) -> str:
        """Why a shaken position's own output moved: its scores against masked keys beat the constant, or its
        query vector changed its scores against the keys it may see (a mask hides keys, not a query's own
        vector), or NaN."""
        cause = self.own_cause(r)
        if cause == "NaN":
            return self._nan_reason(r)
        s = self.after
        after = leaked_mass(s.weights, s.mask)[r]
        blocked = s.mask[r] == 1
        scores = _f64(s.masked_logits[r])[blocked]
        raw = np.abs(_f64(s.logits[r])[blocked])
        if cause == "outweighs":
            return (f"its own scores against the masked keys reach {spell(raw.max(), digits=3)} and outweigh the "
                    f"constant {spell(s.mask_value, digits=6)} in {s.dtype} (masked, they are still up to "
                    f"{spell(np.max(scores), digits=3)}): those keys now take weight {spell(after, digits=3)}")
        return (f"its own query vector changed, so did its scores against the keys it may see (a mask hides keys, "
                f"not a query's own vector); its masked keys hold weight {spell(after, digits=3)}")

    def _nan_reason(self, r: int) -> str:
        steps = self.before if np.isnan(_f64(self.before.output[r])).any() else self.after
        return f"{'before' if steps is self.before else 'after'} shaking {_output_nan_reason(steps, r)}"

    def _leak_reason(self, r: int) -> str:
        before, after = (leaked_mass(s.weights, s.mask)[r] for s in (self.before, self.after))
        s = self.after
        scores = np.abs(_f64(s.logits[r])[s.mask[r] == 1])
        outweigh = (f" (the shaken scores reach {spell(scores.max(), digits=3)} and outweigh the constant)"
                    if s.method == "add" and scores.size and scores.max() > abs(s.mask_value) else "")
        return (f"its masked keys hold weight {spell(before, digits=3)} before and {spell(after, digits=3)} after shaking with the "
                f"constant {spell(s.mask_value, digits=6)} in {s.dtype}{outweigh}")


def _report(before, after, positions, perturbed_queries, target, amount, labels) -> LeakReport:
    b, a = before.output, after.output                              # (Tq, dv)
    delta = np.max(np.abs(_f64(a) - _f64(b)), axis=-1)              # (Tq,)
    unchanged = np.all(_bits(a) == _bits(b), axis=-1) & ~np.isnan(_f64(b)).any(axis=-1)
    blocked = before.mask == 1                                      # (Tq, Tk)
    shielded = blocked[:, list(positions)].all(axis=-1) & ~perturbed_queries
    return LeakReport(before, after, delta, unchanged, shielded, perturbed_queries, tuple(positions), target,
                      amount, labels)


def _shake(x: np.ndarray, rows, amount: float, rng: np.random.Generator) -> np.ndarray:
    """A copy of ``x (T, width)`` with ``amount`` × standard normal noise added to ``rows``."""
    out = np.array(x, dtype=np.float64)
    out[list(rows)] += amount * rng.standard_normal((len(rows), out.shape[-1]))
    return out


def _positions(positions, T: int, what: str) -> tuple[int, ...]:
    try:
        picked = sorted({int(p) for p in positions})
    except (TypeError, ValueError):
        raise MaskAttnError(f"{what} must be a list of positions, got {positions!r:.60}") from None
    bad = [p for p in picked if not 0 <= p < T]
    if bad:
        raise MaskAttnError(f"{what} must be positions from 0 to {T - 1}, got {bad[0]}")
    return tuple(picked)


def leak_test(q, k, v, mask=None, *, keys=None, amount=1e6, rng=0, mask_value=DEFAULT_MASK_VALUE,
              dtype="float32", method="add", scale=True) -> LeakReport:
    """Add noise of size ``amount`` to the K and V rows of masked keys; per query, did the output move?

    One sequence: ``q (Tq, d)``, ``k (Tk, d)``, ``v (Tk, dv)``, ``mask`` broadcastable to
    ``(Tq, Tk)``. ``keys`` defaults to the keys blocked for every query (padding); if no key
    is (a causal mask), the keys blocked for some query. Only the queries that block every
    shaken key are shielded: with a causal mask, shaking key j can only move queries i >= j.
    ``rng`` is a seed or ``np.random.Generator``.

    >>> rng = np.random.default_rng(0)
    >>> q, k, v = rng.standard_normal((3, 4, 2))
    >>> pad = [[0, 0, 1, 1]] * 4
    >>> leak_test(q, k, v, pad, amount=1e6).unchanged.tolist()
    [True, True, True, True]
    >>> r = leak_test(q, k, v, pad, amount=1e6, mask_value=-10)
    >>> r.unchanged.tolist(), spell(r.delta.max(), digits=3)
    ([False, False, False, False], '1.3e6')
    """
    amount = check_perturbation(amount)
    before = attention_steps(q, k, v, mask, mask_value=mask_value, dtype=dtype, method=method, scale=scale)
    if before.output.ndim != 2 or np.ndim(k) != 2 or np.ndim(v) != 2:
        raise MaskAttnError(f"leak_test takes one sequence: q (Tq, d), k (Tk, d), v (Tk, dv); got q {np.shape(q)}, "
                            f"k {np.shape(k)}, v {np.shape(v)}")
    blocked = before.mask == 1                                      # (Tq, Tk)
    if keys is None:
        every, some = blocked.all(axis=0), blocked.any(axis=0)      # (Tk,)
        keys = np.flatnonzero(every if every.any() else some)
    keys = _positions(keys, blocked.shape[-1], "keys")
    rng = np.random.default_rng(rng)
    k2, v2 = _shake(k, keys, amount, rng), _shake(v, keys, amount, rng)
    after = attention_steps(q, k2, v2, mask, mask_value=mask_value, dtype=dtype, method=method, scale=scale)
    return _report(before, after, keys, np.zeros(blocked.shape[0], bool), "K and V rows", amount, None)


def leak_test_tokens(tokens, mask=None, *, positions=None, pad_token=PAD_TOKEN, amount=1e6, rng=0,
                     d_model=16, seed=0, positional=True, qk_mode="projected", mask_value=DEFAULT_MASK_VALUE,
                     dtype="float32", method="add", scale=True) -> LeakReport:
    """Shake token embeddings end to end (embed → project_qkv → attention) and compare outputs.

    ``tokens``: one padded sequence ``(T,)``; ``mask`` broadcastable to ``(T, T)`` (1 = blocked),
    as the Playground builds it. ``positions`` defaults to the pad tokens. Q, K and V all come
    from the shaken embedding, so a shaken position's own query moves too: it is reported
    apart (``perturbed_queries``). The causal variant, "change a future token": a look-ahead
    mask and ``positions=[t]``; every query before ``t`` is shielded.

    >>> from maskattn.masks import create_look_ahead_mask, create_padding_mask
    >>> tokens = ["the", "cat", "sat", "<pad>", "<pad>"]
    >>> pad = create_padding_mask([[1, 2, 3, 0, 0]])[0, 0]          # (1, T)
    >>> r = leak_test_tokens(tokens, pad, amount=1e6)
    >>> r.unchanged.tolist(), r.perturbed_queries.tolist()
    ([True, True, True, False, False], [False, False, False, True, True])
    >>> r = leak_test_tokens(tokens, create_look_ahead_mask(5), positions=[2])
    >>> r.shielded.tolist(), r.unchanged.tolist()
    ([True, True, False, False, False], [True, True, False, False, False])
    """
    amount = check_perturbation(amount)
    if isinstance(tokens, str):
        raise MaskAttnError(f"tokens must be a sequence of token strings, got the string {tokens!r:.40}")
    tokens = list(tokens)
    x = embed([tokens], d_model, seed, positional)[0]               # (T, d_model)
    T = x.shape[0]
    if positions is None:
        positions = [i for i, t in enumerate(tokens) if t == pad_token]
    positions = _positions(positions, T, "positions")
    options = dict(mask_value=mask_value, dtype=dtype, method=method, scale=scale)
    before = attention_steps(*project_qkv(x, seed, qk_mode), mask, **options)
    if before.output.ndim != 2:
        raise MaskAttnError(f"mask must broadcast to one sequence's (T, T) = {(T, T)}, got shape {np.shape(mask)}")
    shaken = _shake(x, positions, amount, np.random.default_rng(rng))   # (T, d_model)
    after = attention_steps(*project_qkv(shaken, seed, qk_mode), mask, **options)
    perturbed = np.isin(np.arange(T), positions)                    # (T,)
    return _report(before, after, positions, perturbed, "embeddings", amount, tuple(position_labels(tokens)))


# --------------------------------------------------------------------------- 4. the backward pass


@dataclass(frozen=True)
class AttentionGrads:
    """Gradients of ``L = sum(output * d_output)`` through the faithful forward pass, in dtype.

    ``dq``, ``dk``, ``dv`` have the shapes of ``q``, ``k``, ``v``; the ``(..., Tq, Tk)`` ones
    the shape of the logits. ``dlogits`` is the gradient with respect to the scaled logits
    q·kᵀ/√d before the mask; ``dmasked_logits`` with respect to what softmax sees.
    ``d_output`` of ones makes L the sum of the outputs.

    >>> g = attention_grads(np.eye(2), np.eye(2), [[1.0], [2.0]], [[0, 1], [0, 0]], d_output=np.ones((2, 1)))
    >>> g.dq.shape, g.dlogits[0].tolist(), g.dv[:, 0].tolist()
    ((2, 2), [0.0, 0.0], [1.3302384614944458, 0.6697615385055542])
    """

    steps: AttentionSteps        # the forward pass
    d_output: np.ndarray         # (..., Tq, dv)
    dweights: np.ndarray         # (..., Tq, Tk) dL/d weights (after safe / multiply_weights)
    dmasked_logits: np.ndarray   # (..., Tq, Tk)
    dlogits: np.ndarray          # (..., Tq, Tk)
    dq: np.ndarray               # (..., Tq, d)
    dk: np.ndarray               # (..., Tk, d)
    dv: np.ndarray               # (..., Tk, dv)
    dbias: np.ndarray | None = None   # (bias shape) dL/dbias, when a bias was added: dlogits summed to its shape

    def takeaway(self, labels=None) -> str:
        """One sentence about the masked cells' gradient, with its numbers.

        >>> g = attention_grads(np.eye(3), np.eye(3), np.eye(3), [[0, 0, 1]] * 3, d_output=np.ones((3, 3)))
        >>> g.takeaway()
        'All 3 masked cells of dL/dlogits in rows that keep a key are exactly 0 in float32, and key 2, which no query may see, gets dL/dK and dL/dV rows of exactly 0: training never updates it.'
        """
        s = self.steps
        blocked = s.mask == 1
        dl, dq, dk, dv = (_f64(a) for a in (self.dlogits, self.dq, self.dk, self.dv))
        nan_weights = np.isnan(_f64(s.weights)).any(axis=-1)        # (..., Tq)
        if np.isnan(dl).any() or np.isnan(dv).any():
            rows = lambda a: int(np.isnan(a).any(axis=-1).sum())
            first = tuple(int(i) for i in np.argwhere(nan_weights)[0]) if nan_weights.any() else None
            source = (f"the weights of {_name(labels, first)} are NaN because {_nan_reason(s, first)}"
                      if first is not None else "a NaN reached the gradient")
            return (f"NaN: {source}; it spreads to {rows(dl)} of {dl[..., 0].size} rows of dL/dlogits, "
                    f"{rows(dq)} of dL/dQ, {rows(dk)} of dL/dK and {rows(dv)} of dL/dV.")
        partly = blocked & ~blocked.all(axis=-1, keepdims=True)     # masked cells of rows that keep a key
        if not blocked.any():
            return "No key is masked, so every cell of dL/dlogits can be non-zero."
        if not partly.any():
            return (f"Every row is fully masked: its softmax still depends on the masked scores, so dL/dlogits "
                    f"reaches up to {spell(np.max(np.abs(dl)), digits=3)} ({s.method}, {s.dtype}).")
        worst = np.max(np.abs(np.where(partly, dl, 0)))
        n = int(partly.sum())
        if worst > 0:
            r = tuple(int(i) for i in np.argwhere(np.abs(np.where(partly, dl, 0)) == worst)[0])
            why = ("the mask is applied after softmax, so the masked logits still shape its sum"
                   if s.method == "multiply_weights" else "the masked keys keep weight, so training still pushes on them")
            return (f"The masked cells of dL/dlogits are not 0: up to {spell(worst, digits=3)} at {_name(labels, r[:-1])}, "
                    f"key {labels[r[-1]] if labels is not None else r[-1]}; {why}.")
        unseen = np.flatnonzero(blocked.reshape(-1, *blocked.shape[-2:]).all(axis=(0, 1)))  # keys no query sees
        start = f"All {n} masked cells of dL/dlogits in rows that keep a key are exactly 0 in {s.dtype}"
        if not unseen.size:
            return start + " (a weight of exactly 0 times any gradient is 0): training never pushes on a masked score."
        keys, one = _names(labels, unseen, "key"), unseen.size == 1
        moved = {name: float(np.max(np.abs(g[..., unseen, :]))) for name, g in (("dL/dK", dk), ("dL/dV", dv))}
        if not any(moved.values()):
            return (f"{start}, and {keys}, which no query may see, {'gets' if one else 'get'} dL/dK and dL/dV rows "
                    f"of exactly 0: training never updates {'it' if one else 'them'}.")
        full = blocked.all(axis=-1) & (np.abs(_f64(s.weights)).sum(axis=-1) > 0)   # (..., Tq) rows with weight
        why = ((f"the fully masked {_names(labels, np.flatnonzero(full), 'row')}" if full.ndim == 1
                else f"{count(int(full.sum()), 'row')} with every key masked")
               + " still put weight on them" if full.any() else "masked keys keep weight with this method")
        grads = " and ".join(f"{name} up to {spell(x, digits=3)}" for name, x in moved.items() if x)
        return f"{start}, but {keys}, which no query may see, still {'gets' if one else 'get'} {grads}: {why}."


def _sum_to_shape(g: np.ndarray, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """Sum a gradient over the axes its input was broadcast along, back to ``shape``."""
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    if not axes:
        return g
    return nx.row_sum(g, dtype, axis=axes).reshape(shape)


def attention_grads(q, k, v, mask=None, *, d_output, mask_value=DEFAULT_MASK_VALUE, dtype="float32",
                    method="add", scale=True, bias=None) -> AttentionGrads:
    """The backward pass of ``attention_steps``, derived by hand, every step rounded in ``dtype``.

    L = sum(output * d_output). From the output back:

    - ``dv = wᵀ @ d_output`` and ``dw = d_output @ vᵀ``; ``multiply_weights`` multiplied
      after softmax, so its ``dw`` is multiplied by ``1 - mask``;
    - the softmax Jacobian ``dz = w ⊙ (g − Σ_j w g)`` (``numerics.softmax_backward``) with
      ``w`` the softmax's own output; for ``safe`` that is 0 on fully masked rows (a
      constant), so they get 0, as PyTorch's ``_safe_softmax`` backward does;
    - the mask: for ``add`` the mask term is a constant, so ``dlogits = dz``; for ``fill``,
      ``safe`` and ``zero_logits`` ``where()`` picked a constant at blocked cells, so they get 0
      (``attend_all``: except in rows that see no key, which keep every score);
    - a ``bias`` was added to the logits, so ``dbias = dlogits`` summed back to the bias's shape;
    - ``dq = dlogits @ k / √d`` and ``dk = dlogitsᵀ @ q / √d``.

    NaN propagates as in PyTorch autograd.

    >>> g = attention_grads([[1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]], [[1.0], [2.0]], [[0.0, 1.0]],
    ...                     d_output=[[1.0]])
    >>> g.dlogits.tolist(), g.dv.tolist(), g.dk.tolist()
    ([[0.0, 0.0]], [[1.0], [0.0]], [[0.0, 0.0], [0.0, 0.0]])
    >>> attention_grads([[1.0, 0.0]], [[1.0, 0.0]], [[1.0]], d_output=[[1.0, 2.0]])
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: d_output must have the output's shape (1, 1), got shape (1, 2)
    """
    steps = attention_steps(q, k, v, mask, mask_value=mask_value, dtype=dtype, method=method, scale=scale, bias=bias)
    dtype, dt = steps.dtype, nx.resolve_dtype(steps.dtype)
    q, k, v = (nx.cast(x, dtype) for x in (q, k, v))                # as the forward pass saw them
    d_out = nx.cast(nx.as_array(d_output, "d_output"), dtype)
    if d_out.shape != steps.output.shape:
        raise MaskAttnError(f"d_output must have the output's shape {steps.output.shape}, got shape {d_out.shape}")
    T = lambda x: np.swapaxes(x, -1, -2)
    blocked = steps.mask == 1                                       # (..., Tq, Tk)
    zero = dt.type(0)

    dv = nx.matmul(T(steps.weights), d_out, dtype)                  # (..., Tk, dv)
    dweights = nx.matmul(d_out, T(v), dtype)                        # (..., Tq, Tk)
    if method == "multiply_weights":   # weights = softmax(z) * (1 - mask)
        g = nx.multiply(dweights, nx.subtract(1.0, steps.mask, dtype), dtype)
        w = nx.divide(steps.exps, steps.row_sum, dtype)             # (..., Tq, Tk) the softmax's own output
    else:  # safe: the safe softmax's output is a constant 0 on fully masked rows, so w = 0 there
        g, w = dweights, steps.weights                              # (PyTorch's SafeSoftmaxBackward too)
    dmasked = nx.softmax_backward(w, g, dtype)                      # (..., Tq, Tk) w ⊙ (g − Σ w g)
    if method in ("fill", "safe", "zero_logits", "attend_all"):
        if method == "attend_all":                                  # rows that see no key kept every score
            blocked = blocked & ~blocked.all(axis=-1, keepdims=True)
        dlogits = np.where(blocked, zero, dmasked).astype(dt)       # where() picked a constant there
    else:
        dlogits = dmasked                                           # add: d(logits + constant) = 1
    draw = dlogits
    if scale:
        sqrt_d = nx.sqrt_depth(q.shape[-1], dtype)                  # the forward pass's √d
        draw = nx.divide(dlogits, sqrt_d, dtype)                    # (..., Tq, Tk)
    dq = nx.matmul(draw, k, dtype)                                  # (..., Tq, d)
    dk = nx.matmul(T(draw), q, dtype)                               # (..., Tk, d)
    dbias = None if bias is None else _sum_to_shape(dlogits, np.shape(bias), dtype)
    return AttentionGrads(steps, d_out, dweights, dmasked, dlogits,
                          _sum_to_shape(dq, q.shape, dtype), _sum_to_shape(dk, k.shape, dtype),
                          _sum_to_shape(dv, v.shape, dtype), dbias)
