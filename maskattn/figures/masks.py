"""The Masks page's figures: a mask to draw on, and how a batch's mask broadcasts over heads.

Every panel is an honest ``heatmap``: masked cells outlined, masked logits keep their value's
colour (grey and printed when off the scale, like −1e9).

- ``drawn_mask_figure``: a 0/1 mask whose cells a click can toggle (up to ``MAX_CLICKABLE``).
- ``part_figure``: one part of a ``MaskSpec`` drawn in its own shape: the padding mask
  ``(B, 1, 1, Tk)`` as one row per sequence, the query padding ``(B, 1, Tq, 1)`` as one column
  per sequence, the ``(Tq, Tk)`` patterns as they are.
- ``broadcast_figures``: for each sequence, its combined mask ``(Tq, Tk)`` and every head's
  masked logits: the same outline on every head.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..masks import MASK_PARTS
from .base import BASE_FONT
from .heatmap import MAX_CLICKABLE, heatmap

#: a small panel of the broadcasting grid: three side by side at 1280 px with the sidebar open
SMALL_PANEL = 256
#: the most sequences the grid draws (the shapes are the same for the rest)
MAX_GRID_SEQUENCES = 4


def drawn_mask_figure(mask, labels, *, title: str, subtitle: str = "", font_size: int = BASE_FONT,
                      width: int | None = None) -> go.Figure:
    """A 0/1 mask ``(T, T)``, 1 = blocked, clickable up to ``MAX_CLICKABLE`` tokens (a click names its cell)."""
    mask = np.asarray(mask, dtype=np.float32)                               # (T, T)
    return heatmap(mask, labels, labels, title=title, subtitle=subtitle, kind="mask", mask=mask,
                   clickable=len(labels) <= MAX_CLICKABLE, font_size=font_size, width=width)


def part_figure(name: str, part, *, font_size: int = BASE_FONT, width: int = SMALL_PANEL) -> go.Figure:
    """One mask part (a key of ``MASK_PARTS``) in the shape it broadcasts from, as a 2-D picture."""
    label, shape = MASK_PARTS[name]
    part = np.asarray(part, dtype=np.float32)
    title = f"{label} {shape}"
    if name == "padding":                                                   # (B, 1, 1, Tk)
        values = part[:, 0, 0, :]                                           # (B, Tk)
        B, T = values.shape
        return heatmap(values, _positions(T), _sequences(B), title=title, subtitle="one (1, 1, Tk) row per sequence",
                       kind="mask", mask=values, font_size=font_size, width=width, y_title="sequence")
    if name == "query_padding":                                             # (B, 1, Tq, 1)
        values = part[:, 0, :, 0].T                                         # (Tq, B)
        T, B = values.shape
        return heatmap(values, _sequences(B), _positions(T), title=title,
                       subtitle="one (Tq, 1) column per sequence", kind="mask", mask=values, font_size=font_size,
                       width=width, x_title="sequence")
    values = part[0, 0] if part.ndim == 4 else part                          # (Tq, Tk)
    T = values.shape[-1]
    subtitle = "per sequence (one packed row)" if part.ndim == 4 else "the same for every sequence"
    return heatmap(values, _positions(T), _positions(T), title=title, subtitle=subtitle, kind="mask", mask=values,
                   font_size=font_size, width=width)


def broadcast_figures(view, labels_of, *, font_size: int = BASE_FONT, width: int = SMALL_PANEL,
                      sequences: int = MAX_GRID_SEQUENCES) -> list[list[go.Figure]]:
    """One row per sequence (up to ``sequences``): its mask ``(Tq, Tk)``, then each head's masked logits.

    view: a ``broadcast.MaskBroadcast`` with its heads' steps; labels_of(b): sequence b's T axis labels.
    """
    steps = view.steps
    rows = []
    for b in range(min(view.batch.ids.shape[0], sequences)):
        labels = labels_of(b)
        mask = None if view.mask is None else view.mask[b, 0]               # (T, T)
        row = []
        if mask is not None:
            row.append(heatmap(mask, labels, labels, title=f"mask[{b}, 0]", subtitle=f"sequence {b + 1}, every head",
                               kind="mask", mask=mask, font_size=font_size, width=width))
        for h in range(view.heads):
            row.append(heatmap(steps.masked_logits[b, h], labels, labels, title=f"sequence {b + 1}, head {h + 1}",
                               subtitle=f"masked logits [{b}, {h}]", kind="scores", mask=mask, dtype=steps.dtype,
                               font_size=font_size, width=width))
        rows.append(row)
    return rows


def _positions(n: int) -> list[str]:
    return [str(i) for i in range(n)]


def _sequences(n: int) -> list[str]:
    return [f"seq {b + 1}" for b in range(n)]
