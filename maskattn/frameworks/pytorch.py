"""PyTorch: ``F.scaled_dot_product_attention`` (bool or float mask) and ``nn.MultiheadAttention``.

SDPA on CPU computes 16-bit inputs in float32 and gives a row whose every score is
-inf weight 0 (``_safe_softmax`` semantics). ``nn.MultiheadAttention`` with
``need_weights=True`` (its default) turns its bool mask (True = BLOCKED) into -inf,
adds it and runs a plain softmax: a fully masked row is NaN.

>>> import numpy as np
>>> TORCH_SDPA.weights([[1.0, 2.0]], [[1, 1]]).tolist(), TORCH_MHA.weights([[1.0, 2.0]], [[1, 1]]).tolist()
([[0.0, 0.0]], [[nan, nan]])
>>> TORCH_SDPA_FLOAT.convention.to_library([[0, 1]], "float16").tolist()   # mask * -1e9: no NaN in PyTorch
[[-0.0, -inf]]
"""

from __future__ import annotations

import math

import numpy as np

from .. import numerics as nx
from ._framework import (ADDED, ATTEND_BOOL, BLOCKED_BOOL, Convention, Framework, fill, scalar_times_mask,
                         softmax_wide, wide, zero_fully_masked)

#: the tutorial's constant, as the ported line `attn_mask = mask * -1e9` writes it
TUTORIAL_CONSTANT = -1e9


def _sdpa_from_scores(scores, dtype):
    # the CPU kernel: float32 scores (float64 stays), softmax, rows with max = -inf -> 0, output rounded once
    return zero_fully_masked(softmax_wide(scores, dtype), scores)


def _sdpa_bool(x, blocked, dtype, fw):
    # a bool attn_mask (True = attend) becomes -inf where False
    return _sdpa_from_scores(fill(blocked, x, -math.inf, wide(dtype)), dtype)


def _sdpa_added(x, bias, dtype):
    # a float attn_mask is added to the float32 scores
    return _sdpa_from_scores(nx.add(x, bias, wide(dtype)), dtype)


def _sdpa_float(x, blocked, dtype, fw):
    if blocked is None:                     # attn_mask=None
        return _sdpa_from_scores(nx.cast(x, wide(dtype)), dtype)
    if math.isinf(fw.mask_value):           # mask * -inf would be 0 * -inf = NaN: the snippet uses masked_fill
        bias = fill(blocked, np.zeros(x.shape), fw.mask_value, dtype)
    else:                                   # attn_mask = mask.to(dtype) * -1e9
        bias = scalar_times_mask(blocked, fw.mask_value, dtype)
    return _sdpa_added(x, bias, dtype)


def _mha(x, blocked, dtype, fw):
    # the bool mask becomes a float -inf mask; baddbmm(mask, q, k^T) in the dtype; plain softmax
    scores = nx.add(x, fill(blocked, np.zeros(x.shape), -math.inf, dtype), dtype)
    return softmax_wide(scores, dtype)


TUTORIAL_TIMES_CONSTANT = Convention(
    ADDED, "the tensors' float dtype", "broadcastable to (B, H, Tq, Tk)",
    lambda blocked, dtype: scalar_times_mask(blocked, TUTORIAL_CONSTANT, dtype))

TORCH_SDPA = Framework(
    key="torch_sdpa", library="PyTorch 2.13", api="torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=attend)",
    path="SDPA, bool mask", default=True,
    how_to_get="attn_mask=a bool tensor, True = attend",
    convention=ATTEND_BOOL, applies="bool", constant=lambda dtype: (-math.inf, wide(dtype)),
    softmax="float32 (float64 for float64); a row of only -inf gets 0; output rounded once",
    source="aten/src/ATen/native/cpu/FlashAttentionKernel.cpp; torch/nn/functional.py", model=_sdpa_bool,
)
TORCH_SDPA_FLOAT = Framework(
    key="torch_sdpa_float", library="PyTorch 2.13",
    api="torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask * -1e9)",
    path="SDPA, mask * -1e9 added", default=False,
    how_to_get="attn_mask=the tutorial's mask * -1e9 (a float tensor is added)",
    convention=TUTORIAL_TIMES_CONSTANT, applies="add", constant=lambda dtype: (TUTORIAL_CONSTANT, dtype),  # (the snippet uses the app's constant)
    softmax="float32 (float64 for float64); a row of only -inf gets 0; output rounded once",
    source="torch/nn/functional.py (SDPA docstring: a float mask is added)", model=_sdpa_float,
    added=_sdpa_added, mask_value=TUTORIAL_CONSTANT, method="add",
)
TORCH_MHA = Framework(
    key="torch_mha", library="PyTorch 2.13",
    api="torch.nn.MultiheadAttention(...)(q, k, v, attn_mask=blocked, need_weights=True)",
    path="nn.MultiheadAttention", default=True,
    how_to_get="the module's default need_weights=True (it returns the weights)",
    convention=BLOCKED_BOOL, applies="add", constant=lambda dtype: (-math.inf, dtype),
    softmax="torch softmax: float32 arithmetic, rounded once; plain (a row of only -inf is NaN)",
    source="torch/nn/functional.py multi_head_attention_forward", model=_mha,
)
ENTRIES = (TORCH_SDPA, TORCH_SDPA_FLOAT, TORCH_MHA)
