"""JAX and Flax: both ``where`` the mask in, with different constants and softmax precision.

``jax.nn.dot_product_attention`` computes the logits in float32 (float64 stays float64),
fills blocked ones with ``-0.7 * finfo(float32).max`` (capped at the float32 range even
for float64) and always runs the softmax in float32. XLA on CPU flushes subnormals to 0. Flax's
``dot_product_attention_weights`` fills with ``finfo(dtype).min`` and runs
``jax.nn.softmax`` in the dtype. A fully masked row is uniform in both.

>>> JAX.constant_text("float16"), FLAX.constant_text("float16")
('-2.3819763e38 (float32)', '-65504 (float16)')
"""

from __future__ import annotations

from .. import numerics as nx
from ._dialect import Dialect, Native, commented, reach_code
from ._source import DTYPES, POSITIONS, PRINTS, data, lines
from ._framework import (ATTEND_BOOL, Framework, expressions, fill, flush_subnormals, softmax_steps, softmax_wide,
                         wide)


def _jax_negative(dtype):
    # jax/_src/nn/functions.py: _get_large_negative(logits.dtype), capped at float32's max
    return -0.7 * float(nx.finfo("float32").max), wide(dtype)


def _jax(x, blocked, dtype, fw):
    # logits in promote(dtype, float32); where(mask, logits, large_negative); softmax in float32; cast back
    # XLA on CPU flushes subnormal results to zero
    scores = fill(blocked, x, fw.constant(dtype)[0], wide(dtype))
    weights = flush_subnormals(softmax_wide(nx.cast(scores, "float32"), "float32"), "float32")
    return weights.astype(nx.resolve_dtype(dtype))


def _flax(x, blocked, dtype, fw):
    # attn_weights = jnp.where(mask, attn_weights, jnp.finfo(dtype).min); jax.nn.softmax(...).astype(dtype)
    # XLA computes 16-bit elementwise ops in float32 and flushes float32 subnormals
    return flush_subnormals(softmax_steps(fill(blocked, x, fw.constant(dtype)[0], dtype), dtype), wide(dtype))


JAX_EXPRESSIONS = expressions(
    window="jax.nn.dot_product_attention(..., is_causal=True, local_window_size=(reach, 0)): it counts the "
           "distance back (query_pos <= key_pos + reach), so a window of w keys is reach = w - 1",
    document="mask=seg[:, None, :, None] == seg[:, None, None, :]: bool (B, 1, T, S), True = attend",
    prefix="mask=(kv <= q) | (kv < p) with is_causal=False (is_causal would close the prefix); a window then "
           "keeps its right side open: local_window_size=(reach, T - 1)",
    drawn="mask=any bool array broadcastable to (B, N, T, S), True = attend",
    window_right="local_window_size=(reach, right) with is_causal=False: key_pos <= query_pos + right",
    chunk="mask=(q - pad) // c == (kv - pad) // c: bool, True = attend, with is_causal=True",
    global_tokens="mask=window | is_global[q] | is_global[kv]: local_window_size cannot leave rows and columns open, so "
                  "the window goes into the bool mask",
    shared_prefix="mask=(part_k == 0) | (part_q == part_k), with is_causal=True",
    short=("local_window_size", "bool mask", "bool mask", "bool mask", "local_window_size", "bool mask", "bool mask",
           "bool mask"),
    native=("window", "window_right"),
)
FLAX_EXPRESSIONS = expressions(
    window="nn.make_attention_mask(pos, pos, lambda q, k: q - k <= reach) with nn.make_causal_mask(ids), "
           "combined by nn.combine_masks (logical and)",
    document="nn.make_attention_mask(segment_ids, segment_ids, pairwise_fn=jnp.equal): (B, 1, T, T)",
    prefix="nn.make_attention_mask(pos, pos, lambda q, k: (k <= q) | (k < p)) instead of nn.make_causal_mask",
    drawn="mask=any bool (B, H, Tq, Tk) array, True = attend, combined by nn.combine_masks",
    window_right="nn.make_attention_mask(pos, pos, lambda q, k: k - q <= right) with the window's left side",
    chunk="nn.make_attention_mask(pos - pad, pos - pad, lambda q, k: q // c == k // c) with nn.make_causal_mask(ids)",
    global_tokens="the window's mask, or nn.make_attention_mask(g, g, jnp.logical_or) for the global flags g",
    shared_prefix="nn.make_attention_mask(part, part, lambda q, k: (k == 0) | (q == k)) with nn.make_causal_mask(ids)",
    short=("make_attention_mask",) * 3 + ("bool mask",) + ("make_attention_mask",) * 4,
    native=("document",),
)

# --- how JAX and Flax say a mask ---------------------------------------------------------------------------

_JAX_DOC = "doc_j = jnp.array([document_ids])  # (B=1, T)"


def _jax_window(spec) -> Native:
    right = "T - 1" if spec.prefix_length is not None else "0"      # a prefix LM keeps the future of the prefix open
    if spec.window_right is not None:                               # a two-sided window: JAX's own (left, right)
        right = "WINDOW_RIGHT"
    return Native("option", f"local_window_size=({reach_code(spec)}, {right})",
                  f"JAX counts a window as the distance back (q - kv <= left): left = {reach_code(spec)}"
                  + ("; right open for the prefix" if right == "T - 1" else
                     "; right = the keys ahead (key_pos <= query_pos + right)" if right != "0" else ""))


#: jax.nn.dot_product_attention: a bool mask (True = attend) ANDed together, and its own is_causal and
#: local_window_size arguments
JAX_DIALECT = Dialect(
    names=dict(q="q_idx", kv="kv_idx", id_q="ids_j[:, None, :, None]", id_k="ids_j[:, None, None, :]",
               doc_q="doc_j[:, None, :, None]", doc_k="doc_j[:, None, None, :]", drawn="jnp.array(DRAWN)"),
    intro="# bool mask, True = may attend; masks combined with jnp.logical_and (as flax combine_masks)",
    start=commented("mask = jnp.ones((1, 1, T, T), dtype=bool)", "(B, N, T, S)"),
    join="{var} = jnp.logical_and({var}, {term})",
    setup={"q": POSITIONS.format(m="jnp"), "kv": POSITIONS.format(m="jnp"), "doc_q": _JAX_DOC, "doc_k": _JAX_DOC},
    native={"look_ahead": lambda spec: Native("option", "is_causal=True"), "window": _jax_window,
            "window_right": lambda spec: Native("skip")})


def jax_mask(state) -> str:
    """``mask`` and ``options`` for jax.nn.dot_product_attention."""
    r = JAX_DIALECT.render(state.spec)
    window = [_jax_window(state.spec).note] if state.spec.window is not None and not state.spec.global_tokens else []
    options = ["mask=mask", *r.options, *([] if state.scale else ["scale=1.0"]),
               *(["bias=BIAS[None, None]"] if getattr(state, "bias", None) is not None else [])]   # (B, N, T, S)
    return lines(r.code, *("# " + w for w in window), f"options = dict({', '.join(options)})")


def _jax_snippet(state) -> str:
    x64 = 'jax.config.update("jax_enable_x64", True)  # float64 needs 64-bit mode' if state.dtype == "float64" else ""
    return lines(
        "import jax\nimport jax.numpy as jnp\nimport numpy as np\n", x64, f"dtype = {DTYPES['jnp'][state.dtype]}",
        data(state, "jnp.asarray(np.array({}, dtype={})).astype(dtype)", "np.float64"),
        "T, d = Q.shape\nids_j = jnp.array([ids])  # (B=1, T)\n", jax_mask(state), "",
        "# jax.nn.dot_product_attention wants (B, T, N heads, H depth)",
        "q, k, v = Q[None, :, None, :], K[None, :, None, :], V[None, :, None, :]",
        "output = jax.nn.dot_product_attention(q, k, v, **options)[0, :, 0, :]  # (Tq, dv)",
        "# it returns only the output; with V = the identity the output is the weights. The value depth",
        "# must equal d, so the identity goes in d columns at a time",
        "eye = jnp.pad(jnp.eye(T, dtype=dtype), ((0, 0), (0, -T % d)))  # (Tk, Tk rounded up to d)",
        "weights = jnp.concatenate([",
        "    jax.nn.dot_product_attention(q, k, eye[None, :, None, i:i + d], **options)[0, :, 0, :]",
        "    for i in range(0, eye.shape[1], d)], axis=-1)[:, :T]  # (Tq, Tk)")


def _jax_mask_code(state) -> tuple[str, str]:
    return "import jax.numpy as jnp", lines("ids_j = jnp.array([ids])  # (B=1, T)", jax_mask(state))


def _flax_padding(spec) -> Native:
    queries = "ids_j != 0" if spec.query_padding else "jnp.ones_like(ids_j)"
    return Native("term", f"nn.make_attention_mask({queries}, ids_j != 0)", "padding")


#: Flax: each part from make_attention_mask(query_input, key_input, pairwise_fn) -> (B, 1, Tq, Tk), or its
#: make_causal_mask, all ANDed by combine_masks; 1 = may attend
FLAX_DIALECT = Dialect(
    names=dict(q="jnp.arange(T)[:, None]", kv="jnp.arange(T)[None, :]", id_q="ids_j[:, None, :, None]",
               id_k="ids_j[:, None, None, :]", doc_q="doc_j[:, None, :, None]", doc_k="doc_j[:, None, None, :]",
               drawn="jnp.array(DRAWN)"),
    wrap="jnp.broadcast_to({rule}, (1, 1, T, T))",
    setup={"pos": "pos = jnp.arange(T)[None]  # (B=1, T)", "doc": _JAX_DOC, "doc_q": _JAX_DOC, "doc_k": _JAX_DOC},
    native={"padding": _flax_padding,
            "query_padding": lambda spec: Native("skip") if spec.padding else Native(
                "term", "nn.make_attention_mask(ids_j != 0, jnp.ones_like(ids_j))", "padded queries"),
            "look_ahead": lambda spec: Native("term", "nn.make_causal_mask(ids_j)", "causal"),
            "prefix": lambda spec: Native(
                "term", "nn.make_attention_mask(pos, pos, lambda q, k: (k <= q) | (k < PREFIX))", "prefix LM", ("pos",)),
            "window": lambda spec: Native("term", "nn.make_attention_mask(pos, pos, lambda q, k: "
                                          f"q - k {'<' if spec.window_rule == 'keys' else '<='} WINDOW)",
                                          "sliding window", ("pos",)),
            "document": lambda spec: Native("term", "nn.make_attention_mask(doc_j, doc_j, pairwise_fn=jnp.equal)",
                                            "same document only", ("doc",)),
            "drawn": lambda spec: Native("term", "(jnp.array(DRAWN) == 0)[None, None]",
                                         "the drawn mask (1 = blocked)")})


def _flax_mask_code(state) -> tuple[str, str]:
    r = FLAX_DIALECT.render(state.spec)
    setup = [line for line in r.lines if not line.startswith("mask")]
    notes = [line.split("  # ", 1)[1] if "  # " in line else "" for line in r.lines if line.startswith("mask")]
    mask = ("mask = nn.combine_masks(\n" + "".join(f"    {t},  # {n}\n" for t, n in zip(r.terms, notes))
            + ")  # (B, 1, Tq, Tk)") if r.terms else "mask = None"
    return "import jax.numpy as jnp\nfrom flax import linen as nn", lines(
        "# Flax builds each part with make_attention_mask(query_input, key_input, pairwise_fn) -> (B, 1, Tq, Tk)",
        "# and ANDs them with combine_masks; 1 = may attend", "ids_j = jnp.array([ids])  # (B=1, T)", *setup, mask,
        "# nn.dot_product_attention(query, key, value, mask=mask)")


JAX = Framework(
    key="jax", library="JAX 0.10.2", api="jax.nn.dot_product_attention(q, k, v, mask=attend)",
    path="nn.dot_product_attention", default=True,
    how_to_get="implementation=None (the XLA path on CPU)",
    convention=ATTEND_BOOL, applies="fill", constant=_jax_negative,
    softmax="always float32, cast back to the dtype (float64 too)",
    source="jax/_src/nn/functions.py (_dot_product_attention_core)", model=_jax,
    expressions=JAX_EXPRESSIONS, window_setting=lambda reach, right: (reach, right or 0), window_parameter="local_window_size",
    package="jax", dialect=JAX_DIALECT, snippet=_jax_snippet, prints=PRINTS["jax"], mask_code=_jax_mask_code,
)
FLAX = Framework(
    key="flax", library="Flax 0.12.8", api="flax.linen.dot_product_attention(q, k, v, mask=attend)",
    path="linen attention", default=True,
    how_to_get="nn.MultiHeadDotProductAttention / nn.dot_product_attention (force_fp32_for_softmax=False)",
    convention=ATTEND_BOOL, applies="fill", constant=lambda dtype: (float(nx.finfo(dtype).min), dtype),
    softmax="jax.nn.softmax in the dtype, step by step",
    source="flax/linen/attention.py (dot_product_attention_weights)", model=_flax, expressions=FLAX_EXPRESSIONS,
    package="flax", dialect=FLAX_DIALECT, mask_code=_flax_mask_code,
)
#: where this file's entries stand in the app's list of frameworks
ORDER = 50
ENTRIES = (JAX, FLAX)
