"""How masks broadcast: each part of the mask in its own shape, their maximum, every head's logits.

The tutorial's padding mask is ``(B, 1, 1, Tk)`` and its look-ahead mask ``(Tq, Tk)``; neither
has the shape of the logits ``(B, H, Tq, Tk)``. NumPy and TensorFlow line shapes up from the
right and copy every axis of length 1: the padding row ``(1, 1, Tk)`` of a sequence is copied
down every query and across every head, ``tf.maximum`` of the two masks is ``(B, 1, Tq, Tk)``,
and adding it to the logits copies it across the heads.

``broadcast_masks(inputs, heads)`` does this for the typed batch: the parts of the inputs'
``MaskSpec`` (``MaskSpec.parts``), their maximum and, with the Playground's Q and K split into
``heads`` heads of depth ``d_model / heads`` (the tutorial's ``split_heads``), the masked logits
of every head of every sequence.

>>> from maskattn.state import Inputs
>>> view = broadcast_masks(Inputs(causal=True), heads=2)
>>> {name: part.shape for name, part in view.parts.items()}
{'padding': (3, 1, 1, 6), 'look_ahead': (6, 6)}
>>> view.mask.shape, view.steps.masked_logits.shape
((3, 1, 6, 6), (3, 2, 6, 6))
>>> print(shape_table(view))
padding mask                (B, 1, 1, Tk) = (3, 1, 1, 6)
look-ahead mask                  (Tq, Tk) =       (6, 6)
mask = tf.maximum of both  (B, 1, Tq, Tk) = (3, 1, 6, 6)
logits q·kᵀ/√d per head    (B, H, Tq, Tk) = (3, 2, 6, 6)
logits + mask × c          (B, H, Tq, Tk) = (3, 2, 6, 6)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .attention import AttentionSteps, attention_steps
from .errors import MaskAttnError
from .masks import MASK_PARTS
from .pipeline import fitted_spec, tokenize_inputs
from .state import Inputs
from .tokens import TokenBatch, embed, project_qkv

#: the numbers of heads the view offers (every d_model the app offers divides by them)
HEAD_CHOICES: tuple[int, ...] = (2, 4)
#: the heads' logits are computed up to this many tokens (B·H·T² cells, for a picture per head)
MAX_BROADCAST_TOKENS = 32
#: what each method does with the mask, as the last line of the shape table says it
_MASKED_NAMES = {"add": "logits + mask × c", "fill": "where(mask, c, logits)", "safe": "where(mask, c, logits)",
                 "attend_all": "where(mask, c, logits); empty rows unmasked",
                 "zero_logits": "logits × (1 − mask)", "multiply_weights": "logits (mask after softmax)"}


@dataclass(frozen=True)
class MaskBroadcast:
    """The mask of a batch, part by part and combined, and every head's masked logits.

    parts: each part that is on in its own broadcastable shape (``MASK_PARTS`` names them);
    mask: ``(B, 1, T, T)`` their element-wise maximum, or None when no mask is on;
    steps: ``(B, H, T, T)`` attention of every head, or None beyond ``MAX_BROADCAST_TOKENS``.
    """

    inputs: Inputs
    batch: TokenBatch
    heads: int
    parts: dict[str, np.ndarray]
    mask: np.ndarray | None           # (B, 1, T, T)
    steps: AttentionSteps | None      # (B, H, T, T)
    notices: tuple[str, ...]

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(B, H, Tq, Tk)``: the logits' shape, which every part broadcasts to."""
        B, T = self.batch.ids.shape
        return B, self.heads, T, T


def broadcast_masks(inputs: Inputs, heads: int = 2) -> MaskBroadcast:
    """The mask parts, their maximum and every head's masked logits for the typed batch.

    Head ``h`` uses dimensions ``h·dh … (h + 1)·dh − 1`` of the Playground's Q, K and V
    (``dh = d_model / heads``), scaled by ``1/√dh`` when scaling is on.
    """
    if isinstance(heads, bool) or heads not in HEAD_CHOICES:
        raise MaskAttnError(f"heads must be one of {', '.join(map(str, HEAD_CHOICES))}, got {heads!r}")
    if inputs.d_model % heads:
        raise MaskAttnError(f"d_model {inputs.d_model} does not split into {heads} heads")
    batch = tokenize_inputs(inputs)
    B, T = batch.ids.shape
    spec, notices = fitted_spec(inputs, T)
    parts = spec.parts(batch.ids, segment_ids=batch.segment_ids)
    mask = spec.build(batch.ids, segment_ids=batch.segment_ids)                   # (B, 1, T, T) or None
    if T > MAX_BROADCAST_TOKENS:
        notices += (f"Every head's logits are drawn for up to {MAX_BROADCAST_TOKENS} tokens; these sequences "
                    f"have {T}, so only the shapes are shown.",)
        return MaskBroadcast(inputs, batch, heads, parts, mask, None, notices)
    x = embed(batch.tokens, inputs.d_model, inputs.seed, inputs.positional)       # (B, T, d)
    q, k, v = project_qkv(x, inputs.seed, inputs.qk_mode)                        # (B, T, d) each
    q, k, v = (split_heads(a, heads) for a in (q, k, v))                          # (B, H, T, dh) each
    steps = attention_steps(q, k, v, mask, mask_value=inputs.mask_value, dtype=inputs.dtype,
                            method=inputs.method, scale=inputs.scale)             # (B, H, T, T)
    return MaskBroadcast(inputs, batch, heads, parts, mask, steps, notices)


def split_heads(x, heads: int) -> np.ndarray:
    """``(B, T, d) -> (B, H, T, d / H)``: the tutorial's ``split_heads``.

    >>> split_heads(np.arange(8.0).reshape(1, 2, 4), 2)[0, 1].tolist()   # head 1: the last two dimensions
    [[2.0, 3.0], [6.0, 7.0]]
    """
    B, T, d = np.shape(x)
    return np.asarray(x).reshape(B, T, heads, d // heads).transpose(0, 2, 1, 3)   # (B, H, T, dh)


def shape_table(view: MaskBroadcast) -> str:
    """Each array of the view with its shape in letters and in numbers, right-aligned as NumPy aligns them."""
    if not isinstance(view, MaskBroadcast):
        raise MaskAttnError(f"view must be what broadcast_masks returns, got {type(view).__name__}")
    B, H, T, _ = view.shape
    numbers = {"B": B, "H": H, "Tq": T, "Tk": T, "1": 1}
    rows = [(f"{MASK_PARTS[name][0]} mask", MASK_PARTS[name][1]) for name in view.parts]
    if view.mask is not None:
        rows.append(("mask = " + ("tf.maximum of " + ("both" if len(view.parts) == 2 else "all")
                                  if len(view.parts) > 1 else "that part"), "(B, 1, Tq, Tk)"))
    rows.append(("logits q·kᵀ/√d per head" if view.inputs.scale else "logits q·kᵀ per head", "(B, H, Tq, Tk)"))
    if view.mask is not None:
        rows.append((_MASKED_NAMES[view.inputs.method], "(B, H, Tq, Tk)"))
    lines = []
    for name, letters in rows:
        sizes = "(" + ", ".join(str(numbers[axis]) for axis in letters.strip("()").split(", ")) + ")"
        lines.append((name, letters, sizes))
    widths = [max(len(line[i]) for line in lines) for i in range(3)]
    return "\n".join(f"{name:<{widths[0]}}  {letters:>{widths[1]}} = {sizes:>{widths[2]}}"
                     for name, letters, sizes in lines)
