"""One mask, every framework's convention: converters, the conventions table, polarity checks.

The core keeps the TensorFlow tutorial's convention (float, 1.0 = blocked, two
masks combine with ``maximum``). Every other API gets the same mask converted
at the edge, here. What each framework means by 1 / True, how it masks and what
it computes live in one place, ``maskattn.frameworks``; this module asks it.
Polarity is the trap: in the tutorial and in PyTorch's ``nn.MultiheadAttention``
1/True means *blocked*; in Keras, PyTorch's ``scaled_dot_product_attention``,
Hugging Face and JAX it means *attend*.

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

from . import frameworks, numerics as nx
from .attention import AttentionSteps, attention_steps
from .errors import MaskAttnError
from .fully_masked import classify_row
from .frameworks import ADDED, ATTEND, BLOCKED
from .frameworks._framework import ATTEND_BOOL, BLOCKED_BOOL
from .masks.basic import binary_mask
from .masks import PART, MaskSpec, create_causal_mask, parts_on


# ------------------------------------------------------------------------------------------------
# converters: tutorial mask (1.0 = blocked) <-> each API's form
# ------------------------------------------------------------------------------------------------

def _tutorial(mask, name: str = "mask") -> np.ndarray:
    """A tutorial-convention mask as float32, checked to hold only 0 and 1."""
    return binary_mask(mask, name)


def _bool(mask, name: str = "mask") -> np.ndarray:
    """A 0/1 or True/False mask as bool (1 / True -> True), whatever its convention."""
    return binary_mask(mask, name, hint=" (or True/False)") != 0


def to_attend_bool(mask) -> np.ndarray:
    """Tutorial mask -> bool, True = may attend (Keras, PyTorch SDPA, JAX/Flax). Same shape.

    >>> to_attend_bool([[0.0, 1.0]]).tolist()
    [[True, False]]
    """
    return ATTEND_BOOL.to_library(mask)          # the registry's own convention, not a copy of it


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
    return BLOCKED_BOOL.to_library(mask)


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


def from_convention(values, key: str) -> np.ndarray:
    """Framework ``key``'s mask (as ``frameworks.get(key).convention`` gives it) back to the tutorial's.

    >>> from_convention([[True, False]], "jax").tolist(), from_convention([[False, True]], "torch_mha").tolist()
    ([[0.0, 1.0]], [[0.0, 1.0]])
    """
    one_means = frameworks.get(key).convention.one_means
    if one_means == ADDED:
        return from_additive(values)
    if one_means == ATTEND:
        return from_attend_bool(values)
    return from_blocked_bool(values)


def conventions_table(dtype="float32") -> list[dict[str, str]]:
    """One record per registry entry: its mask convention, masking, constant in ``dtype`` and default path.

    >>> rows = conventions_table("float16")
    >>> [(r["framework"], r["constant in float16"]) for r in rows if r["framework"].startswith("Keras 3")]
    [('Keras 3.15 · Softmax(mask=) scores path', '-3e4 (float16)'), ('Keras 3.15 · fused dot_product_attention', '-2.372671e38 (float32)')]
    """
    dtype = nx.dtype_name(dtype)
    return [{"framework": f"{fw.library} · {fw.path}", "call": fw.api, "mask": fw.mask_text(),
             "applied by": fw.applies, f"constant in {dtype}": fw.constant_text(dtype), "softmax": fw.softmax,
             "default path": "yes" if fw.default else f"no: {fw.how_to_get}", "source": fw.source}
            for fw in frameworks.all_frameworks()]


# ------------------------------------------------------------------------------------------------
# the newer masks, framework by framework
# ------------------------------------------------------------------------------------------------

def newer_parts(spec: MaskSpec) -> tuple[str, ...]:
    """The newer masks ``spec`` switches on, as keys of ``frameworks.NEWER_PARTS``.

    >>> newer_parts(MaskSpec(causal=True, window=3, segments=True))
    ('window', 'document')
    """
    return tuple(part.name for part in parts_on(spec) if part.name in frameworks.NEWER_PARTS)


def newer_masks_table(spec: MaskSpec) -> list[dict[str, str]]:
    """How every registry entry expresses the newer masks ``spec`` has on (all of them when it has none), in a few words.

    ✓ marks an API of the library's own (else it is a mask you build and pass in); a window
    setting gets its value for ``spec``'s window. ``frameworks.get(key).expression(part)`` has the full call.

    >>> rows = {r["framework"]: r for r in newer_masks_table(MaskSpec(window=3))}
    >>> rows["JAX · nn.dot_product_attention"]["sliding window"], rows["PyTorch · SDPA, bool mask"]["sliding window"]
    ('✓ local_window_size=(2, 0)', 'bool attn_mask')
    """
    parts = newer_parts(spec) or tuple(frameworks.NEWER_PARTS)
    records = []
    for fw in frameworks.all_frameworks():
        record = {"framework": fw.title}
        for part in parts:
            expression = fw.expression(part)
            text = expression.short
            if part == "window" and spec.window is not None and fw.window_parameter is not None and not spec.global_tokens:
                argument = fw.window_argument(spec.window, spec.window_rule, spec.window_right)
                if argument is None:                        # two-sided, and its setting looks back only
                    expression = fw.expression("window_right")
                text = f"{fw.window_parameter}={argument}" if argument is not None else expression.short
            native = expression.native
            if spec.global_tokens and PART[part].lifted:    # no library's window or chunk setting leaves rows open
                native, text = fw.expression("global_tokens").native, fw.expression("global_tokens").short
            record[frameworks.NEWER_PARTS[part]] = ("✓ " if native else "") + text
        records.append(record)
    return records


def newer_masks_calls(spec: MaskSpec) -> dict[str, list[tuple[str, str]]]:
    """For each newer mask ``spec`` has on (all of them when none): (registry keys, the full call) per distinct call.

    >>> calls = newer_masks_calls(MaskSpec(prefix_length=2))
    >>> [keys for keys, call in calls["prefix LM"]][:2]
    ['tf_tutorial', 'keras2, keras3, keras3_fused']
    """
    out = {}
    for part in newer_parts(spec) or tuple(frameworks.NEWER_PARTS):
        calls: dict[str, list[str]] = {}
        for fw in frameworks.all_frameworks():
            calls.setdefault(fw.expression(part).api, []).append(fw.key)
        out[frameworks.NEWER_PARTS[part]] = [(", ".join(keys), call) for call, keys in calls.items()]
    return out


# ------------------------------------------------------------------------------------------------
# the polarity check
# ------------------------------------------------------------------------------------------------

def polarity_sources() -> tuple[str, ...]:
    """Registry keys whose masks a user writes as 0/1 or True/False (every convention but an added float)."""
    return tuple(fw.key for fw in frameworks.all_frameworks() if fw.convention.one_means in (BLOCKED, ATTEND))


@dataclass(frozen=True)
class PolarityCheck:
    """What the user meant and what the target framework will do with the mask as written."""

    source: str
    target: str
    meant: np.ndarray          # (..., Tq, Tk) tutorial convention: what the user wants blocked
    seen: np.ndarray | None    # (..., Tq, Tk) what the target blocks (None when it adds the values instead)
    bias: np.ndarray | None    # (..., Tq, Tk) float: what the target adds to the logits (ADDED targets)
    ok: bool
    message: str


def check_polarity(values, source: str, target: str) -> PolarityCheck:
    """Will a 0/1 mask written for framework ``source`` block what was meant when passed to ``target``?

    Both are registry keys; ``source`` one of ``polarity_sources()``. What 1 / True
    means comes from each entry's convention.

    >>> c = check_polarity([[0, 1], [0, 0]], "torch_sdpa", "torch_mha")
    >>> c.ok, c.meant.tolist(), c.seen.tolist()      # it blocks exactly what you wanted to keep
    (False, [[1.0, 0.0], [1.0, 1.0]], [[0.0, 1.0], [0.0, 0.0]])
    >>> check_polarity([[1, 0]], "tf_tutorial", "torch_mha").ok
    True
    >>> check_polarity([[1, 0]], "keras3", "torch_sdpa_float").ok   # a 0/1 float mask is added, not a mask
    False
    """
    if source not in polarity_sources():
        raise MaskAttnError(f"source must be one of {', '.join(polarity_sources())}, got {source!r}")
    src, dst = frameworks.get(source), frameworks.get(target)
    ones = _bool(values, "the mask")
    meant = (ones if src.convention.one_means == BLOCKED else ~ones).astype(np.float32)
    reads = dst.convention.one_means
    if reads == ADDED:
        message = (f"{dst.api} adds a float mask to the logits: 0 changes nothing and 1 adds +1, so nothing is "
                   "blocked and the 1-cells are even boosted. Pass the mask times a large negative "
                   "(or a bool tensor, True = attend).")
        return PolarityCheck(source, target, meant, None, ones.astype(np.float32), False, message)
    seen = (ones if reads == BLOCKED else ~ones).astype(np.float32)
    ok = bool(np.array_equal(seen, meant))
    if ok:
        message = (f"Correct: both read 1 / True as “{src.convention.one_means}”, so {dst.title} blocks "
                   "what you meant.")
    else:
        message = (f"Inverted: your mask uses 1 = {src.convention.one_means}, but {dst.title} reads 1 / True "
                   f"as “{reads}”. It will attend exactly where you meant to block. Flip it first "
                   "(~mask or 1 - mask).")
    return PolarityCheck(source, target, meant, seen, None, ok, message)


def polarity_weights(check: PolarityCheck, q, k, v, *, dtype="float32", scale=True):
    """Weights ``(right, wrong)`` the target framework returns: the mask as meant vs as written.

    Both are ``frameworks.get(check.target)`` on the same logits; a target that adds
    a float mask gets the 0/1 values added.

    >>> q = k = [[1.0, 0.0], [0.0, 1.0]]
    >>> c = check_polarity([[1, 0], [1, 1]], "keras3", "torch_mha")
    >>> right, wrong = polarity_weights(c, q, k, q, dtype="float64")
    >>> right[0].tolist(), wrong[0].tolist()
    ([1.0, 0.0], [0.0, 1.0])
    """
    fw = frameworks.get(check.target)
    logits = attention_steps(q, k, v, None, dtype=dtype, scale=scale).logits        # (..., Tq, Tk)
    right = fw.weights(logits, check.meant, dtype)
    if check.bias is not None:
        wrong = fw.added(logits, nx.cast(check.bias, dtype), nx.dtype_name(dtype))
    else:
        wrong = fw.weights(logits, check.seen, dtype)
    return right, wrong


# ------------------------------------------------------------------------------------------------
# fully masked rows
# ------------------------------------------------------------------------------------------------

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


#: what a framework's fully masked row is when the library raises instead of returning weights
RAISES = "raises"


@dataclass(frozen=True)
class FullyMaskedOutcome:
    framework: str                # registry key
    dtype: str
    weights: np.ndarray | None    # (Tk,) the row's weights, or None when the library raises
    kind: str                     # one of explain.ROW_KINDS, or RAISES
    reason: str                   # the library's error when it raises, else ""


def fully_masked_outcomes(logits, row: int, *, dtypes=nx.DTYPE_NAMES) -> list[FullyMaskedOutcome]:
    """What every registry entry returns for query ``row`` of ``logits (Tq, Tk)`` with every key blocked.

    One outcome per (framework, dtype) the framework runs, framework-major.

    >>> out = {(o.framework, o.dtype): o.kind for o in fully_masked_outcomes([[0.0, 57.735, 0.0, 0.0]], 0)}
    >>> out["tf_tutorial", "float32"], out["tf_tutorial", "float16"], out["keras3", "float16"], out["jax", "float16"]
    ('near one-hot', 'NaN', 'zeros', 'uniform')
    >>> out["annotated_transformer", "float16"], out["torch_mha", "float32"], out["hf_sdpa", "bfloat16"]
    ('raises', 'NaN', 'zeros')
    """
    x = nx.as_array(logits, "logits").astype(np.float64)
    if x.ndim != 2:
        raise MaskAttnError(f"logits must have shape (Tq, Tk), got shape {x.shape}")
    mask = with_fully_masked_row(np.zeros(x.shape), row)                  # (Tq, Tk)
    outcomes = []
    for fw in frameworks.all_frameworks():
        for dtype in (nx.dtype_name(d) for d in dtypes):
            if dtype not in fw.dtypes:
                continue
            try:
                w = fw.weights(x, mask, dtype)[row]                        # (Tk,)
            except MaskAttnError as err:
                outcomes.append(FullyMaskedOutcome(fw.key, dtype, None, RAISES, str(err)))
                continue
            # "the unmasked softmax" only when every weight is the unmasked one, to 0.1 % of itself
            plain = fw.weights(x, np.zeros(x.shape), dtype)[row].astype(np.float64)
            same = np.allclose(w.astype(np.float64), plain, rtol=1e-3, atol=0)
            outcomes.append(FullyMaskedOutcome(fw.key, dtype, w, classify_row(w, plain if same else None), ""))
    return outcomes


#: the row the fully-masked table adds beside the registry: transformers before 5 on its SDPA path
ATTEND_ALL_TITLE = "transformers < 5 · SDPA path (_unmask_unattended)"


def attend_all_outcomes(logits, row: int, *, dtypes=nx.DTYPE_NAMES) -> list[FullyMaskedOutcome]:
    """What transformers before 5 gave query ``row`` with every key blocked on its SDPA path: the row's mask was
    multiplied by 0 (``AttentionMaskConverter._unmask_unattended``), so it attends to every key with its raw logits.
    The core's ``method="attend_all"`` with ``finfo.min`` (CI checks it against transformers 4.46.3's own function).

    >>> [o.kind for o in attend_all_outcomes([[0.0, 57.735, 0.0, 0.0]], 0)]
    ['unmasked softmax', 'unmasked softmax', 'unmasked softmax', 'unmasked softmax']
    """
    x = nx.as_array(logits, "logits").astype(np.float64)
    if x.ndim != 2:
        raise MaskAttnError(f"logits must have shape (Tq, Tk), got shape {x.shape}")
    mask = with_fully_masked_row(np.zeros(x.shape), row)                  # (Tq, Tk)
    eye = np.eye(x.shape[-1])
    outcomes = []
    for dtype in (nx.dtype_name(d) for d in dtypes):
        steps = attention_steps(x, eye, eye, mask, mask_value=float(nx.finfo(dtype).min), dtype=dtype,
                                method="attend_all", scale=False)
        plain = attention_steps(x, eye, eye, dtype=dtype, scale=False).weights[row].astype(np.float64)
        w = steps.weights[row]
        outcomes.append(FullyMaskedOutcome("attend_all", dtype, w, classify_row(w, plain), ""))
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
# a pasted mask
# ------------------------------------------------------------------------------------------------

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
