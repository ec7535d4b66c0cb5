"""Verdicts for the failure modes of the newer masks, computed from the numbers (plain text).

Each function takes the arrays a page already has and returns a sentence, or None when
the failure does not occur. ``maskattn.explain`` collects them with the other verdicts.

>>> from maskattn.masks import combine_masks, create_look_ahead_mask, create_padding_mask
>>> mask = combine_masks(create_padding_mask([[0, 0, 7, 8]]), create_look_ahead_mask(4))[0, 0]
>>> print(left_padding_verdict([0, 0, 7, 8], mask))
Queries 0, 1 are left padding and see no key at all: the causal mask lets them see only themselves and the keys before, which are all pads. Fully masked rows have no agreed answer: what they give depends on the method and the dtype.
"""

from __future__ import annotations

import numpy as np

from ..errors import MaskAttnError
from ..numerics import as_array
from ..text import spell
from .basic import fully_masked_rows
from .drawn import position_spans
from .patterns import create_sliding_window_mask, segment_id_array


def _labels(labels, n: int, what: str):
    if labels is None:
        return None
    labels = [str(label) for label in labels]
    if len(labels) != n:
        raise MaskAttnError(f"labels must name the {n} {what}, got {len(labels)} labels")
    return labels


def left_padding_verdict(ids, mask, pad_id: int = 0, labels=None) -> str | None:
    """Which leading pad queries have every key blocked (left padding + a causal mask).

    ids: ``(T,)`` one sequence's token ids; mask: ``(T, T)`` its combined mask, 1 = blocked.
    None when the sequence has no leading pads, none of them is fully masked, or the mask
    is not causal (the real tokens see keys after them: then a query padding mask did it).
    """
    ids = as_array(ids, "ids")
    mask = as_array(mask, "mask")
    if ids.ndim != 1 or mask.shape != (len(ids), len(ids)):
        raise MaskAttnError(f"ids must be (T,) and mask (T, T), got shapes {ids.shape} and {mask.shape}")
    labels = _labels(labels, len(ids), "tokens")
    real = np.flatnonzero(ids != pad_id)
    leading = int(real[0]) if real.size else len(ids)             # pads before the first real token
    stuck = np.flatnonzero(fully_masked_rows(mask)[:leading])     # (n,) leading pads with no key
    after = mask[leading:, leading:]                              # (Tr, Tr) from the first real token on
    causal = np.all(after[np.triu_indices(len(after), 1)] == 1)  # no real token sees the future
    if not stuck.size or not causal:
        return None
    many = stuck.size > 1
    return (f"{'Queries' if many else 'Query'} {position_spans(stuck, labels)} {'are' if many else 'is'} left padding "
            f"and {'see' if many else 'sees'} no key at all: the causal mask lets {'them' if many else 'it'} "
            f"see only {'themselves' if many else 'itself'} and the keys before, which are all pads. "
            "Fully masked rows have no agreed answer: what they give depends on the method and the dtype.")


def cross_document_weight(weights, segment_ids) -> np.ndarray:
    """Per query, the attention weight on keys of *other* documents; ``(..., Tq)`` float64.

    weights: ``(..., T, T)``; segment_ids: ``(..., T)``, documents numbered from 1 and padding 0
    (as ``tokenize(packed=True)`` makes them). Pad queries and pad keys are left out (a pad key's
    weight is the padding mask's business): pad query rows get 0.

    >>> cross_document_weight([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5], [0.0, 0.0, 1.0]], [1, 1, 2]).tolist()
    [0.0, 0.5, 0.0]
    """
    weights = as_array(weights, "weights").astype(np.float64)     # (..., T, T)
    seg = segment_id_array(segment_ids)                            # (..., T)
    if weights.ndim < 2 or weights.shape[-2:] != (seg.shape[-1],) * 2:
        raise MaskAttnError(f"weights must be (..., T, T) for segment_ids (..., T), got shapes "
                            f"{weights.shape} and {seg.shape}")
    other = (seg[..., :, None] != seg[..., None, :]) & (seg[..., None, :] != 0)   # (..., T, T)
    crossing = np.where(other, weights, 0.0).sum(axis=-1)         # (..., T) NaN stays NaN
    return np.where(seg != 0, crossing, 0.0)


def packing_leak_verdict(weights, segment_ids, labels=None) -> str | None:
    """How much weight crosses documents in one packed row; None with fewer than two documents.

    weights: ``(T, T)`` softmax weights of the packed row; segment_ids: ``(T,)`` (1, 2, ... and 0 for pads).
    """
    seg = segment_id_array(segment_ids)
    if seg.ndim != 1:
        raise MaskAttnError(f"segment_ids must be one packed row (T,), got shape {seg.shape}")
    labels = _labels(labels, len(seg), "tokens")
    if len(set(seg[seg != 0].tolist())) < 2:
        return None
    crossing = cross_document_weight(weights, seg)               # (T,)
    if np.isnan(crossing).any():
        return ("The weights are NaN, so the weight that crosses documents cannot be measured; "
                "fix the NaN first.")
    leaking = np.flatnonzero(crossing > 0)
    if not leaking.size:
        return "No weight crosses documents: every query gives exactly 0 to the keys of other documents."
    worst = int(np.argmax(crossing))
    name = f"{worst}" + (f" ({labels[worst]})" if labels else "")
    return (f"Packed without a document mask, {leaking.size} of {int((seg != 0).sum())} queries put weight on "
            f"other documents' keys; query {name} of document {seg[worst]} puts {spell(crossing[worst], digits=3)} "
            "of its weight there, attending to text it should never see.")


def window_rule_verdict(size: int, window: int, labels=None) -> str:
    """Which key the two ways of counting a window (``WINDOW_RULES``) disagree on.

    >>> window_rule_verdict(3, 3)
    'With 3 tokens a window of 3 is the whole causal mask under both counts; they differ from 4 tokens on.'
    """
    keys = create_sliding_window_mask(size, window, rule="keys")            # (T, T)
    distance = create_sliding_window_mask(size, window, rule="distance")    # (T, T)
    labels = _labels(labels, size, "tokens")
    differ = np.argwhere(keys != distance)                                   # (n, 2) rows i >= window
    if not differ.size:
        return (f"With {size} token{'s' * (size != 1)} a window of {window} is the whole causal mask under "
                f"both counts; they differ from {window + 1} tokens on.")
    i, j = (int(x) for x in differ[-1])
    q = f"{i}" + (f" ({labels[i]})" if labels else "")
    k = f"{j}" + (f" ({labels[j]})" if labels else "")
    seen = position_spans(np.flatnonzero(keys[i] == 0), labels)
    return (f"The two counts differ on one key per query from query {window} on ({len(differ)} cells): "
            f"with q − kv < {window} (Hugging Face) query {q} sees {seen}; with q − kv ≤ {window} "
            f"(FlashAttention window_size=({window}, 0), JAX local_window_size) it also sees key {k}.")
