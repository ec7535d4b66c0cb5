"""Scaled dot-product attention with a mask, every intermediate kept.

Shapes (see the package docstring): ``q (..., Tq, d)``, ``k (..., Tk, d)``,
``v (..., Tk, dv)``, ``mask`` broadcastable to ``(..., Tq, Tk)`` with
1.0 = blocked. Leading batch/head axes broadcast.

The tutorial's own example (TensorFlow Transformer tutorial, float32):

>>> import numpy as np
>>> temp_k = np.array([[10, 0, 0], [0, 10, 0], [0, 0, 10], [0, 0, 10]], dtype=np.float32)
>>> temp_v = np.array([[1, 0], [10, 0], [100, 5], [1000, 6]], dtype=np.float32)
>>> out, w = scaled_dot_product_attention(np.array([[0, 10, 0]], dtype=np.float32), temp_k, temp_v)
>>> w.round(6).tolist(), out.round(6).tolist()   # the tutorial prints with suppress=True
([[0.0, 1.0, 0.0, 0.0]], [[10.0, 0.0]])
>>> float(w[0, 0])                                 # exp(-57.735) is tiny, not 0
8.43327375013689e-26
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np

from . import numerics as nx
from .errors import MaskAttnError
from .masks.basic import binary_mask

#: how a mask reaches the logits. The last two are common mistakes, kept to show why.
METHODS: dict[str, str] = {
    "add": "logits + mask * mask_value (TF tutorial, Keras 2, GPT-2)",
    "fill": "where(mask == 1, mask_value, logits) (Annotated Transformer masked_fill, Flax)",
    "safe": "fill, then fully masked rows get weight 0 (PyTorch SDPA _safe_softmax, Keras 3 Softmax(mask))",
    "attend_all": "fill, but rows that see no key see every key (Hugging Face's SDPA path before transformers 5: "
                  "_unmask_unattended)",
    "multiply_weights": "mistake: softmax(logits) * (1 - mask); rows no longer sum to 1",
    "zero_logits": "mistake: logits * (1 - mask); exp(0) = 1 still gets weight",
}

#: the tutorial's constant, "close to negative infinity"
DEFAULT_MASK_VALUE = -1e9


@dataclass(frozen=True)
class AttentionSteps:
    """Every stage of masked attention, each array in ``dtype``.

    ``mask`` is the mask broadcast to the logits' shape, in ``dtype`` (all zeros
    when no mask was given). ``mask_term`` is what the method puts in: for
    ``add`` the product ``mask * mask_value``; for the fill methods ``mask_value``
    where blocked and 0 elsewhere. With no mask at all (``has_mask`` False) there
    is no mask term, as in the tutorial's ``if mask is not None``: ``mask_term`` is
    all zeros and ``masked_logits`` equals ``logits``, whatever the constant.
    """

    logits: np.ndarray         # (..., Tq, Tk) q·kᵀ / √d (the bias not yet added)
    mask: np.ndarray           # (..., Tq, Tk) 1 = blocked
    mask_term: np.ndarray      # (..., Tq, Tk)
    masked_logits: np.ndarray  # (..., Tq, Tk) what softmax sees
    row_max: np.ndarray        # (..., Tq, 1)
    shifted: np.ndarray        # (..., Tq, Tk) masked_logits - row_max
    exps: np.ndarray           # (..., Tq, Tk)
    row_sum: np.ndarray        # (..., Tq, 1)
    weights: np.ndarray        # (..., Tq, Tk) attention weights
    output: np.ndarray         # (..., Tq, dv) weights @ v
    dtype: str
    method: str
    mask_value: float          # the constant after rounding to dtype (may be ±inf)
    has_mask: bool = True      # False: no mask was given, so no mask term was added
    bias: np.ndarray | None = None   # (..., Tq, Tk) the additive bias in dtype, added before the mask; None: none

    @property
    def biased_logits(self) -> np.ndarray:
        """(..., Tq, Tk) the logits with the bias added (the logits themselves when there is no bias)."""
        return self.logits if self.bias is None else nx.add(self.logits, self.bias, self.dtype)


def _check_bias(bias, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """``bias`` broadcast to the logits' ``shape`` in ``dtype``, or ``MaskAttnError`` naming the problem."""
    bias = nx.as_array(bias, "bias")
    if bias.dtype.kind not in "fiu":
        raise MaskAttnError(f"bias must be numbers, got dtype {bias.dtype}")
    if np.isnan(bias.astype(np.float64)).any():
        raise MaskAttnError("bias must not hold NaN (−inf is a mask, +inf is refused too)")
    if np.isposinf(bias.astype(np.float64)).any():
        raise MaskAttnError("bias must not hold +inf: softmax would give NaN (inf − inf); −inf is allowed, it masks")
    try:
        return np.broadcast_to(nx.cast(bias, dtype), shape).copy()
    except ValueError:
        raise MaskAttnError(f"bias of shape {bias.shape} does not broadcast to logits of shape {shape}") from None


def _check_inputs(q, k, v, mask, mask_value, dtype, method):
    dtype = nx.dtype_name(dtype)
    if method not in METHODS:
        raise MaskAttnError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    try:
        mask_value = float(mask_value)
    except (TypeError, ValueError):
        raise MaskAttnError(f"mask_value must be a number, got {mask_value!r}") from None
    if math.isnan(mask_value):
        raise MaskAttnError(f"mask_value must not be NaN, got {mask_value!r}")
    arrays = []
    for name, x in (("q", q), ("k", k), ("v", v)):
        x = nx.as_array(x, name)
        if x.ndim < 2:
            raise MaskAttnError(f"{name} must have shape (..., T, depth), got shape {x.shape}")
        arrays.append(x)
    q, k, v = arrays
    if q.shape[-1] != k.shape[-1]:
        raise MaskAttnError(f"q and k must share their depth d: q {q.shape}, k {k.shape}")
    if k.shape[-2] != v.shape[-2]:
        raise MaskAttnError(f"k and v must have the same number of keys Tk: k {k.shape}, v {v.shape}")
    if k.shape[-2] == 0:
        raise MaskAttnError(f"attention needs at least one key, got k of shape {k.shape}")
    try:
        np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise MaskAttnError(f"batch/head axes of q {q.shape}, k {k.shape}, v {v.shape} do not broadcast") from None
    if mask is not None:
        mask = binary_mask(mask, "mask", hint="; convert other conventions with maskattn.conventions first")
    return q, k, v, mask, mask_value, dtype


def attention_steps(q, k, v, mask=None, *, mask_value=DEFAULT_MASK_VALUE, dtype="float32",
                    method="add", scale=True, bias=None) -> AttentionSteps:
    """Masked scaled dot-product attention with every intermediate, in ``dtype``.

    Faithful numerics: inputs are rounded to ``dtype``; ``q @ kᵀ`` accumulates in
    float32 (float64 for float64) and is rounded; ``mask_value`` is rounded to
    ``dtype`` first (``-1e9`` is ``-inf`` in float16); for ``add`` the product
    ``mask * mask_value`` is taken in ``dtype`` (``0 * -inf = NaN``); softmax is
    the stable max-subtracted form with each step rounded (``numerics.softmax_steps``).
    ``scale=False`` skips the division by √d. ``bias`` (broadcastable to ``(..., Tq, Tk)``) is
    rounded to ``dtype`` and added to the scaled logits before the mask term (ALiBi, T5, JAX's
    ``bias``, a float ``attn_mask``); a bias of −inf blocks its key like a mask.

    >>> s = attention_steps([[1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]], [[1.0], [2.0]],
    ...                     mask=[[0.0, 1.0]], scale=False)
    >>> s.logits.tolist(), s.masked_logits.tolist(), s.weights.tolist()
    ([[1.0, 0.0]], [[1.0, -1000000000.0]], [[1.0, 0.0]])
    >>> attention_steps([[1.0]], [[1.0]], [[1.0]], mask=[[1.0]], dtype="float16").weights.tolist()
    [[nan]]

    With no mask there is no mask term, so float16's ``0 * -inf`` never happens; a mask of
    zeros is a mask, and its term is NaN:

    >>> attention_steps([[1.0]], [[1.0]], [[1.0]], dtype="float16").weights.tolist()
    [[1.0]]
    >>> attention_steps([[1.0]], [[1.0]], [[1.0]], mask=[[0.0]], dtype="float16").weights.tolist()
    [[nan]]

    A bias of −inf is a mask; a finite one only tilts the weights:

    >>> attention_steps([[0.0]], [[0.0], [0.0]], [[1.0], [2.0]], bias=[[0.0, -np.inf]]).weights.tolist()
    [[1.0, 0.0]]
    >>> attention_steps([[0.0]], [[0.0], [0.0]], [[1.0], [2.0]], bias=[[0.0, -np.log(3)]]).weights.round(6).tolist()
    [[0.75, 0.25]]
    """
    q, k, v, mask, mask_value, dtype = _check_inputs(q, k, v, mask, mask_value, dtype, method)
    has_mask = mask is not None
    dt = nx.resolve_dtype(dtype)
    q, k, v = nx.cast(q, dtype), nx.cast(k, dtype), nx.cast(v, dtype)
    depth = q.shape[-1]

    logits = nx.matmul(q, np.swapaxes(k, -1, -2), dtype)           # (..., Tq, Tk)
    if scale:
        sqrt_d = nx.sqrt_depth(depth, dtype)                        # √d: float32 like tf.sqrt; float64 in float64
        logits = nx.divide(logits, sqrt_d, dtype)                   # (..., Tq, Tk)

    if mask is None:
        mask = np.zeros(logits.shape, dtype=dt)                     # (..., Tq, Tk)
    else:
        try:
            logits, mask = np.broadcast_arrays(logits, nx.cast(mask, dtype))
        except ValueError:
            raise MaskAttnError(
                f"mask of shape {mask.shape} does not broadcast to logits of shape {logits.shape}"
            ) from None
        logits, mask = logits.copy(), mask.copy()
    bias = None if bias is None else _check_bias(bias, logits.shape, dtype)     # (..., Tq, Tk), broadcast like the mask
    constant = nx.cast(mask_value, dtype)                           # -1e9 -> -inf in float16
    blocked = mask == 1
    scores = logits if bias is None else nx.add(logits, bias, dtype)   # (..., Tq, Tk) what the mask is applied to

    all_blocked = np.all(blocked, axis=-1, keepdims=True)            # (..., Tq, 1) rows that see no key
    if method == "attend_all":                                      # such rows see every key instead
        blocked = blocked & ~all_blocked
    if not has_mask:                                                # the tutorial's `if mask is not None`
        mask_term = np.zeros_like(logits)
        masked_logits = scores
    elif method == "add":
        mask_term = nx.multiply(mask, constant, dtype)              # 0 * -inf = NaN
        masked_logits = nx.add(scores, mask_term, dtype)
    elif method in ("fill", "safe", "attend_all"):
        mask_term = np.where(blocked, constant, dt.type(0)).astype(dt)
        masked_logits = np.where(blocked, constant, scores).astype(dt)
    elif method == "zero_logits":
        mask_term = np.zeros_like(logits)
        masked_logits = np.where(blocked, dt.type(0), scores).astype(dt)
    else:  # multiply_weights: the mask is applied after softmax
        mask_term = np.zeros_like(logits)
        masked_logits = scores

    sm = nx.softmax_steps(masked_logits, dtype)
    weights = sm.weights
    if method == "safe":
        weights = np.where(all_blocked, dt.type(0), weights).astype(dt)
    elif method == "multiply_weights":
        weights = nx.multiply(weights, nx.subtract(1.0, mask, dtype), dtype)

    output = nx.matmul(weights, v, dtype)                           # (..., Tq, dv)
    return AttentionSteps(
        logits=logits, mask=mask, mask_term=mask_term, masked_logits=masked_logits,
        row_max=sm.row_max, shifted=sm.shifted, exps=sm.exps, row_sum=sm.row_sum,
        weights=weights, output=output, dtype=dtype, method=method,
        mask_value=nx.to_float(constant), has_mask=has_mask, bias=bias,
    )


def scaled_dot_product_attention(q, k, v, mask=None, *, mask_value=DEFAULT_MASK_VALUE,
                                 dtype="float32", method="add", scale=True, bias=None):
    """The tutorial's function: returns ``(output, attention_weights)``.

    output ``(..., Tq, dv)``, attention_weights ``(..., Tq, Tk)``, both in ``dtype``.
    Same arguments as ``attention_steps``.

    >>> import numpy as np
    >>> k = np.array([[10, 0, 0], [0, 10, 0], [0, 0, 10], [0, 0, 10]], dtype=np.float32)
    >>> v = np.array([[1, 0], [10, 0], [100, 5], [1000, 6]], dtype=np.float32)
    >>> out, w = scaled_dot_product_attention([[0, 0, 10]], k, v)
    >>> w.round(6).tolist(), out.round(6).tolist()
    ([[0.0, 0.0, 0.5, 0.5]], [[550.0, 5.5]])
    """
    steps = attention_steps(q, k, v, mask, mask_value=mask_value, dtype=dtype,
                            method=method, scale=scale, bias=bias)
    return steps.output, steps.weights


def leaked_mass(weights, mask) -> np.ndarray:
    """Total weight on blocked keys, per query row: ``(..., Tq, Tk) -> (..., Tq)``.

    Summed exactly (in float64) from the weights as computed; NaN where the row
    has a NaN weight. 0.0 means the mask did its job.

    >>> leaked_mass([[0.25, 0.75], [0.5, 0.5]], [[0.0, 1.0], [0.0, 0.0]]).tolist()
    [0.75, 0.0]
    >>> leaked_mass([[float("nan"), 1.0]], [[0.0, 1.0]]).tolist()
    [nan]
    """
    w = nx.as_array(weights, "weights").astype(np.float64)
    m = nx.as_array(mask, "mask")
    if w.ndim == 0:
        raise MaskAttnError(f"weights must have shape (..., Tq, Tk), got a scalar {w!r}")
    try:
        w, m = np.broadcast_arrays(w, m)
    except ValueError:
        raise MaskAttnError(f"weights {w.shape} and mask {m.shape} do not broadcast") from None
    leaked = np.sum(np.where(m == 1, w, 0.0), axis=-1)             # (..., Tq)
    return np.where(np.isnan(w).any(axis=-1), np.nan, leaked)
