"""Keras: Keras 2 (``tf_keras``) adds a large negative; Keras 3 fills, and has two paths.

Keras 3's ``MultiHeadAttention`` takes the fused ``ops.dot_product_attention`` path by
default (float32 softmax, ``-0.7 * 3.38953e38``: a fully masked row is uniform) and the
``Softmax(mask=)`` path when ``return_attention_scores=True`` (a float16-safe ``-3e4``,
then blocked cells zeroed: a fully masked row is zeros). Same layer, two answers.

>>> [KERAS3.weights([[1.0, 2.0]], [[1, 1]]).tolist(), KERAS3_FUSED.weights([[1.0, 2.0]], [[1, 1]]).tolist()]
[[[0.0, 0.0]], [[0.5, 0.5]]]
"""

from __future__ import annotations

import numpy as np

from .. import numerics as nx
from ._dialect import Dialect
from ._source import POSITIONS, lines
from ._framework import ATTEND_BOOL, Framework, constant, expressions, fill, tf_softmax, wide


def _keras2_negative(dtype):
    # tf_keras/src/layers/activation/softmax.py: _large_compatible_negative
    return (float(nx.finfo("float16").min) / 2.0, dtype) if dtype == "float16" else (-1e9, dtype)


def _keras2(x, blocked, dtype, fw):
    # adder = (1.0 - tf.cast(mask, inputs.dtype)) * _large_compatible_negative(inputs.dtype); inputs += adder
    dt = nx.resolve_dtype(dtype)
    adder = nx.multiply(blocked.astype(dt), constant(fw.constant(dtype)[0], dtype), dtype)
    return tf_softmax(nx.add(x, adder, dtype), dtype)


def _keras3_negative(dtype):
    # keras/src/layers/activations/softmax.py: _large_negative_number
    return (-3e4, dtype) if dtype == "float16" else (-1e9, dtype)


def _keras3(x, blocked, dtype, fw):
    # inputs = where(mask, inputs, _large_negative_number(dtype)); softmax; where(mask, outputs, 0.0)
    weights = tf_softmax(fill(blocked, x, fw.constant(dtype)[0], dtype), dtype)
    return np.where(blocked, weights.dtype.type(0), weights).astype(weights.dtype)


def _fused_negative(dtype):
    # keras/src/backend/tensorflow/nn.py: _get_large_negative of the float32 (float64) logits
    return (-0.7 * 3.38953e38, wide(dtype))


def _keras3_fused(x, blocked, dtype, fw):
    # logits cast to float32, tf.where(mask, logits, large_negative), softmax in float32, cast back
    scores = fill(blocked, x, fw.constant(dtype)[0], wide(dtype))
    return nx.cast(tf_softmax(scores, wide(dtype)), dtype)


#: Keras has no argument for the newer masks: each is a bool attention_mask (B, Tq, Tk), True = attend
KERAS_EXPRESSIONS = expressions(
    window="attention_mask=(kv <= q) & (q - kv <= reach) from keras.ops.arange (reach = w - 1 for w keys); "
           "use_causal_mask=True ANDs the causal part itself",
    document="attention_mask=ops.equal(seg[:, :, None], seg[:, None, :]): (B, Tq, Tk), True = same document",
    prefix="attention_mask=(kv <= q) | (kv < p), with use_causal_mask=False (the causal mask would close the "
           "prefix again)",
    drawn="attention_mask=any bool (B, Tq, Tk), True = attend; masks combine with ops.logical_and",
    window_right="attention_mask=(q - kv <= reach) & (kv - q <= right), use_causal_mask=False",
    chunk="attention_mask=(q - pad) // c == (kv - pad) // c, with use_causal_mask=True (pad = the left padding)",
    global_tokens="attention_mask=window | is_global[q] | is_global[kv]: the window's rule, or a global query or key",
    shared_prefix="attention_mask=(part_k == 0) | (part_q == part_k), with use_causal_mask=True",
    short=("attention_mask",) * 8,
)

#: keras.ops: a bool attention_mask (B, Tq, Tk), True = may attend, parts joined by ops.logical_and
KERAS_DIALECT = Dialect(
    names=dict(q="q_idx", kv="kv_idx", id_q="ids_k[:, :, None]", id_k="ids_k[:, None, :]", doc_q="doc_k[:, :, None]",
               doc_k="doc_k[:, None, :]", drawn="ops.convert_to_tensor(DRAWN)"),
    intro="# attention_mask: bool (B, Tq, Tk), True = may attend; parts combine with ops.logical_and",
    start='mask = ops.ones((1, T, T), dtype="bool")', join="{var} = ops.logical_and({var}, {term})",
    setup={"q": POSITIONS.format(m="ops"), "kv": POSITIONS.format(m="ops"),
           "doc_q": "doc_k = ops.convert_to_tensor([document_ids])  # (B=1, T)",
           "doc_k": "doc_k = ops.convert_to_tensor([document_ids])  # (B=1, T)"})


def _mask_code(state) -> tuple[str, str]:
    r = KERAS_DIALECT.render(state.spec)
    return "from keras import ops", lines(
        "ids_k = ops.convert_to_tensor([ids])  # (B=1, T)",
        r.code if r.terms else 'mask = ops.ones((1, T, T), dtype="bool")',
        "# keras.layers.MultiHeadAttention(...)(query, value, attention_mask=mask)"
        + ("; or use_causal_mask=True for the causal part" if state.spec.is_causal else ""))


_KERAS = dict(expressions=KERAS_EXPRESSIONS, dialect=KERAS_DIALECT, mask_code=_mask_code, code_package="keras")

KERAS2 = Framework(
    key="keras2", library="tf_keras 2.21", api="tf_keras.layers.MultiHeadAttention(..., attention_mask=mask)",
    path="Softmax(mask=), adds", default=True,
    how_to_get="tf_keras (Keras 2), which adds (1 - mask) * large_negative",
    convention=ATTEND_BOOL, applies="add", constant=_keras2_negative,
    softmax="tf.nn.softmax in the layer's dtype: float32 arithmetic, rounded once",
    source="tf_keras/src/layers/activation/softmax.py", model=_keras2, package="tf_keras", **_KERAS,
)
KERAS3 = Framework(
    key="keras3", library="Keras 3.15", api="keras.layers.MultiHeadAttention(..., return_attention_scores=True)",
    path="Softmax(mask=) scores path", default=False,
    how_to_get="return_attention_scores=True (or dropout > 0): the layer calls Softmax(mask=)",
    convention=ATTEND_BOOL, applies="fill", constant=_keras3_negative,
    softmax="tf.nn.softmax in the dtype, then blocked cells set to 0",
    source="keras/src/layers/activations/softmax.py", model=_keras3, package="keras", mask_within_logits=True,
    **_KERAS,
)
KERAS3_FUSED = Framework(
    key="keras3_fused", library="Keras 3.15", api="keras.layers.MultiHeadAttention(..., attention_mask=mask)",
    path="fused dot_product_attention", default=True,
    how_to_get="the default call (return_attention_scores=False, no dropout): ops.dot_product_attention",
    convention=ATTEND_BOOL, applies="fill", constant=_fused_negative,
    softmax="float32 (float64 for float64) softmax, cast back to the dtype",
    source="keras/src/backend/tensorflow/nn.py (_dot_product_attention_xla)", model=_keras3_fused,
    package="keras", **_KERAS,
)
#: where this file's entries stand in the app's list of frameworks
ORDER = 20
ENTRIES = (KERAS2, KERAS3, KERAS3_FUSED)
