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
from ._framework import TUTORIAL_FLOAT, Framework, constant, expressions, fill, tf_softmax


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
    short=("1 − band_part(…, reach, −1)", "seg_q ≠ seg_k", "prefix columns → 0", "tf.constant(mask)"),
)

TF_TUTORIAL = Framework(
    key="tf_tutorial", library="TensorFlow 2.21", api="scaled_dot_product_attention(q, k, v, mask)",
    path="the tutorial's function", default=True,
    how_to_get="the tutorial's own code: logits += mask * -1e9, then tf.nn.softmax",
    convention=TUTORIAL_FLOAT, applies="add",
    constant=lambda dtype: (-1e9, dtype), softmax="tf.nn.softmax: float32 arithmetic, rounded once to the dtype",
    source="tensorflow/text docs/tutorials/transformer.ipynb", model=_tutorial,
    mask_value=-1e9, method="add", expressions=TUTORIAL_EXPRESSIONS,
)
ENTRIES = (TF_TUTORIAL,)
