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
from ..masks import PART, parts_on
from ._dialect import Dialect, Native, commented
from ._framework import (ADDED, ATTEND, ATTEND_BOOL, BLOCKED_BOOL, Convention, Framework, expressions, fill,
                         scalar_times_mask, softmax_wide, wide, zero_fully_masked)
from ._source import DTYPES, POSITIONS, PRINTS, data, float_literal, lines

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
    window_right="attn_mask=(q_idx - kv_idx <= reach) & (kv_idx - q_idx <= right), is_causal=False",
    chunk="attn_mask=(kv_idx <= q_idx) & ((q_idx - pad) // c == (kv_idx - pad) // c) (pad = the left padding)",
    global_tokens="attn_mask=window | is_global[q_idx] | is_global[kv_idx]: a global query or key opens the window",
    shared_prefix="attn_mask=(kv_idx <= q_idx) & ((part[kv_idx] == 0) | (part[q_idx] == part[kv_idx]))",
    short=("bool attn_mask",) * 8,
)
SDPA_FLOAT_EXPRESSIONS = expressions(
    **{part: f"the bool mask as for SDPA ({e.api.split(':')[0]}), then blocked.to(dtype) * -1e9 added"
       for part, e in SDPA_EXPRESSIONS.items()},
    short=("float attn_mask",) * 8)
MHA_EXPRESSIONS = expressions(
    window="attn_mask=~((kv_idx <= q_idx) & (q_idx - kv_idx <= reach)): (Tq, Tk), True = BLOCKED",
    document="attn_mask=doc[:, :, None] != doc[:, None, :]: (B·H, Tq, Tk) (repeat_interleave over the heads), "
             "True = BLOCKED",
    prefix="attn_mask=(kv_idx > q_idx) & (kv_idx >= p): (Tq, Tk), True = BLOCKED",
    drawn="attn_mask=any bool (Tq, Tk) or (B·H, Tq, Tk), True = BLOCKED; key_padding_mask (B, Tk) for pad keys",
    window_right="attn_mask=(q_idx - kv_idx > reach) | (kv_idx - q_idx > right): (Tq, Tk), True = BLOCKED",
    chunk="attn_mask=(kv_idx > q_idx) | ((q_idx - pad) // c != (kv_idx - pad) // c): True = BLOCKED",
    global_tokens="attn_mask=window_blocked & ~is_global[q_idx] & ~is_global[kv_idx]: True = BLOCKED",
    shared_prefix="attn_mask=(kv_idx > q_idx) | ((part[kv_idx] != 0) & (part[q_idx] != part[kv_idx])): True = BLOCKED",
    short=("attn_mask (1 = block)",) * 8,
)
FLEX_EXPRESSIONS = expressions(
    window="mask_mod q_idx - kv_idx <= reach (write the count the model was trained with: < w for w keys), "
           "and_masks(causal, sliding_window)",
    document="mask_mod document_ids[b, q_idx] == document_ids[b, kv_idx]",
    prefix="or_masks(causal, lambda b, h, q_idx, kv_idx: kv_idx < p)",
    drawn="mask_mod attend[q_idx, kv_idx] (a lookup in any bool tensor); create_block_mask(mask_mod, B, H, Tq, "
          "Tk) turns the combined mask_mod into a BlockMask",
    window_right="mask_mod kv_idx - q_idx <= right, and_masks with the window's left side (no causal)",
    chunk="mask_mod (q_idx - pad) // c == (kv_idx - pad) // c, and_masks(causal, same_chunk)",
    global_tokens="or_masks(window, lambda b, h, q_idx, kv_idx: is_global[q_idx] | is_global[kv_idx]): the global "
                  "rows and columns open the window, and_masks keeps padding and the future",
    shared_prefix="and_masks(causal, lambda b, h, q_idx, kv_idx: (part[kv_idx] == 0) | (part[q_idx] == part[kv_idx]))",
    short={"window": "mask_mod q − kv ≤ r", "document": "mask_mod doc == doc", "prefix": "or_masks(causal, …)",
           "drawn": "mask_mod lookup", "window_right": "mask_mod kv − q ≤ right", "chunk": "mask_mod same chunk",
           "global_tokens": "or_masks(window, global)", "shared_prefix": "and_masks(causal, same part)"},
    native=("window", "document", "prefix", "drawn", "window_right", "chunk", "global_tokens", "shared_prefix"),
)

# --- how PyTorch says a mask, and the scripts that run it ------------------------------------------------

_DOC = "doc_t = torch.tensor([document_ids])  # (B=1, T)"
#: SDPA's bool mask (and the Annotated Transformer's): True = may attend, (B, H, Tq, Tk), parts combined with &
ATTEND_DIALECT = Dialect(
    names=dict(q="q_idx", kv="kv_idx", id_q="ids_t[:, None, :, None]", id_k="ids_t[:, None, None, :]",
               doc_q="doc_t[:, None, :, None]", doc_k="doc_t[:, None, None, :]", drawn="torch.tensor(DRAWN)"),
    var="attend", intro="# bool mask, True = may attend (the opposite of the TF tutorial's 1 = blocked); parts combine "
                        "with &",
    start=commented("attend = torch.ones(1, 1, T, T, dtype=torch.bool)", "(B, H, Tq, Tk)"),
    setup={"q": POSITIONS.format(m="torch"), "kv": POSITIONS.format(m="torch"), "doc_q": _DOC, "doc_k": _DOC})
#: nn.MultiheadAttention: True = BLOCKED; pad keys in key_padding_mask (B, Tk), the rest in attn_mask
MHA_DIALECT = Dialect(
    names=dict(q="q_idx", kv="kv_idx", id_q="ids_t[:, :, None]", id_k="ids_t[:, None, :]",
               doc_q="doc_t[:, :, None]", doc_k="doc_t[:, None, :]", drawn="torch.tensor(DRAWN)"),
    var="attn_mask", polarity="blocked",
    intro="# attn_mask: bool, True = BLOCKED (the opposite of F.scaled_dot_product_attention); (Tq, Tk), or\n"
          "# (B·H, Tq, Tk) once a part has a batch axis",
    start="attn_mask = torch.zeros(T, T, dtype=torch.bool)", join="{var} = {var} | ({term})",
    setup={"q": POSITIONS.format(m="torch"), "kv": POSITIONS.format(m="torch"), "doc_q": _DOC, "doc_k": _DOC},
    native={"padding": lambda spec: Native("line", "key_padding_mask = ids_t == 0", "(B, Tk) True = pad key, BLOCKED")})
#: FlexAttention: one mask_mod(b, h, q_idx, kv_idx) per part, True = may attend, joined by and_masks
FLEX_DIALECT = Dialect(
    names=dict(q="q_idx", kv="kv_idx", id_q="ids_t[b, q_idx]", id_k="ids_t[b, kv_idx]", doc_q="doc_t[b, q_idx]",
               doc_k="doc_t[b, kv_idx]", drawn="drawn_t[q_idx, kv_idx]"),
    var="mask_mod",
    setup={"doc_q": _DOC, "doc_k": _DOC, "drawn": "drawn_t = torch.tensor(DRAWN)  # (Tq, Tk) 1 = blocked"},
    native={"prefix": lambda spec: Native("term", "or_masks(causal, prefix)", "the prefix, then causal")})
#: the mask_mod each part becomes (the prefix LM is two, joined by or_masks)
_MOD_NAMES = {"padding": "not_padding", "query_padding": "query_not_padding", "look_ahead": "causal",
              "window": "sliding_window", "document": "same_document", "drawn": "drawn", "window_right": "window_ahead",
              "chunk": "same_chunk", "global_tokens": "is_global", "shared_prefix": "prefix_or_same_completion"}


def _flex_mask(state) -> str:
    """``block_mask`` for FlexAttention: a def per part, and_masks over them, create_block_mask."""
    spec = state.spec
    if not parts_on(spec):
        return "block_mask = None  # no mask is on\n"
    setup, defs, mods, local = [], [], [], []

    def define(name: str, body: str, note: str) -> None:
        defs.append(f"\n\ndef {name}(b, h, q_idx, kv_idx):  # {note}\n    return {body}")

    for part in parts_on(spec):
        if part.opens or (part.lifted and spec.global_tokens):   # FlexAttention's own or_masks lifts them
            define(_MOD_NAMES[part.name], part.rule("attend", spec.window_rule, spec).format(**FLEX_DIALECT.names),
                   part.note)
            if not part.opens:
                local.append(_MOD_NAMES[part.name])
            continue
        code, note, uses = FLEX_DIALECT.term(part, spec)
        for line in (FLEX_DIALECT.setup[u] for u in uses if u in FLEX_DIALECT.setup):
            if line not in setup:
                setup.append(line)
        if part.name == "prefix":                  # FlexAttention's own or_masks: causal, or the prefix
            define("causal", PART["look_ahead"].rule().format(**FLEX_DIALECT.names), "keys j <= i")
            define("prefix", "kv_idx < PREFIX", "the prefix: seen by every query")
        else:
            define(_MOD_NAMES.get(part.name, part.name), code, note)
        mods.append(code if part.name == "prefix" else _MOD_NAMES.get(part.name, part.name))
    if local:                                      # the window or chunks, or a global token's row or column
        inner = local[0] if len(local) == 1 else f"and_masks({', '.join(local)})"
        mods.append(f"or_masks({inner}, {_MOD_NAMES['global_tokens']})")
    return lines("# FlexAttention: each part is a mask_mod(b, h, q_idx, kv_idx) -> True = may attend", *setup,
                 "\n".join(defs) + "\n\n\n", f"mask_mod = and_masks({', '.join(mods)})",
                 'block_mask = create_block_mask(mask_mod, B=1, H=None, Q_LEN=T, KV_LEN=T, device="cpu")')


def attend_mask(state) -> str:
    """``attend``: the bool mask, True = may attend (None when no mask is on)."""
    r = ATTEND_DIALECT.render(state.spec)
    return r.code + "\n" if r.terms else "attend = None  # no mask is on\n"


def _attend(state) -> str:
    """``attn_mask``: SDPA's bool mask (None when no mask is on)."""
    r = ATTEND_DIALECT.render(state.spec)
    return lines(r.code, "attn_mask = attend") if r.terms else "attn_mask = None  # no mask is on\n"


def _float_mask(state) -> str:
    """``attn_mask``: the tutorial's mask times the constant, as a float mask SDPA adds."""
    r = ATTEND_DIALECT.render(state.spec)
    bias = ["attn_mask = attn_mask + BIAS  # the position bias rides in the same float mask"] \
        if getattr(state, "bias", None) is not None else []
    if not r.terms:
        return "attn_mask = BIAS  # no mask is on: the float mask is the bias alone\n" if bias else \
            "attn_mask = None  # no mask is on\n"
    c = state.mask_value
    add = (["# the tutorial's `mask * -1e9`, added to the logits (in float16 1 * -1e9 = -inf, 0 * -1e9 = -0)",
            "attn_mask = blocked.to(dtype) * MASK_VALUE                 # (B, H, Tq, Tk)"] if math.isfinite(c) else
           ["# masked_fill, because mask * inf would give 0 * inf = NaN",
            "attn_mask = torch.zeros(blocked.shape, dtype=dtype).masked_fill(blocked, MASK_VALUE)"])
    return lines(r.code, "blocked = ~attend                                            # True = blocked",
                 f"MASK_VALUE = {float_literal(c)}  # a Python float: PyTorch multiplies in float32, then rounds", *add,
                 *bias)


def _mha_masks(state) -> str:
    """``key_padding_mask`` and ``attn_mask`` for nn.MultiheadAttention (True = BLOCKED)."""
    r = MHA_DIALECT.render(state.spec)
    return lines("" if state.spec.padding else "key_padding_mask = None", r.code)


def _head(state, extra: str = "") -> str:
    return lines("import torch\nimport torch.nn.functional as F", extra, "",
                 f"dtype = {DTYPES['torch'][state.dtype]}", data(state, "torch.tensor({}, dtype={}).to(dtype)",
                                                                  "torch.float64"),
                 "T, d = Q.shape\nids_t = torch.tensor([ids])  # (B=1, T)\n")


def _weights_from(call: str, state) -> str:
    """Output and weights from a call that returns only the output: V = the identity gives the weights."""
    scale = "" if state.scale else ", scale=1.0"
    return lines("q, k, v = Q[None, None], K[None, None], V[None, None]        # (B=1, H=1, T, d)",
                 f"output = {call.format(v='v', scale=scale)}[0, 0]  # (Tq, dv)",
                 "# it returns only the output; with V = the identity the output is weights @ I = the weights",
                 "eye = torch.eye(T, dtype=dtype)[None, None]                  # (1, 1, Tk, Tk)",
                 f"weights = {call.format(v='eye', scale=scale)}[0, 0]  # (Tq, Tk)")


def _sdpa_snippet(mask):
    return lambda state: _head(state) + mask(state) + "\n" + _weights_from(
        "F.scaled_dot_product_attention(q, k, {v}, attn_mask=attn_mask{scale})", state)


def _mha_snippet(state) -> str:
    q_weight = "torch.eye(d, dtype=dtype)" if state.scale else "math.sqrt(d) * torch.eye(d, dtype=dtype)"
    return "import math\n\n" + _head(state) + lines(
        "# one head with identity projections, so the layer attends with exactly Q, K, V",
        "mha = torch.nn.MultiheadAttention(d, num_heads=1, bias=False, batch_first=True, dtype=dtype)",
        "with torch.no_grad():",
        f"    mha.in_proj_weight.copy_(torch.cat([{q_weight}, torch.eye(d, dtype=dtype), "
        "torch.eye(d, dtype=dtype)]))  # (3d, d)",
        "    mha.out_proj.weight.copy_(torch.eye(d, dtype=dtype))",
        "" if state.scale else "# the layer always divides by √d; the query projection multiplies by √d to undo it",
        "", _mha_masks(state),
        "output, weights = mha(Q[None], K[None], V[None], key_padding_mask=key_padding_mask,",
        "                      attn_mask=attn_mask, need_weights=True)",
        "output, weights = output[0].detach(), weights[0].detach()     # (Tq, dv), (Tq, Tk)")


_FLEX_IMPORTS = "from torch.nn.attention.flex_attention import and_masks, create_block_mask, flex_attention, or_masks"


def _flex_snippet(state) -> str:
    biased = getattr(state, "bias", None) is not None
    score_mod = lines("\n\ndef add_bias(score, b, h, q_idx, kv_idx):  # FlexAttention's score_mod: the position bias",
                      "    return score + BIAS[q_idx, kv_idx]\n\n") if biased else ""
    return _head(state, _FLEX_IMPORTS) + _flex_mask(state) + "\n" + score_mod + lines(
        "# eager FlexAttention runs on the CPU (it warns that it is not compiled); on a GPU wrap it in torch.compile"
    ) + _weights_from("flex_attention(q, k, {v}, block_mask=block_mask" + (", score_mod=add_bias" if biased else "")
                      + "{scale})", state)


def mask_code(build, name: str, imports: str = ""):
    """The mask alone: (imports, the lines that leave the library's mask object in ``mask``)."""
    def code(state):
        return (lines("import torch", imports), lines(f"dtype = {DTYPES['torch'][state.dtype]}",
                                                       "ids_t = torch.tensor([ids])  # (B=1, T)", build(state),
                                                       f"mask = {name}"))
    return code


TORCH_SDPA = Framework(
    key="torch_sdpa", library="PyTorch 2.13", api="torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=attend)",
    path="SDPA, bool mask", default=True,
    how_to_get="attn_mask=a bool tensor, True = attend",
    convention=ATTEND_BOOL, applies="bool", constant=lambda dtype: (-math.inf, wide(dtype)),
    softmax="float32 (float64 for float64); a row of only -inf gets 0; output rounded once",
    source="aten/src/ATen/native/cpu/FlashAttentionKernel.cpp; torch/nn/functional.py", model=_sdpa_bool,
    expressions=SDPA_EXPRESSIONS, package="torch", dialect=ATTEND_DIALECT,
    snippet=_sdpa_snippet(_attend), prints=PRINTS["torch"], mask_code=mask_code(_attend, "attn_mask"),
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
    package="torch", dialect=ATTEND_DIALECT, snippet=_sdpa_snippet(_float_mask), prints=PRINTS["torch"],
    mask_code=mask_code(_float_mask, "attn_mask"),
)
TORCH_MHA = Framework(
    key="torch_mha", library="PyTorch 2.13",
    api="torch.nn.MultiheadAttention(...)(q, k, v, attn_mask=blocked, need_weights=True)",
    path="nn.MultiheadAttention", default=True,
    how_to_get="the module's default need_weights=True (it returns the weights)",
    convention=BLOCKED_BOOL, applies="add", constant=lambda dtype: (-math.inf, dtype),
    softmax="torch softmax: float32 arithmetic, rounded once; plain (a row of only -inf is NaN)",
    source="torch/nn/functional.py multi_head_attention_forward", model=_mha, expressions=MHA_EXPRESSIONS,
    package="torch", dialect=MHA_DIALECT, snippet=_mha_snippet, prints=PRINTS["torch"],
    mask_code=mask_code(_mha_masks, "(attn_mask, key_padding_mask)"),
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
    expressions=FLEX_EXPRESSIONS, package="torch", dialect=FLEX_DIALECT, snippet=_flex_snippet,
    prints=PRINTS["torch"],
    mask_code=mask_code(_flex_mask, "block_mask  # create_mask(mask_mod, 1, None, T, T) shows it as a bool tensor",
                         "from torch.nn.attention.flex_attention import and_masks, create_block_mask, or_masks"),
)
#: where this file's entries stand in the app's list of frameworks
ORDER = 30
ENTRIES = (TORCH_SDPA, TORCH_SDPA_FLOAT, TORCH_MHA, TORCH_FLEX)
