"""The tutorial's masks: padding, look-ahead (and causal for Tq != Tk), their combination.

Masks broadcast to ``(..., Tq, Tk)``; two masks combine with an element-wise
maximum (the tutorial's ``tf.maximum``), which is a logical OR of "blocked".

>>> create_padding_mask([[7, 6, 0, 0, 1]]).tolist()
[[[[0.0, 0.0, 1.0, 1.0, 0.0]]]]
>>> create_look_ahead_mask(3).tolist()
[[0.0, 1.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
"""

from __future__ import annotations

import numpy as np

from ..errors import MaskAttnError
from ..numerics import as_array

#: where a causal mask's diagonal sits when there are fewer queries than keys
CAUSAL_ALIGNMENTS: tuple[str, ...] = ("top_left", "bottom_right")


def binary_mask(mask, name: str = "mask", hint: str = "") -> np.ndarray:
    """``mask`` as a float32 array that holds only 0 and 1 (True/False count as 1/0), or
    ``MaskAttnError`` naming the first other value and where it is: the one 0/1 check of the
    package (attention, the frameworks, the conventions, the lab and the drawn mask use it).

    >>> binary_mask([[True, False]]).tolist()
    [[1.0, 0.0]]
    >>> binary_mask([[0, 1], [0, 2]], "a drawn mask")
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: a drawn mask must hold only 0 (attend) and 1 (blocked), got 2 at row 2, column 2
    """
    try:
        arr = as_array(mask, name)
    except MaskAttnError:
        shown = repr(mask) if len(repr(mask)) <= 60 else repr(mask)[:57] + "..."
        raise MaskAttnError(f"{name} must be a rectangular array of 0 and 1, got {shown}") from None
    wide = arr.astype(np.float64)
    bad = np.argwhere((wide != 0) & (wide != 1))                       # NaN is caught here too
    if bad.size:
        where = bad[0]
        value = wide[tuple(where)]
        shown = repr(int(value)) if value.is_integer() else repr(float(value))
        place = (f" at row {where[-2] + 1}, column {where[-1] + 1}" if arr.ndim >= 2
                 else f" at position {where[0] + 1}" if arr.ndim == 1 else "")
        raise MaskAttnError(f"{name} must hold only 0 (attend) and 1 (blocked), got {shown}{place}{hint}")
    return arr.astype(np.float32)


def check_int(value, name: str, low: int = 0, high: int | None = None) -> int:
    """``value`` as an ``int`` if it is an integer in ``[low, high]``, else ``MaskAttnError``.

    >>> check_int(3, "window", 1)
    3
    >>> check_int(2.5, "window", 1)
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: window must be an integer >= 1, got 2.5
    """
    ok = not isinstance(value, bool) and isinstance(value, (int, np.integer))
    if not ok or value < low or (high is not None and value > high):
        wanted = f"from {low} to {high}" if high is not None else f">= {low}"
        kind = "a non-negative integer" if (low, high) == (0, None) else f"an integer {wanted}"
        raise MaskAttnError(f"{name} must be {kind}, got {value!r}")
    return int(value)


def token_id_array(seq, name: str = "seq") -> np.ndarray:
    """``seq`` as an array of token ids (integers, or floats as NumPy often holds them), or ``MaskAttnError``."""
    try:
        arr = np.asarray(seq)
    except (ValueError, TypeError):
        raise MaskAttnError(f"{name} must be a rectangular array of token ids, got {seq!r:.60}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise MaskAttnError(f"{name} must be an array of token ids, got dtype {arr.dtype}")
    return arr


def create_padding_mask(seq, pad_id: int = 0) -> np.ndarray:
    """1.0 at padding keys, shaped to broadcast over heads and queries.

    seq: ``(B, T)`` token ids.  Returns ``(B, 1, 1, T)`` float32: it blocks
    padded *keys* only; padded queries still attend (see ``create_query_padding_mask``).

    >>> create_padding_mask([[7, 6, 0, 0, 1], [1, 2, 3, 0, 0]]).shape
    (2, 1, 1, 5)
    """
    seq = token_id_array(seq, "seq")
    if seq.ndim != 2:
        raise MaskAttnError(f"seq must have shape (B, T), got shape {seq.shape}")
    mask = (seq == pad_id).astype(np.float32)   # (B, T)
    return mask[:, np.newaxis, np.newaxis, :]    # (B, 1, 1, T)


def create_query_padding_mask(seq, pad_id: int = 0) -> np.ndarray:
    """1.0 on whole rows of padded *queries*: the Keras / Flax behaviour.

    seq: ``(B, T)`` token ids. Returns ``(B, 1, T, 1)`` float32. Combined with the
    key padding mask, a padded query row has every key blocked: a fully masked row.

    >>> create_query_padding_mask([[5, 0]])[0, 0].tolist()
    [[0.0], [1.0]]
    """
    seq = token_id_array(seq, "seq")
    if seq.ndim != 2:
        raise MaskAttnError(f"seq must have shape (B, T), got shape {seq.shape}")
    mask = (seq == pad_id).astype(np.float32)   # (B, T)
    return mask[:, np.newaxis, :, np.newaxis]    # (B, 1, T, 1)


def create_look_ahead_mask(size: int) -> np.ndarray:
    """1.0 strictly above the diagonal: query ``i`` may not see keys ``j > i``.

    Returns ``(size, size)`` float32, exactly ``1 - tf.linalg.band_part(ones, -1, 0)``.

    >>> create_look_ahead_mask(2).tolist()
    [[0.0, 1.0], [0.0, 0.0]]
    """
    check_int(size, "size")
    return np.triu(np.ones((size, size), dtype=np.float32), k=1)  # (T, T)


def create_causal_mask(num_queries: int, num_keys: int, align: str = "top_left") -> np.ndarray:
    """A look-ahead mask for ``Tq`` queries and ``Tk`` keys, shape ``(Tq, Tk)``.

    ``align="top_left"`` (PyTorch ``is_causal``, JAX, Keras): query ``i`` sees keys
    ``j <= i``. ``align="bottom_right"`` (FlashAttention >= 2.1, a KV cache): the
    last query sees every key, query ``i`` sees keys ``j <= i + Tk - Tq``.
    When ``Tq == Tk`` both equal ``create_look_ahead_mask``.

    >>> create_causal_mask(2, 3).tolist()
    [[0.0, 1.0, 1.0], [0.0, 0.0, 1.0]]
    >>> create_causal_mask(2, 3, align="bottom_right").tolist()
    [[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
    """
    check_int(num_queries, "num_queries")
    check_int(num_keys, "num_keys")
    if align not in CAUSAL_ALIGNMENTS:
        raise MaskAttnError(f"align must be one of {', '.join(CAUSAL_ALIGNMENTS)}, got {align!r}")
    offset = 1 if align == "top_left" else 1 + num_keys - num_queries
    return np.triu(np.ones((num_queries, num_keys), dtype=np.float32), k=offset)  # (Tq, Tk)


def combine_masks(*masks) -> np.ndarray | None:
    """Element-wise maximum of tutorial-convention masks (blocked if any blocks).

    ``None`` entries are skipped; with nothing left the result is ``None`` (no mask).

    >>> combine_masks(create_look_ahead_mask(2), create_padding_mask([[3, 0]]))[0, 0].tolist()
    [[0.0, 1.0], [0.0, 1.0]]
    >>> combine_masks(None, None) is None
    True
    """
    present = [as_array(m, "mask").astype(np.float32) for m in masks if m is not None]
    if not present:
        return None
    try:
        return np.maximum.reduce(np.broadcast_arrays(*present)).astype(np.float32)
    except ValueError:
        shapes = ", ".join(str(m.shape) for m in present)
        raise MaskAttnError(f"masks do not broadcast together: shapes {shapes}") from None


def fully_masked_rows(mask) -> np.ndarray:
    """True for every query row whose keys are all blocked; shape ``(..., Tq)``.

    >>> fully_masked_rows([[0.0, 1.0], [1.0, 1.0]]).tolist()
    [False, True]
    """
    mask = as_array(mask, "mask")
    if mask.ndim == 0:
        raise MaskAttnError(f"mask must have shape (..., Tq, Tk), got a scalar {mask!r}")
    return np.all(mask == 1, axis=-1)
