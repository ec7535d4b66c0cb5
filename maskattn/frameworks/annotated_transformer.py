"""The Annotated Transformer: ``scores.masked_fill(mask == 0, -1e9)`` (mask 1 = attend).

In float16 PyTorch refuses the fill: -1e9 does not fit in a half.

>>> ANNOTATED_TRANSFORMER.weights([[1.0, 2.0]], [[1, 1]]).tolist()      # every score -1e9: uniform
[[0.5, 0.5]]
"""

from __future__ import annotations

import numpy as np

from ..errors import MaskAttnError
from ._framework import ATTEND, Convention, Framework, expressions, fill, softmax_wide
from .pytorch import ATTEND_DIALECT, attend_mask, mask_code

#: what PyTorch says when masked_fill's value does not fit the tensor's dtype
HALF_OVERFLOW = "RuntimeError: value cannot be converted to type c10::Half without overflow"


def _attention(x, blocked, dtype, fw):
    # scores = scores.masked_fill(mask == 0, -1e9); p_attn = scores.softmax(dim=-1)
    if dtype == "float16":
        raise MaskAttnError(f"the Annotated Transformer's masked_fill(mask == 0, -1e9) fails in float16: "
                            f"{HALF_OVERFLOW}")
    return softmax_wide(fill(blocked, x, -1e9, dtype), dtype)


ONE_IS_ATTEND = Convention(ATTEND, "int / bool (1 = attend)", "src_mask (B, 1, Tk), tgt_mask (B, Tq, Tk)",
                           lambda blocked, dtype: (~blocked).astype(np.int64))

#: the notebook has only subsequent_mask and the padding mask; any other 1 = attend tensor goes to attention()
AT_EXPRESSIONS = expressions(
    window="tgt_mask & (q - kv <= reach) on torch.arange, with subsequent_mask(T)",
    document="mask = (seg[:, :, None] == seg[:, None, :]): (B, Tq, Tk), 1 = attend",
    prefix="subsequent_mask(T) | (torch.arange(T) < p): the first p key columns opened",
    drawn="mask = any (B, Tq, Tk) 0/1 tensor, 1 = attend (scores.masked_fill(mask == 0, -1e9))",
    window_right="mask = (q - kv <= reach) & (kv - q <= right) on torch.arange, no subsequent_mask",
    chunk="subsequent_mask(T) & ((q - pad) // c == (kv - pad) // c)",
    global_tokens="mask = window | is_global[q] | is_global[kv]",
    shared_prefix="subsequent_mask(T) & ((part_k == 0) | (part_q == part_k))",
    short=("1 = attend mask",) * 8,
)

ANNOTATED_TRANSFORMER = Framework(
    key="annotated_transformer", library="Annotated Transformer (PyTorch 2.13)",
    api="attention(query, key, value, mask)", path="masked_fill(mask == 0, -1e9)", default=True,
    how_to_get="the notebook's own attention()",
    convention=ONE_IS_ATTEND, applies="fill", constant=lambda dtype: (-1e9, dtype),
    softmax="torch softmax: float32 arithmetic, rounded once",
    source="harvardnlp/annotated-transformer the_annotated_transformer.py", model=_attention,
    expressions=AT_EXPRESSIONS, package="torch", dialect=ATTEND_DIALECT,
    mask_code=mask_code(attend_mask, "attend  # attention(query, key, value, mask) takes it: 1 / True = attend"),
)
#: where this file's entries stand in the app's list of frameworks
ORDER = 60
ENTRIES = (ANNOTATED_TRANSFORMER,)
