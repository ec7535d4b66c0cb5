"""One mask, every framework's convention: converters, the conventions table, polarity checks.

The core keeps the TensorFlow tutorial's convention (float, 1.0 = blocked, two
masks combine with ``maximum``). Every other API gets the same mask converted
at the edge, here. Polarity is the trap: in the tutorial and in PyTorch's
``nn.MultiheadAttention`` 1/True means *blocked*; in Keras, PyTorch's
``scaled_dot_product_attention``, Hugging Face and JAX it means *attend*.

>>> import numpy as np
>>> tutorial = np.array([[0.0, 1.0], [0.0, 0.0]], np.float32)    # (Tq, Tk) 1 = blocked
>>> to_sdpa_bool(tutorial).tolist()                               # True = attend
[[True, False], [True, True]]
>>> to_mha_attn_mask(tutorial).tolist()                           # True = blocked
[[False, True], [False, False]]
>>> from_attend_bool(to_sdpa_bool(tutorial)).tolist() == tutorial.tolist()
True

Axis names as in the package docstring: ``B`` batch, ``H`` heads, ``Tq`` queries,
``Tk`` keys, ``d`` depth. Shapes and dtypes are those each framework documents.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np

from . import numerics as nx
from .attention import AttentionSteps, attention_steps
from .errors import MaskAttnError
from .explain import classify_row
from .masks import create_causal_mask, fully_masked_rows

#: what a 1 / True in a mask means to an API
BLOCKED, ATTEND, ADDED = "blocked", "attend", "added"
#: JAX / Keras 3 fused attention fill masked logits with this fraction of finfo(dtype).max
JAX_NEGATIVE_FRACTION = 0.7


# ------------------------------------------------------------------------------------------------
# the conventions, as data
# ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Convention:
    """How one API expects an attention mask (a row of the conventions table)."""

    key: str            # identifier used by the converters and the code generator
    api: str            # the call that receives the mask
    one_means: str      # BLOCKED, ATTEND or ADDED (a float mask that is added to the logits)
    dtype: str          # the mask's dtype as the API wants it
    shape: str          # the shape the API documents
    constant: str       # what a blocked logit becomes
    applied_by: str     # how the mask reaches the logits
    combine: str        # how a padding mask and a causal mask are combined
    fully_masked: str   # what a query row with every key blocked gives
    source: str         # where this is stated (see NUMERICS.md, Sources)


CONVENTIONS: tuple[Convention, ...] = (
    Convention("tf_tutorial", "TF tutorial scaled_dot_product_attention(q, k, v, mask)", BLOCKED,
               "float32 (1.0 / 0.0)", "padding (B, 1, 1, Tk); look-ahead (Tq, Tk)", "−1e9",
               "logits += mask * -1e9", "tf.maximum(padding, look_ahead)",
               "float32: uniform or nearly one-hot; float64: the unmasked softmax; float16: NaN",
               "tensorflow/text docs/tutorials/transformer.ipynb"),
    Convention("keras", "keras.layers.MultiHeadAttention(attention_mask=...)", ATTEND,
               "bool", "(B, Tq, Tk)", "Keras 2: −1e9 added; Keras 3: where(mask, logits, −1e9)",
               "Softmax(mask=): add (Keras 2) / where (Keras 3)", "logical AND (&)",
               "Keras 3: uniform (fused path) or zeros (return_attention_scores=True)",
               "keras-team/keras keras/src/layers/activations/softmax.py"),
    Convention("pytorch_sdpa_bool", "torch.nn.functional.scaled_dot_product_attention(attn_mask=bool)", ATTEND,
               "torch.bool", "broadcastable to (B, H, Tq, Tk)", "−inf",
               "where(mask, logits, −inf), then _safe_softmax", "logical AND (&)",
               "zeros (_safe_softmax, PyTorch ≥ 2.5)",
               "pytorch/pytorch torch/nn/functional.py; PR #131060, #133882"),
    Convention("pytorch_sdpa_float", "torch.nn.functional.scaled_dot_product_attention(attn_mask=float)", ADDED,
               "same float dtype as q", "broadcastable to (B, H, Tq, Tk)", "whatever you put in (−inf, −1e9, finfo.min)",
               "logits + attn_mask", "sum (add the −inf masks)",
               "−inf everywhere: zeros; a finite constant: as the additive tutorial mask",
               "pytorch/pytorch torch/nn/functional.py (SDPA docstring)"),
    Convention("pytorch_mha", "torch.nn.MultiheadAttention(attn_mask=..., key_padding_mask=...)", BLOCKED,
               "torch.bool", "attn_mask (Tq, Tk) or (B·H, Tq, Tk); key_padding_mask (B, Tk)", "−inf",
               "bool → −inf, added to the logits", "sum of the −inf masks (merged inside the layer)",
               "NaN (plain softmax of an all −inf row, need_weights=True)",
               "pytorch/pytorch torch/nn/functional.py multi_head_attention_forward; issues #41508, #103749"),
    Convention("hf_2d", "Hugging Face model(input_ids, attention_mask=...)", ATTEND,
               "int64 (1 / 0)", "(B, Tk)", "torch.finfo(dtype).min",
               "expanded to the 4-D additive form below", "and_masks (causal & padding)",
               "uniform average of V (eager, finfo.min)",
               "huggingface/transformers masking_utils.py; PR #17306"),
    Convention("hf_4d", "Hugging Face 4-D attention mask (inside the model)", ADDED,
               "same float dtype as the model", "(B, 1, Tq, Tk)", "torch.finfo(dtype).min",
               "where (v5) / masked_fill (v4): 0 = attend, finfo.min = blocked",
               "blocked anywhere → finfo.min (never summed: min + min = −inf)",
               "uniform average of V", "huggingface/transformers masking_utils.py; PR #17306"),
    Convention("jax", "jax.nn.dot_product_attention(mask=...), Flax", ATTEND,
               "bool", "broadcastable to (B, H, Tq, Tk)", "−0.7·finfo.max (JAX) / finfo.min (Flax)",
               "where(mask, logits, large_negative)", "jnp.logical_and (flax combine_masks)",
               "uniform average of V",
               "jax-ml/jax jax/_src/nn/functions.py; google/flax flax/linen/attention.py"),
)
CONVENTION_KEYS: tuple[str, ...] = tuple(c.key for c in CONVENTIONS)


def convention(key: str) -> Convention:
    """The ``Convention`` for ``key`` (one of ``CONVENTION_KEYS``).

    >>> convention("pytorch_mha").one_means
    'blocked'
    """
    for c in CONVENTIONS:
        if c.key == key:
            return c
    raise MaskAttnError(f"convention must be one of {', '.join(CONVENTION_KEYS)}, got {key!r}")


def conventions_table() -> list[dict[str, str]]:
    """The table the Conventions page renders: one record per API.

    >>> [row["1 / True means"] for row in conventions_table()][:3]
    ['blocked', 'attend', 'attend']
    """
    return [{"API": c.api, "1 / True means": c.one_means, "dtype": c.dtype, "shape": c.shape,
             "blocked logit becomes": c.constant, "applied by": c.applied_by, "masks combine with": c.combine,
             "fully masked row": c.fully_masked, "source": c.source} for c in CONVENTIONS]


# ------------------------------------------------------------------------------------------------
# converters: tutorial mask (1.0 = blocked) <-> each API's form
# ------------------------------------------------------------------------------------------------

def _tutorial(mask, name: str = "mask") -> np.ndarray:
    """A tutorial-convention mask as float32, checked to hold only 0 and 1."""
    arr = np.asarray(mask)
    if arr.dtype == bool:
        arr = arr.astype(np.float32)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise MaskAttnError(f"{name} must be a numeric 0/1 array, got dtype {arr.dtype}")
    bad = arr[(arr != 0) & (arr != 1)]
    if bad.size:
        raise MaskAttnError(f"{name} must hold only 0 (attend) and 1 (blocked), got {float(bad.flat[0])!r}")
    return arr.astype(np.float32)


def _bool(mask, name: str = "mask") -> np.ndarray:
    arr = np.asarray(mask)
    if arr.dtype == bool:
        return arr
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise MaskAttnError(f"{name} must be a bool or 0/1 array, got dtype {arr.dtype}")
    bad = arr[(arr != 0) & (arr != 1)]
    if bad.size:
        raise MaskAttnError(f"{name} must hold only 0/1 or True/False, got {float(bad.flat[0])!r}")
    return arr != 0


def to_attend_bool(mask) -> np.ndarray:
    """Tutorial mask -> bool, True = may attend (Keras, PyTorch SDPA, JAX/Flax). Same shape.

    >>> to_attend_bool([[0.0, 1.0]]).tolist()
    [[True, False]]
    """
    return _tutorial(mask) == 0


def from_attend_bool(mask) -> np.ndarray:
    """Bool (or 0/1) with True = attend -> tutorial float32 mask, 1.0 = blocked. Same shape.

    >>> from_attend_bool([[True, False]]).tolist()
    [[0.0, 1.0]]
    """
    return (~_bool(mask)).astype(np.float32)


def to_blocked_bool(mask) -> np.ndarray:
    """Tutorial mask -> bool, True = blocked (``nn.MultiheadAttention``). Same shape.

    >>> to_blocked_bool([[0.0, 1.0]]).tolist()
    [[False, True]]
    """
    return _tutorial(mask) == 1


def from_blocked_bool(mask) -> np.ndarray:
    """Bool (or 0/1) with True = blocked -> tutorial float32 mask. Same shape.

    >>> from_blocked_bool([[False, True]]).tolist()
    [[0.0, 1.0]]
    """
    return _bool(mask).astype(np.float32)


def to_sdpa_bool(mask) -> np.ndarray:
    """PyTorch ``F.scaled_dot_product_attention(attn_mask=...)`` bool form: True = attend.

    Shape unchanged; SDPA broadcasts it to ``(B, H, Tq, Tk)``, so the tutorial's
    ``(B, 1, 1, Tk)`` padding mask and ``(Tq, Tk)`` look-ahead mask both work.

    >>> to_sdpa_bool([[[[0.0, 0.0, 1.0]]]]).shape
    (1, 1, 1, 3)
    """
    return to_attend_bool(mask)


def to_additive(mask, dtype="float32", constant: float = -math.inf) -> np.ndarray:
    """Tutorial mask -> additive float mask in ``dtype``: ``constant`` where blocked, 0 elsewhere.

    This is SDPA's float ``attn_mask`` (``constant=-inf``) and Hugging Face's 4-D
    mask (``constant=finfo(dtype).min``). It is built with ``where``, never as
    ``mask * constant`` (``0 * -inf`` is NaN). Same shape as ``mask``.

    >>> to_additive([[0.0, 1.0]]).tolist()
    [[0.0, -inf]]
    >>> to_additive([[1.0, 0.0]], "float16", constant=-1e9).tolist()   # -1e9 is -inf in float16
    [[-inf, 0.0]]
    """
    blocked = _tutorial(mask) == 1
    dt = nx.resolve_dtype(dtype)
    value = nx.cast(constant, dtype)
    if np.isnan(value.astype(np.float64)) or float(value.astype(np.float64)) > 0:
        raise MaskAttnError(f"the additive constant must be negative or -inf, got {constant!r}")
    return np.where(blocked, value, dt.type(0)).astype(dt)


def from_additive(bias) -> np.ndarray:
    """Additive float mask (0 = attend, negative or -inf = blocked) -> tutorial mask.

    >>> from_additive([[0.0, float("-inf"), -3.4e38]]).tolist()
    [[0.0, 1.0, 1.0]]
    """
    arr = np.asarray(bias)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype.kind == "V"):
        raise MaskAttnError(f"an additive mask must be a float array, got dtype {arr.dtype}")
    wide = arr.astype(np.float64)
    bad = wide[np.isnan(wide) | (wide > 0)]
    if bad.size:
        raise MaskAttnError(f"an additive mask holds 0 and negative numbers, got {float(bad.flat[0])!r}")
    return (wide < 0).astype(np.float32)


def to_sdpa_float(mask, dtype="float32") -> np.ndarray:
    """PyTorch SDPA's float ``attn_mask``: 0 where allowed, -inf where blocked (added to the logits).

    >>> to_sdpa_float([[0.0, 1.0]], "bfloat16").tolist()
    [[0.0, -inf]]
    """
    return to_additive(mask, dtype, -math.inf)


def to_mha_attn_mask(mask) -> np.ndarray:
    """``nn.MultiheadAttention(attn_mask=...)``: bool, True = blocked, shape ``(Tq, Tk)`` or ``(B·H, Tq, Tk)``.

    Accepts the tutorial's ``(Tq, Tk)`` or a ``(B, H, Tq, Tk)`` mask (flattened to
    ``(B·H, Tq, Tk)`` as the layer wants).

    >>> to_mha_attn_mask(np.zeros((2, 1, 3, 3))).shape
    (2, 3, 3)
    """
    arr = _tutorial(mask)
    if arr.ndim == 2:
        return arr == 1
    if arr.ndim == 4:
        B, H, Tq, Tk = arr.shape
        return (arr == 1).reshape(B * H, Tq, Tk)        # (B·H, Tq, Tk)
    raise MaskAttnError(f"attn_mask needs a (Tq, Tk) or (B, H, Tq, Tk) mask, got shape {arr.shape}")


def to_mha_key_padding_mask(padding_mask) -> np.ndarray:
    """The tutorial's ``(B, 1, 1, Tk)`` padding mask -> ``key_padding_mask (B, Tk)``, True = pad (blocked).

    >>> to_mha_key_padding_mask([[[[0.0, 0.0, 1.0]]]]).tolist()
    [[False, False, True]]
    """
    arr = _squeeze_padding(padding_mask)
    return arr == 1                                      # (B, Tk)


def _squeeze_padding(padding_mask) -> np.ndarray:
    arr = _tutorial(padding_mask, "padding_mask")
    if arr.ndim == 4 and arr.shape[1] == 1 and arr.shape[2] == 1:
        return arr[:, 0, 0, :]                           # (B, Tk)
    if arr.ndim == 2:
        return arr
    raise MaskAttnError(f"a padding mask has shape (B, 1, 1, Tk) or (B, Tk), got shape {arr.shape}")


def to_hf_attention_mask(padding_mask) -> np.ndarray:
    """The tutorial's padding mask ``(B, 1, 1, Tk)`` -> Hugging Face ``attention_mask (B, Tk)`` int64, 1 = attend.

    >>> to_hf_attention_mask([[[[0.0, 0.0, 1.0]]]]).tolist()
    [[1, 1, 0]]
    """
    return (_squeeze_padding(padding_mask) == 0).astype(np.int64)   # (B, Tk)


def from_hf_attention_mask(attention_mask) -> np.ndarray:
    """Hugging Face ``attention_mask (B, Tk)`` (1 = attend) -> the tutorial's ``(B, 1, 1, Tk)`` padding mask.

    >>> from_hf_attention_mask([[1, 1, 0]]).tolist()
    [[[[0.0, 0.0, 1.0]]]]
    """
    arr = _bool(attention_mask, "attention_mask")
    if arr.ndim != 2:
        raise MaskAttnError(f"attention_mask must have shape (B, Tk), got shape {arr.shape}")
    return (~arr).astype(np.float32)[:, np.newaxis, np.newaxis, :]    # (B, 1, 1, Tk)


def to_hf_4d(mask, dtype="float32", num_queries: int | None = None) -> np.ndarray:
    """The 4-D additive mask a Hugging Face model builds: ``(B, 1, Tq, Tk)``, 0 / ``finfo(dtype).min``.

    ``mask`` is any tutorial mask broadcastable to ``(B, 1, Tq, Tk)`` (e.g. padding
    and causal combined with ``maximum``, which is what HF's ``and_masks`` of the
    "attend" masks gives). A blocked cell is ``finfo.min`` once, never summed.
    ``num_queries`` is needed when ``mask`` has a query axis of 1.

    >>> to_hf_4d([[[[0.0, 1.0]]]], "float16", num_queries=2)[0, 0].tolist()
    [[0.0, -65504.0], [0.0, -65504.0]]
    """
    arr = _tutorial(mask)
    if arr.ndim == 2:
        arr = arr[np.newaxis, np.newaxis]                # (1, 1, Tq, Tk)
    if arr.ndim != 4:
        raise MaskAttnError(f"mask must broadcast to (B, 1, Tq, Tk), got shape {arr.shape}")
    B, _, Tq, Tk = arr.shape
    Tq = Tq if num_queries is None else num_queries
    arr = np.broadcast_to(arr, (B, 1, Tq, Tk))           # (B, 1, Tq, Tk)
    return to_additive(arr, dtype, float(nx.finfo(dtype).min))


def to_keras_attention_mask(mask, num_queries: int | None = None) -> np.ndarray:
    """Keras ``MultiHeadAttention(attention_mask=...)``: bool ``(B, Tq, Tk)``, True = attend.

    ``mask`` broadcastable to ``(B, 1, Tq, Tk)``; the head axis is dropped (Keras adds it).

    >>> to_keras_attention_mask([[[[0.0, 1.0]]]], num_queries=2).tolist()
    [[[True, False], [True, False]]]
    """
    arr = _tutorial(mask)
    if arr.ndim == 2:
        arr = arr[np.newaxis, np.newaxis]
    if arr.ndim != 4 or arr.shape[1] != 1:
        raise MaskAttnError(f"mask must broadcast to (B, 1, Tq, Tk), got shape {arr.shape}")
    B, _, Tq, Tk = arr.shape
    Tq = Tq if num_queries is None else num_queries
    return np.broadcast_to(arr[:, 0] == 0, (B, Tq, Tk)).copy()       # (B, Tq, Tk)


def to_jax_mask(mask) -> np.ndarray:
    """``jax.nn.dot_product_attention(mask=...)`` / Flax: bool, True = attend, as ``(B, 1, Tq, Tk)``.

    >>> to_jax_mask([[0.0, 1.0]]).shape
    (1, 1, 1, 2)
    """
    arr = _tutorial(mask)
    while arr.ndim < 4:
        arr = arr[np.newaxis]
    return arr == 0                                      # (B, 1, Tq, Tk)


def to_convention(mask, key: str, dtype="float32") -> np.ndarray:
    """A tutorial mask in the form ``convention(key)`` wants, keeping the mask's shape.

    Bool for the bool APIs, int64 0/1 for ``hf_2d``, additive floats in ``dtype``
    for ``pytorch_sdpa_float`` (−inf) and ``hf_4d`` (finfo.min).

    >>> [to_convention([[0.0, 1.0]], k).tolist()[0] for k in ("tf_tutorial", "keras", "pytorch_mha", "hf_2d")]
    [[0.0, 1.0], [True, False], [False, True], [1, 0]]
    """
    arr = _tutorial(mask)
    c = convention(key)
    if key == "tf_tutorial":
        return arr
    if key == "hf_2d":
        return (arr == 0).astype(np.int64)
    if key == "pytorch_sdpa_float":
        return to_sdpa_float(arr, dtype)
    if key == "hf_4d":
        return to_additive(arr, dtype, float(nx.finfo(dtype).min))
    return arr == 0 if c.one_means == ATTEND else arr == 1


def from_convention(values, key: str) -> np.ndarray:
    """The inverse of ``to_convention``: any API's mask back to the tutorial's, same shape.

    >>> from_convention([[True, False]], "jax").tolist(), from_convention([[0.0, -65504.0]], "hf_4d").tolist()
    ([[0.0, 1.0]], [[0.0, 1.0]])
    """
    c = convention(key)
    if c.one_means == ADDED:
        return from_additive(values)
    if c.one_means == ATTEND:
        return from_attend_bool(values)
    return from_blocked_bool(values)


# ------------------------------------------------------------------------------------------------
# what each API does numerically, reproduced by the core
# ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Behaviour:
    """How the core reproduces one API: an ``attention_steps`` method and constant.

    ``compute_dtype``: the type the API really computes the softmax in when it is
    not the tensors' dtype (PyTorch SDPA and JAX upcast float16 / bfloat16 to float32).
    """

    method: str
    mask_value: float
    compute_dtype: str | None = None


def api_behaviour(key: str, dtype="float32") -> Behaviour:
    """The ``attention_steps`` method and constant that reproduce API ``key`` in ``dtype``.

    >>> api_behaviour("pytorch_sdpa_bool")
    Behaviour(method='safe', mask_value=-inf, compute_dtype=None)
    >>> api_behaviour("hf_4d", "float16").mask_value
    -65504.0
    """
    convention(key)
    info = nx.finfo(dtype)
    if key == "tf_tutorial":
        return Behaviour("add", -1e9)
    if key == "keras":
        return Behaviour("fill", -1e9)
    if key in ("pytorch_sdpa_bool", "pytorch_sdpa_float"):
        return Behaviour("safe", -math.inf)
    if key == "pytorch_mha":
        return Behaviour("fill", -math.inf)
    if key in ("hf_2d", "hf_4d"):
        return Behaviour("fill", float(info.min))
    return Behaviour("fill", -JAX_NEGATIVE_FRACTION * float(info.max))   # jax


# ------------------------------------------------------------------------------------------------
# the polarity check
# ------------------------------------------------------------------------------------------------

#: the 0/1 conventions a user can write a mask in, and what 1 means in each
SOURCE_POLARITY: dict[str, str] = {
    "tf_tutorial": BLOCKED, "pytorch_mha": BLOCKED,
    "keras": ATTEND, "pytorch_sdpa_bool": ATTEND, "hf_2d": ATTEND, "jax": ATTEND,
}
#: how each target API reads a 0/1 array it is given
TARGET_READS: dict[str, str] = {
    "tf_tutorial": BLOCKED, "pytorch_mha": BLOCKED,
    "keras": ATTEND, "pytorch_sdpa_bool": ATTEND, "hf_2d": ATTEND, "jax": ATTEND,
    "pytorch_sdpa_float": ADDED,
}


@dataclass(frozen=True)
class PolarityCheck:
    """What the user meant and what the target API will do with the mask as written."""

    source: str
    target: str
    meant: np.ndarray          # (..., Tq, Tk) tutorial convention: what the user wants blocked
    seen: np.ndarray | None    # (..., Tq, Tk) what the API blocks (None when it adds the values instead)
    bias: np.ndarray | None    # (..., Tq, Tk) float: what the API adds to the logits (ADDED targets)
    ok: bool
    message: str


def check_polarity(values, source: str, target: str) -> PolarityCheck:
    """Will a 0/1 mask written in ``source``'s convention block what was meant when passed to ``target``?

    ``values``: 0/1 or bool array as the user wrote it. ``source`` is a key of
    ``SOURCE_POLARITY``, ``target`` a key of ``TARGET_READS``.

    >>> c = check_polarity([[0, 1], [0, 0]], "pytorch_sdpa_bool", "pytorch_mha")
    >>> c.ok, c.meant.tolist(), c.seen.tolist()      # it blocks exactly what you wanted to keep
    (False, [[1.0, 0.0], [1.0, 1.0]], [[0.0, 1.0], [0.0, 0.0]])
    >>> check_polarity([[1, 0]], "tf_tutorial", "pytorch_mha").ok
    True
    >>> check_polarity([[1, 0]], "keras", "pytorch_sdpa_float").ok   # a 0/1 float mask is added, not a mask
    False
    """
    if source not in SOURCE_POLARITY:
        raise MaskAttnError(f"source must be one of {', '.join(SOURCE_POLARITY)}, got {source!r}")
    if target not in TARGET_READS:
        raise MaskAttnError(f"target must be one of {', '.join(TARGET_READS)}, got {target!r}")
    ones = _bool(values, "the mask")
    meant = (ones if SOURCE_POLARITY[source] == BLOCKED else ~ones).astype(np.float32)
    reads = TARGET_READS[target]
    name = convention(target).api
    if reads == ADDED:
        bias = ones.astype(np.float32)
        message = (f"{name} adds a float mask to the logits: 0 changes nothing and 1 adds +1, so nothing is "
                   "blocked and the 1-cells are even boosted. Pass a bool tensor (True = attend) or an additive "
                   "mask with −inf where blocked.")
        return PolarityCheck(source, target, meant, None, bias, False, message)
    seen = (ones if reads == BLOCKED else ~ones).astype(np.float32)
    ok = bool(np.array_equal(seen, meant))
    src = SOURCE_POLARITY[source]
    if ok:
        message = f"Correct: both conventions read 1 / True as “{src}”, so {name} blocks what you meant."
    else:
        message = (f"Inverted: your mask uses 1 = {src}, but {name} reads 1 / True as “{reads}”. It will attend "
                   f"exactly where you meant to block. Flip it first (~mask or 1 - mask).")
    return PolarityCheck(source, target, meant, seen, None, ok, message)


def polarity_weights(check: PolarityCheck, q, k, v, *, dtype="float32", scale=True):
    """Weights ``(right, wrong)`` for ``check``: the mask as meant vs as the target API reads it.

    Both use the target API's own method and constant (``api_behaviour``); an
    ``ADDED`` target adds the 0/1 values to the logits.

    >>> q = k = [[1.0, 0.0], [0.0, 1.0]]
    >>> c = check_polarity([[1, 0], [1, 1]], "keras", "pytorch_mha")
    >>> right, wrong = polarity_weights(c, q, k, q, dtype="float64")
    >>> right[0].tolist(), wrong[0].tolist()
    ([1.0, 0.0], [0.0, 1.0])
    """
    right_api = check.target if check.target != "pytorch_sdpa_float" else "pytorch_sdpa_bool"
    b = api_behaviour(right_api, dtype)
    options = dict(dtype=dtype, scale=scale)
    right = attention_steps(q, k, v, check.meant, mask_value=b.mask_value, method=b.method, **options).weights
    if check.bias is not None:
        logits = attention_steps(q, k, v, None, **options).logits                 # (..., Tq, Tk)
        wrong = nx.softmax(nx.add(logits, check.bias, dtype), dtype)              # the float mask is added
    else:
        wrong = attention_steps(q, k, v, check.seen, mask_value=b.mask_value, method=b.method,
                                **options).weights
    return right, wrong


# ------------------------------------------------------------------------------------------------
# fully masked rows
# ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FullyMaskedCase:
    """One way a framework computes a query row whose keys are all blocked."""

    label: str            # who does it
    method: str           # attention_steps method that reproduces it
    constant: str         # "-1e9", "-inf", "finfo.min" or "-0.7*finfo.max"
    dtype: str | None     # None: the current dtype
    source: str


FULLY_MASKED_CASES: tuple[FullyMaskedCase, ...] = (
    FullyMaskedCase("TF tutorial: add mask × −1e9, float32", "add", "-1e9", "float32",
                    "tensorflow/text transformer tutorial"),
    FullyMaskedCase("the same in float64", "add", "-1e9", "float64", "NUMERICS.md, Fully masked rows"),
    FullyMaskedCase("the same in bfloat16", "add", "-1e9", "bfloat16", "NUMERICS.md, Fully masked rows"),
    FullyMaskedCase("the same in float16", "add", "-1e9", "float16", "NUMERICS.md, Fully masked rows"),
    FullyMaskedCase("Annotated Transformer masked_fill(mask == 0, −1e9)", "fill", "-1e9", None,
                    "harvardnlp/annotated-transformer the_annotated_transformer.py"),
    FullyMaskedCase("−inf + plain softmax: TF with −inf, PyTorch nn.MultiheadAttention (need_weights=True)",
                    "fill", "-inf", None, "pytorch/pytorch issues #41508, #103749"),
    FullyMaskedCase("PyTorch F.scaled_dot_product_attention, bool or −inf mask (≥ 2.5)", "safe", "-inf", None,
                    "pytorch/pytorch PR #131060, #133882 (_safe_softmax)"),
    FullyMaskedCase("Keras 3 Softmax(mask=) and MultiHeadAttention(return_attention_scores=True), "
                    "jax.nn.softmax(where=), FlashAttention", "safe", "-inf", None,
                    "keras/src/layers/activations/softmax.py; jax/_src/nn/functions.py; flash-attention softmax.h"),
    FullyMaskedCase("jax.nn.dot_product_attention, Keras 3 MultiHeadAttention fused path", "fill",
                    "-0.7*finfo.max", None, "jax-ml/jax jax/_src/nn/functions.py"),
    FullyMaskedCase("Flax, Hugging Face eager (finfo.min)", "fill", "finfo.min", None,
                    "google/flax flax/linen/attention.py; huggingface/transformers masking_utils.py"),
)


def case_constant(constant: str, dtype) -> float:
    """The number behind a ``FullyMaskedCase.constant`` name in ``dtype``.

    >>> case_constant("finfo.min", "float16"), case_constant("-inf", "float32")
    (-65504.0, -inf)
    """
    info = nx.finfo(dtype)
    values = {"-1e9": -1e9, "-inf": -math.inf, "finfo.min": float(info.min),
              "-0.7*finfo.max": -JAX_NEGATIVE_FRACTION * float(info.max)}
    if constant not in values:
        raise MaskAttnError(f"constant must be one of {', '.join(values)}, got {constant!r}")
    return values[constant]


def with_fully_masked_row(mask, row: int) -> np.ndarray:
    """A copy of a ``(Tq, Tk)`` tutorial mask with every key of ``row`` blocked.

    >>> with_fully_masked_row([[0.0, 0.0], [0.0, 0.0]], 1).tolist()
    [[0.0, 0.0], [1.0, 1.0]]
    """
    arr = _tutorial(mask).copy()
    if arr.ndim != 2:
        raise MaskAttnError(f"mask must have shape (Tq, Tk), got shape {arr.shape}")
    if not -arr.shape[0] <= row < arr.shape[0]:
        raise MaskAttnError(f"row must be below Tq = {arr.shape[0]}, got {row!r}")
    arr[row] = 1.0
    return arr


@dataclass(frozen=True)
class FullyMaskedOutcome:
    case: FullyMaskedCase
    dtype: str
    weights: np.ndarray   # (Tk,) the row's weights, computed by attention_steps
    kind: str             # one of explain.ROW_KINDS
    output: np.ndarray    # (dv,) the row's output


def fully_masked_outcomes(q, k, v, mask, row: int, *, dtype="float32", scale=True) -> list[FullyMaskedOutcome]:
    """Every ``FULLY_MASKED_CASES`` entry computed for ``row`` of the current input.

    ``mask (Tq, Tk)`` must block every key of ``row`` (see ``with_fully_masked_row``).

    >>> q, k = [[0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    >>> [o.kind for o in fully_masked_outcomes(q, k, k, [[1, 1, 1]], 0)]
    ['uniform', 'unmasked softmax', 'uniform', 'NaN', 'uniform', 'NaN', 'zeros', 'zeros', 'uniform', 'uniform']
    """
    arr = _tutorial(mask)
    if arr.ndim != 2 or not fully_masked_rows(arr)[row]:
        raise MaskAttnError(f"row {row} of the mask is not fully masked")
    outcomes = []
    for case in FULLY_MASKED_CASES:
        dt = case.dtype or nx.dtype_name(dtype)
        options = dict(dtype=dt, scale=scale)
        steps = attention_steps(q, k, v, arr, mask_value=case_constant(case.constant, dt), method=case.method,
                                **options)
        unmasked = attention_steps(q, k, v, None, **options)
        kind = classify_row(steps.weights[row], unmasked.weights[row])
        outcomes.append(FullyMaskedOutcome(case, dt, steps.weights[row], kind, steps.output[row]))
    return outcomes


# ------------------------------------------------------------------------------------------------
# causal masks when Tq != Tk: the KV-cache case
# ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CrossAttention:
    """The last ``Tq`` tokens as queries against all ``Tk`` keys, with one causal alignment."""

    align: str
    query_positions: np.ndarray   # (Tq,) positions of the queries in the sequence
    mask: np.ndarray              # (Tq, Tk) tutorial convention
    steps: AttentionSteps         # weights (Tq, Tk)


def kv_cache_attention(q, k, v, num_queries: int, *, align: str = "bottom_right", key_mask=None,
                       mask_value=-1e9, dtype="float32", method="add", scale=True) -> CrossAttention:
    """Attention of the last ``num_queries`` queries over all keys (a KV cache), causal with ``align``.

    q, k, v: ``(T, d)`` for one sequence; the queries are ``q[-Tq:]``. ``key_mask``:
    optional ``(Tk,)`` tutorial mask of padded keys, combined with the causal mask.
    ``bottom_right`` reproduces the last ``Tq`` rows of full causal attention;
    ``top_left`` (PyTorch ``is_causal``, JAX, Keras) makes query ``i`` see only keys ``j <= i``.

    >>> q = k = v = np.eye(3)
    >>> kv_cache_attention(q, k, v, 1, align="bottom_right").mask.tolist()     # the newest token sees all
    [[0.0, 0.0, 0.0]]
    >>> kv_cache_attention(q, k, v, 1, align="top_left").mask.tolist()         # it sees only the first key
    [[0.0, 1.0, 1.0]]
    """
    q, k, v = (np.asarray(x) for x in (q, k, v))
    if q.ndim != 2:
        raise MaskAttnError(f"q must have shape (T, d), got shape {q.shape}")
    T, Tk = q.shape[0], k.shape[-2]
    if isinstance(num_queries, bool) or not isinstance(num_queries, (int, np.integer)) or not 1 <= num_queries <= T:
        raise MaskAttnError(f"num_queries must be a whole number from 1 to {T}, got {num_queries!r}")
    mask = create_causal_mask(int(num_queries), Tk, align=align)          # (Tq, Tk)
    if key_mask is not None:
        km = _tutorial(key_mask, "key_mask")
        if km.shape != (Tk,):
            raise MaskAttnError(f"key_mask must have shape ({Tk},), got shape {km.shape}")
        mask = np.maximum(mask, km[np.newaxis, :])                        # (Tq, Tk)
    queries = q[T - num_queries:]                                          # (Tq, d)
    steps = attention_steps(queries, k, v, mask, mask_value=mask_value, dtype=dtype, method=method, scale=scale)
    return CrossAttention(align, np.arange(T - num_queries, T), mask, steps)


# ------------------------------------------------------------------------------------------------
# what the page shows: the objects each API receives, and a pasted mask
# ------------------------------------------------------------------------------------------------

def mask_objects(key: str, batch: int, num_queries: int, num_keys: int, *, padding: bool,
                 query_padding: bool, causal: bool, dtype="float32") -> list[str]:
    """The mask tensors API ``key`` receives for this state, with their shapes and dtypes.

    >>> mask_objects("pytorch_mha", 3, 6, 6, padding=True, query_padding=False, causal=True)
    ['key_padding_mask (B, Tk) = (3, 6) torch.bool, True = pad key', 'attn_mask (Tq, Tk) = (6, 6) torch.bool, True = future key']
    >>> mask_objects("tf_tutorial", 3, 6, 6, padding=False, query_padding=False, causal=False)
    []
    """
    c = convention(key)
    B, Tq, Tk = batch, num_queries, num_keys
    if not (padding or query_padding or causal):
        return []
    if key == "tf_tutorial":
        out = []
        if padding:
            out.append(f"create_padding_mask(seq) (B, 1, 1, Tk) = ({B}, 1, 1, {Tk}) float32, 1 = pad key")
        if query_padding:
            out.append(f"query padding (B, 1, Tq, 1) = ({B}, 1, {Tq}, 1) float32, 1 = pad query")
        if causal:
            out.append(f"create_look_ahead_mask(T) (Tq, Tk) = ({Tq}, {Tk}) float32, 1 = future key")
        if len(out) > 1:
            out.append(f"combined with tf.maximum -> ({B}, 1, {Tq}, {Tk})")
        return out
    if key == "pytorch_mha":
        out = []
        if padding:
            out.append(f"key_padding_mask (B, Tk) = ({B}, {Tk}) torch.bool, True = pad key")
        if query_padding:
            out.append(f"attn_mask (B·H, Tq, Tk) = ({B}·H, {Tq}, {Tk}) torch.bool, True = blocked")
        elif causal:
            out.append(f"attn_mask (Tq, Tk) = ({Tq}, {Tk}) torch.bool, True = future key")
        return out
    if key == "hf_2d":
        out = [f"attention_mask (B, Tk) = ({B}, {Tk}) int64, 1 = real token"]
        if causal:
            out.append("causal: added inside the model (decoder models), not by you")
        return out
    if key == "hf_4d":
        return [f"(B, 1, Tq, Tk) = ({B}, 1, {Tq}, {Tk}) {dtype}, 0 = attend, finfo({dtype}).min = blocked"]
    if key == "keras":
        return [f"attention_mask (B, Tq, Tk) = ({B}, {Tq}, {Tk}) bool, True = attend"]
    if key == "jax":
        return [f"mask (B, 1, Tq, Tk) = ({B}, 1, {Tq}, {Tk}) bool, True = attend"]
    dt = "torch.bool" if c.one_means == ATTEND else dtype
    meaning = "True = attend" if c.one_means == ATTEND else "0 = attend, -inf = blocked"
    return [f"attn_mask broadcast to (B, H, Tq, Tk) = ({B}, H, {Tq}, {Tk}) {dt}, {meaning}"]


_TRUE_WORDS = {"1", "true", "t"}
_FALSE_WORDS = {"0", "false", "f"}


def parse_mask_text(text: str, shape: tuple[int, int]) -> np.ndarray:
    """A pasted 0/1 (or True/False) matrix, one row per line, as a bool ``(Tq, Tk)`` array.

    Separators may be spaces, commas or brackets (NumPy / PyTorch printouts paste fine).

    >>> parse_mask_text("[[1, 0],\\n [True, False]]", (2, 2)).tolist()
    [[True, False], [True, False]]
    >>> parse_mask_text("1 0 2", (1, 3))
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: row 1 of the mask has '2': use only 0/1 or True/False
    """
    if not isinstance(text, str):
        raise MaskAttnError(f"the mask must be text, got {type(text).__name__}")
    rows = []
    for line in text.splitlines():
        cells = line.replace(",", " ").replace("[", " ").replace("]", " ").replace("(", " ").replace(")", " ")
        cells = [c for c in cells.split() if c.lower() not in ("tensor", "array", "dtype=torch.bool", "dtype=bool")]
        if not cells:
            continue
        row = []
        for cell in cells:
            word = cell.strip().lower().rstrip(".")
            if word in _TRUE_WORDS or word == "1.0" or word == "1":
                row.append(True)
            elif word in _FALSE_WORDS or word in ("0.0", "-0", "-0.0"):
                row.append(False)
            else:
                raise MaskAttnError(f"row {len(rows) + 1} of the mask has {cell[:20]!r}: use only 0/1 or True/False")
        rows.append(row)
    Tq, Tk = shape
    if len(rows) != Tq or any(len(r) != Tk for r in rows):
        got = f"{len(rows)} rows of lengths {sorted({len(r) for r in rows})}" if rows else "no rows"
        raise MaskAttnError(f"the mask needs {Tq} rows of {Tk} values (one per token), got {got}")
    return np.array(rows, dtype=bool)                                      # (Tq, Tk)


def format_mask_text(values) -> str:
    """A 0/1 matrix as text, one row per line (the inverse of ``parse_mask_text``).

    >>> print(format_mask_text([[True, False], [0, 1]]))
    1 0
    0 1
    """
    arr = _bool(values)
    return "\n".join(" ".join("1" if x else "0" for x in row) for row in arr)
