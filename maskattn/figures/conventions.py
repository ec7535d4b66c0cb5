"""The Conventions page's mask panels: a mask as one framework sees it."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from ..explain import fmt
from .base import BASE_FONT, _axis_labels

#: matrices up to this size get their literal values printed in the cells
MAX_CELLS_WITH_TEXT = 12


def _literal(x) -> str:
    """A mask cell as the framework prints it: True/False, 1/0, 0/−inf, or a short float."""
    if isinstance(x, (bool, np.bool_)):
        return "True" if x else "False"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    value = float(x)
    if math.isinf(value):
        return "−∞" if value < 0 else "+∞"
    if value == 0:
        return "0"
    return fmt(value, 3).replace("-", "−")


def convention_mask_figure(values, blocked, x_labels, y_labels, *, title: str, cell_text=None,
                           font_size: int = BASE_FONT, height: int | None = None) -> go.Figure:
    """A mask as one framework sees it: colour says blocked / attend, the text is the literal value.

    values: ``(Tq, Tk)`` in the framework's own dtype (bool, int or an additive float);
    blocked: ``(Tq, Tk)`` 0/1 tutorial mask (1 = blocked) that sets the colour, so every
    framework's panel is coloured the same way whatever its polarity.
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
    rows, cols = values.shape
    x, y = _axis_labels(rows, cols, x_labels, y_labels)
    cells = values if values.dtype.kind in "biu" else values.astype(np.float64)   # bfloat16 -> exact float64
    text = [[_literal(cells[r, c]) for c in range(cols)] for r in range(rows)]
    if cell_text is not None:
        if len(cell_text) != rows or any(len(row) != cols for row in cell_text):
            raise ValueError(f"cell_text must be {rows} rows of {cols} strings")
        text = [[str(t) for t in row] for row in cell_text]
    trace = dict(type="heatmap", z=(blocked == 1).astype(np.float32), x=x, y=y, zmin=0.0, zmax=1.0,
                 colorscale=[[0.0, "#ffffff"], [1.0, "#34495e"]], showscale=False, xgap=1, ygap=1,
                 customdata=text, name=title,
                 hovertemplate="query %{y}<br>key %{x}<br>value %{customdata}<extra></extra>")
    if max(rows, cols) <= MAX_CELLS_WITH_TEXT:
        trace.update(text=text, texttemplate="%{text}", textfont={"size": max(font_size - 3, 9)})
    layout = dict(
        title={"text": title, "font": {"size": font_size}},
        xaxis={"title": {"text": "key"}, "type": "category", "tickangle": -45,
               "tickfont": {"size": font_size - 3}, "showticklabels": cols <= 64, "automargin": True},
        yaxis={"title": {"text": "query"}, "type": "category", "autorange": "reversed",
               "tickfont": {"size": font_size - 3}, "showticklabels": rows <= 64, "automargin": True},
        margin={"l": 10, "r": 10, "t": 40 + 22 * title.count("<br>"), "b": 10}, font={"size": font_size},
        plot_bgcolor="white", height=height or int(min(520, max(260, 110 + rows * 26))), dragmode=False,
    )
    return go.Figure({"data": [trace], "layout": layout})
