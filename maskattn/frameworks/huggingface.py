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
from ..masks import parts_on
from ._dialect import Dialect, Native
from ._source import DTYPES, lines
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
    window_right="create_bidirectional_mask(..., and_mask_function=lambda b, h, q_idx, kv_idx: kv_idx - q_idx <= right) "
                 "with the window's left side (its own sliding_window_bidirectional_overlay(w) is |q − kv| <= w, "
                 "the same number both ways)",
    chunk="config.attention_chunk_size = c, then masking_utils.create_chunked_causal_mask (Llama 4): "
          "chunked_causal_mask_function(c, left_padding), the left padding counted from attention_mask",
    global_tokens="and_mask_function=lambda b, h, q_idx, kv_idx: window(q_idx, kv_idx) | is_global[q_idx] | "
                  "is_global[kv_idx] (no config setting for global tokens)",
    shared_prefix="create_causal_mask(..., and_mask_function=lambda b, h, q_idx, kv_idx: (part[kv_idx] == 0) | "
                  "(part[q_idx] == part[kv_idx]))",
    short={"window": "config.sliding_window", "document": "position_ids", "prefix": "or_mask_function",
           "drawn": "4-D attention_mask", "window_right": "and_mask_function", "chunk": "attention_chunk_size",
           "global_tokens": "and_mask_function", "shared_prefix": "and_mask_function"},
    native=("window", "document", "prefix", "chunk"),
)

def _hf_window(spec) -> Native | None:
    """``config.sliding_window``: HF counts keys (the app's "keys" count; "distance" is one more).
    A two-sided window is said by its rule (HF's own bidirectional window is symmetric only)."""
    if spec.window_right is not None:
        return None
    window = "WINDOW" if spec.window_rule == "keys" else "WINDOW + 1"
    if spec.prefix_length is not None:           # over a prefix LM: the overlay as one more and-function
        return Native("term", f"sliding_window_overlay({window})", "sliding window over the prefix LM")
    return Native("option", window, "it counts keys: " + ("the app's count" if spec.window_rule == "keys"
                                                          else "the distance back + 1"))


#: transformers.masking_utils: mask functions (b, h, q_idx, kv_idx) -> attend, joined by and_masks, with the
#: library's own calls for padding (the 2-D attention_mask), causal, the window (config) and the prefix (or)
HF_DIALECT = Dialect(
    names=dict(q="q_idx", kv="kv_idx", id_q="ids_t[b, q_idx]", id_k="ids_t[b, kv_idx]", doc_q="doc_t[b, q_idx]",
               doc_k="doc_t[b, kv_idx]", drawn="drawn_t[q_idx, kv_idx]"),
    wrap="lambda b, h, q_idx, kv_idx: {rule}",
    setup={"doc": "doc_t = torch.tensor([document_ids])  # (B=1, T); the same as position_ids restarting at 0",
           "doc_q": "doc_t = torch.tensor([document_ids])  # (B=1, T)", "doc_k": "doc_t = torch.tensor([document_ids])  # (B=1, T)",
           "drawn": "drawn_t = torch.tensor(DRAWN)  # (Tq, Tk) 1 = blocked"},
    native={"padding": lambda spec: Native("option", "(ids_t != 0).long()", "(B, Tk) 1 = attend: the 2-D padding mask"),
            "query_padding": lambda spec: Native("term", "lambda b, h, q_idx, kv_idx: ids_t[b, q_idx] != 0",
                                                 "padded query rows"),
            "look_ahead": lambda spec: Native("option", "causal"), "window": _hf_window,
            "prefix": lambda spec: Native("option", "lambda b, h, q_idx, kv_idx: kv_idx < PREFIX"),
            "document": lambda spec: Native("term", "packed_sequence_mask_function(doc_t)", "same document only",
                                            ("doc",)),
            "chunk": lambda spec: Native("term", "chunked_overlay(CHUNK, torch.tensor([LEFT_PADDING]))",
                                         "Llama 4's chunks: masking_utils' own overlay (create_chunked_causal_mask's)"),
            "drawn": lambda spec: Native("term", "lambda b, h, q_idx, kv_idx: drawn_t[q_idx, kv_idx] == 0",
                                         "the drawn mask", ("drawn",))})


def _hf_mask(implementation: str):
    """The mask as ``masking_utils`` builds it for a Mistral-style config (one that has a sliding window)."""
    def code(state) -> tuple[str, str]:
        spec = state.spec
        natives = {p.name: HF_DIALECT.native_call(p, spec) for p in parts_on(spec) if p.name in HF_DIALECT.native}
        natives = {name: native for name, native in natives.items() if native is not None}
        r = HF_DIALECT.render(spec)
        window = natives["window"] if "window" in natives and natives["window"].kind == "option" else None
        if spec.is_causal:
            builder = "create_sliding_window_causal_mask" if window else "create_causal_mask"
            call, skip = f"{builder}(config, inputs_embeds, attention_mask, cache=None", "allow_is_causal_skip=False"
        else:
            builder = "create_bidirectional_mask"
            call, skip = f"{builder}(config, inputs_embeds, attention_mask", "allow_is_bidirectional_skip=False"
        names = {builder, *(("and_masks",) if len(r.terms) > 1 else ()),
                 *(("packed_sequence_mask_function",) if spec.segments else ()),
                 *(("sliding_window_overlay",) if "window" in natives and not window else ()),
                 *(("chunked_overlay",) if "chunk" in natives else ())}
        args = [f"or_mask_function={natives['prefix'].code}"] if "prefix" in natives else []
        if r.terms:
            args.append("and_mask_function=" + (r.terms[0] if len(r.terms) == 1 else
                                                "and_masks(\n        " + ",\n        ".join(r.terms) + ")"))
        setup = [line for line in r.lines if not line.startswith("mask")]
        body = lines(
            f"config = MistralConfig(sliding_window={window.code if window else None}, "
            f"attn_implementation={implementation!r})" + (f"  # {window.note}" if window else ""),
            f"dtype = {DTYPES['torch'][state.dtype]}",
            "inputs_embeds = torch.zeros(1, T, 1, dtype=dtype)  # only its batch size, length and dtype are read",
            "ids_t = torch.tensor([ids])  # (B=1, T)",
            f"attention_mask = {natives['padding'].code}  # {natives['padding'].note}" if spec.padding
            else "attention_mask = None", *setup,
            f"mask = {call},\n    " + ",\n    ".join(args + [skip]) + ")  # (B, 1, Tq, Tk)"
            + (" bool, True = attend" if implementation == "sdpa" else " 0 / finfo(dtype).min, added"))
        return lines("import torch", "from transformers import MistralConfig",
                     f"from transformers.masking_utils import ({', '.join(sorted(names))})"), body
    return code


_HF = dict(expressions=HF_EXPRESSIONS, window_setting=lambda reach, right: reach + 1 if right is None else None, window_parameter="sliding_window",
           package="transformers", dialect=HF_DIALECT)

HF_EAGER = Framework(
    key="hf_eager", library="transformers 5.24", api="BertModel(config, attn_implementation='eager')(ids, attention_mask=...)",
    path="eager attention", default=False,
    how_to_get="attn_implementation='eager' (needed for output_attentions=True)",
    convention=HF_ATTENTION_MASK, applies="add", constant=_finfo_min,
    softmax="torch softmax: float32 arithmetic, rounded once; plain (a row of only -inf is NaN)",
    source="transformers/masking_utils.py (eager_mask); models/bert/modeling_bert.py", model=_eager,
    mask_code=_hf_mask("eager"), **_HF,
)
HF_SDPA = Framework(
    key="hf_sdpa", library="transformers 5.24", api="BertModel(config)(ids, attention_mask=...)",
    path="SDPA attention", default=True,
    how_to_get="the default attn_implementation ('sdpa') with PyTorch >= 2.5",
    convention=HF_ATTENTION_MASK, applies="bool", constant=lambda dtype: (-np.inf, "float32" if dtype != "float64" else dtype),
    softmax="torch SDPA: float32 (float64 for float64); a row of only -inf gets 0",
    source="transformers/masking_utils.py (sdpa_mask); integrations/sdpa_attention.py", model=_sdpa_bool,
    mask_code=_hf_mask("sdpa"), **_HF,
)
#: where this file's entries stand in the app's list of frameworks
ORDER = 40
ENTRIES = (HF_SDPA, HF_EAGER)
