"""The Conventions page's mask panels: a mask as one framework sees it."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from ..text import spell
from .base import BASE_FONT
from .heatmap import heatmap


def _literal(x) -> str:
    """A mask cell as the framework prints it: True/False, 1/0, 0/−inf, or a short float."""
    if isinstance(x, (bool, np.bool_)):
        return "True" if x else "False"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    value = float(x)
    if math.isinf(value):
        return "-inf" if value < 0 else "inf"
    if value == 0:
        return "0"
    return spell(value, digits=3)


def convention_mask_figure(values, blocked, x_labels, y_labels, *, title: str, cell_text=None,
                           font_size: int = BASE_FONT, width: int | None = None) -> go.Figure:
    """A mask as one framework sees it: colour says blocked / attend, the text is the literal value.

    values: ``(Tq, Tk)`` in the framework's own dtype (bool, int or an additive float);
    blocked: ``(Tq, Tk)`` 0/1 tutorial mask (1 = blocked) that sets the colour and the outline, so
    every framework's panel is coloured the same way whatever its polarity.
    cell_text: optional ``(Tq, Tk)`` strings shown instead of the literal values
    (e.g. "min" for ``finfo.min``, which does not fit in a cell).

    >>> fig = convention_mask_figure(np.array([[True, False]]), np.array([[0, 1]]), ["a", "b"], ["a"],
    ...                              title="SDPA")
    >>> fig.data[0].text
    (['True', 'False'],)
    """
    values = np.asarray(values)
    blocked = np.asarray(blocked)
    if values.ndim != 2 or values.shape != blocked.shape:
        raise ValueError(f"values {values.shape} and blocked {blocked.shape} must be the same 2-D shape")
    cells = values if values.dtype.kind in "biu" else values.astype(np.float64)   # bfloat16 -> exact float64
    text = cell_text if cell_text is not None else [[_literal(v) for v in row] for row in cells]
    return heatmap((blocked == 1).astype(np.float32), x_labels, y_labels, title=title, kind="mask",
                   mask=blocked, cell_text=text, font_size=font_size, width=width, colorbar=False)
