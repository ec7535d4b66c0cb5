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

from dataclasses import dataclass, fields, replace

import numpy as np

from . import frameworks, numerics as nx
from .attention import METHODS, attention_steps
from .bias import BIAS_HEADS, BIAS_KINDS
from .errors import MaskAttnError
from .frameworks import _source as src
from .frameworks._dialect import Dialect
from .masks import PARTS, MaskSpec, parts_on, segment_id_array

#: the app's own function, and the same arithmetic written out: the snippets that are not registry entries
NUMPY, NUMPY_STANDALONE = "numpy", "numpy_standalone"
#: the snippets embed every number; beyond this many Q, K, V values they get too long to copy
MAX_EMBEDDED_VALUES = 12_288
PAD_ID = src.PAD_ID


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
    bias: np.ndarray | None = None   # (T, T) float64 position bias added before the mask (None: no bias)
    bias_note: str = ""          # what the bias is, for the snippet's comment

    @property
    def has_mask(self) -> bool:
        """Some mask part is on (even one that blocks nothing): the snippet passes a mask."""
        return bool(parts_on(self.spec))


def state_from_result(result) -> CodeState:
    """The ``CodeState`` of a ``pipeline.PlaygroundResult`` (the sequence on view, its fitted ``MaskSpec``)."""
    s = result.inputs
    ids = tuple(int(i) for i in result.batch.ids[result.sequence])
    segments = None
    if result.spec.segments:
        segments = tuple(int(i) for i in result.batch.segment_ids[result.sequence])
    bias = result.bias                                                             # (T, T) float64 or None
    note = ("" if bias is None else "a typed bias (-inf masks its cell)" if s.bias == "typed"
            else f"{BIAS_KINDS[s.bias]}, head {s.bias_head} of {BIAS_HEADS}")
    return CodeState(tokens=tuple(result.tokens), ids=ids, q=result.q, k=result.k, v=result.v, spec=result.spec,
                     segment_ids=segments, dtype=s.dtype, mask_value=s.mask_value, method=s.method, scale=s.scale,
                     bias=bias, bias_note=note)


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
    if state.bias is not None and np.shape(state.bias) != (T, T):
        raise MaskAttnError(f"the bias must be {T}×{T}, got shape {np.shape(state.bias)}")
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
    return frameworks.get(key).with_constant(state.mask_value, _with_method(state).method)


def _framework_logits(state: CodeState) -> np.ndarray:
    """The core's scaled logits for the state, unmasked, with the bias added in dtype: what every framework entry
    receives."""
    steps = attention_steps(state.q, state.k, state.v, None, dtype=state.dtype, scale=state.scale, bias=state.bias)
    return steps.biased_logits


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
    if key in (NUMPY, NUMPY_STANDALONE):
        return attention_steps(state.q, state.k, state.v, mask, mask_value=state.mask_value, dtype=state.dtype,
                               method=state.method, scale=state.scale, bias=state.bias).weights
    return framework(state, key).weights(_framework_logits(state), mask, state.dtype)


def cpu_dependent(state: CodeState, key: str) -> np.ndarray:
    """Cells of ``expected_weights(state, key)`` that print NaN on some CPUs and 0 on others
    (``Framework.cpu_dependent``; never for NumPy), ``(T, T)`` bool."""
    _check(state, key)
    if key in (NUMPY, NUMPY_STANDALONE):
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
# source text: the header, the NumPy snippet, and each framework's (its own file writes it)
# ------------------------------------------------------------------------------------------------

def _header(state: CodeState, framework: str) -> str:
    T, d = np.shape(state.q)
    return (f'"""maskattn state recreated with {FRAMEWORKS[framework]}.\n\n'
            f"T = {T} tokens, d = {d}, dtype {state.dtype}, masks: {state.spec.describe()}.\n"
            "Generated by maskattn.codegen; prints the attention weights (rows: queries, columns: keys).\n"
            '"""\n')


def _spec_literal(state: CodeState) -> str:
    """``maskattn.MaskSpec(...)`` with the fields that differ from the defaults."""
    named = {part.field: part.constant for part in PARTS if part.constant and part.constant.isupper()}
    args = []
    for f in fields(MaskSpec):
        value = getattr(state.spec, f.name)
        if value != f.default:
            args.append(f"{f.name}=" + named.get(f.name, repr(value)))
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
        + src.data(state, "np.array({}, dtype={})", "np.float64") + "\n"
        "T, d = Q.shape\nids_b = np.array([ids])  # (B=1, T)\n\n"
        + mask + "\n"
        "output, weights = maskattn.scaled_dot_product_attention(\n"
        f"    Q, K, V, mask, mask_value={src.float_literal(state.mask_value)}, dtype={state.dtype!r},\n"
        f"    method={state.method!r}, scale={state.scale!r}"
        + (", bias=BIAS" if state.bias is not None else "") + ")  # (T, d), (T, T)\n"
    )


#: the NumPy snippet that needs nothing but NumPy (and ml_dtypes for bfloat16): the mask from the table's rules
NUMPY_DIALECT = Dialect(
    names=dict(q="q_idx", kv="kv_idx", id_q="ids_n[:, None]", id_k="ids_n[None, :]", doc_q="doc[:, None]",
               doc_k="doc[None, :]", drawn="np.array(DRAWN)"),
    var="blocked", polarity="blocked", intro="# the tutorial's convention: True / 1.0 = blocked; parts combine with |",
    start="blocked = np.zeros((T, T), dtype=bool)", join="{var} |= {term}",
    setup={"q": src.POSITIONS.format(m="np"), "kv": src.POSITIONS.format(m="np"),
           "doc_q": "doc = np.array(document_ids)  # (T,)", "doc_k": "doc = np.array(document_ids)  # (T,)"})
_APPLY = {"add": "masked_logits = rounded(np.add, logits, rounded(np.multiply, mask, MASK_VALUE))  # the tutorial's line",
          "fill": "masked_logits = np.where(mask == 1, MASK_VALUE, logits).astype(DT)",
          "safe": "masked_logits = np.where(mask == 1, MASK_VALUE, logits).astype(DT)",
          "attend_all": "mask = np.where((mask == 1).all(axis=-1, keepdims=True), DT(0), mask)  # rows with no key: all\n"
                        "masked_logits = np.where(mask == 1, MASK_VALUE, logits).astype(DT)",
          "zero_logits": "masked_logits = np.where(mask == 1, DT(0), logits).astype(DT)  # a mistake: 0 is no mask",
          "multiply_weights": "masked_logits = logits  # a mistake: the mask is applied after softmax"}


def _numpy_standalone(state: CodeState) -> str:
    """The app's arithmetic in plain NumPy: every step computed wide (float32, float64 for float64) and rounded."""
    r = NUMPY_DIALECT.render(state.spec)
    dt = {"bfloat16": "ml_dtypes.bfloat16"}.get(state.dtype, f"np.{state.dtype}")
    after = {"safe": "weights = np.where((mask == 1).all(axis=-1, keepdims=True), DT(0), weights).astype(DT)  # safe",
             "multiply_weights": "weights = rounded(np.multiply, weights, rounded(np.subtract, 1.0, mask))"}
    mask = (src.lines(r.code, "mask = blocked.astype(DT)                                        # (T, T)",
                      "logits, mask are the tutorial's; MASK_VALUE is rounded to DT first (-1e9 is -inf in float16)"
                      .join(("# ", "")), _APPLY[state.method])
            if r.terms else "masked_logits = logits  # no mask is on: no mask term at all\n")
    return src.lines(
        "import numpy as np", "import ml_dtypes  # bfloat16" if state.dtype == "bfloat16" else "", "\n",
        f"DT = {dt}  # every step is rounded to this dtype",
        f"WIDE = np.{'float64' if state.dtype == 'float64' else 'float32'}  # where sums and products are computed",
        "\n\n", "def rounded(fn, *args):",
        '    """fn computed in WIDE and rounded once to DT: how a framework running in DT rounds each step."""',
        "    with np.errstate(all='ignore'):",
        "        return np.asarray(fn(*(np.asarray(a).astype(WIDE) for a in args))).astype(DT)", "\n\n",
        src.data(state, "np.array({}, dtype={}).astype(DT)", "np.float64"),
        "T, d = Q.shape\nids_n = np.array(ids)  # (T,)",
        f"with np.errstate(over='ignore'):\n    MASK_VALUE = np.array({src.float_literal(state.mask_value)}).astype(DT)",
        "\n", "logits = rounded(np.matmul, Q, K.T)                              # (T, T) q·kᵀ",
        "SQRT_D = np.sqrt((np.float64 if DT == np.float64 else np.float32)(d)).astype(DT)  # √d (float32 like tf.sqrt)\n"
        "logits = rounded(np.divide, logits, SQRT_D)                        # / √d" if state.scale
        else "",
        "logits = rounded(np.add, logits, BIAS)                             # + the bias, before the mask"
        if state.bias is not None else "", mask,
        "# the stable softmax, each step rounded",
        "with np.errstate(invalid='ignore'):",
        "    row_max = np.max(masked_logits.astype(WIDE), axis=-1, keepdims=True).astype(DT)",
        "exps = rounded(np.exp, rounded(np.subtract, masked_logits, row_max))",
        "weights = rounded(np.divide, exps, rounded(lambda x: x.sum(axis=-1, keepdims=True), exps))  # (T, T)",
        after.get(state.method, "") if r.terms else "",
        "output = rounded(np.matmul, weights, V)                          # (T, dv)")


def generate(state: CodeState, framework: str, *, print_results: bool = True) -> str:
    """Runnable source for ``framework`` (a key of ``FRAMEWORKS``) that prints the state's weights.

    The script leaves the weights ``(T, T)`` in a variable ``weights`` and the output
    in ``output``. ``print_results=False`` leaves the final prints out (for tests).
    """
    _check(state, framework)
    if state.bias is not None and framework not in BIAS_SNIPPETS:
        raise MaskAttnError(f"{FRAMEWORKS[framework]} takes no bias beside its mask: a position bias goes into NumPy, "
                            "JAX (bias=), FlexAttention (score_mod), SDPA with a float mask (added to it) or the "
                            "TensorFlow tutorial's function")
    if framework in (NUMPY, NUMPY_STANDALONE):
        body, prints = (_numpy if framework == NUMPY else _numpy_standalone)(state), src.PRINTS["numpy"]
    else:
        fw = frameworks.get(framework)
        body, prints = fw.snippet(_with_method(state)), fw.prints
    source = _header(state, framework) + body + (prints if print_results else "")
    compile(source, f"<maskattn {framework}>", "exec")       # never hand out code that does not parse
    return source


def _with_method(state: CodeState) -> CodeState:
    """The state with a method a snippet can write (the app's deliberate mistakes have none: "add")."""
    return state if state.method in ("add", "fill", "safe") else replace(state, method="add")


def mask_code(state: CodeState, key: str) -> str:
    """A runnable script that builds the state's whole mask in the idiom of registry entry ``key``.

    It leaves the library's own mask object in ``mask`` (``None`` when no mask is on;
    ``(attn_mask, key_padding_mask)`` for ``nn.MultiheadAttention``; a ``BlockMask`` for
    FlexAttention; the Hugging Face 4-D mask; JAX's bool mask, whose ``options`` carry
    ``is_causal`` and ``local_window_size``). Each framework's file writes it
    (``Framework.mask_code``) from its dialect of the table of mask parts.

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
    _check(state, key, frameworks.keys())
    imports, body = frameworks.get(key).mask_code(state)
    source = (f"# {frameworks.get(key).title}: the mask of {state.spec.describe()}\n" + imports.rstrip("\n") + "\n\n"
              f"ids = {list(state.ids)!r}  # token ids; the pad token has id {src.PAD_ID}\n"
              "T = len(ids)\n" + src.mask_data(state) + "\n" + body)
    compile(source, f"<maskattn mask {key}>", "exec")
    return source


#: what each snippet calls: NumPy first (with the package, and alone), then the registry's entries with a snippet
#: the snippets that can add a position bias, each in its library's own way
BIAS_SNIPPETS: tuple[str, ...] = (NUMPY, NUMPY_STANDALONE, "jax", "torch_flex", "torch_sdpa_float", "tf_tutorial")
FRAMEWORKS: dict[str, str] = {NUMPY: "NumPy with maskattn (the app's own function)",
                              NUMPY_STANDALONE: "NumPy alone (the same arithmetic, no package)"} | {
    fw.key: f"{fw.library}: {fw.path}" for fw in frameworks.all_frameworks() if fw.snippet is not None}
