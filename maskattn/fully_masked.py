"""Rows with every key masked: what their weights come out as, and why, in one place.

The verdicts (``explain``), the constant lab (``lab``), the conventions and the proofs all name a
fully masked row's outcome with ``classify_row`` and explain it with ``fully_masked_reason``.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from . import frameworks, numerics as nx
from .errors import MaskAttnError
from .text import spell

#: how a row's weights can come out when every key is masked
ROW_KINDS = ("NaN", "zeros", "uniform", "unmasked softmax", "near one-hot", "other")


def classify_row(weights_row, unmasked_row=None) -> str:
    """Name what a (fully masked) row's weights came out as; one of ``ROW_KINDS``.

    >>> classify_row([0.25, 0.25, 0.25, 0.25]), classify_row([0.0, 0.0]), classify_row([1.6e-28, 1.0])
    ('uniform', 'zeros', 'near one-hot')
    """
    w = np.asarray(weights_row).astype(np.float64)
    if np.isnan(w).any():
        return "NaN"
    if np.all(w == 0):
        return "zeros"
    if np.allclose(w, 1.0 / w.size, rtol=1e-2, atol=0):
        return "uniform"
    if unmasked_row is not None and np.allclose(w, np.asarray(unmasked_row).astype(np.float64),
                                                rtol=1e-3, atol=1e-12):
        return "unmasked softmax"
    if w.max() > 0.99:
        return "near one-hot"
    return "other"


def fully_masked_reason(kind: str, method: str, dtype: str, constant: float) -> str:
    """Why a row with every key masked came out as ``kind`` (one of ``ROW_KINDS``), in one clause:
    the one explanation the verdicts, the lab and the proof share.

    ``constant`` is the mask value as ``dtype`` holds it; ``method`` one of the core's methods or
    the lab's naive ones (``multiply_weights``, ``zero_logits``).

    >>> fully_masked_reason("NaN", "add", "float16", -math.inf)
    'the constant is -inf in float16, so every score is -inf; the row max is -inf and -inf - (-inf) = NaN.'
    >>> fully_masked_reason("uniform", "fill", "float32", -1e9)
    'every score was replaced by the same -1e9, so all scores tie and softmax spreads evenly.'
    """
    gap = nx.spacing(constant, dtype) if math.isfinite(constant) else math.inf
    if kind == "NaN":
        return (f"the constant is {spell(constant, digits=6)} in {dtype}, so every score is -inf; the row max is -inf "
                "and -inf - (-inf) = NaN.")
    if method == "multiply_weights":
        return "softmax ran on the raw logits, then every weight was multiplied by 0: nothing is left."
    if kind == "zeros":
        return ("the safe softmax gives weight 0 to a row with nothing to attend to (as "
                f"{', '.join(frameworks_giving_zeros(dtype))} do).")
    if method == "attend_all":
        return ("a row that sees no key is given every key back, so it is the unmasked softmax of its logits (Hugging "
                "Face's SDPA path before transformers 5 did this to avoid NaN).")
    if method == "zero_logits":
        return "every logit was set to 0, so all scores tie and softmax spreads the weight evenly."
    if method in ("fill", "safe"):
        return f"every score was replaced by the same {spell(constant, digits=6)}, so all scores tie and softmax spreads evenly."
    # add: the logits ride on the constant and are rounded to its spacing
    if kind == "unmasked softmax":
        return (f"numbers near {spell(constant, digits=6)} are {spell(gap, digits=6)} apart in {dtype}, fine enough to keep each logit, "
                "and softmax ignores a shift shared by every key: the mask has no effect.")
    if kind == "uniform":
        return (f"numbers near {spell(constant, digits=6)} are {spell(gap, digits=6)} apart in {dtype}, so every logit rounds to the "
                "same score and they all tie.")
    if kind == "near one-hot":
        return (f"scores are rounded to multiples of {spell(gap, digits=6)} in {dtype}; one key rounded a step above the "
                f"rest and takes almost all the weight (exp(-{spell(gap, digits=6)}) = {spell(math.exp(-gap), digits=2)}).")
    return (f"scores are rounded to multiples of {spell(gap, digits=6)} in {dtype}; some keys rounded up, some down, "
            "so the weights are neither even nor the unmasked ones.")


def frameworks_giving_zeros(dtype) -> list[str]:
    """The registry's frameworks whose fully masked rows come out all zeros in ``dtype`` (computed, not listed).

    >>> frameworks_giving_zeros("float32")
    ['Keras · Softmax(mask=) scores path', 'PyTorch · SDPA, bool mask', 'PyTorch · FlexAttention, mask_mod', 'transformers · SDPA attention']
    >>> len(frameworks_giving_zeros("float16"))   # + SDPA with mask * -1e9: -1e9 is -inf in float16
    5
    """
    return list(_frameworks_giving_zeros(nx.dtype_name(dtype)))


@functools.cache
def _frameworks_giving_zeros(dtype: str) -> tuple[str, ...]:
    """Once per dtype: every framework mirror would run for every fully masked row's reason otherwise (~3 ms)."""
    names = []
    for fw in frameworks.all_frameworks():
        try:
            w = fw.weights([[0.0, 1.0]], [[1, 1]], dtype).astype(np.float64)
        except MaskAttnError:
            continue
        if (w == 0).all():
            names.append(fw.title)
    return tuple(names)
