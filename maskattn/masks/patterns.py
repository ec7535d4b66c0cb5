"""The masks practitioners meet beyond the tutorial: sliding window, packed documents, prefix LM.

Same convention as the tutorial: 1.0 = blocked, 0.0 = may attend; each combines
with the others by the element-wise maximum.

>>> create_sliding_window_mask(4, 2).tolist()      # each query sees 2 keys: itself and the one before
[[0.0, 1.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0], [1.0, 0.0, 0.0, 1.0], [1.0, 1.0, 0.0, 0.0]]
>>> create_document_mask([1, 1, 2]).tolist()       # two packed documents
[[0.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
>>> create_prefix_lm_mask(3, 2).tolist()           # the first 2 keys are seen by every query
[[0.0, 0.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
"""

from __future__ import annotations

import numpy as np

from ..errors import MaskAttnError
from .basic import check_int, create_look_ahead_mask

#: the two ways references count a sliding window of ``w``; the first is ours
WINDOW_RULES: dict[str, str] = {
    "keys": "q − kv < w: a query sees w keys, itself included (Hugging Face transformers; "
            "xformers' local attention, which mistral-inference runs)",
    "distance": "q − kv ≤ w: a query sees keys up to w positions back, w + 1 keys "
                "(FlashAttention window_size=(w, 0), JAX local_window_size, attention-gym, "
                "Mistral's one_file_ref.py)",
}


def window_reach(window: int, rule: str = "keys") -> int:
    """How many positions back a query may look in a window of ``window`` counted by ``rule``.

    The one number every library's window setting is converted from: a query ``i`` sees
    keys ``j`` with ``0 <= i - j <= reach``. JAX's ``local_window_size=(reach, 0)`` and
    FlashAttention's ``window_size=(reach, 0)`` take it as it is; Hugging Face's
    ``sliding_window`` is ``reach + 1``.

    >>> window_reach(3), window_reach(3, "distance")
    (2, 3)
    """
    window = check_int(window, "window", 1)
    if not isinstance(rule, str) or rule not in WINDOW_RULES:
        raise MaskAttnError(f"rule must be one of {', '.join(WINDOW_RULES)}, got {rule!r}")
    return window - 1 if rule == "keys" else window


def window_overlay(size: int, window: int, rule: str = "keys") -> np.ndarray:
    """1.0 on keys too far *behind* the query for a window of ``window``; the future is left open.

    The Hugging Face decomposition (``sliding_window_overlay``): put it on top of a causal
    (or prefix LM) mask. Returns ``(size, size)`` float32.

    >>> window_overlay(3, 1).tolist()
    [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]
    """
    size = check_int(size, "size")
    reach = window_reach(window, rule)                     # how far back a query may look
    return np.tril(np.ones((size, size), dtype=np.float32), k=-reach - 1)   # (T, T)


def create_sliding_window_mask(size: int, window: int, rule: str = "keys") -> np.ndarray:
    """A causal band: query ``i`` sees keys ``j`` with ``i - window < j <= i``; ``(size, size)`` float32.

    ``window`` counts the keys a query sees, itself included (``rule="keys"``), as
    Hugging Face does (transformers ``masking_utils.sliding_window_overlay``:
    ``kv_idx > q_idx - sliding_window``, and'ed with ``causal_mask_function``) and as
    xformers' ``BlockDiagonalCausalLocalAttentionMask`` does ("index greater than
    i - window_size and less than or equal to i"), which ``mistral-inference`` builds with
    ``make_local_attention(sliding_window)``.

    Other references count the *distance* back (``rule="distance"``: ``i - window <= j <= i``),
    so the same number gives **one more key**: FlashAttention's ``window_size=(w, 0)``
    ("keys between [i - window_size[0], i + window_size[1]] inclusive"), JAX
    ``jax.nn.dot_product_attention(local_window_size=(w, 0))`` (``query_pos <= key_pos + w``),
    PyTorch attention-gym's ``generate_sliding_window`` (``q_idx - kv_idx <= window_size``) and
    Mistral's own ``one_file_ref.py`` (``torch.triu(mask, diagonal=-sliding_window)``).
    That is why transformers passes ``window_size=(sliding_window - 1, sliding_window - 1)``
    to FlashAttention since issue #39408. The two rules differ on exactly one key per query,
    key ``i - window``, for every query ``i >= window``.

    A window of ``size`` or more is the plain look-ahead mask.

    >>> create_sliding_window_mask(3, 1).tolist()                    # each query sees itself only
    [[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
    >>> create_sliding_window_mask(3, 1, rule="distance").tolist()   # itself and one key back
    [[0.0, 1.0, 1.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    >>> create_sliding_window_mask(3, 0)
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: window must be an integer >= 1, got 0
    """
    overlay = window_overlay(size, window, rule)                            # (T, T) keys too far back
    return np.maximum(create_look_ahead_mask(size), overlay)               # (T, T)


def segment_id_array(segment_ids, name: str = "segment_ids") -> np.ndarray:
    """``segment_ids`` as an int64 array of shape ``(..., T)``, or ``MaskAttnError`` naming the problem.

    Integer-valued floats (``1.0``) are accepted; fractions, NaN, booleans and text are not.

    >>> segment_id_array([1.0, 2.0]).tolist()
    [1, 2]
    >>> segment_id_array([1, 1.5])
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: segment_ids must be integers, got 1.5
    """
    try:
        arr = np.asarray(segment_ids)
    except (ValueError, TypeError):
        raise MaskAttnError(f"{name} must be a rectangular array of integers, "
                            f"got {segment_ids!r:.60}") from None
    if arr.ndim == 0:
        raise MaskAttnError(f"{name} must have shape (..., T), got a scalar {segment_ids!r:.60}")
    if arr.dtype.kind == "f":
        bad = arr[~np.isfinite(arr) | (arr != np.round(arr))] if arr.size else arr
        if bad.size:
            raise MaskAttnError(f"{name} must be integers, got {bad.flat[0].item()!r}")
        return arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise MaskAttnError(f"{name} must be integers, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def create_document_mask(segment_ids) -> np.ndarray:
    """1.0 where query and key belong to different segments (packed documents).

    segment_ids: ``(..., T)`` integers, one per token. Returns ``(..., T, T)`` float32:
    query ``i`` sees key ``j`` only if ``segment_ids[i] == segment_ids[j]`` (the block
    diagonal of attention-gym's ``generate_doc_mask_mod``, transformers'
    ``packed_sequence_mask_function``). It does not look ahead: combine it with the
    causal mask by the element-wise maximum for a packed decoder. For a batch
    ``(B, T)``, add the heads axis with ``mask[:, None]``.

    ``maskattn.tokenize`` numbers packed documents from 1 and gives padding 0, as
    tensor2tensor's ``pack_examples`` does; this function treats 0 like any other
    segment (pads see pads), the padding mask is what blocks pad keys.

    >>> create_document_mask([[1, 2, 2, 0]])[0].tolist()
    [[0.0, 1.0, 1.0, 1.0], [1.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 0.0]]
    """
    seg = segment_id_array(segment_ids)                                    # (..., T)
    return (seg[..., :, np.newaxis] != seg[..., np.newaxis, :]).astype(np.float32)  # (..., T, T)


def create_prefix_lm_mask(size: int, prefix_length: int) -> np.ndarray:
    """A causal mask whose first ``prefix_length`` keys every query may see; ``(size, size)`` float32.

    Query ``i`` sees key ``j`` when ``j < prefix_length`` or ``j <= i``: the prefix
    (T5's inputs, PaliGemma's image and prompt) is bidirectional, the rest is causal
    (attention-gym's ``generate_prefix_lm_mask``: ``or_masks(kv_idx < prefix_length, causal)``).
    A prefix of 0 or 1 is the look-ahead mask; a prefix of ``size`` blocks nothing.

    >>> create_prefix_lm_mask(3, 0).tolist() == create_look_ahead_mask(3).tolist()
    True
    >>> create_prefix_lm_mask(3, 4)
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: prefix_length must be an integer from 0 to 3, got 4
    """
    size = check_int(size, "size")
    prefix_length = check_int(prefix_length, "prefix_length", 0, size)
    mask = create_look_ahead_mask(size)                 # (T, T)
    mask[:, :prefix_length] = 0.0                       # the prefix keys are open to every query
    return mask
