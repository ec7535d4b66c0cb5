"""The row inspector: one query row's softmax, step by step, with its real numbers.

From an ``AttentionSteps`` of shape ``(Tq, Tk)`` and a query row, the step table
(one record per key: raw logit, mask term, masked logit, minus the row max, exp,
weight) and the formula filled in, starting where the mask enters: the mask term
``mask × constant`` (``add``) or the fill (``where``), which is where float16's
``0 × -inf = NaN`` happens. Every value is what ``steps.dtype`` holds after that step.

>>> from maskattn.lab import row_steps
>>> s = row_steps([2.3, 1.0], [0, 1])
>>> [(r["key"], r["mask term"], r["weight"]) for r in inspector_rows(s, 0, ["a", "b"])]
[('a', -0.0, 1.0), ('b', -1000000000.0, 0.0)]
"""

from __future__ import annotations

import math

import numpy as np

from . import numerics as nx
from .attention import AttentionSteps
from .errors import MaskAttnError
from .text import difference, spell

#: the step table's columns, in the order of the computation
STEP_COLUMNS: tuple[str, ...] = ("raw logit", "bias", "mask term", "masked logit", "minus row max", "exp", "weight")
#: the inspector writes out how z - m was rounded when rounding moved it by at least this much
#: (exp changes by 0.1 % there; smaller moves are the dtype's last digit and only add noise)
ROUNDING_SHOWN_FROM = 1e-3


def check_row(steps: AttentionSteps, row: int) -> int:
    """``row`` as an int if ``steps`` (2-D) has that query row, else ``MaskAttnError``."""
    if not isinstance(steps, AttentionSteps):
        raise MaskAttnError(f"the inspector needs an AttentionSteps (from attention_steps), got {type(steps).__name__}")
    if steps.weights.ndim != 2:
        raise MaskAttnError(f"the inspector needs steps of shape (Tq, Tk), got {steps.weights.shape}")
    n = steps.weights.shape[0]
    if isinstance(row, bool) or not isinstance(row, (int, np.integer)) or not 0 <= row < n:
        raise MaskAttnError(f"query row {row!r} does not exist: there are rows 0 to {n - 1}")
    return int(row)


def inspector_rows(steps: AttentionSteps, row: int, key_labels) -> list[dict]:
    """The step table for one query row: one record per key, exact values in ``steps.dtype``.

    Keys: ``key``, the ``STEP_COLUMNS`` and ``spacing at masked logit`` (floats), ``masked`` (bool).

    >>> from maskattn.lab import row_steps
    >>> s = row_steps([3.7, 1.0], [0, 1])
    >>> [(r["key"], r["masked logit"], r["spacing at masked logit"]) for r in inspector_rows(s, 0, ["a", "b"])]
    [('a', 3.700000047683716, 2.384185791015625e-07), ('b', -1000000000.0, 64.0)]
    """
    r = check_row(steps, row)
    Tk = steps.weights.shape[1]
    if key_labels is None or isinstance(key_labels, str) or not hasattr(key_labels, "__len__"):
        raise MaskAttnError(f"key_labels must be a list of {Tk} names, got {str(key_labels)[:40]!r}")
    if len(key_labels) != Tk:
        raise MaskAttnError(f"{Tk} keys need {Tk} labels, got {len(key_labels)}")
    f = nx.to_float
    records = []
    for j in range(Tk):
        z = steps.masked_logits[r, j]
        records.append({
            "key": key_labels[j], "masked": bool(steps.mask[r, j] == 1),
            "raw logit": f(steps.logits[r, j]), "bias": f(steps.bias[r, j]) if steps.bias is not None else 0.0,
            "mask term": f(steps.mask_term[r, j]),
            "masked logit": f(z), "minus row max": f(steps.shifted[r, j]),
            "exp": f(steps.exps[r, j]), "weight": f(steps.weights[r, j]),
            "spacing at masked logit": nx.spacing(z, steps.dtype),
        })
    return records


def _tex(x, dtype) -> str:
    return spell(x, dtype, latex=True)


def _paren(x, dtype) -> str:
    t = _tex(x, dtype)
    return f"({t})" if t.startswith("-") else t


def _mask_line(steps: AttentionSteps) -> tuple[str, str]:
    """How the mask enters the logits, with the constant as the dtype holds it."""
    c = _tex(steps.mask_value, steps.dtype)
    dtype = steps.dtype
    if not steps.has_mask:
        return (r"z_j = x_j \quad(\text{no mask: no mask term})",
                "No mask is on, so nothing is added to the raw logits x (the tutorial's `if mask is not None`).")
    if steps.method == "add":
        return (rf"z_j = x_j + \mathrm{{mask}}_j \times c,\qquad c = {c}\quad(\text{{{dtype}}})", "")
    if steps.method == "attend_all":
        return (rf"z_j = \begin{{cases}} c = {c} & \mathrm{{mask}}_j = 1 \text{{ and the row sees a key}} \\ x_j "
                rf"& \text{{otherwise}} \end{{cases}}\quad(\text{{{dtype}}})",
                "A row that sees no key is given every key back (Hugging Face's SDPA path before transformers 5).")
    if steps.method in ("fill", "safe"):
        return (rf"z_j = \begin{{cases}} c = {c} & \mathrm{{mask}}_j = 1 \\ x_j & \mathrm{{mask}}_j = 0 \end{{cases}}"
                rf"\quad(\text{{{dtype}}})", "")
    if steps.method == "zero_logits":
        return (r"z_j = x_j \times (1 - \mathrm{mask}_j)", "A mistake: a masked logit becomes 0, and exp(0 - m) is not 0.")
    return (r"z_j = x_j,\qquad w_j \leftarrow w_j \times (1 - \mathrm{mask}_j)",
            "A mistake: the mask is applied after softmax, so the rows no longer sum to 1.")


def _z_chain(steps: AttentionSteps, r: int, j: int) -> str:
    """``z_j = x_j + mask_j × c = …`` for one key (empty when there is no mask term)."""
    dtype = steps.dtype
    x, z = steps.biased_logits[r, j], steps.masked_logits[r, j]         # x: the logit with its bias, if any
    blocked = steps.mask[r, j] == 1
    if not steps.has_mask or steps.method == "multiply_weights":
        return ""
    if steps.method == "add":
        term = steps.mask_term[r, j]
        return (rf"z_{{{j}}} = {_tex(x, dtype)} + {int(blocked)} \times {_paren(steps.mask_value, dtype)}"
                rf" = {_tex(x, dtype)} + {_paren(term, dtype)} = {_tex(z, dtype)}")
    return rf"z_{{{j}}} = {_tex(z, dtype)}"


def inspector_latex(steps: AttentionSteps, row: int, keys=None, *, max_terms: int = 6) -> list[tuple[str, str]]:
    """The formula for one query row, filled with its real numbers, from the mask term to the weight.

    Returns ``(latex, note)`` pairs: how the mask enters, the softmax with the row max, the
    sum, and per key in ``keys`` (default: the heaviest unmasked key and the first masked key)
    a line for its masked logit ``z_j`` (when there is a mask term) and one for its weight. ``note`` is plain text explaining the line (empty when there is nothing to
    add). Keys are named by position (``j = 3``), never by user text.

    >>> from maskattn.lab import row_steps
    >>> s = row_steps([2.3, 1.0], [0, 1])
    >>> [note for _, note in inspector_latex(s, 0)][-1]
    'exp(-1000000002.3) = 0 in float32: the exponent rounds to -1e9, below -103.97, where exp underflows to exactly 0.'
    """
    r = check_row(steps, row)
    dtype = steps.dtype
    z = steps.masked_logits[r]                                      # (Tk,)
    m, total = steps.row_max[r, 0], steps.row_sum[r, 0]
    blocked = steps.mask[r] == 1                                    # (Tk,)
    threshold = nx.underflow_threshold(dtype)
    Tk = z.size
    lines = [_mask_line(steps),
             (r"\mathrm{softmax}_j = \frac{e^{\,z_j - m}}{\sum_k e^{\,z_k - m}},\qquad "
              rf"m = \max_k z_k = {_tex(m, dtype)}\quad(\text{{{dtype}}})", "")]

    terms = [rf"e^{{{_tex(steps.shifted[r, j], dtype)}}}" for j in range(min(Tk, max_terms))]
    if Tk > max_terms:
        terms.append(rf"\cdots\ (\text{{{Tk} terms}})")
    lines.append((rf"\sum_k e^{{\,z_k - m}} = {' + '.join(terms)} = {_tex(total, dtype)}", ""))

    if keys is not None and (isinstance(keys, str) or not hasattr(keys, "__iter__")):
        raise MaskAttnError(f"keys must be a list of key positions, got {str(keys)[:40]!r}")
    if keys is None:
        wide = steps.weights[r].astype(np.float64)
        keys = []
        if (~blocked).any():
            open_w = np.where(blocked, -np.inf, np.nan_to_num(wide, nan=-1.0))
            keys.append(int(np.argmax(open_w)))
        if blocked.any():
            keys.append(int(np.argmax(blocked)))
    for j in keys:
        if isinstance(j, bool) or not isinstance(j, (int, np.integer)) or not 0 <= j < Tk:
            raise MaskAttnError(f"key {j!r} does not exist: there are keys 0 to {Tk - 1}")
        exact = nx.to_float(z[j]) - nx.to_float(m)                  # the real-number exponent
        shifted, e, w = steps.shifted[r, j], steps.exps[r, j], steps.weights[r, j]
        z_line = _z_chain(steps, r, j)
        if z_line:                                                  # where the mask enters, on its own line
            lines.append((z_line, ""))
        chain = rf"e^{{\,z_{{{j}}} - m}} = e^{{{_tex(z[j], dtype)} - {_paren(m, dtype)}}}"
        if _rounding_matters(exact, shifted):
            chain += rf" = e^{{{_tex(exact, 'float64')}}} \to e^{{{_tex(shifted, dtype)}}}"
        else:
            chain += rf" = e^{{{_tex(shifted, dtype)}}}"
        chain += rf" = {_tex(e, dtype)},\qquad w_{{{j}}} = \frac{{{_tex(e, dtype)}}}{{{_tex(total, dtype)}}}"
        if steps.method == "multiply_weights":
            chain += rf" \times (1 - {int(blocked[j])})"
        chain += rf" = {_tex(w, dtype)}"
        lines.append((chain, _key_note(steps, r, j, exact, threshold)))
    return lines


def _rounding_matters(exact: float, shifted) -> bool:
    return math.isfinite(exact) and abs(exact - nx.to_float(shifted)) >= ROUNDING_SHOWN_FROM


def _key_note(steps: AttentionSteps, r: int, j: int, exact: float, threshold: float) -> str:
    """Plain text under a key's line: where a NaN came from, or why a masked key got 0 (or did not)."""
    dtype = steps.dtype
    shifted, e = steps.shifted[r, j], steps.exps[r, j]
    term = nx.to_float(steps.mask_term[r, j])
    if steps.has_mask and steps.method == "add" and math.isnan(term):
        return (f"The mask term is {int(steps.mask[r, j])} × {spell(steps.mask_value, dtype)} = NaN in {dtype}: "
                "0 × -inf is NaN in IEEE arithmetic, and it poisons the whole row.")
    if not steps.mask[r, j] == 1:
        return ""
    rounded = spell(shifted, dtype)
    shown = spell(exact, digits=12) if _rounding_matters(exact, shifted) else rounded
    rounding = f"the exponent rounds to {rounded}, " if shown != rounded else ""
    d = nx.to_float(shifted)
    if math.isnan(d):
        return f"exp({shown}) is NaN in {dtype}: a NaN or -inf - (-inf) reached the exponent."
    if nx.to_float(e) == 0:
        return (f"exp({shown}) = 0 in {dtype}: {rounding}below {threshold:.2f}, where exp underflows to "
                "exactly 0.")
    return (f"exp({shown}) = {spell(e, digits=3)} in {dtype}, not 0: {rounding}{spell(d, digits=6)} is above "
            f"{threshold:.2f}, so this masked key still gets weight.")


def exponent_text(steps: AttentionSteps, r: int, j: int) -> str:
    """``exp(z - m)`` for sentences, without a double minus: ``exp(-1e9 + 0.87)``."""
    return f"exp({difference(steps.masked_logits[r, j], steps.row_max[r, 0], steps.dtype)})"
