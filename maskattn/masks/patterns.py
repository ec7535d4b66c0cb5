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
from .basic import binary_mask, check_int, create_look_ahead_mask

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
        with np.errstate(invalid="ignore"):
            bad = arr[~np.isfinite(arr) | (arr != np.round(arr)) | (np.abs(arr) > 2**53)] if arr.size else arr
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


def window_ahead_overlay(size: int, right: int) -> np.ndarray:
    """1.0 on keys more than ``right`` positions *ahead* of the query: the right side of a two-sided window.

    A query ``i`` keeps keys ``j <= i + right`` (JAX ``local_window_size=(left, right)``:
    ``key_pos <= query_pos + right``; FlashAttention ``window_size=(left, right)``). Returns
    ``(size, size)`` float32; put it over ``window_overlay`` for the whole two-sided window.

    >>> window_ahead_overlay(3, 1).tolist()
    [[0.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    size = check_int(size, "size")
    right = check_int(right, "window_right", 0)
    return np.triu(np.ones((size, size), dtype=np.float32), k=right + 1)     # (T, T)


def create_two_sided_window_mask(size: int, left: int, right: int, rule: str = "keys") -> np.ndarray:
    """A band around the diagonal: query ``i`` sees keys from ``left`` back (counted by ``rule``) to ``right`` ahead.

    ``left`` counts like every window here (``rule="keys"``: ``left`` keys up to and
    including the query; ``"distance"``: ``left`` positions back); ``right`` is the number of
    keys after the query it sees. ``right=0`` is the causal window ``create_sliding_window_mask``;
    Longformer's local attention and splash attention's ``LocalMask`` are two-sided, as is
    Hugging Face's ``sliding_window_bidirectional_overlay(w)`` (``|q − kv| <= w``: ``left = w``
    in distance, ``right = w``). Returns ``(size, size)`` float32.

    >>> create_two_sided_window_mask(4, 1, 1, "distance").tolist()     # |q − kv| <= 1
    [[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]]
    >>> (create_two_sided_window_mask(5, 2, 0) == create_sliding_window_mask(5, 2)).all()
    np.True_
    """
    return np.maximum(window_overlay(size, left, rule), window_ahead_overlay(size, right))   # (T, T)


def left_padding(ids, pad_id: int = 0) -> np.ndarray:
    """How many pad tokens come before the first real token of each row: ``(B, T) -> (B,)`` ints.

    Hugging Face counts it the same way for chunked attention
    (``(attention_mask.cumsum(-1) == 0).sum(-1)``). A row of pads only counts all ``T``.

    >>> left_padding([[0, 0, 5, 6], [5, 6, 0, 0]]).tolist()
    [2, 0]
    """
    ids = np.asarray(ids)
    return np.sum(np.cumsum(ids != pad_id, axis=-1) == 0, axis=-1).astype(np.int64)   # (B,)


def chunk_overlay(size: int, chunk: int, offset=0) -> np.ndarray:
    """1.0 where query and key sit in different chunks of ``chunk`` positions, counted from ``offset``.

    Hugging Face's ``chunked_overlay``: ``(kv − left_padding) // chunk == (q − left_padding) // chunk``,
    so chunks start at the first real token of a left-padded row. ``offset``: an int, or ``(B,)``
    per row (then the result is ``(B, 1, size, size)``); else ``(size, size)`` float32. Put it
    over a causal mask for chunked attention (Llama 4's local layers).

    >>> chunk_overlay(4, 2).tolist()
    [[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]]
    """
    size = check_int(size, "size")
    chunk = check_int(chunk, "chunk", 1)
    offset = segment_id_array(offset, "offset") if np.ndim(offset) else np.int64(check_int(offset, "offset", 0))
    if offset.ndim > 1:
        raise MaskAttnError(f"offset must be a number or one per row (B,), got shape {offset.shape}")
    pos = np.arange(size)
    if offset.ndim == 0:
        c = (pos - offset) // chunk                                           # (T,) chunk of each position
        return (c[:, np.newaxis] != c[np.newaxis, :]).astype(np.float32)      # (T, T)
    c = (pos[np.newaxis, :] - offset[:, np.newaxis]) // chunk                 # (B, T)
    return (c[:, np.newaxis, :, np.newaxis] != c[:, np.newaxis, np.newaxis, :]).astype(np.float32)  # (B, 1, T, T)


def create_chunked_mask(size: int, chunk: int, offset: int = 0) -> np.ndarray:
    """Chunked causal attention: a query sees the keys of its own chunk up to itself; ``(size, size)`` float32.

    Llama 4's chunked local attention (transformers ``chunked_causal_mask_function``, splash
    attention's ``ChunkedCausalMask``). ``offset``: where the first chunk starts (the left padding).

    >>> create_chunked_mask(5, 3).tolist()       # Hugging Face's own example (sdpa_mask, chunk_size=3)
    [[0.0, 1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 1.0, 0.0, 1.0], [1.0, 1.0, 1.0, 0.0, 0.0]]
    """
    return np.maximum(create_look_ahead_mask(check_int(size, "size")), chunk_overlay(size, chunk, offset))


def global_positions(positions, size: int | None = None) -> tuple[int, ...]:
    """``positions`` as a sorted tuple of distinct ints ``>= 0`` (``< size`` when given), or ``MaskAttnError``.

    >>> global_positions([3, 0, 3])
    (0, 3)
    >>> global_positions([0, 9], size=4)
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: global token positions must be from 0 to 3, got 9
    """
    if isinstance(positions, (str, bytes)) or not hasattr(positions, "__iter__"):
        raise MaskAttnError(f"global token positions must be a list of positions, got {positions!r:.40}")
    out = set()
    for p in positions:
        if isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, np.integer)) or p < 0:
            raise MaskAttnError(f"global token positions must be whole numbers >= 0, got {p!r:.20}")
        if size is not None and p >= size:
            raise MaskAttnError(f"global token positions must be from 0 to {size - 1}, got {p}")
        out.add(int(p))
    return tuple(sorted(out))


def global_overlay(size: int, positions) -> np.ndarray:
    """1.0 on every cell whose query or key is a global token: the cells a global token *opens*.

    Longformer and BigBird: a global token attends to every key and every query attends to it.
    Returns ``(size, size)`` float32; ``mask * (1 - global_overlay(...))`` lifts a window or
    chunks for those rows and columns (``lift_global``).

    >>> global_overlay(3, [0]).tolist()
    [[1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
    """
    size = check_int(size, "size")
    is_global = np.zeros(size, dtype=bool)
    is_global[list(global_positions(positions, size))] = True                # (T,)
    return (is_global[:, np.newaxis] | is_global[np.newaxis, :]).astype(np.float32)   # (T, T)


def lift_global(mask, positions) -> np.ndarray:
    """``mask`` (``(..., T, T)``, 1 = blocked) with the rows and columns of the global tokens opened.

    >>> lift_global(create_two_sided_window_mask(4, 1, 0), [0]).tolist()    # itself only, but token 0 is global
    [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]]
    """
    mask = binary_mask(mask, "mask")
    if mask.ndim < 2 or mask.shape[-1] != mask.shape[-2]:
        raise MaskAttnError(f"mask must have shape (..., T, T), got shape {mask.shape}")
    return (mask * (1.0 - global_overlay(mask.shape[-1], positions))).astype(np.float32)


def split_evenly(total: int, parts: int) -> tuple[int, ...]:
    """``total`` positions in ``parts`` runs as even as can be, the longer ones first.

    >>> split_evenly(7, 3)
    (3, 2, 2)
    """
    total, parts = check_int(total, "total", 0), check_int(parts, "completions", 1)
    if parts > total:
        raise MaskAttnError(f"{parts} completions need at least {parts} tokens after the prefix, got {total}")
    return tuple(total // parts + (i < total % parts) for i in range(parts))


def shared_prefix_ids(prefix_length: int, completion_lengths) -> np.ndarray:
    """Each position's part: 0 for the shared prefix, then 1, 2, … for each completion; ``(T,)`` ints.

    >>> shared_prefix_ids(2, [2, 1]).tolist()
    [0, 0, 1, 1, 2]
    """
    prefix_length = check_int(prefix_length, "prefix_length", 0)
    if isinstance(completion_lengths, (str, bytes)) or not hasattr(completion_lengths, "__iter__"):
        raise MaskAttnError(f"completion_lengths must be a list of lengths, got {completion_lengths!r:.40}")
    lengths = [check_int(n, "completion length", 1) for n in completion_lengths]
    if not lengths:
        raise MaskAttnError("a shared prefix needs at least one completion, got none")
    return np.repeat(np.arange(len(lengths) + 1), [prefix_length, *lengths]).astype(np.int64)


def shared_prefix_overlay(prefix_length: int, completion_lengths) -> np.ndarray:
    """1.0 where the key belongs to a completion that is not the query's (a sibling's): ``(T, T)`` float32.

    The prefix stays open to every completion; the prefix's own queries see no completion. Put it over a causal mask (``create_shared_prefix_mask``).

    >>> shared_prefix_overlay(1, [1, 1]).tolist()     # prefix, completion 1, completion 2
    [[0.0, 1.0, 1.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    part = shared_prefix_ids(prefix_length, completion_lengths)                     # (T,)
    sibling = (part[:, np.newaxis] != part[np.newaxis, :]) & (part[np.newaxis, :] != 0)
    return sibling.astype(np.float32)                                                # (T, T)


def create_shared_prefix_mask(prefix_length: int, completion_lengths) -> np.ndarray:
    """Several completions of one prompt in one row: each sees the prefix and itself, causally, never a sibling.

    The layout of attention-gym's prefix sharing and of tree/beam decoding: ``T = prefix_length
    + sum(completion_lengths)``. Returns ``(T, T)`` float32, 1 = blocked.

    >>> create_shared_prefix_mask(1, [2, 1]).tolist()
    [[0.0, 1.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]]
    """
    overlay = shared_prefix_overlay(prefix_length, completion_lengths)              # (T, T)
    return np.maximum(create_look_ahead_mask(overlay.shape[0]), overlay)


def segment_ids_from_position_ids(position_ids) -> np.ndarray:
    """Packed documents told apart by their position ids: a new document wherever the positions do not step by 1.

    Hugging Face's ``find_packed_sequence_indices``: ``(diff(position_ids) != 1).cumsum(-1)``, with the
    first step counted as 1, so documents are numbered from 0. ``(..., T) -> (..., T)`` ints; use it as
    the segment ids of ``create_document_mask``.

    >>> segment_ids_from_position_ids([[0, 1, 0, 1, 2, 0]]).tolist()
    [[0, 0, 1, 1, 1, 2]]
    """
    pos = segment_id_array(position_ids, "position_ids")                            # (..., T)
    step = np.diff(pos, axis=-1, prepend=pos[..., :1] - 1)                          # (..., T)
    return np.cumsum(step != 1, axis=-1).astype(np.int64)
