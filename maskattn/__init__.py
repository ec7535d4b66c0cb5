"""maskattn: why ``scaled_attention_logits += (mask * -1e9)`` makes softmax ignore a key.

A small, pure NumPy package (plus ``ml_dtypes`` for bfloat16) that computes
masked attention exactly as the TensorFlow Transformer tutorial does, in
float16, bfloat16, float32 or float64, keeping every intermediate so it can be
shown and explained. The Streamlit app is built on it; a notebook can use it too.

Axis names used in every shape comment and docstring:

    B   batch (sequences)          Tq  queries (rows of a weight matrix)
    H   heads                      Tk  keys (columns)
    T   tokens, when Tq == Tk      d   depth of q and k;  dv  depth of v

Masks use the tutorial's convention: 1.0 = blocked, 0.0 = may attend; two masks
combine with an element-wise maximum.

>>> import maskattn
>>> mask = maskattn.create_padding_mask([[5, 7, 0]])          # (B, 1, 1, T)
>>> q = k = v = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]           # (T, d)
>>> out, w = maskattn.scaled_dot_product_attention(q, k, v, mask[0, 0])
>>> w[:, 2].tolist()                                           # the pad key gets exactly 0
[0.0, 0.0, 0.0]
"""

from .attention import (DEFAULT_MASK_VALUE, METHODS, AttentionSteps, attention_steps,
                        leaked_mass, scaled_dot_product_attention)
from .bias import (BIAS_KINDS, BiasLimit, alibi_bias, alibi_slopes, bias_limit, position_bias, t5_bias,
                   t5_relative_position_bucket)
from .broadcast import MaskBroadcast, broadcast_masks, shape_table
from .errors import MaskAttnError
from .inspector import inspector_latex, inspector_rows
from .lab import (ConstantSweep, compare_methods, constant_facts, constant_grid, fully_masked_table,
                  naive_vs_stable, parse_logits, row_steps, sweep_constants)
from .masks import (MaskSpec, combine_masks, create_causal_mask, create_document_mask, create_look_ahead_mask,
                    create_padding_mask, create_prefix_lm_mask, create_query_padding_mask,
                    create_sliding_window_mask, fully_masked_rows)
from .masks.patterns import (create_chunked_mask, create_shared_prefix_mask, create_two_sided_window_mask, lift_global,
                             segment_ids_from_position_ids)
from .numerics import (DTYPE_NAMES, absorption_threshold, naive_softmax, softmax,
                       softmax_steps, spacing, underflow_threshold)
from .proof import (AttentionGrads, DeletedKeys, ExpMagnitude, LeakReport, RowUnderflow, attention_grads,
                    delete_masked_keys, exact_vs_float, exact_vs_float_row, leak_test, leak_test_tokens)
from .text import spell
from .tokens import PAD_TOKEN, embed, positional_encoding, project_qkv, tokenize

__all__ = [
    "AttentionSteps", "DEFAULT_MASK_VALUE", "DTYPE_NAMES", "METHODS", "MaskAttnError", "PAD_TOKEN",
    "absorption_threshold", "attention_steps", "combine_masks", "create_causal_mask",
    "create_look_ahead_mask", "create_padding_mask", "create_query_padding_mask", "embed",
    "fully_masked_rows", "leaked_mass", "naive_softmax", "positional_encoding", "project_qkv",
    "scaled_dot_product_attention", "softmax", "softmax_steps", "spacing", "spell", "tokenize",
    "underflow_threshold",
    # every mask a practitioner meets (maskattn.masks)
    "MaskSpec", "create_document_mask", "create_prefix_lm_mask", "create_sliding_window_mask",
    "MaskBroadcast", "broadcast_masks", "shape_table", "create_chunked_mask", "create_shared_prefix_mask",
    "create_two_sided_window_mask", "lift_global", "segment_ids_from_position_ids",
    # a mask is a bias of −∞ (maskattn.bias)
    "BIAS_KINDS", "BiasLimit", "alibi_bias", "alibi_slopes", "bias_limit", "position_bias", "t5_bias",
    "t5_relative_position_bucket",
    # the mask-constant lab (maskattn.lab) and the row inspector (maskattn.inspector)
    "ConstantSweep", "compare_methods", "constant_facts", "constant_grid", "fully_masked_table",
    "inspector_latex", "inspector_rows", "naive_vs_stable", "parse_logits", "row_steps", "sweep_constants",
    # proof that masked keys are ignored (maskattn.proof)
    "AttentionGrads", "DeletedKeys", "ExpMagnitude", "LeakReport", "RowUnderflow", "attention_grads",
    "delete_masked_keys", "exact_vs_float", "exact_vs_float_row", "leak_test", "leak_test_tokens",
]
