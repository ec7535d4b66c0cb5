"""Copy as code: runnable NumPy / PyTorch / TensorFlow / JAX source for the app's current state.

``generate(state, key)`` returns a script that embeds the exact Q, K, V the app
computes (already rounded to the dtype, written as float64 literals so no
framework rounds them twice), builds the mask in that framework's own convention,
calls that framework's attention and prints the weights. ``key`` is ``"numpy"``
(the app's own function) or a ``maskattn.frameworks`` key with a snippet here;
``expected_weights(state, key)`` is what the registry says the script prints
(``frameworks.get(key).weights``): the tests run the scripts against it.

>>> import numpy as np
>>> state = CodeState(tokens=("a", "<pad>"), ids=(1, 0), q=np.eye(2), k=np.eye(2), v=np.eye(2),
...                   padding=True, query_padding=False, causal=False)
>>> source = generate(state, "torch_mha")
>>> "key_padding_mask = ids_t == 0" in source
True
>>> namespace = {}
>>> exec(generate(state, "numpy", print_results=False), namespace)
>>> namespace["weights"].tolist()
[[1.0, 0.0], [1.0, 0.0]]
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np

from . import frameworks, numerics as nx
from .attention import METHODS, attention_steps
from .errors import MaskAttnError
from .masks import combine_masks, create_look_ahead_mask, create_padding_mask, create_query_padding_mask

#: the app's own function: the one snippet that is not a registry entry
NUMPY = "numpy"
#: the snippets embed every number; beyond this many Q, K, V values they get too long to copy
MAX_EMBEDDED_VALUES = 12_288
PAD_ID = 0

_TORCH_DTYPES = {"float16": "torch.float16", "bfloat16": "torch.bfloat16", "float32": "torch.float32",
                 "float64": "torch.float64"}
_TF_DTYPES = {k: v.replace("torch.", "tf.") for k, v in _TORCH_DTYPES.items()}
_JAX_DTYPES = {k: v.replace("torch.", "jnp.") for k, v in _TORCH_DTYPES.items()}


@dataclass(frozen=True)
class CodeState:
    """What a snippet needs: one sequence's tokens, ids, Q, K, V and how it is masked."""

    tokens: tuple[str, ...]      # T tokens (user text: only ever written as a Python string literal)
    ids: tuple[int, ...]         # T token ids, the pad token is 0
    q: np.ndarray                # (T, d) any float; rounded to dtype here
    k: np.ndarray                # (T, d)
    v: np.ndarray                # (T, dv)
    padding: bool                # block pad keys (the tutorial's create_padding_mask)
    query_padding: bool          # also block padded query rows (Keras / Flax)
    causal: bool                 # block future keys
    dtype: str = "float32"
    mask_value: float = -1e9     # the app's constant, before rounding to dtype
    method: str = "add"          # the app's method (the NumPy snippet reproduces it exactly)
    scale: bool = True           # divide q·kᵀ by √d

    @property
    def has_mask(self) -> bool:
        return self.padding or self.query_padding or self.causal


def state_from_result(result) -> CodeState:
    """The ``CodeState`` of a ``pipeline.PlaygroundResult`` (the sequence on view)."""
    s = result.inputs
    ids = tuple(int(i) for i in result.batch.ids[result.sequence])
    return CodeState(tokens=tuple(result.tokens), ids=ids, q=result.q, k=result.k, v=result.v,
                     padding=s.padding, query_padding=s.mask_queries, causal=s.causal, dtype=s.dtype,
                     mask_value=s.mask_value, method=s.method, scale=s.scale)


def _check(state: CodeState, framework: str) -> None:
    if framework not in FRAMEWORKS:
        raise MaskAttnError(f"framework must be one of {', '.join(FRAMEWORKS)}, got {framework!r}")
    nx.dtype_name(state.dtype)
    if state.method not in METHODS:
        raise MaskAttnError(f"method must be one of {', '.join(METHODS)}, got {state.method!r}")
    T = len(state.tokens)
    shapes = [np.shape(state.q), np.shape(state.k), np.shape(state.v)]
    if len(state.ids) != T or any(len(s) != 2 or s[0] != T for s in shapes):
        raise MaskAttnError(f"{T} tokens need {T} ids and (T, d) Q, K, V; got {len(state.ids)} ids and "
                            f"shapes {', '.join(map(str, shapes))}")
    if shapes[0][1] != shapes[1][1] or shapes[2][1] != shapes[0][1]:
        raise MaskAttnError(f"Q, K and V must share their depth d, got shapes {', '.join(map(str, shapes))}")
    size = sum(int(np.prod(s)) for s in shapes)
    if size > MAX_EMBEDDED_VALUES:
        raise MaskAttnError(f"the snippet would embed {size:,} numbers (Q, K, V of shape {shapes[0]}); "
                            f"the limit is {MAX_EMBEDDED_VALUES:,}: use fewer tokens or a smaller d_model")


def tutorial_mask(state: CodeState) -> np.ndarray | None:
    """The state's combined mask in the tutorial convention, ``(T, T)`` (None without masks).

    >>> st = CodeState(("a", "<pad>"), (1, 0), np.eye(2), np.eye(2), np.eye(2), True, False, True)
    >>> tutorial_mask(st).tolist()
    [[0.0, 1.0], [0.0, 1.0]]
    """
    ids = np.array([state.ids], dtype=np.int64)                          # (B=1, T)
    parts = [create_padding_mask(ids, PAD_ID) if state.padding else None,  # (1, 1, 1, T)
             create_query_padding_mask(ids, PAD_ID) if state.query_padding else None,  # (1, 1, T, 1)
             create_look_ahead_mask(len(state.ids)) if state.causal else None]         # (T, T)
    mask = combine_masks(*parts)
    if mask is None:
        return None
    T = len(state.ids)
    return np.broadcast_to(mask, (1, 1, T, T))[0, 0].copy()             # (T, T)


def framework(state: CodeState, key: str) -> frameworks.Framework:
    """The registry entry the snippet for ``key`` runs, with the app's constant where the snippet uses it.

    >>> st = CodeState(("a",), (1,), np.eye(1), np.eye(1), np.eye(1), True, False, False, mask_value=-1e4)
    >>> framework(st, "tf_tutorial").mask_value, framework(st, "torch_mha").mask_value
    (-10000.0, None)
    """
    _check(state, key)
    method = state.method if state.method in ("add", "fill", "safe") else "add"   # the mistakes have no snippet
    return frameworks.get(key).with_constant(state.mask_value, method)


def expected_weights(state: CodeState, key: str) -> np.ndarray:
    """What the snippet for ``key`` prints, ``(T, T)`` in the state's dtype.

    NumPy: the app's own ``attention_steps``. A framework: its registry entry on the
    core's logits (``frameworks.get(key).weights``).

    >>> st = CodeState(("a", "<pad>"), (1, 0), np.eye(2), np.eye(2), np.eye(2), True, True, False)
    >>> expected_weights(st, "torch_sdpa").tolist()      # the padded query row: zeros
    [[1.0, 0.0], [0.0, 0.0]]
    >>> expected_weights(st, "torch_mha")[1].tolist()     # nn.MultiheadAttention: NaN
    [nan, nan]
    """
    _check(state, key)
    mask = tutorial_mask(state)
    if key == NUMPY:
        return attention_steps(state.q, state.k, state.v, mask, mask_value=state.mask_value, dtype=state.dtype,
                               method=state.method, scale=state.scale).weights
    logits = attention_steps(state.q, state.k, state.v, None, dtype=state.dtype, scale=state.scale).logits
    return framework(state, key).weights(logits, mask, state.dtype)


def rows_that_differ(weights, app_weights) -> list[int]:
    """Query rows where two ``(Tq, Tk)`` weight matrices disagree (NaN equals NaN).

    >>> rows_that_differ([[1.0, 0.0], [0.0, 0.0]], [[1.0, 0.0], [0.5, 0.5]])
    [1]
    """
    a = np.asarray(weights).astype(np.float64)
    b = np.asarray(app_weights).astype(np.float64)
    if a.shape != b.shape:
        raise MaskAttnError(f"weights {a.shape} and app weights {b.shape} must have the same shape")
    same = np.isclose(a, b, rtol=1e-6, atol=1e-12) | (np.isnan(a) & np.isnan(b))   # (Tq, Tk)
    return [int(r) for r in np.flatnonzero(~same.all(axis=-1))]


# ------------------------------------------------------------------------------------------------
# source text
# ------------------------------------------------------------------------------------------------

def _rounded(x, dtype) -> np.ndarray:
    """``x`` rounded to ``dtype``, as float64 (exact)."""
    return nx.cast(x, dtype).astype(np.float64)


def _matrix(values: np.ndarray, indent: str = "    ") -> str:
    """A 2-D array as a Python list literal, one row per line; float64 repr is exact."""
    rows = [indent + "[" + ", ".join(repr(float(x)) for x in row) + "]," for row in values]
    return "[\n" + "\n".join(rows) + "\n]"


def _float_literal(x: float) -> str:
    """A Python expression for a float, including ±inf."""
    if math.isinf(x):
        return "float('-inf')" if x < 0 else "float('inf')"
    return repr(float(x))


def _header(state: CodeState, framework: str) -> str:
    T, d = np.shape(state.q)
    parts = [name for name, on in (("padding (pad keys)", state.padding), ("padded queries", state.query_padding),
                                   ("causal", state.causal)) if on] or ["none"]
    what = FRAMEWORKS[framework]
    return (f'"""maskattn state recreated with {what}.\n\n'
            f"T = {T} tokens, d = {d}, dtype {state.dtype}, masks: {', '.join(parts)}.\n"
            "Generated by maskattn.codegen; prints the attention weights (rows: queries, columns: keys).\n"
            '"""\n')


def _data(state: CodeState, array_fn: str, dtype_expr: str) -> str:
    """Tokens, ids and Q, K, V literals; ``array_fn`` wraps a literal into the framework's array."""
    lines = [f"tokens = {list(state.tokens)!r}",
             f"ids = {list(state.ids)!r}  # token ids; the pad token has id {PAD_ID}",
             f"# Q, K, V exactly as the app computes them, already rounded to {state.dtype}"]
    for name, values in (("Q", state.q), ("K", state.k), ("V", state.v)):
        lines.append(f"{name} = {array_fn.format(_matrix(_rounded(values, state.dtype)), dtype_expr)}  # (T, d)")
    return "\n".join(lines)


def generate(state: CodeState, framework: str, *, print_results: bool = True) -> str:
    """Runnable source for ``framework`` (a key of ``FRAMEWORKS``) that prints the state's weights.

    The script leaves the weights ``(T, T)`` in a variable ``weights`` and the output
    in ``output``. ``print_results=False`` leaves the final prints out (for tests).
    """
    _check(state, framework)
    builder, prints = _SNIPPETS[framework]
    source = _header(state, framework) + builder(state)
    if print_results:
        source += prints
    compile(source, f"<maskattn {framework}>", "exec")       # never hand out code that does not parse
    return source


def _numpy(state: CodeState) -> str:
    parts = []
    if state.padding:
        parts.append("    maskattn.create_padding_mask(ids_b),        # (1, 1, 1, T) pad keys")
    if state.query_padding:
        parts.append("    maskattn.create_query_padding_mask(ids_b),  # (1, 1, T, 1) pad queries")
    if state.causal:
        parts.append("    maskattn.create_look_ahead_mask(T),         # (T, T) future keys")
    if parts:
        mask = ("# the tutorial's convention: 1.0 = blocked, masks combined with an element-wise maximum\n"
                "mask = maskattn.combine_masks(\n" + "\n".join(parts) + "\n)\n"
                "mask = np.broadcast_to(mask, (1, 1, T, T))[0, 0]  # (T, T)\n")
    else:
        mask = "mask = None  # no mask is on\n"
    return (
        "import numpy as np\n\nimport maskattn\n\n"
        + _data(state, "np.array({}, dtype={})", "np.float64") + "\n"
        "T, d = Q.shape\nids_b = np.array([ids])  # (B=1, T)\n\n"
        + mask + "\n"
        "output, weights = maskattn.scaled_dot_product_attention(\n"
        f"    Q, K, V, mask, mask_value={_float_literal(state.mask_value)}, dtype={state.dtype!r},\n"
        f"    method={state.method!r}, scale={state.scale!r})  # (T, d), (T, T)\n"
    )


def _torch_attend_mask(state: CodeState) -> str:
    """Torch lines building ``attend`` (B=1, 1, Tq, Tk), True = may attend."""
    lines = ["# bool mask, True = may attend (the opposite of the TF tutorial's 1 = blocked)",
             "attend = torch.ones(1, 1, T, T, dtype=torch.bool)           # (B, H, Tq, Tk)"]
    if state.padding:
        lines.append("attend = attend & (ids_t != 0)[:, None, None, :]          # padding: pad keys blocked")
    if state.query_padding:
        lines.append("attend = attend & (ids_t != 0)[:, None, :, None]          # padded query rows blocked")
    if state.causal:
        lines.append("attend = attend & torch.ones(T, T, dtype=torch.bool).tril()  # causal: keys j <= i")
    return "\n".join(lines) + "\n"


def _torch_data(state: CodeState) -> str:
    return (
        "import torch\nimport torch.nn.functional as F\n\n"
        f"dtype = {_TORCH_DTYPES[state.dtype]}\n"
        + _data(state, "torch.tensor({}, dtype={}).to(dtype)", "torch.float64") + "\n"
        "T, d = Q.shape\nids_t = torch.tensor([ids])  # (B=1, T)\n\n"
    )


def _pytorch_sdpa_call(state: CodeState, mask: str) -> str:
    scale = "" if state.scale else ", scale=1.0"
    return (
        _torch_data(state) + mask + "\n"
        "q, k, v = Q[None, None], K[None, None], V[None, None]        # (B=1, H=1, T, d)\n"
        f"output = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask{scale})[0, 0]  # (Tq, dv)\n"
        "# SDPA returns only the output; with V = the identity the output is weights @ I = the weights\n"
        "eye = torch.eye(T, dtype=dtype)[None, None]                  # (1, 1, Tk, Tk)\n"
        f"weights = F.scaled_dot_product_attention(q, k, eye, attn_mask=attn_mask{scale})[0, 0]  # (Tq, Tk)\n"
    )


def _pytorch_sdpa(state: CodeState) -> str:
    mask = (_torch_attend_mask(state) + "attn_mask = attend\n" if state.has_mask
            else "attn_mask = None  # no mask is on\n")
    return _pytorch_sdpa_call(state, mask)


def _pytorch_sdpa_float(state: CodeState) -> str:
    if not state.has_mask:
        return _pytorch_sdpa_call(state, "attn_mask = None  # no mask is on\n")
    c = state.mask_value
    mask = (_torch_attend_mask(state)
            + "blocked = ~attend                                            # True = blocked\n"
            + f"MASK_VALUE = {_float_literal(c)}  # a Python float: PyTorch multiplies in float32, then rounds\n")
    if math.isfinite(c):
        mask += ("# the tutorial's `mask * -1e9`, added to the logits (in float16 1 * -1e9 = -inf, 0 * -1e9 = -0)\n"
                 "attn_mask = blocked.to(dtype) * MASK_VALUE                 # (B, H, Tq, Tk)\n")
    else:
        mask += ("# masked_fill, because mask * inf would give 0 * inf = NaN\n"
                 "attn_mask = torch.zeros(blocked.shape, dtype=dtype).masked_fill(blocked, MASK_VALUE)\n")
    return _pytorch_sdpa_call(state, mask)


def _pytorch_mha(state: CodeState) -> str:
    q_weight = "torch.eye(d, dtype=dtype)" if state.scale else "math.sqrt(d) * torch.eye(d, dtype=dtype)"
    blocks = []
    if state.causal:
        blocks.append("torch.ones(T, T, dtype=torch.bool).triu(1)")            # (Tq, Tk)
    if state.query_padding:
        blocks.append("(ids_t == 0)[:, :, None].expand(1, T, T)")            # (B·H, Tq, Tk)
    if blocks:
        shape = "(B·H, Tq, Tk)" if state.query_padding else "(Tq, Tk)"
        attn = ("# attn_mask: bool, True = BLOCKED (the opposite of F.scaled_dot_product_attention)\n"
                f"attn_mask = {' | '.join(blocks)}  # {shape}\n")
    else:
        attn = "attn_mask = None\n"
    kpm = ("key_padding_mask = ids_t == 0  # (B, Tk) True = pad key, BLOCKED\n" if state.padding
           else "key_padding_mask = None\n")
    return (
        "import math\n\n" + _torch_data(state)
        + "# one head with identity projections, so the layer attends with exactly Q, K, V\n"
        "mha = torch.nn.MultiheadAttention(d, num_heads=1, bias=False, batch_first=True, dtype=dtype)\n"
        "with torch.no_grad():\n"
        f"    mha.in_proj_weight.copy_(torch.cat([{q_weight}, torch.eye(d, dtype=dtype), "
        "torch.eye(d, dtype=dtype)]))  # (3d, d)\n"
        "    mha.out_proj.weight.copy_(torch.eye(d, dtype=dtype))\n"
        + ("# the layer always divides by √d; the query projection multiplies by √d to undo it\n"
           if not state.scale else "")
        + "\n" + kpm + attn + "\n"
        "output, weights = mha(Q[None], K[None], V[None], key_padding_mask=key_padding_mask,\n"
        "                      attn_mask=attn_mask, need_weights=True)\n"
        "output, weights = output[0].detach(), weights[0].detach()     # (Tq, dv), (Tq, Tk)\n"
    )


def _tensorflow(state: CodeState) -> str:
    method = state.method if state.method in ("add", "fill", "safe") else "add"
    apply = {
        "add": "        scaled_attention_logits += (mask * MASK_VALUE)  # the tutorial's line\n",
        "fill": "        scaled_attention_logits = tf.where(mask == 1, MASK_VALUE, scaled_attention_logits)\n",
        "safe": "        scaled_attention_logits = tf.where(mask == 1, MASK_VALUE, scaled_attention_logits)\n",
    }[method]
    safe = ("    if mask is not None:  # rows with every key blocked get weight 0 (a safe softmax)\n"
            "        all_blocked = tf.reduce_all(tf.broadcast_to(mask, tf.shape(attention_weights)) == 1,\n"
            "                                    axis=-1, keepdims=True)\n"
            "        attention_weights = tf.where(all_blocked, tf.zeros_like(attention_weights), attention_weights)\n"
            if method == "safe" else "")
    scale = ("    dk = tf.cast(tf.shape(k)[-1], dtype)\n"
             "    scaled_attention_logits = matmul_qk / tf.math.sqrt(dk)\n" if state.scale
             else "    scaled_attention_logits = matmul_qk  # the app's 'scale' is off\n")
    parts = []
    if state.padding:
        parts.append("create_padding_mask(seq)")
    if state.query_padding:
        parts.append("create_query_padding_mask(seq)")
    if state.causal:
        parts.append("create_look_ahead_mask(T)")
    if parts:
        combined = parts[0]
        for p in parts[1:]:
            combined = f"tf.maximum({combined}, {p})"
        mask = ("# the tutorial's convention: 1.0 = blocked; masks combined with tf.maximum\n"
                f"mask = tf.cast({combined}, dtype)\n")
    else:
        mask = "mask = None  # no mask is on\n"
    return (
        "import tensorflow as tf\n\n"
        f"dtype = {_TF_DTYPES[state.dtype]}\n"
        + _data(state, "tf.cast(tf.constant({}, dtype={}), dtype)", "tf.float64") + "\n"
        "T, d = Q.shape\nseq = tf.constant([ids])  # (B=1, T)\n"
        f"MASK_VALUE = tf.cast(tf.constant({_float_literal(state.mask_value)}, dtype=tf.float64), dtype)"
        "  # the constant, rounded to dtype\n\n\n"
        "def create_padding_mask(seq):  # the tutorial's\n"
        "    seq = tf.cast(tf.math.equal(seq, 0), tf.float32)\n"
        "    return seq[:, tf.newaxis, tf.newaxis, :]  # (batch_size, 1, 1, seq_len)\n\n\n"
        "def create_query_padding_mask(seq):  # padded query rows (Keras / Flax behaviour)\n"
        "    seq = tf.cast(tf.math.equal(seq, 0), tf.float32)\n"
        "    return seq[:, tf.newaxis, :, tf.newaxis]  # (batch_size, 1, seq_len, 1)\n\n\n"
        "def create_look_ahead_mask(size):  # the tutorial's\n"
        "    mask = 1 - tf.linalg.band_part(tf.ones((size, size)), -1, 0)\n"
        "    return mask  # (seq_len, seq_len)\n\n\n"
        "def scaled_dot_product_attention(q, k, v, mask):  # the tutorial's, in `dtype`\n"
        "    matmul_qk = tf.matmul(q, k, transpose_b=True)  # (..., seq_len_q, seq_len_k)\n"
        + scale +
        "    if mask is not None:\n" + apply +
        "    attention_weights = tf.nn.softmax(scaled_attention_logits, axis=-1)  # (..., seq_len_q, seq_len_k)\n"
        + safe +
        "    output = tf.matmul(attention_weights, v)  # (..., seq_len_q, depth_v)\n"
        "    return output, attention_weights\n\n\n"
        + mask + "\n"
        "output, weights = scaled_dot_product_attention(Q[tf.newaxis, tf.newaxis], K[tf.newaxis, tf.newaxis],\n"
        "                                               V[tf.newaxis, tf.newaxis], mask)\n"
        "output, weights = output[0, 0], weights[0, 0]  # (Tq, dv), (Tq, Tk)\n"
    )


def _jax(state: CodeState) -> str:
    scale = "" if state.scale else ", scale=1.0"
    x64 = ('jax.config.update("jax_enable_x64", True)  # float64 needs 64-bit mode\n'
           if state.dtype == "float64" else "")
    lines = ["# bool mask, True = may attend; masks combined with jnp.logical_and (as flax combine_masks)",
             "mask = jnp.ones((1, 1, T, T), dtype=bool)                  # (B, H, Tq, Tk)"]
    if state.padding:
        lines.append("mask = jnp.logical_and(mask, (ids_j != 0)[:, None, None, :])  # pad keys blocked")
    if state.query_padding:
        lines.append("mask = jnp.logical_and(mask, (ids_j != 0)[:, None, :, None])  # padded queries blocked")
    if state.causal:
        lines.append("mask = jnp.logical_and(mask, jnp.tril(jnp.ones((T, T), dtype=bool)))  # causal")
    mask = "\n".join(lines) + "\n" if state.has_mask else "mask = None  # no mask is on\n"
    return (
        "import jax\nimport jax.numpy as jnp\nimport numpy as np\n\n" + x64 +
        f"dtype = {_JAX_DTYPES[state.dtype]}\n"
        + _data(state, "jnp.asarray(np.array({}, dtype={})).astype(dtype)", "np.float64") + "\n"
        "T, d = Q.shape\nids_j = jnp.array([ids])  # (B=1, T)\n\n"
        + mask + "\n"
        "# jax.nn.dot_product_attention wants (B, T, N heads, H depth)\n"
        "q, k, v = Q[None, :, None, :], K[None, :, None, :], V[None, :, None, :]\n"
        f"output = jax.nn.dot_product_attention(q, k, v, mask=mask{scale})[0, :, 0, :]  # (Tq, dv)\n"
        "# it returns only the output; with V = the identity the output is the weights. The value depth\n"
        "# must equal d, so the identity goes in d columns at a time\n"
        "eye = jnp.pad(jnp.eye(T, dtype=dtype), ((0, 0), (0, -T % d)))  # (Tk, Tk rounded up to d)\n"
        "weights = jnp.concatenate([\n"
        f"    jax.nn.dot_product_attention(q, k, eye[None, :, None, i:i + d], mask=mask{scale})[0, :, 0, :]\n"
        "    for i in range(0, eye.shape[1], d)], axis=-1)[:, :T]  # (Tq, Tk)\n"
    )


_PRINTS = {
    "numpy": ("\nnp.set_printoptions(precision=4, suppress=True, linewidth=140)\n"
              "print('attention weights (rows: queries, columns: keys):')\nprint(weights)\n"
              "print('output = weights @ V:')\nprint(output)\n"),
    "pytorch_sdpa": ("\ntorch.set_printoptions(precision=4, sci_mode=False, linewidth=140)\n"
                     "print('attention weights (rows: queries, columns: keys):')\nprint(weights)\n"
                     "print('output = weights @ V:')\nprint(output)\n"),
    "tensorflow": ("\nprint('attention weights (rows: queries, columns: keys):')\nprint(weights.numpy())\n"
                   "print('output = weights @ V:')\nprint(output.numpy())\n"),
    "jax": ("\nnp.set_printoptions(precision=4, suppress=True, linewidth=140)\n"
            "print('attention weights (rows: queries, columns: keys):')\nprint(np.asarray(weights, np.float64))\n"
            "print('output = weights @ V:')\nprint(np.asarray(output, np.float64))\n"),
}
#: key -> (builder, the lines that print); the labels come from the registry
_SNIPPETS = {NUMPY: (_numpy, _PRINTS["numpy"]), "tf_tutorial": (_tensorflow, _PRINTS["tensorflow"]),
             "torch_sdpa": (_pytorch_sdpa, _PRINTS["pytorch_sdpa"]),
             "torch_sdpa_float": (_pytorch_sdpa_float, _PRINTS["pytorch_sdpa"]),
             "torch_mha": (_pytorch_mha, _PRINTS["pytorch_sdpa"]), "jax": (_jax, _PRINTS["jax"])}
#: what each snippet calls: "numpy" first, then the registry's entries that have a snippet, in its order
FRAMEWORKS: dict[str, str] = {NUMPY: "NumPy with maskattn (the app's own function)"} | {
    fw.key: f"{fw.library}: {fw.path}" for fw in frameworks.all_frameworks() if fw.key in _SNIPPETS}
