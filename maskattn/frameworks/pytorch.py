"""PyTorch: ``F.scaled_dot_product_attention`` (bool or float mask), ``nn.MultiheadAttention`` and FlexAttention.

SDPA on CPU computes 16-bit inputs in float32 and gives a row whose every score is
-inf weight 0 (``_safe_softmax`` semantics). ``nn.MultiheadAttention`` with
``need_weights=True`` (its default) turns its bool mask (True = BLOCKED) into -inf,
adds it and runs a plain softmax: a fully masked row is NaN. FlexAttention builds its
mask from a ``mask_mod(b, h, q_idx, kv_idx) -> attend`` function (``create_block_mask``):
in eager mode (CPU) it fills -inf into float32 scores and runs ``_safe_softmax``, so it
computes what SDPA with a bool mask computes.

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
from ._framework import (ADDED, ATTEND, ATTEND_BOOL, BLOCKED_BOOL, Convention, Framework, expressions, fill,
                         scalar_times_mask, softmax_wide, wide, zero_fully_masked)

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

#: SDPA takes any bool mask (True = attend); is_causal=True cannot be combined with an attn_mask
SDPA_EXPRESSIONS = expressions(
    window="attn_mask=(kv_idx <= q_idx) & (q_idx - kv_idx <= reach) on torch.arange (reach = w - 1 for w keys): "
           "SDPA has no window argument",
    document="attn_mask=doc[:, None, :, None] == doc[:, None, None, :]: (B, 1, Tq, Tk), True = same document",
    prefix="attn_mask=(kv_idx <= q_idx) | (kv_idx < p)",
    drawn="attn_mask=any bool tensor broadcastable to (B, H, Tq, Tk), True = attend; parts combine with &",
    short=("bool attn_mask", "bool attn_mask", "bool attn_mask", "bool attn_mask"),
)
SDPA_FLOAT_EXPRESSIONS = expressions(
    **{part: f"the bool mask as for SDPA ({e.api.split(':')[0]}), then blocked.to(dtype) * -1e9 added"
       for part, e in SDPA_EXPRESSIONS.items()},
    short=("float attn_mask",) * 4)
MHA_EXPRESSIONS = expressions(
    window="attn_mask=~((kv_idx <= q_idx) & (q_idx - kv_idx <= reach)): (Tq, Tk), True = BLOCKED",
    document="attn_mask=doc[:, :, None] != doc[:, None, :]: (B·H, Tq, Tk) (repeat_interleave over the heads), "
             "True = BLOCKED",
    prefix="attn_mask=(kv_idx > q_idx) & (kv_idx >= p): (Tq, Tk), True = BLOCKED",
    drawn="attn_mask=any bool (Tq, Tk) or (B·H, Tq, Tk), True = BLOCKED; key_padding_mask (B, Tk) for pad keys",
    short=("attn_mask (1 = block)",) * 4,
)
FLEX_EXPRESSIONS = expressions(
    window="mask_mod q_idx - kv_idx <= reach (write the count the model was trained with: < w for w keys), "
           "and_masks(causal, sliding_window)",
    document="mask_mod document_ids[b, q_idx] == document_ids[b, kv_idx]",
    prefix="or_masks(causal, lambda b, h, q_idx, kv_idx: kv_idx < p)",
    drawn="mask_mod attend[q_idx, kv_idx] (a lookup in any bool tensor); create_block_mask(mask_mod, B, H, Tq, "
          "Tk) turns the combined mask_mod into a BlockMask",
    short=("mask_mod q − kv ≤ r", "mask_mod doc == doc", "or_masks(causal, …)", "mask_mod lookup"),
    native=("window", "document", "prefix", "drawn"),
)

TORCH_SDPA = Framework(
    key="torch_sdpa", library="PyTorch 2.13", api="torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=attend)",
    path="SDPA, bool mask", default=True,
    how_to_get="attn_mask=a bool tensor, True = attend",
    convention=ATTEND_BOOL, applies="bool", constant=lambda dtype: (-math.inf, wide(dtype)),
    softmax="float32 (float64 for float64); a row of only -inf gets 0; output rounded once",
    source="aten/src/ATen/native/cpu/FlashAttentionKernel.cpp; torch/nn/functional.py", model=_sdpa_bool,
    expressions=SDPA_EXPRESSIONS,
)
TORCH_SDPA_FLOAT = Framework(
    key="torch_sdpa_float", library="PyTorch 2.13",
    api="torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask * -1e9)",
    path="SDPA, mask * -1e9 added", default=False,
    how_to_get="attn_mask=the tutorial's mask * -1e9 (a float tensor is added)",
    convention=TUTORIAL_TIMES_CONSTANT, applies="add", constant=lambda dtype: (TUTORIAL_CONSTANT, dtype),  # (the snippet uses the app's constant)
    softmax="float32 (float64 for float64); a row of only -inf gets 0; output rounded once",
    source="torch/nn/functional.py (SDPA docstring: a float mask is added)", model=_sdpa_float,
    added=_sdpa_added, mask_value=TUTORIAL_CONSTANT, method="add", expressions=SDPA_FLOAT_EXPRESSIONS,
)
TORCH_MHA = Framework(
    key="torch_mha", library="PyTorch 2.13",
    api="torch.nn.MultiheadAttention(...)(q, k, v, attn_mask=blocked, need_weights=True)",
    path="nn.MultiheadAttention", default=True,
    how_to_get="the module's default need_weights=True (it returns the weights)",
    convention=BLOCKED_BOOL, applies="add", constant=lambda dtype: (-math.inf, dtype),
    softmax="torch softmax: float32 arithmetic, rounded once; plain (a row of only -inf is NaN)",
    source="torch/nn/functional.py multi_head_attention_forward", model=_mha, expressions=MHA_EXPRESSIONS,
)
MASK_MOD = Convention(ATTEND, "mask_mod(b, h, q_idx, kv_idx) -> bool", "create_block_mask(mask_mod, B, H, Tq, Tk)",
                      lambda blocked, dtype: ~blocked)
TORCH_FLEX = Framework(
    key="torch_flex", library="PyTorch 2.13",
    api="flex_attention(q, k, v, block_mask=create_block_mask(mask_mod, B, H, Tq, Tk))",
    path="FlexAttention, mask_mod", default=False,
    how_to_get="torch.nn.attention.flex_attention with a block_mask (eager on CPU; torch.compile it on a GPU)",
    convention=MASK_MOD, applies="bool", constant=lambda dtype: (-math.inf, wide(dtype)),
    softmax="float32 (float64 for float64), -inf where mask_mod is False, _safe_softmax: a row of only -inf gets 0",
    source="torch/_higher_order_ops/flex_attention.py (math_attention)", model=_sdpa_bool,
    expressions=FLEX_EXPRESSIONS,
)
ENTRIES = (TORCH_SDPA, TORCH_SDPA_FLOAT, TORCH_MHA, TORCH_FLEX)
