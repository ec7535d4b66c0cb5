"""Copy as code: runnable NumPy / PyTorch / TensorFlow / JAX source for the app's current state.

``generate(state, key)`` returns a script that embeds the exact Q, K, V the app
computes (already rounded to the dtype, written as float64 literals so no
framework rounds them twice), builds the state's whole mask — padding, padded
queries, causal, sliding window, prefix LM, packed documents, a drawn mask — in
that framework's own idiom, calls that framework's attention and prints the
weights. ``key`` is ``"numpy"`` (the app's own function) or a ``maskattn.frameworks``
key with a snippet here; ``expected_weights(state, key)`` is what the registry says the
script prints (``frameworks.get(key).weights``): the tests run the scripts against it.

``mask_code(state, key)`` is the part that builds the mask, for every registry entry
(Keras, Hugging Face and Flax included): a short script that leaves the library's own
mask object in ``mask``; the tests run each and compare it with the app's mask.

>>> import numpy as np
>>> state = CodeState(tokens=("a", "<pad>"), ids=(1, 0), q=np.eye(2), k=np.eye(2), v=np.eye(2),
...                   spec=MaskSpec(padding=True))
>>> source = generate(state, "torch_mha")
>>> "key_padding_mask = ids_t == 0" in source
True
>>> namespace = {}
>>> exec(generate(state, "numpy", print_results=False), namespace)
>>> namespace["weights"].tolist()
[[1.0, 0.0], [1.0, 0.0]]
"""

from __future__ import annotations

from dataclasses import dataclass, fields
import math

import numpy as np

from . import frameworks, numerics as nx
from .attention import METHODS, attention_steps
from .errors import MaskAttnError
from .masks import MaskSpec, segment_id_array

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
    spec: MaskSpec = MaskSpec()  # the masks that are on, fitted to the T tokens (pipeline.fitted_spec)
    segment_ids: tuple[int, ...] | None = None   # (T,) each token's packed document; needed when spec.segments
    dtype: str = "float32"
    mask_value: float = -1e9     # the app's constant, before rounding to dtype
    method: str = "add"          # the app's method (the NumPy snippet reproduces it exactly)
    scale: bool = True           # divide q·kᵀ by √d

    @property
    def has_mask(self) -> bool:
        """Some mask is on (even one that blocks nothing): the snippet passes a mask."""
        return self.spec != MaskSpec()

    @property
    def causal(self) -> bool:
        """The look-ahead part is on (causal, or brought by a window), and no prefix LM replaces it."""
        return self.spec.is_causal and self.spec.prefix_length is None


def state_from_result(result) -> CodeState:
    """The ``CodeState`` of a ``pipeline.PlaygroundResult`` (the sequence on view, its fitted ``MaskSpec``)."""
    s = result.inputs
    ids = tuple(int(i) for i in result.batch.ids[result.sequence])
    segments = None
    if result.spec.segments:
        segments = tuple(int(i) for i in result.batch.segment_ids[result.sequence])
    return CodeState(tokens=tuple(result.tokens), ids=ids, q=result.q, k=result.k, v=result.v, spec=result.spec,
                     segment_ids=segments, dtype=s.dtype, mask_value=s.mask_value, method=s.method, scale=s.scale)


def _check(state: CodeState, framework: str, keys=None) -> None:
    keys = FRAMEWORKS if keys is None else keys
    if framework not in keys:
        raise MaskAttnError(f"framework must be one of {', '.join(keys)}, got {framework!r}")
    if not isinstance(state.spec, MaskSpec):
        raise MaskAttnError(f"spec must be a MaskSpec, got {state.spec!r:.60}")
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
    if state.spec.segments:
        if state.segment_ids is None or len(segment_id_array(state.segment_ids)) != T:
            raise MaskAttnError(f"the document mask needs {T} segment ids, got {state.segment_ids!r:.60}")
    if state.spec.drawn is not None and len(state.spec.drawn) != T:
        raise MaskAttnError(f"the drawn mask is {len(state.spec.drawn)}×{len(state.spec.drawn)}, the sequence has "
                            f"{T} tokens")
    if state.spec.prefix_length is not None and state.spec.prefix_length > T:
        raise MaskAttnError(f"prefix_length must be at most the sequence length {T}, got {state.spec.prefix_length}")
    size = sum(int(np.prod(s)) for s in shapes)
    if size > MAX_EMBEDDED_VALUES:
        raise MaskAttnError(f"the snippet would embed {size:,} numbers (Q, K, V of shape {shapes[0]}); "
                            f"the limit is {MAX_EMBEDDED_VALUES:,}: use fewer tokens or a smaller d_model")


def tutorial_mask(state: CodeState) -> np.ndarray | None:
    """The state's combined mask in the tutorial convention, ``(T, T)`` (None without masks).

    >>> st = CodeState(("a", "<pad>"), (1, 0), np.eye(2), np.eye(2), np.eye(2), MaskSpec(padding=True, causal=True))
    >>> tutorial_mask(st).tolist()
    [[0.0, 1.0], [0.0, 1.0]]
    """
    segments = None if state.segment_ids is None else [state.segment_ids]
    mask = state.spec.build([state.ids], PAD_ID, segment_ids=segments)        # (1, 1, T, T) or None
    return None if mask is None else mask[0, 0]                                # (T, T)


def framework(state: CodeState, key: str) -> frameworks.Framework:
    """The registry entry the snippet for ``key`` runs, with the app's constant where the snippet uses it.

    >>> st = CodeState(("a",), (1,), np.eye(1), np.eye(1), np.eye(1), MaskSpec(padding=True), mask_value=-1e4)
    >>> framework(st, "tf_tutorial").mask_value, framework(st, "torch_mha").mask_value
    (-10000.0, None)
    """
    _check(state, key)
    method = state.method if state.method in ("add", "fill", "safe") else "add"   # the mistakes have no snippet
    return frameworks.get(key).with_constant(state.mask_value, method)


def _framework_logits(state: CodeState) -> np.ndarray:
    """The core's scaled logits for the state, unmasked: what every framework entry receives."""
    return attention_steps(state.q, state.k, state.v, None, dtype=state.dtype, scale=state.scale).logits


def expected_weights(state: CodeState, key: str) -> np.ndarray:
    """What the snippet for ``key`` prints, ``(T, T)`` in the state's dtype.

    NumPy: the app's own ``attention_steps``. A framework: its registry entry on the
    core's logits (``frameworks.get(key).weights``).

    >>> st = CodeState(("a", "<pad>"), (1, 0), np.eye(2), np.eye(2), np.eye(2),
    ...                MaskSpec(padding=True, query_padding=True))
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
    return framework(state, key).weights(_framework_logits(state), mask, state.dtype)


def cpu_dependent(state: CodeState, key: str) -> np.ndarray:
    """Cells of ``expected_weights(state, key)`` that print NaN on some CPUs and 0 on others
    (``Framework.cpu_dependent``; never for NumPy), ``(T, T)`` bool."""
    _check(state, key)
    if key == NUMPY:
        return np.zeros((len(state.tokens),) * 2, bool)
    return framework(state, key).cpu_dependent(_framework_logits(state), tutorial_mask(state), state.dtype)


#: how far apart two weights may be, in steps of the dtype (its eps), and still differ only by
#: rounding: libraries sum and round the softmax in their own order (TensorFlow's oneDNN kernels
#: differ from NumPy by 1-3 steps in float32 on some CPUs)
ROUNDING_STEPS = 4


@dataclass(frozen=True)
class RowDifference:
    """How a framework's weights differ from the app's, row by row (query indices)."""

    masking: list[int]      # rows where NaN, exact zeros or numbers beyond rounding differ
    rounding: list[int]     # rows that differ only by rounding (within ROUNDING_STEPS steps of the dtype)
    cpu: list[int]          # rows holding cells that are NaN on some CPUs and 0 on others


def compare_rows(weights, app_weights, dtype, cpu_cells=None) -> RowDifference:
    """Tell a masking difference from a rounding difference between two ``(Tq, Tk)`` weight
    matrices (NaN equals NaN); ``cpu_cells`` (bool) are left out of both and listed apart.

    >>> compare_rows([[1.0, 0.0], [0.0, 0.0]], [[1.0, 0.0], [0.5, 0.5]], "float32")
    RowDifference(masking=[1], rounding=[], cpu=[])
    >>> compare_rows([[0.25, 0.75]], [[0.25, 0.75000006]], "float32")
    RowDifference(masking=[], rounding=[0], cpu=[])
    """
    a = np.asarray(weights).astype(np.float64)
    b = np.asarray(app_weights).astype(np.float64)
    if a.shape != b.shape:
        raise MaskAttnError(f"weights {a.shape} and app weights {b.shape} must have the same shape")
    cpu = np.zeros(a.shape, bool) if cpu_cells is None else np.asarray(cpu_cells, bool)
    both_nan = np.isnan(a) & np.isnan(b)
    equal = (a == b) | both_nan | cpu                                                       # (Tq, Tk)
    step = float(nx.finfo(dtype).eps)
    close = equal | ((a != 0) & (b != 0) & (np.abs(a - b) <= ROUNDING_STEPS * step))     # (Tq, Tk)
    masking = (~close).any(axis=-1)                                                        # (Tq,)
    rounding = ~masking & (~equal).any(axis=-1)                                             # (Tq,)
    return RowDifference(masking=np.flatnonzero(masking).tolist(), rounding=np.flatnonzero(rounding).tolist(),
                         cpu=np.flatnonzero(cpu.any(axis=-1)).tolist())


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
    what = FRAMEWORKS[framework]
    return (f'"""maskattn state recreated with {what}.\n\n'
            f"T = {T} tokens, d = {d}, dtype {state.dtype}, masks: {state.spec.describe()}.\n"
            "Generated by maskattn.codegen; prints the attention weights (rows: queries, columns: keys).\n"
            '"""\n')


def _mask_data(state: CodeState) -> str:
    """The newer masks' numbers as named constants: window, prefix, document ids, the drawn mask."""
    spec, lines = state.spec, []
    if spec.window is not None:
        w = spec.window
        lines.append(f"WINDOW = {w}  # sliding window: " + (
            f"{w} keys, itself included (q - kv < {w}, Hugging Face's count)" if spec.window_rule == "keys"
            else f"keys up to {w} back, {w + 1} keys (q - kv <= {w}, FlashAttention's and JAX's count)"))
    if spec.prefix_length is not None:
        lines.append(f"PREFIX = {spec.prefix_length}  # prefix LM: every query sees the first {spec.prefix_length} "
                     "keys, causal after them")
    if spec.segments:
        lines.append(f"document_ids = {list(segment_id_array(state.segment_ids).tolist())!r}"
                     "  # packed documents (0 = padding)")
    if spec.drawn is not None:
        rows = ",\n".join("    " + repr(list(row)) for row in spec.drawn)
        lines.append(f"DRAWN = [\n{rows},\n]  # the mask drawn by hand, 1 = blocked (the tutorial's convention)")
    return "".join(line + "\n" for line in lines)


def _data(state: CodeState, array_fn: str, dtype_expr: str) -> str:
    """Tokens, ids, the masks' constants and Q, K, V literals; ``array_fn`` wraps a literal into the framework's array."""
    lines = [f"tokens = {list(state.tokens)!r}",
             f"ids = {list(state.ids)!r}  # token ids; the pad token has id {PAD_ID}",
             _mask_data(state).rstrip("\n"),
             f"# Q, K, V exactly as the app computes them, already rounded to {state.dtype}"]
    for name, values in (("Q", state.q), ("K", state.k), ("V", state.v)):
        lines.append(f"{name} = {array_fn.format(_matrix(_rounded(values, state.dtype)), dtype_expr)}  # (T, d)")
    return "\n".join(line for line in lines if line)


def _window_test(state: CodeState, q: str, kv: str, *, keep: bool = True) -> str:
    """The window as a comparison in the state's own count: ``q - kv < WINDOW`` (keys) or ``<= WINDOW``."""
    keys = state.spec.window_rule == "keys"
    if keep:
        return f"{q} - {kv} {'<' if keys else '<='} WINDOW"
    return f"{q} - {kv} {'>=' if keys else '>'} WINDOW"


def _reach(state: CodeState) -> str:
    """How far back a query looks, as code: ``WINDOW - 1`` (keys) or ``WINDOW`` (distance)."""
    return "WINDOW - 1" if state.spec.window_rule == "keys" else "WINDOW"


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


# --- NumPy: the app's own function ------------------------------------------------------------------

def _spec_literal(state: CodeState) -> str:
    """``maskattn.MaskSpec(...)`` with the fields that differ from the defaults."""
    args = []
    for f in fields(MaskSpec):
        value = getattr(state.spec, f.name)
        if value != f.default:
            args.append(f"{f.name}=" + {"window": "WINDOW", "prefix_length": "PREFIX", "drawn": "DRAWN"}.get(
                f.name, repr(value)))
    return f"maskattn.MaskSpec({', '.join(args)})"


def _numpy(state: CodeState) -> str:
    if state.has_mask:
        segments = ", segment_ids=[document_ids]" if state.spec.segments else ""
        mask = (f"# the masks that are on ({state.spec.describe()}), in the tutorial's convention: 1.0 = blocked,\n"
                "# combined with an element-wise maximum (the tutorial's tf.maximum)\n"
                f"spec = {_spec_literal(state)}\n"
                f"mask = spec.build(ids_b{segments})[0, 0]  # (B, 1, T, T) -> (T, T)\n")
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


# --- PyTorch -------------------------------------------------------------------------------------------

_POSITIONS = "q_idx, kv_idx = {m}.arange(T)[:, None], {m}.arange(T)[None, :]  # (Tq, 1), (1, Tk)\n"


def _uses_positions(state: CodeState) -> bool:
    return state.spec.is_causal


def _torch_attend_mask(state: CodeState, *, key_padding: bool = True) -> str:
    """Torch lines building ``attend`` (B=1, 1, Tq, Tk), True = may attend; every part that is on, combined with &."""
    spec = state.spec
    lines = ["# bool mask, True = may attend (the opposite of the TF tutorial's 1 = blocked); parts combine with &"]
    if _uses_positions(state):
        lines.append(_POSITIONS.format(m="torch").rstrip("\n"))
    lines.append(_commented("attend = torch.ones(1, 1, T, T, dtype=torch.bool)", "(B, H, Tq, Tk)"))
    parts = []
    if spec.padding and key_padding:
        parts.append("(ids_t != 0)[:, None, None, :]  # padding: pad keys blocked")
    if spec.query_padding:
        parts.append("(ids_t != 0)[:, None, :, None]  # padded query rows blocked")
    if state.causal:
        parts.append("(kv_idx <= q_idx)  # causal: keys j <= i")
    if spec.prefix_length is not None:
        parts.append("((kv_idx <= q_idx) | (kv_idx < PREFIX))  # prefix LM: the prefix, then causal")
    if spec.window is not None:
        parts.append(f"({_window_test(state, 'q_idx', 'kv_idx')})  # sliding window: keys too far back blocked")
    if spec.segments:
        lines.append(_commented("doc_t = torch.tensor([document_ids])", "(B=1, T)"))
        parts.append("(doc_t[:, None, :, None] == doc_t[:, None, None, :])  # same document only")
    if spec.drawn is not None:
        parts.append("(torch.tensor(DRAWN) == 0)  # the drawn mask (1 = blocked)")
    lines += [_commented(f"attend = attend & {part.split('  # ')[0]}", part.split("  # ")[1]) for part in parts]
    return "\n".join(lines) + "\n"


def _torch_mha_masks(state: CodeState) -> str:
    """Torch lines building ``key_padding_mask`` (B, Tk) and ``attn_mask`` (Tq, Tk) or (B·H, Tq, Tk), True = BLOCKED."""
    spec = state.spec
    kpm = ("key_padding_mask = ids_t == 0  # (B, Tk) True = pad key, BLOCKED\n" if spec.padding
           else "key_padding_mask = None\n")
    parts = []
    if spec.query_padding:
        parts.append("(ids_t == 0)[:, :, None]  # padded query rows")
    if state.causal:
        parts.append("(kv_idx > q_idx)  # causal: future keys")
    if spec.prefix_length is not None:
        parts.append("((kv_idx > q_idx) & (kv_idx >= PREFIX))  # prefix LM: future keys after the prefix")
    if spec.window is not None:
        parts.append(f"({_window_test(state, 'q_idx', 'kv_idx', keep=False)})  # sliding window: keys too far back")
    if spec.segments:
        parts.append("(doc_t[:, :, None] != doc_t[:, None, :])  # other documents")
    if spec.drawn is not None:
        parts.append("(torch.tensor(DRAWN) == 1)  # the drawn mask")
    if not parts:
        return kpm + "attn_mask = None\n"
    lines = ["# attn_mask: bool, True = BLOCKED (the opposite of F.scaled_dot_product_attention); (Tq, Tk), or",
             "# (B·H, Tq, Tk) once a part has a batch axis"]
    if _uses_positions(state):
        lines.append(_POSITIONS.format(m="torch").rstrip("\n"))
    if spec.segments:
        lines.append("doc_t = torch.tensor([document_ids])  # (B=1, T)")
    lines.append("attn_mask = torch.zeros(T, T, dtype=torch.bool)")
    lines += [_commented(f"attn_mask = attn_mask | {part.split('  # ')[0]}", part.split("  # ")[1]) for part in parts]
    return kpm + "\n".join(lines) + "\n"


def _torch_flex_mask(state: CodeState) -> str:
    """FlexAttention: one mask_mod per part, combined with and_masks / or_masks, then create_block_mask."""
    spec = state.spec
    if not state.has_mask:
        return "block_mask = None  # no mask is on\n"
    mods, lines = [], ["# FlexAttention: each part is a mask_mod(b, h, q_idx, kv_idx) -> True = may attend"]

    def mod(name: str, body: str, comment: str) -> None:
        lines.append(f"\n\ndef {name}(b, h, q_idx, kv_idx):  # {comment}\n    return {body}")

    if spec.padding:
        mod("not_padding", "ids_t[b, kv_idx] != 0", "pad keys blocked")
        mods.append("not_padding")
    if spec.query_padding:
        mod("query_not_padding", "ids_t[b, q_idx] != 0", "padded query rows blocked")
        mods.append("query_not_padding")
    if spec.is_causal:
        mod("causal", "kv_idx <= q_idx", "keys j <= i")
    if spec.prefix_length is not None:
        mod("prefix", "kv_idx < PREFIX", "the prefix: seen by every query")
        mods.append("or_masks(causal, prefix)")
    elif spec.is_causal:
        mods.append("causal")
    if spec.window is not None:
        mod("sliding_window", _window_test(state, "q_idx", "kv_idx"), "keys too far back blocked")
        mods.append("sliding_window")
    if spec.segments:
        lines.insert(1, "doc_t = torch.tensor([document_ids])  # (B=1, T)")
        mod("same_document", "doc_t[b, q_idx] == doc_t[b, kv_idx]", "packed documents")
        mods.append("same_document")
    if spec.drawn is not None:
        lines.insert(1, "drawn_attend = torch.tensor(DRAWN) == 0  # (Tq, Tk) True = may attend")
        mod("drawn", "drawn_attend[q_idx, kv_idx]", "the drawn mask")
        mods.append("drawn")
    return ("\n".join(lines) + "\n\n\n"
            f"mask_mod = and_masks({', '.join(mods)})\n"
            "block_mask = create_block_mask(mask_mod, B=1, H=None, Q_LEN=T, KV_LEN=T, device=\"cpu\")\n")


def _torch_imports(state: CodeState, extra: str = "") -> str:
    return "import torch\nimport torch.nn.functional as F\n" + extra + "\n"


def _torch_data(state: CodeState) -> str:
    return (
        f"dtype = {_TORCH_DTYPES[state.dtype]}\n"
        + _data(state, "torch.tensor({}, dtype={}).to(dtype)", "torch.float64") + "\n"
        "T, d = Q.shape\nids_t = torch.tensor([ids])  # (B=1, T)\n\n"
    )


def _pytorch_sdpa_call(state: CodeState, mask: str) -> str:
    scale = "" if state.scale else ", scale=1.0"
    return (
        _torch_imports(state) + _torch_data(state) + mask + "\n"
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
    return (
        "import math\n\n" + _torch_imports(state) + _torch_data(state)
        + "# one head with identity projections, so the layer attends with exactly Q, K, V\n"
        "mha = torch.nn.MultiheadAttention(d, num_heads=1, bias=False, batch_first=True, dtype=dtype)\n"
        "with torch.no_grad():\n"
        f"    mha.in_proj_weight.copy_(torch.cat([{q_weight}, torch.eye(d, dtype=dtype), "
        "torch.eye(d, dtype=dtype)]))  # (3d, d)\n"
        "    mha.out_proj.weight.copy_(torch.eye(d, dtype=dtype))\n"
        + ("# the layer always divides by √d; the query projection multiplies by √d to undo it\n"
           if not state.scale else "")
        + "\n" + _torch_mha_masks(state) + "\n"
        "output, weights = mha(Q[None], K[None], V[None], key_padding_mask=key_padding_mask,\n"
        "                      attn_mask=attn_mask, need_weights=True)\n"
        "output, weights = output[0].detach(), weights[0].detach()     # (Tq, dv), (Tq, Tk)\n"
    )


def _pytorch_flex(state: CodeState) -> str:
    scale = "" if state.scale else ", scale=1.0"
    imports = "from torch.nn.attention.flex_attention import and_masks, create_block_mask, flex_attention, or_masks\n"
    return (
        _torch_imports(state, imports) + _torch_data(state) + _torch_flex_mask(state) + "\n"
        "# eager FlexAttention runs on the CPU (it warns that it is not compiled); on a GPU wrap it in torch.compile\n"
        "q, k, v = Q[None, None], K[None, None], V[None, None]        # (B=1, H=1, T, d)\n"
        f"output = flex_attention(q, k, v, block_mask=block_mask{scale})[0, 0]  # (Tq, dv)\n"
        "# it returns only the output; with V = the identity the output is weights @ I = the weights\n"
        "eye = torch.eye(T, dtype=dtype)[None, None]                  # (1, 1, Tk, Tk)\n"
        f"weights = flex_attention(q, k, eye, block_mask=block_mask{scale})[0, 0]  # (Tq, Tk)\n"
    )


# --- TensorFlow: the tutorial's own functions, and one more per newer mask -------------------------------

_TF_HELPERS = {
    "window": {"keys": ("def create_sliding_window_mask(size, window):  # 1.0 on keys too far back: q - kv >= window\n"
                        "    return 1 - tf.linalg.band_part(tf.ones((size, size)), window - 1, -1)  # (seq_len, seq_len)\n"),
               "distance": ("def create_sliding_window_mask(size, window):  # 1.0 on keys too far back: q - kv > window\n"
                            "    return 1 - tf.linalg.band_part(tf.ones((size, size)), window, -1)  # (seq_len, seq_len)\n")},
    "prefix": ("def create_prefix_lm_mask(size, prefix_length):  # the look-ahead mask, the first keys open to all\n"
               "    return tf.where(tf.range(size) < prefix_length, 0.0, create_look_ahead_mask(size))  # (seq_len, seq_len)\n"),
    "document": ("def create_document_mask(segment_ids):  # 1.0 where query and key are in different documents\n"
                 "    different = segment_ids[:, :, tf.newaxis] != segment_ids[:, tf.newaxis, :]\n"
                 "    return tf.cast(different, tf.float32)[:, tf.newaxis]  # (batch_size, 1, seq_len, seq_len)\n"),
}


def _tensorflow(state: CodeState) -> str:
    spec = state.spec
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
    if spec.padding:
        parts.append("create_padding_mask(seq)")
    if spec.query_padding:
        parts.append("create_query_padding_mask(seq)")
    if state.causal:
        parts.append("create_look_ahead_mask(T)")
    if spec.window is not None:
        parts.append("create_sliding_window_mask(T, WINDOW)")
    if spec.prefix_length is not None:
        parts.append("create_prefix_lm_mask(T, PREFIX)")
    if spec.segments:
        parts.append("create_document_mask(tf.constant([document_ids]))")
    if spec.drawn is not None:
        parts.append("tf.constant(DRAWN, tf.float32)")
    if parts:
        mask = ("# the tutorial's convention: 1.0 = blocked; masks combined with tf.maximum\n"
                f"mask = {parts[0]}\n" + "".join(f"mask = tf.maximum(mask, {p})\n" for p in parts[1:])
                + "mask = tf.cast(mask, dtype)\n")
    else:
        mask = "mask = None  # no mask is on\n"
    helpers = "".join((_TF_HELPERS[part] if part != "window" else _TF_HELPERS[part][spec.window_rule]) + "\n\n"
                      for part, on in (
        ("window", spec.window is not None), ("prefix", spec.prefix_length is not None),
        ("document", spec.segments)) if on)
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
        + helpers +
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


# --- JAX: is_causal and local_window_size, the rest in one bool mask -------------------------------------

def _commented(code: str, comment: str, column: int = 64) -> str:
    """``code  # comment`` with the comments of neighbouring lines aligned."""
    return f"{code:<{column}}  # {comment}"


def _combined(name: str, function: str, parts: list[str]) -> list[str]:
    """``name = function(name, part)  # comment`` for each ``"part  # comment"``."""
    return [_commented(f"{name} = {function}({name}, {part.split('  # ')[0]})", part.split("  # ")[1])
            for part in parts]


def _jax_mask(state: CodeState) -> str:
    """Lines building ``mask`` (bool, True = attend, or None) and ``options`` for jax.nn.dot_product_attention."""
    spec = state.spec
    lines = []
    if spec.prefix_length is not None:
        lines.append(_POSITIONS.format(m="jnp").rstrip("\n"))
    parts = []
    if spec.padding:
        parts.append("(ids_j != 0)[:, None, None, :]  # pad keys blocked")
    if spec.query_padding:
        parts.append("(ids_j != 0)[:, None, :, None]  # padded queries blocked")
    if spec.prefix_length is not None:
        parts.append("(kv_idx <= q_idx) | (kv_idx < PREFIX)  # prefix LM: the prefix, then causal")
    if spec.segments:
        lines.append("doc_j = jnp.array([document_ids])  # (B=1, T)")
        parts.append("doc_j[:, None, :, None] == doc_j[:, None, None, :]  # same document only")
    if spec.drawn is not None:
        parts.append("jnp.array(DRAWN) == 0  # the drawn mask (1 = blocked)")
    if parts:
        lines.insert(0, "# bool mask, True = may attend; masks combined with jnp.logical_and (as flax combine_masks)")
        lines.append(_commented("mask = jnp.ones((1, 1, T, T), dtype=bool)", "(B, N, T, S)"))
        lines += _combined("mask", "jnp.logical_and", parts)
    else:
        lines.append("mask = None")
    options = ["mask=mask"]
    if state.causal:
        options.append("is_causal=True")
    if spec.window is not None:
        right = "T - 1" if spec.prefix_length is not None else "0"
        lines.append(f"# JAX counts a window as the distance back (q - kv <= left): left = {_reach(state)}"
                     + ("; right open for the prefix" if right != "0" else ""))
        options.append(f"local_window_size=({_reach(state)}, {right})")
    if not state.scale:
        options.append("scale=1.0")
    lines.append(f"options = dict({', '.join(options)})")
    return "\n".join(lines) + "\n"


def _jax(state: CodeState) -> str:
    x64 = ('jax.config.update("jax_enable_x64", True)  # float64 needs 64-bit mode\n'
           if state.dtype == "float64" else "")
    return (
        "import jax\nimport jax.numpy as jnp\nimport numpy as np\n\n" + x64 +
        f"dtype = {_JAX_DTYPES[state.dtype]}\n"
        + _data(state, "jnp.asarray(np.array({}, dtype={})).astype(dtype)", "np.float64") + "\n"
        "T, d = Q.shape\nids_j = jnp.array([ids])  # (B=1, T)\n\n"
        + _jax_mask(state) + "\n"
        "# jax.nn.dot_product_attention wants (B, T, N heads, H depth)\n"
        "q, k, v = Q[None, :, None, :], K[None, :, None, :], V[None, :, None, :]\n"
        "output = jax.nn.dot_product_attention(q, k, v, **options)[0, :, 0, :]  # (Tq, dv)\n"
        "# it returns only the output; with V = the identity the output is the weights. The value depth\n"
        "# must equal d, so the identity goes in d columns at a time\n"
        "eye = jnp.pad(jnp.eye(T, dtype=dtype), ((0, 0), (0, -T % d)))  # (Tk, Tk rounded up to d)\n"
        "weights = jnp.concatenate([\n"
        "    jax.nn.dot_product_attention(q, k, eye[None, :, None, i:i + d], **options)[0, :, 0, :]\n"
        "    for i in range(0, eye.shape[1], d)], axis=-1)[:, :T]  # (Tq, Tk)\n"
    )


# --- the mask alone, in every registry entry's idiom -----------------------------------------------------

def _keras_mask(state: CodeState) -> str:
    spec = state.spec
    lines = ["from keras import ops\n",
             "# attention_mask: bool (B, Tq, Tk), True = may attend; parts combine with ops.logical_and",
             "ids_k = ops.convert_to_tensor([ids])  # (B=1, T)"]
    if spec.is_causal:
        lines.append(_POSITIONS.format(m="ops").rstrip("\n"))
    parts = []
    if spec.padding:
        parts.append("ops.not_equal(ids_k, 0)[:, None, :]  # pad keys blocked")
    if spec.query_padding:
        parts.append("ops.not_equal(ids_k, 0)[:, :, None]  # padded queries blocked")
    if state.causal:
        parts.append("kv_idx <= q_idx  # causal (or MultiHeadAttention(..., use_causal_mask=True))")
    if spec.prefix_length is not None:
        parts.append("(kv_idx <= q_idx) | (kv_idx < PREFIX)  # prefix LM: the prefix, then causal")
    if spec.window is not None:
        parts.append(f"{_window_test(state, 'q_idx', 'kv_idx')}  # sliding window: keys too far back blocked")
    if spec.segments:
        lines.append("doc_k = ops.convert_to_tensor([document_ids])  # (B=1, T)")
        parts.append("ops.equal(doc_k[:, :, None], doc_k[:, None, :])  # same document only")
    if spec.drawn is not None:
        parts.append("ops.equal(ops.convert_to_tensor(DRAWN), 0)  # the drawn mask (1 = blocked)")
    lines.append("mask = ops.ones((1, T, T), dtype=\"bool\")")
    lines += _combined("mask", "ops.logical_and", parts)
    lines.append("# keras.layers.MultiHeadAttention(...)(query, value, attention_mask=mask)")
    return "\n".join(lines) + "\n"


def _flax_mask(state: CodeState) -> str:
    spec = state.spec
    lines = ["import jax.numpy as jnp\nfrom flax import linen as nn\n",
             "# Flax builds each part with make_attention_mask(query_input, key_input, pairwise_fn) -> (B, 1, Tq, Tk)",
             "# and ANDs them with combine_masks; 1 = may attend",
             "ids_j = jnp.array([ids])  # (B=1, T)"]
    if spec.window is not None or spec.prefix_length is not None:
        lines.append("pos = jnp.arange(T)[None]  # (B=1, T)")
    parts = []
    if spec.padding or spec.query_padding:
        queries = "ids_j != 0" if spec.query_padding else "jnp.ones_like(ids_j)"
        keys = "ids_j != 0" if spec.padding else "jnp.ones_like(ids_j)"
        parts.append(f"nn.make_attention_mask({queries}, {keys})  # padding")
    if state.causal:
        parts.append("nn.make_causal_mask(ids_j)  # causal")
    if spec.prefix_length is not None:
        parts.append("nn.make_attention_mask(pos, pos, lambda q, k: (k <= q) | (k < PREFIX))  # prefix LM")
    if spec.window is not None:
        parts.append(f"nn.make_attention_mask(pos, pos, lambda q, k: {_window_test(state, 'q', 'k')})"
                     "  # sliding window")
    if spec.segments:
        lines.append("doc_j = jnp.array([document_ids])  # (B=1, T)")
        parts.append("nn.make_attention_mask(doc_j, doc_j, pairwise_fn=jnp.equal)  # same document only")
    if spec.drawn is not None:
        parts.append("(jnp.array(DRAWN) == 0)[None, None]  # the drawn mask (1 = blocked)")
    if parts:
        lines.append("mask = nn.combine_masks(\n" + "".join(f"    {p.split('  # ')[0]},  # {p.split('  # ')[1]}\n"
                                                          for p in parts) + ")  # (B, 1, Tq, Tk)")
    else:
        lines.append("mask = None")
    lines.append("# nn.dot_product_attention(query, key, value, mask=mask)")
    return "\n".join(lines) + "\n"


def _hf_mask(state: CodeState, implementation: str) -> str:
    spec = state.spec
    names = ["MistralConfig"]
    lines = []
    ands, ors = [], []
    if spec.query_padding:
        ands.append("lambda b, h, q_idx, kv_idx: ids_t[b, q_idx] != 0  # padded query rows")
    if spec.segments:
        lines.append("doc_t = torch.tensor([document_ids])  # (B=1, T); the same as position_ids restarting at 0")
        ands.append("packed_sequence_mask_function(doc_t)  # same document only")
        names.append("packed_sequence_mask_function")
    if spec.drawn is not None:
        lines.append("drawn_attend = torch.tensor(DRAWN) == 0  # (Tq, Tk) True = may attend")
        ands.append("lambda b, h, q_idx, kv_idx: drawn_attend[q_idx, kv_idx]  # the drawn mask")
    if spec.prefix_length is not None:
        ors.append("lambda b, h, q_idx, kv_idx: kv_idx < PREFIX")
    window = "None"
    if spec.window is not None:
        window = "WINDOW" if spec.window_rule == "keys" else "WINDOW + 1"
    if spec.window is not None and spec.prefix_length is not None:
        names.append("sliding_window_overlay")
        ands.insert(0, f"sliding_window_overlay({window})  # sliding window over the prefix LM")
        window = "None"
    if spec.is_causal:
        builder = "create_sliding_window_causal_mask" if window != "None" else "create_causal_mask"
        call = f"{builder}(config, inputs_embeds, attention_mask, cache=None"
        skip = "allow_is_causal_skip=False"
    else:
        builder = "create_bidirectional_mask"
        call = f"{builder}(config, inputs_embeds, attention_mask"
        skip = "allow_is_bidirectional_skip=False"
    names.append(builder)
    if len(ands) > 1:
        names.append("and_masks")
    head = ["import torch", "from transformers import MistralConfig",
            "from transformers.masking_utils import (" + ", ".join(sorted(set(names) - {"MistralConfig"})) + ")", ""]
    comment = ("# it counts keys: " + ("the app's count" if spec.window_rule == "keys" else "the distance back + 1")
               if spec.window is not None else "")
    body = [f"config = MistralConfig(sliding_window={window}, attn_implementation={implementation!r})"
            + (f"  {comment}" if window != "None" else ""),
            f"dtype = {_TORCH_DTYPES[state.dtype]}",
            "inputs_embeds = torch.zeros(1, T, 1, dtype=dtype)  # only its batch size, length and dtype are read",
            "ids_t = torch.tensor([ids])  # (B=1, T)",
            ("attention_mask = (ids_t != 0).long()  # (B, Tk) 1 = attend: the 2-D padding mask" if spec.padding
             else "attention_mask = None")] + lines
    args = []
    if ors:
        args.append(f"or_mask_function={ors[0]}")
    if ands:
        funcs = [a.split("  # ")[0] for a in ands]
        args.append("and_mask_function=" + (funcs[0] if len(funcs) == 1 else
                                            "and_masks(\n        " + ",\n        ".join(funcs) + ")"))
    args.append(skip)
    body.append(f"mask = {call},\n    " + ",\n    ".join(args) + ")  # (B, 1, Tq, Tk)"
                + (" bool, True = attend" if implementation == "sdpa" else " 0 / finfo(dtype).min, added"))
    return "\n".join(head + body) + "\n"


#: registry key -> the lines that build its mask object (in ``mask``), after ``ids``, ``T`` and the constants
_MASK_BUILDERS = {
    "tf_tutorial": None, "keras2": _keras_mask, "keras3": _keras_mask, "keras3_fused": _keras_mask,
    "torch_sdpa": None, "torch_sdpa_float": None, "torch_mha": None, "torch_flex": None,
    "hf_sdpa": lambda state: _hf_mask(state, "sdpa"), "hf_eager": lambda state: _hf_mask(state, "eager"),
    "jax": None, "flax": _flax_mask, "annotated_transformer": None,
}


def _from_snippet(state: CodeState, key: str) -> str:
    """The mask lines of a full snippet, standing alone."""
    if key == "tf_tutorial":
        source = _tensorflow(state)
        helpers = source[source.index("def create_padding_mask"):source.index("def scaled_dot_product_attention")]
        mask = source[source.index("# the tutorial's convention") if state.has_mask else source.index("mask = None"):
                      source.index("output, weights =")]
        return ("import tensorflow as tf\n\n" + f"dtype = {_TF_DTYPES[state.dtype]}\n"
                "seq = tf.constant([ids])  # (B=1, T)\n\n\n" + helpers + mask)
    if key == "jax":
        return "import jax.numpy as jnp\n\nids_j = jnp.array([ids])  # (B=1, T)\n" + _jax_mask(state)
    torch_head = f"import torch\n\ndtype = {_TORCH_DTYPES[state.dtype]}\nids_t = torch.tensor([ids])  # (B=1, T)\n"
    if key == "torch_mha":
        return torch_head + _torch_mha_masks(state) + "mask = (attn_mask, key_padding_mask)\n"
    if key == "torch_flex":
        imports = "from torch.nn.attention.flex_attention import and_masks, create_block_mask, or_masks\n"
        return imports + torch_head + _torch_flex_mask(state) + (
            "mask = block_mask  # create_mask(mask_mod, 1, None, T, T) shows it as a bool tensor\n")
    if key == "torch_sdpa_float":
        source = _pytorch_sdpa_float(state)
        return torch_head + source[source.index("# bool mask") if state.has_mask else source.index("attn_mask = None"):
                                   source.index("\nq, k, v")] + "mask = attn_mask\n"
    # SDPA and the Annotated Transformer: one bool tensor, True = attend (1 = attend for attention())
    return torch_head + (_torch_attend_mask(state) + "mask = attend\n" if state.has_mask else "mask = None\n")


def mask_code(state: CodeState, key: str) -> str:
    """A runnable script that builds the state's whole mask in the idiom of registry entry ``key``.

    It leaves the library's own mask object in ``mask`` (``None`` when no mask is on;
    ``(attn_mask, key_padding_mask)`` for ``nn.MultiheadAttention``; a ``BlockMask`` for
    FlexAttention; the Hugging Face 4-D mask; a bool ``(mask, options)`` pair's mask for JAX,
    whose ``options`` carry ``is_causal`` and ``local_window_size``).

    >>> st = CodeState(("a", "b", "c"), (1, 2, 3), np.eye(3), np.eye(3), np.eye(3), MaskSpec(window=2))
    >>> print(mask_code(st, "jax"))
    # JAX · nn.dot_product_attention: the mask of look-ahead + sliding window 2 (q − kv < 2: 2 keys)
    import jax.numpy as jnp
    <BLANKLINE>
    ids = [1, 2, 3]  # token ids; the pad token has id 0
    T = len(ids)
    WINDOW = 2  # sliding window: 2 keys, itself included (q - kv < 2, Hugging Face's count)
    <BLANKLINE>
    ids_j = jnp.array([ids])  # (B=1, T)
    mask = None
    # JAX counts a window as the distance back (q - kv <= left): left = WINDOW - 1
    options = dict(mask=mask, is_causal=True, local_window_size=(WINDOW - 1, 0))
    <BLANKLINE>
    """
    _check(state, key, _MASK_BUILDERS)
    builder = _MASK_BUILDERS[key]
    body = (builder(state) if builder is not None else _from_snippet(state, key)).split("\n")
    imports = [line for line in body if line.startswith(("import ", "from "))]
    body = "\n".join(line for line in body if line not in imports).lstrip("\n")
    source = (f"# {frameworks.get(key).title}: the mask of {state.spec.describe()}\n"
              + "\n".join(imports) + "\n\n"
              f"ids = {list(state.ids)!r}  # token ids; the pad token has id {PAD_ID}\n"
              "T = len(ids)\n" + _mask_data(state) + "\n" + body)
    compile(source, f"<maskattn mask {key}>", "exec")
    return source


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
             "torch_mha": (_pytorch_mha, _PRINTS["pytorch_sdpa"]),
             "torch_flex": (_pytorch_flex, _PRINTS["pytorch_sdpa"]), "jax": (_jax, _PRINTS["jax"])}
#: what each snippet calls: "numpy" first, then the registry's entries that have a snippet, in its order
FRAMEWORKS: dict[str, str] = {NUMPY: "NumPy with maskattn (the app's own function)"} | {
    fw.key: f"{fw.library}: {fw.path}" for fw in frameworks.all_frameworks() if fw.key in _SNIPPETS}
