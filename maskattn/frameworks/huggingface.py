"""Hugging Face transformers v5: the 2-D ``attention_mask`` becomes a 4-D mask per attention path.

BERT-style models default to SDPA, which gets a **bool** 4-D mask (True = attend):
a fully masked row is zeros. The eager path gets a float mask of 0 / ``finfo(dtype).min``
that is **added** to the scores; in float16 the sum rounds to multiples of 32 near
-65504, so large logits of a fully masked row are not uniform.

>>> HF_EAGER.weights([[0.0, 0.0, 57.7, 0.0]], [[1, 1, 1, 1]], "float16").tolist()
[[0.0, 0.0, 1.0, 0.0]]
"""

from __future__ import annotations

import numpy as np

from .. import numerics as nx
from ._framework import ATTEND, Convention, Framework, expressions, softmax_wide
from .pytorch import _sdpa_bool


def _finfo_min(dtype):
    return float(nx.finfo(dtype).min), dtype


def _eager(x, blocked, dtype, fw):
    # masking_utils.eager_mask: torch.where(mask, 0, finfo(dtype).min); attn_weights + attention_mask; softmax
    dt = nx.resolve_dtype(dtype)
    additive = np.where(blocked, nx.cast(fw.constant(dtype)[0], dtype), dt.type(0)).astype(dt)
    return softmax_wide(nx.add(x, additive, dtype), dtype)


HF_ATTENTION_MASK = Convention(ATTEND, "int64 (1 / 0)", "attention_mask (B, Tk); inside: (B, 1, Tq, Tk)",
                               lambda blocked, dtype: (~blocked).astype(np.int64))

#: transformers.masking_utils builds every 4-D mask from mask functions (batch, head, q_idx, kv_idx) -> attend
HF_EXPRESSIONS = expressions(
    window="config.sliding_window = w (it counts keys: kv_idx > q_idx - w, the app's 'keys' rule; w + 1 for "
           "'distance'), then masking_utils.create_sliding_window_causal_mask(config, inputs_embeds, "
           "attention_mask, cache)",
    document="position_ids restarting at 0 in every document with attention_mask=None (DataCollatorWithFlattening; "
             "flash-attention paths turn them into cu_seqlens), or and_mask_function="
             "packed_sequence_mask_function(document_ids)",
    prefix="create_causal_mask(..., or_mask_function=lambda b, h, q_idx, kv_idx: kv_idx < p); PaliGemma's "
           "block_sequence_ids=where(position < p, 0, -1) gives the same mask when no window is on",
    drawn="a 4-D attention_mask (B, 1, Tq, Tk) is used as it is: bool (sdpa) or 0 / finfo.min (eager)",
    short=("config.sliding_window", "position_ids", "or_mask_function", "4-D attention_mask"),
    native=("window", "document", "prefix"),
)

HF_EAGER = Framework(
    key="hf_eager", library="transformers 5.24", api="BertModel(config, attn_implementation='eager')(ids, attention_mask=...)",
    path="eager attention", default=False,
    how_to_get="attn_implementation='eager' (needed for output_attentions=True)",
    convention=HF_ATTENTION_MASK, applies="add", constant=_finfo_min,
    softmax="torch softmax: float32 arithmetic, rounded once; plain (a row of only -inf is NaN)",
    source="transformers/masking_utils.py (eager_mask); models/bert/modeling_bert.py", model=_eager,
    expressions=HF_EXPRESSIONS, window_setting=lambda reach: reach + 1, window_parameter="sliding_window",
)
HF_SDPA = Framework(
    key="hf_sdpa", library="transformers 5.24", api="BertModel(config)(ids, attention_mask=...)",
    path="SDPA attention", default=True,
    how_to_get="the default attn_implementation ('sdpa') with PyTorch >= 2.5",
    convention=HF_ATTENTION_MASK, applies="bool", constant=lambda dtype: (-np.inf, "float32" if dtype != "float64" else dtype),
    softmax="torch SDPA: float32 (float64 for float64); a row of only -inf gets 0",
    source="transformers/masking_utils.py (sdpa_mask); integrations/sdpa_attention.py", model=_sdpa_bool,
    expressions=HF_EXPRESSIONS, window_setting=lambda reach: reach + 1, window_parameter="sliding_window",
)
ENTRIES = (HF_SDPA, HF_EAGER)
