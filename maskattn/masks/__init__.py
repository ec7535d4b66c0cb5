"""Attention masks in the TensorFlow tutorial's convention: 1.0 = blocked, 0.0 = may attend.

Masks broadcast to ``(..., Tq, Tk)``; two masks combine with an element-wise
maximum (the tutorial's ``tf.maximum``), which is a logical OR of "blocked".

    basic      the tutorial's padding and look-ahead masks, causal alignment, combine_masks
    patterns   sliding window, packed documents, prefix LM
    parts      the table of mask parts: name, shape, when on, NumPy builder, "may attend" rule
    spec       MaskSpec: which masks are on, built for a batch by walking that table
    drawn      a mask typed or clicked by hand: parse it, name its pattern, explain its rows
    verdicts   sentences for left padding, packing without a document mask, the window off-by-one

>>> create_padding_mask([[7, 6, 0, 0, 1]]).tolist()
[[[[0.0, 0.0, 1.0, 1.0, 0.0]]]]
>>> create_look_ahead_mask(3).tolist()
[[0.0, 1.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
"""

from .basic import (CAUSAL_ALIGNMENTS, binary_mask, check_int, combine_masks, create_causal_mask, create_look_ahead_mask,
                    create_padding_mask, create_query_padding_mask, fully_masked_rows)
from .drawn import (EXAMPLE_MASK_TEXT, MASK_KINDS, MAX_COMPACT_SIZE, classify_mask, compact_mask, describe_mask,
                    explain_mask_rows, format_mask, parse_compact_mask, parse_mask, validate_drawn)
from .patterns import (WINDOW_RULES, create_document_mask, create_prefix_lm_mask, create_sliding_window_mask,
                       segment_id_array, window_overlay, window_reach)
from .parts import NEWER_PARTS, PART, PARTS, MaskPart, parts_on
from .spec import MASK_PARTS, MaskSpec
from .verdicts import cross_document_weight, left_padding_verdict, packing_leak_verdict, window_rule_verdict

__all__ = [
    "CAUSAL_ALIGNMENTS", "EXAMPLE_MASK_TEXT", "MASK_KINDS", "MASK_PARTS", "MAX_COMPACT_SIZE", "MaskPart", "MaskSpec", "NEWER_PARTS", "PART", "PARTS",
    "WINDOW_RULES", "binary_mask", "check_int", "classify_mask", "combine_masks", "compact_mask", "create_causal_mask",
    "create_document_mask", "create_look_ahead_mask", "create_padding_mask", "create_prefix_lm_mask",
    "create_query_padding_mask", "create_sliding_window_mask", "cross_document_weight", "describe_mask",
    "explain_mask_rows", "format_mask", "fully_masked_rows", "left_padding_verdict", "packing_leak_verdict",
    "parse_compact_mask", "parse_mask", "parts_on", "segment_id_array", "validate_drawn", "window_overlay",
    "window_reach", "window_rule_verdict",
]
