"""The Proof page's figures: delete the columns, the leak test's before/after, the backward pass.

Each builder takes a result of ``maskattn.proof`` (with the token labels and the mask) and
returns ``{name: go.Figure}``, every panel drawn by ``heatmap`` with the masked cells
outlined as on the Playground. Sizes are arguments, as for every figure builder.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..text import spell
from .base import BASE_FONT
from .heatmap import PANEL_WIDTH, heatmap

#: the figures of each proof, in reading order (also the export file stems)
DELETED_NAMES: tuple[str, ...] = ("masked-softmax", "deleted-softmax", "difference")
LEAK_NAMES: tuple[str, ...] = ("output-before", "output-after")
GRADIENT_NAMES: tuple[str, ...] = ("dlogits", "dv")


def max_abs(values) -> str:
    """max |x| over an array, spelled short (NaN if a cell is NaN, 0 for an empty array).

    >>> max_abs(np.array([[0.0, -2.5e-6], [1e-7, 0.0]])), max_abs(np.array([[np.nan, 1.0]])), max_abs([])
    ('2.5e-6', 'NaN', '0')
    """
    v = np.asarray(values, dtype=np.float64)
    return spell(np.max(np.abs(v)) if v.size else 0.0, digits=3)


def value_labels(n: int) -> list[str]:
    """Labels of a value-depth axis.

    >>> value_labels(3)
    ['v0', 'v1', 'v2']
    """
    return [f"v{i}" for i in range(n)]


def deleted_figures(deleted, labels, mask=None, *, font_size: int = BASE_FONT, width: int | None = PANEL_WIDTH,
                    subtitle: str = "") -> dict[str, go.Figure]:
    """The masked softmax, the softmax of the unmasked keys alone, and their difference (``DELETED_NAMES``).

    ``deleted``: a ``proof.DeletedKeys`` of one sequence, ``(T, T)``; ``mask``: its ``(T, T)``
    mask (1 = blocked) or None. The masked cells are outlined in all three panels; in the
    second they are the deleted columns, 0 by construction.

    >>> from maskattn.proof import delete_masked_keys
    >>> mask = np.array([[0, 0, 1]] * 3)
    >>> figs = deleted_figures(delete_masked_keys(np.eye(3), mask), ["a", "b", "c"], mask)
    >>> [f.layout.title.text for f in figs.values()]
    ['masked softmax', 'softmax of the unmasked keys alone', 'difference = masked − alone (max |d| = 0)']
    """
    size = dict(font_size=font_size, width=width, subtitle=subtitle, dtype=deleted.dtype, mask=mask)
    return {
        "masked-softmax": heatmap(deleted.weights, labels, labels, title="masked softmax", kind="weights",
                                  zrange=(0.0, 1.0), **size),
        "deleted-softmax": heatmap(deleted.deleted, labels, labels, title="softmax of the unmasked keys alone",
                                   kind="weights", zrange=(0.0, 1.0), **size),
        "difference": heatmap(deleted.difference, labels, labels, kind="scores",
                              title=f"difference = masked − alone (max |d| = {max_abs(deleted.difference)})",
                              **(size | {"dtype": "float64"})),          # a difference of two dtype numbers, exact
    }


def leak_figures(report, rows, *, font_size: int = BASE_FONT, width: int | None = PANEL_WIDTH,
                 subtitle: str = "") -> dict[str, go.Figure]:
    """The outputs of the queries ``rows`` before and after the shake (``LEAK_NAMES``), a column per query.

    ``report``: a ``proof.LeakReport`` of one sequence (its ``labels`` name the queries);
    ``rows``: the query indices to draw, e.g. the real tokens. A query's output vector is a
    column, so a few queries get cells wide enough for their numbers. Each panel has its own
    colour range: a leak of 1e6 does not flatten the panel without it.

    >>> from maskattn.proof import leak_test_tokens
    >>> report = leak_test_tokens(["a", "b", "<pad>"], [[0, 0, 1]], amount=10.0, d_model=4)
    >>> figs = leak_figures(report, [0, 1])
    >>> [f.layout.title.text for f in figs.values()], figs["output-after"].data[0].x
    (['output before', 'output after noise of size 10'], ('0·a', '1·b'))
    """
    rows = [int(i) for i in rows]
    queries = [report.labels[i] if report.labels is not None else str(i) for i in rows]
    dims = value_labels(report.before.output.shape[-1])
    size = dict(font_size=font_size, width=width, subtitle=subtitle, dtype=report.before.dtype, kind="values",
                x_title="query", y_title="value dimension")
    before, after = report.before.output[rows].T, report.after.output[rows].T     # (dv, len(rows))
    return {
        "output-before": heatmap(before, queries, dims, title="output before", **size),
        "output-after": heatmap(after, queries, dims,
                                title=f"output after noise of size {spell(report.amount, digits=3)}", **size),
    }


def gradient_figures(grads, labels, *, font_size: int = BASE_FONT, width: int | None = PANEL_WIDTH,
                     subtitle: str = "") -> dict[str, go.Figure]:
    """∂L/∂logits and ∂L/∂V of one sequence (``GRADIENT_NAMES``), keys across, masked cells outlined.

    ``grads``: a ``proof.AttentionGrads`` of one sequence. In ∂L/∂logits the outlined cells
    are the masked ones; ∂L/∂V is drawn a column per key (so its numbers fit, and the keys line
    up with the logits' columns), with the columns of keys that no query may see outlined.

    >>> from maskattn.proof import attention_grads
    >>> g = attention_grads(np.eye(3), np.eye(3), np.eye(3), [[0, 0, 1]] * 3, d_output=np.ones((3, 3)))
    >>> figs = gradient_figures(g, ["a", "b", "c"])
    >>> [f.layout.title.text for f in figs.values()], figs["dv"].data[0].x
    (['∂L/∂logits (max |·| on masked cells = 0)', '∂L/∂V (max |·| on keys no query sees = 0)'], ('a', 'b', 'c'))
    """
    steps = grads.steps
    mask = steps.mask if steps.has_mask else None
    blocked = np.zeros(steps.weights.shape, bool) if mask is None else mask == 1      # (T, T)
    unseen = blocked.all(axis=0)                                                     # (T,) keys no query sees
    dv = grads.dv.T                                                                  # (dv, T)
    dv_mask = np.broadcast_to(unseen, dv.shape).astype(np.uint8) if unseen.any() else None
    size = dict(font_size=font_size, width=width, subtitle=subtitle, dtype=steps.dtype)
    return {
        "dlogits": heatmap(grads.dlogits, labels, labels, mask=mask, kind="scores",
                           title=f"∂L/∂logits (max |·| on masked cells = {max_abs(grads.dlogits[blocked])})",
                           **size),
        "dv": heatmap(dv, labels, value_labels(dv.shape[0]), mask=dv_mask, kind="values", x_title="key",
                      y_title="value dimension",
                      title=f"∂L/∂V (max |·| on keys no query sees = {max_abs(grads.dv[unseen])})", **size),
    }
