"""TensorFlow: the tutorial's ``scaled_attention_logits += (mask * -1e9)`` and ``tf.nn.softmax``.

TensorFlow converts the Python constant to the tensors' dtype before it multiplies:
in float16 ``-1e9`` is ``-inf`` and ``0 * -inf`` is NaN on every unmasked cell. What
the softmax then makes of a NaN row is ``_framework.tf_softmax``: NaN on the NaN cells on
every CPU, and on the rest of the row NaN or 0 by CPU (shown: the whole row, the common case).

>>> TF_TUTORIAL.weights([[1.0, 2.0, 3.0]], [[0, 0, 1]], "float16").tolist()
[[nan, nan, nan]]
>>> TF_TUTORIAL.cpu_dependent([[1.0, 2.0, 3.0]], [[0, 0, 1]], "float16").tolist()   # 0 on some CPUs
[[False, False, True]]
"""

from __future__ import annotations

import numpy as np

from .. import numerics as nx
from ..masks import parts_on
from ._dialect import Dialect, Native
from ._framework import TUTORIAL_FLOAT, Framework, constant, expressions, fill, tf_softmax
from ._source import DTYPES, PRINTS, data, float_literal, lines


def _tutorial(x, blocked, dtype, fw):
    if blocked is None:                     # `if mask is not None:` — no mask, no mask term
        return tf_softmax(x, dtype)
    # scaled_attention_logits += (mask * -1e9); the constant is converted to dtype first
    mask = blocked.astype(nx.resolve_dtype(dtype))
    c = constant(fw.mask_value, dtype)
    if fw.method == "add":
        scores = nx.add(x, nx.multiply(mask, c, dtype), dtype)
    else:                                   # "fill" / "safe": tf.where(mask == 1, MASK_VALUE, logits)
        scores = fill(blocked, x, c, dtype)
    weights = tf_softmax(scores, dtype)
    if fw.method == "safe":                 # the snippet's extra line: rows with every key blocked -> 0
        weights = np.where(blocked.all(axis=-1, keepdims=True), weights.dtype.type(0), weights)
    return weights.astype(nx.resolve_dtype(dtype))


#: every newer mask is one more float mask in the tutorial's convention (1.0 = blocked), combined with tf.maximum
TUTORIAL_EXPRESSIONS = expressions(
    window="1 - tf.linalg.band_part(tf.ones((T, T)), reach, -1): 1.0 on keys more than reach positions back "
           "(reach = w - 1 for a window of w keys), tf.maximum with the look-ahead mask",
    document="tf.cast(seg[:, :, tf.newaxis] != seg[:, tf.newaxis, :], tf.float32)[:, tf.newaxis]: (B, 1, T, T), "
             "1.0 across documents",
    prefix="tf.where(tf.range(T) < p, 0.0, create_look_ahead_mask(T)): the look-ahead mask with the first p key "
           "columns opened",
    drawn="tf.constant(drawn, tf.float32): any (T, T) 0/1 matrix, 1.0 = blocked",
    window_right="1 - tf.linalg.band_part(tf.ones((T, T)), -1, right): 1.0 on keys more than right positions ahead, "
                 "tf.maximum with the window's left side (and no look-ahead mask)",
    chunk="tf.cast((q - pad) // c != (kv - pad) // c, tf.float32) on tf.range (pad = the left padding), tf.maximum "
          "with the look-ahead mask",
    global_tokens="the window's (or chunks') mask times 1 - g, g = 1.0 on the rows and columns of the global tokens",
    shared_prefix="tf.cast((part_k != 0) & (part_q != part_k), tf.float32), part 0 = the prefix, tf.maximum with "
                  "the look-ahead mask",
    short={"window": "1 − band_part(…, reach, −1)", "document": "seg_q ≠ seg_k", "prefix": "prefix columns → 0",
           "drawn": "tf.constant(mask)", "window_right": "1 − band_part(…, −1, right)", "chunk": "chunk_q ≠ chunk_k",
           "global_tokens": "window × (1 − g)", "shared_prefix": "part_q ≠ part_k ≠ 0"},
)

# --- how the tutorial says a mask: its helper functions, joined by tf.maximum --------------------------------

#: each part's helper, in the tutorial's style (1.0 = blocked); the tutorial's own two first
HELPERS = {
    "padding": ("def create_padding_mask(seq):  # the tutorial's\n"
                "    seq = tf.cast(tf.math.equal(seq, 0), tf.float32)\n"
                "    return seq[:, tf.newaxis, tf.newaxis, :]  # (batch_size, 1, 1, seq_len)\n"),
    "query_padding": ("def create_query_padding_mask(seq):  # padded query rows (Keras / Flax behaviour)\n"
                      "    seq = tf.cast(tf.math.equal(seq, 0), tf.float32)\n"
                      "    return seq[:, tf.newaxis, :, tf.newaxis]  # (batch_size, 1, seq_len, 1)\n"),
    "look_ahead": ("def create_look_ahead_mask(size):  # the tutorial's\n"
                   "    mask = 1 - tf.linalg.band_part(tf.ones((size, size)), -1, 0)\n"
                   "    return mask  # (seq_len, seq_len)\n"),
    "window keys": ("def create_sliding_window_mask(size, window):  # 1.0 on keys too far back: q - kv >= window\n"
                    "    return 1 - tf.linalg.band_part(tf.ones((size, size)), window - 1, -1)  # (seq_len, seq_len)\n"),
    "window distance": ("def create_sliding_window_mask(size, window):  # 1.0 on keys too far back: q - kv > window\n"
                        "    return 1 - tf.linalg.band_part(tf.ones((size, size)), window, -1)  # (seq_len, seq_len)\n"),
    "prefix": ("def create_prefix_lm_mask(size, prefix_length):  # the look-ahead mask, the first keys open to all\n"
               "    return tf.where(tf.range(size) < prefix_length, 0.0, create_look_ahead_mask(size))  # (seq_len, seq_len)\n"),
    "document": ("def create_document_mask(segment_ids):  # 1.0 where query and key are in different documents\n"
                 "    different = segment_ids[:, :, tf.newaxis] != segment_ids[:, tf.newaxis, :]\n"
                 "    return tf.cast(different, tf.float32)[:, tf.newaxis]  # (batch_size, 1, seq_len, seq_len)\n"),
}
_CALLS = {"padding": "create_padding_mask(seq)", "query_padding": "create_query_padding_mask(seq)",
          "look_ahead": "create_look_ahead_mask(T)", "window": "create_sliding_window_mask(T, WINDOW)",
          "prefix": "create_prefix_lm_mask(T, PREFIX)", "document": "create_document_mask(tf.constant([document_ids]))",
          "drawn": "tf.constant(DRAWN, tf.float32)"}
#: the tutorial's convention, 1.0 = blocked: every part is a float mask from a helper, joined by tf.maximum
TF_DIALECT = Dialect(
    names=dict(q="tf.range(T)[:, tf.newaxis]", kv="tf.range(T)[tf.newaxis, :]",
               id_q="seq[:, tf.newaxis, :, tf.newaxis]", id_k="seq[:, tf.newaxis, tf.newaxis, :]", doc_q="doc[:, tf.newaxis, :, tf.newaxis]",
               doc_k="doc[:, tf.newaxis, tf.newaxis, :]", drawn="tf.constant(DRAWN)"),
    polarity="blocked", intro="# the tutorial's convention: 1.0 = blocked; masks combined with tf.maximum",
    empty="{var} = None  # no mask is on",
    join="{var} = tf.maximum({var}, {term})", term_comment=False, wrap="tf.cast({rule}, tf.float32)",
    setup={"doc_q": "doc = tf.constant([document_ids])  # (B=1, T)", "doc_k": "doc = tf.constant([document_ids])  # (B=1, T)"},
    native={name: (lambda call: lambda spec: Native("term", call))(call) for name, call in _CALLS.items()})


def helpers(spec) -> str:
    """The helper functions ``spec``'s parts call (the tutorial's two always: the script shows them)."""
    names = ["padding", "query_padding", "look_ahead"] + [
        f"window {spec.window_rule}" if p.name == "window" else p.name for p in parts_on(spec)
        if p.name in ("window", "prefix", "document")]
    return "\n\n".join(HELPERS[name] for name in names) + "\n\n"


def tf_mask(state) -> str:
    """``mask``: the state's mask as the tutorial builds it (None when no mask is on)."""
    r = TF_DIALECT.render(state.spec)
    return lines(r.code, "mask = tf.cast(mask, dtype)" if r.terms else "")


def _snippet(state) -> str:
    method = state.method                          # codegen hands snippets a method a library has (add, fill, safe)
    apply = {"add": "        scaled_attention_logits += (mask * MASK_VALUE)  # the tutorial's line",
             "fill": "        scaled_attention_logits = tf.where(mask == 1, MASK_VALUE, scaled_attention_logits)",
             "safe": "        scaled_attention_logits = tf.where(mask == 1, MASK_VALUE, scaled_attention_logits)"}[method]
    safe = ("    if mask is not None:  # rows with every key blocked get weight 0 (a safe softmax)\n"
            "        all_blocked = tf.reduce_all(tf.broadcast_to(mask, tf.shape(attention_weights)) == 1,\n"
            "                                    axis=-1, keepdims=True)\n"
            "        attention_weights = tf.where(all_blocked, tf.zeros_like(attention_weights), attention_weights)"
            if method == "safe" else "")
    scale = ("    dk = tf.cast(tf.shape(k)[-1], dtype)\n    scaled_attention_logits = matmul_qk / tf.math.sqrt(dk)"
             if state.scale else "    scaled_attention_logits = matmul_qk  # the app's 'scale' is off")
    return lines(
        "import tensorflow as tf\n", f"dtype = {DTYPES['tf'][state.dtype]}",
        data(state, "tf.cast(tf.constant({}, dtype={}), dtype)", "tf.float64"),
        "T, d = Q.shape\nseq = tf.constant([ids])  # (B=1, T)",
        f"MASK_VALUE = tf.cast(tf.constant({float_literal(state.mask_value)}, dtype=tf.float64), dtype)"
        "  # the constant, rounded to dtype\n\n\n", helpers(state.spec),
        "def scaled_dot_product_attention(q, k, v, mask):  # the tutorial's, in `dtype`",
        "    matmul_qk = tf.matmul(q, k, transpose_b=True)  # (..., seq_len_q, seq_len_k)", scale,
        "    scaled_attention_logits += BIAS  # the position bias, before the mask (not in the tutorial)"
        if getattr(state, "bias", None) is not None else "",
        "    if mask is not None:", apply,
        "    attention_weights = tf.nn.softmax(scaled_attention_logits, axis=-1)  # (..., seq_len_q, seq_len_k)", safe,
        "    output = tf.matmul(attention_weights, v)  # (..., seq_len_q, depth_v)",
        "    return output, attention_weights\n\n", tf_mask(state),
        "output, weights = scaled_dot_product_attention(Q[tf.newaxis, tf.newaxis], K[tf.newaxis, tf.newaxis],",
        "                                               V[tf.newaxis, tf.newaxis], mask)",
        "output, weights = output[0, 0], weights[0, 0]  # (Tq, dv), (Tq, Tk)")


def _mask_code(state) -> tuple[str, str]:
    return "import tensorflow as tf", lines(f"dtype = {DTYPES['tf'][state.dtype]}",
                                             "seq = tf.constant([ids])  # (B=1, T)\n\n\n", helpers(state.spec),
                                             tf_mask(state))


TF_TUTORIAL = Framework(
    key="tf_tutorial", library="TensorFlow 2.21", api="scaled_dot_product_attention(q, k, v, mask)",
    path="the tutorial's function", default=True,
    how_to_get="the tutorial's own code: logits += mask * -1e9, then tf.nn.softmax",
    convention=TUTORIAL_FLOAT, applies="add",
    constant=lambda dtype: (-1e9, dtype), softmax="tf.nn.softmax: float32 arithmetic, rounded once to the dtype",
    source="tensorflow/text docs/tutorials/transformer.ipynb", model=_tutorial,
    mask_value=-1e9, method="add", expressions=TUTORIAL_EXPRESSIONS, package="tensorflow", dialect=TF_DIALECT,
    snippet=_snippet, prints=PRINTS["tensorflow"], mask_code=_mask_code,
)
#: where this file's entries stand in the app's list of frameworks
ORDER = 10
ENTRIES = (TF_TUTORIAL,)
