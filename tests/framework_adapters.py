"""The real libraries behind maskattn.frameworks, called so that they return attention weights.

Each adapter takes logits ``(Tq, Tk)`` (float64 holding values of ``dtype``) and a
tutorial mask (1 = blocked), calls the real library the way the registry entry
describes, and returns the weights as float64. Where a path returns only the output,
K and V are identity matrices, so the output is the weights: q·kᵀ picks the logits
exactly (key rows are unit vectors; the depth is a power of 4, so every √d scaling
is exact) and weights @ I = weights. Libraries are imported inside each adapter, so
a missing one only skips its own tests.
"""

from __future__ import annotations

import math
import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from maskattn import frameworks

#: the library each registry key needs, from its entry (its pytest marker has the same name)
LIBRARY = {fw.key: fw.package for fw in frameworks.all_frameworks()}


def depth(Tk: int) -> int:
    """The smallest power of 4 that holds ``Tk`` (so √depth is a power of 2)."""
    d = 4
    while d < Tk:
        d *= 4
    return d


def padded(x: np.ndarray, width: int) -> np.ndarray:
    """``(Tq, Tk) -> (Tq, width)``, zeros on the right."""
    out = np.zeros((x.shape[0], width))
    out[:, :x.shape[1]] = x
    return out


# --- TensorFlow and Keras -----------------------------------------------------------------------

def tf_tutorial(logits, mask, dtype):
    import tensorflow as tf
    dt = getattr(tf, dtype)
    scaled_attention_logits = tf.cast(tf.constant(logits, tf.float64), dt)
    m = tf.cast(tf.constant(mask, tf.float64), dt)
    scaled_attention_logits += (m * -1e9)                   # the tutorial's line
    return tf.nn.softmax(scaled_attention_logits, axis=-1).numpy().astype(np.float64)


def keras2(logits, mask, dtype):
    import tensorflow as tf
    import tf_keras
    x = tf.cast(tf.constant(logits, tf.float64), getattr(tf, dtype))
    return tf_keras.layers.Softmax(dtype=dtype)(x, mask=tf.constant(mask == 0)).numpy().astype(np.float64)


def keras3(logits, mask, dtype):
    import keras
    import tensorflow as tf
    x = tf.cast(tf.constant(logits, tf.float64), getattr(tf, dtype))
    return np.asarray(keras.layers.Softmax(dtype=dtype)(x, mask=tf.constant(mask == 0))).astype(np.float64)


def keras3_fused(logits, mask, dtype):
    import keras
    import tensorflow as tf
    Tq, Tk = logits.shape
    d, dt = depth(Tk), getattr(tf, dtype)
    q = tf.cast(tf.constant(padded(logits, d)[None, :, None, :]), dt)        # (B, Tq, N, H)
    k = tf.cast(tf.constant(np.eye(Tk, d)[None, :, None, :]), dt)            # (B, Tk, N, H)
    v = tf.cast(tf.constant(np.eye(Tk)[None, :, None, :]), dt)               # (B, Tk, N, Tk)
    out = keras.ops.dot_product_attention(q, k, v, mask=tf.constant((mask == 0)[None, None]), scale=1.0)
    return np.asarray(out)[0, :, 0, :].astype(np.float64)                   # (Tq, Tk)


# --- PyTorch and Hugging Face ---------------------------------------------------------------------

def torch_inputs(logits, dtype, q_factor=1.0):
    """q = the logits (times ``q_factor``) padded to a power-of-4 depth, k = unit rows, v = identity."""
    import torch
    Tq, Tk = logits.shape
    d, dt = depth(Tk), getattr(torch, dtype)
    q = torch.tensor(padded(logits, d) * q_factor, dtype=torch.float64).to(dt)   # (Tq, d)
    k = torch.eye(Tk, d, dtype=torch.float64).to(dt)                             # (Tk, d)
    v = torch.eye(Tk, dtype=torch.float64).to(dt)                                # (Tk, Tk)
    return q, k, v


def torch_sdpa(logits, mask, dtype):
    import torch
    import torch.nn.functional as F
    q, k, v = torch_inputs(logits, dtype)
    attend = torch.tensor(mask == 0)
    out = F.scaled_dot_product_attention(q[None, None], k[None, None], v[None, None], attn_mask=attend, scale=1.0)
    return out[0, 0].to(torch.float64).numpy()


def torch_sdpa_float(logits, mask, dtype):
    import torch
    import torch.nn.functional as F
    q, k, v = torch_inputs(logits, dtype)
    attn_mask = torch.tensor(mask).to(q.dtype) * -1e9          # the tutorial's mask * -1e9, ported
    out = F.scaled_dot_product_attention(q[None, None], k[None, None], v[None, None], attn_mask=attn_mask, scale=1.0)
    return out[0, 0].to(torch.float64).numpy()


def torch_mha(logits, mask, dtype):
    import torch
    Tk = logits.shape[1]
    d = depth(Tk)
    q, k, _ = torch_inputs(logits, dtype, q_factor=math.sqrt(d))     # the layer divides q by √d
    dt = q.dtype
    mha = torch.nn.MultiheadAttention(d, 1, bias=False, batch_first=True, dtype=dt)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.eye(d, dtype=dt).repeat(3, 1))
        mha.out_proj.weight.copy_(torch.eye(d, dtype=dt))
    _, weights = mha(q[None], k[None], k[None], attn_mask=torch.tensor(mask == 1))   # need_weights=True default
    return weights[0].detach().to(torch.float64).numpy()


def torch_flex(logits, mask, dtype):
    import torch
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention
    q, k, v = torch_inputs(logits, dtype)
    attend = torch.tensor(mask == 0)
    Tq, Tk = mask.shape

    def mask_mod(b, h, q_idx, kv_idx):
        return attend[q_idx, kv_idx]

    block_mask = create_block_mask(mask_mod, None, None, Tq, Tk, device="cpu")
    out = flex_attention(q[None, None], k[None, None], v[None, None], block_mask=block_mask, scale=1.0)
    return out[0, 0].to(torch.float64).numpy()


class _Layer:
    """What the Hugging Face attention functions read from their module."""
    training = False
    is_causal = False


def hf_mask(mask, dtype, implementation):
    """The 4-D mask transformers builds for ``implementation``, from the tutorial mask as a mask function."""
    import torch
    from transformers import masking_utils
    attend = torch.tensor(mask == 0)
    Tq, Tk = mask.shape
    mask_function = lambda batch, head, q, kv: attend[q, kv]                 # noqa: E731
    if implementation == "eager":
        return masking_utils.eager_mask(1, Tq, Tk, mask_function=mask_function, dtype=getattr(torch, dtype))
    return masking_utils.sdpa_mask(1, Tq, Tk, mask_function=mask_function, allow_is_causal_skip=False)


def hf_eager(logits, mask, dtype):
    import torch
    from transformers.models.bert.modeling_bert import eager_attention_forward
    q, k, v = torch_inputs(logits, dtype)
    _, w = eager_attention_forward(_Layer(), q[None, None], k[None, None], v[None, None],
                                   hf_mask(mask, dtype, "eager"), scaling=1.0)
    return w[0, 0].to(torch.float64).numpy()


def hf_sdpa(logits, mask, dtype):
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward
    q, k, v = torch_inputs(logits, dtype)
    out, _ = sdpa_attention_forward(_Layer(), q[None, None], k[None, None], v[None, None],
                                    hf_mask(mask, dtype, "sdpa"), scaling=1.0)
    return out[0, :, 0].to(torch.float64).numpy()                    # (B, Tq, H, dv) -> (Tq, Tk)


def annotated_transformer(logits, mask, dtype):
    import torch
    q, k, v = torch_inputs(logits, dtype, q_factor=math.sqrt(depth(logits.shape[1])))

    def attention(query, key, value, mask=None, dropout=None):    # the_annotated_transformer.py, verbatim
        "Compute 'Scaled Dot Product Attention'"
        d_k = query.size(-1)
        scores = torch.matmul(query, key.transpose(-2, -1)) / math.sqrt(d_k)
        if mask is not None:
            scores = scores.masked_fill(mask == 0, -1e9)
        p_attn = scores.softmax(dim=-1)
        if dropout is not None:
            p_attn = dropout(p_attn)
        return torch.matmul(p_attn, value), p_attn

    _, w = attention(q, k, v, mask=torch.tensor(mask == 0).to(torch.int64))
    return w.to(torch.float64).numpy()


# --- JAX and Flax ------------------------------------------------------------------------------------

class x64:
    """JAX's 64-bit mode on for float64 (and restored afterwards)."""

    def __init__(self, dtype):
        self.on = dtype == "float64"

    def __enter__(self):
        import jax
        self.before = jax.config.jax_enable_x64
        jax.config.update("jax_enable_x64", self.on or self.before)

    def __exit__(self, *exc):
        import jax
        jax.config.update("jax_enable_x64", self.before)


def jax_dpa(logits, mask, dtype):
    import jax
    import jax.numpy as jnp
    Tk = logits.shape[1]
    d = depth(Tk)
    with x64(dtype):
        dt = jnp.dtype(dtype)
        q = jnp.asarray(padded(logits, d)[None, :, None, :]).astype(dt)      # (B, Tq, N, H)
        k = jnp.asarray(np.eye(Tk, d)[None, :, None, :]).astype(dt)          # (B, Tk, N, H); dv must be d
        out = jax.nn.dot_product_attention(q, k, k, mask=jnp.asarray((mask == 0)[None, None]), scale=1.0)
        return np.asarray(out[0, :, 0, :Tk].astype(jnp.float32 if dtype != "float64" else dt)).astype(np.float64)


def flax_attention(logits, mask, dtype):
    import jax.numpy as jnp
    from flax import linen as nn
    Tk = logits.shape[1]
    d = depth(Tk)
    with x64(dtype):
        dt = jnp.dtype(dtype)
        q = jnp.asarray(padded(logits, d)[:, None, :] * math.sqrt(d)).astype(dt)   # (Tq, heads, depth)
        k = jnp.asarray(np.eye(Tk, d)[:, None, :]).astype(dt)                      # (Tk, heads, depth)
        w = nn.dot_product_attention_weights(q, k, mask=jnp.asarray((mask == 0)[None]), dtype=dt)
        return np.asarray(w[0].astype(jnp.float32 if dtype != "float64" else dt)).astype(np.float64)


ADAPTERS = {"tf_tutorial": tf_tutorial, "keras2": keras2, "keras3": keras3, "keras3_fused": keras3_fused,
            "torch_sdpa": torch_sdpa, "torch_sdpa_float": torch_sdpa_float, "torch_mha": torch_mha, "torch_flex": torch_flex,
            "hf_eager": hf_eager, "hf_sdpa": hf_sdpa, "jax": jax_dpa, "flax": flax_attention,
            "annotated_transformer": annotated_transformer}
