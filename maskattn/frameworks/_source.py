"""Source text shared by every generated script: number literals, the state's data, positions.

A ``state`` here is ``codegen.CodeState`` (tokens, ids, q, k, v, spec, segment_ids, dtype, …),
read by attribute only, so the framework files can write their snippets without importing codegen.

>>> float_literal(float("-inf")), float_literal(-1e9)
("float('-inf')", '-1000000000.0')
"""

from __future__ import annotations

import math

import numpy as np

from .. import numerics as nx
from ..masks import parts_on

PAD_ID = 0
#: each library's name for the four dtypes
DTYPES = {lib: {name: f"{lib}.{name}" for name in nx.DTYPE_NAMES} for lib in ("torch", "tf", "jnp")}
#: the query and key positions, broadcast to (Tq, Tk), in a library's arange (``{m}``)
POSITIONS = "q_idx, kv_idx = {m}.arange(T)[:, None], {m}.arange(T)[None, :]  # (Tq, 1), (1, Tk)"
#: what every snippet prints, in each library's way of making an array printable
PRINTS = {
    "numpy": ("\nnp.set_printoptions(precision=4, suppress=True, linewidth=140)\n"
              "print('attention weights (rows: queries, columns: keys):')\nprint(weights)\n"
              "print('output = weights @ V:')\nprint(output)\n"),
    "torch": ("\ntorch.set_printoptions(precision=4, sci_mode=False, linewidth=140)\n"
              "print('attention weights (rows: queries, columns: keys):')\nprint(weights)\n"
              "print('output = weights @ V:')\nprint(output)\n"),
    "tensorflow": ("\nprint('attention weights (rows: queries, columns: keys):')\nprint(weights.numpy())\n"
                   "print('output = weights @ V:')\nprint(output.numpy())\n"),
    "jax": ("\nnp.set_printoptions(precision=4, suppress=True, linewidth=140)\n"
            "print('attention weights (rows: queries, columns: keys):')\nprint(np.asarray(weights, np.float64))\n"
            "print('output = weights @ V:')\nprint(np.asarray(output, np.float64))\n"),
}


def rounded(x, dtype) -> np.ndarray:
    """``x`` rounded to ``dtype``, as float64 (exact)."""
    return nx.cast(x, dtype).astype(np.float64)


def matrix(values: np.ndarray, indent: str = "    ") -> str:
    """A 2-D array as a Python list literal, one row per line; float64 repr is exact."""
    rows = [indent + "[" + ", ".join(repr(float(x)) for x in row) + "]," for row in values]
    return "[\n" + "\n".join(rows) + "\n]"


def float_literal(x: float) -> str:
    """A Python expression for a float, including ±inf."""
    if math.isinf(x):
        return "float('-inf')" if x < 0 else "float('inf')"
    return repr(float(x))


def mask_data(state) -> str:
    """The mask parts' numbers as named constants (WINDOW, PREFIX, CHUNK, document_ids, DRAWN…), from the table."""
    return "".join(f"{part.constant} = {part.data(state.spec, state)}\n"
                   for part in parts_on(state.spec) if part.data is not None)


def data(state, array_fn: str, dtype_expr: str) -> str:
    """Tokens, ids, the masks' constants and Q, K, V literals; ``array_fn`` wraps a literal into the library's array."""
    lines = [f"tokens = {list(state.tokens)!r}",
             f"ids = {list(state.ids)!r}  # token ids; the pad token has id {PAD_ID}",
             mask_data(state).rstrip("\n"),
             f"# Q, K, V exactly as the app computes them, already rounded to {state.dtype}"]
    if getattr(state, "bias", None) is not None:                 # a position bias: its exact values, rounded to dtype
        lines.insert(3, f"# {state.bias_note}: added to the scaled logits before the mask\n"
                        f"BIAS = {array_fn.format(matrix(rounded(state.bias, state.dtype)), dtype_expr)}  # (Tq, Tk)")
    for name, values in (("Q", state.q), ("K", state.k), ("V", state.v)):
        lines.append(f"{name} = {array_fn.format(matrix(rounded(values, state.dtype)), dtype_expr)}  # (T, d)")
    return "\n".join(line for line in lines if line)


def lines(*parts: str) -> str:
    r"""Pieces of source joined, each ending in a newline (blank lines inside a piece kept), empty ones left out.

    >>> lines("a = 1", "", "b = 2\n\n", "c = 3")
    'a = 1\nb = 2\n\nc = 3\n'
    """
    return "".join(part if part.endswith("\n") else part + "\n" for part in parts if part)
