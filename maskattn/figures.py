"""Plotly figure builders: arrays and labels in, ``go.Figure`` out, never rendered here.

Honest heatmaps: each panel gets its own colour range from its real values, so a
-1e9 cell never washes out the logits; masked cells and NaN / ±inf cells are
drawn by an overlay layer in their own colours and, when the matrix is small,
labelled with text; the exact value (in the compute dtype) is in the hover.
Arrays go to Plotly as float32 (float64 only when the dtype is float64) and the
overlay as uint8, so a 256 x 256 panel costs about 5 bytes per cell.

>>> import numpy as np
>>> fig = heatmap(np.array([[1.0, -1e9], [0.5, 2.0]], np.float32), ["a", "b"], ["a", "b"],
...               title="masked logits", mask=np.array([[0, 1], [0, 0]]))
>>> fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax    # -1e9 is left out of the range
(0.5, 2.0)
"""

from __future__ import annotations

import html
import math

import numpy as np
import plotly.graph_objects as go

from .explain import fmt

#: colour-blind-safe scales: a blue-red diverging scale for scores, cividis for weights
LOGIT_SCALE = "RdBu_r"
WEIGHT_SCALE = "Cividis"
#: overlay codes and their colours (0 is transparent)
OVERLAY = {"masked": (1, "#c9c9c9"), "nan": (2, "#1b1b1b"), "-inf": (3, "#4a2a6a"), "inf": (4, "#7a3b00")}
OVERLAY_GLYPH = {1: "", 2: "NaN", 3: "−∞", 4: "+∞"}
#: matrices up to this size get their values printed in the cells
MAX_CELLS_WITH_TEXT = 12
#: matrices up to this size get a clickable layer (one invisible marker per cell)
MAX_CLICKABLE = 32
BASE_FONT = 13
#: the parts of Plotly's default "plotly" template these figures use. The full template adds
#: 6.5 KB to every figure sent to the browser and is deep-copied by st.plotly_chart on every
#: rerun (~10 ms per figure on 2 cores); this subset draws the same pixels.
_AXIS_STYLE = {"gridcolor": "white", "linecolor": "white", "ticks": "", "title": {"standoff": 15},
               "zerolinecolor": "white", "automargin": True, "zerolinewidth": 2}
TEMPLATE = {
    "layout": {"font": {"color": "#2a3f5f"}, "paper_bgcolor": "white", "plot_bgcolor": "#E5ECF6",
               "xaxis": _AXIS_STYLE, "yaxis": _AXIS_STYLE, "hoverlabel": {"align": "left"},
               "hovermode": "closest", "title": {"x": 0.05}, "autotypenumbers": "strict",
               "coloraxis": {"colorbar": {"outlinewidth": 0, "ticks": ""}},
               "colorway": ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692",
                            "#B6E880", "#FF97FF", "#FECB52"]},
    "data": {"heatmap": [{"colorbar": {"outlinewidth": 0, "ticks": ""}}],
             "bar": [{"error_x": {"color": "#2a3f5f"}, "error_y": {"color": "#2a3f5f"},
                      "marker": {"line": {"color": "#E5ECF6", "width": 0.5},
                                 "pattern": {"fillmode": "overlay", "size": 10, "solidity": 0.2}}}]},
}


def safe_label(text: str, limit: int = 24) -> str:
    """User text for a Plotly label: HTML-escaped (Plotly renders some tags) and shortened.

    >>> safe_label("<script>alert(1)</script>")
    '&lt;script&gt;alert(1)&lt;/scrip…'
    """
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return html.escape(text, quote=False)


def _plot_dtype(values: np.ndarray) -> np.dtype:
    """float64 only when the values are float64; everything narrower is exact in float32."""
    return np.dtype(np.float64) if values.dtype == np.float64 else np.dtype(np.float32)


def _overlay_codes(values: np.ndarray, mask) -> np.ndarray:
    """uint8 per cell: 0 plain, 1 masked, 2 NaN, 3 -inf, 4 +inf (non-finite wins)."""
    codes = np.zeros(values.shape, dtype=np.uint8)
    if mask is not None:
        codes[np.asarray(mask) == 1] = OVERLAY["masked"][0]
    codes[np.isnan(values)] = OVERLAY["nan"][0]
    codes[np.isneginf(values)] = OVERLAY["-inf"][0]
    codes[np.isposinf(values)] = OVERLAY["inf"][0]
    return codes


def colour_range(values, mask=None, *, symmetric: bool = False) -> tuple[float, float]:
    """(min, max) over the finite, unmasked cells, widened when they are all equal.

    >>> colour_range(np.array([[3.0, -1e9], [np.nan, -2.0]]), np.array([[0, 1], [0, 0]]))
    (-2.0, 3.0)
    >>> colour_range(np.array([1.0, -3.0]), symmetric=True)
    (-3.0, 3.0)
    """
    v = np.asarray(values).astype(np.float64)
    keep = np.isfinite(v)
    if mask is not None:
        keep &= np.asarray(mask) != 1
    if not keep.any():
        return (-1.0, 1.0)
    lo, hi = float(v[keep].min()), float(v[keep].max())
    if symmetric:
        lo, hi = -max(abs(lo), abs(hi)), max(abs(lo), abs(hi))
    if lo == hi:
        lo, hi = lo - 1.0, hi + 1.0
    return lo, hi


def _overlay_scale() -> list:
    """A stepped colour scale for the overlay codes 0..4 (0 transparent)."""
    colours = ["rgba(0,0,0,0)"] + [colour for _, colour in sorted(OVERLAY.values())]
    stops = []
    for code, colour in enumerate(colours):
        stops += [[max(0.0, (code - 0.5) / 4), colour], [min(1.0, (code + 0.5) / 4), colour]]
    return stops


def _cell_text(values: np.ndarray, codes: np.ndarray, digits: int) -> list[list[str]]:
    rows = []
    for r in range(values.shape[0]):
        row = []
        for c in range(values.shape[1]):
            glyph = OVERLAY_GLYPH.get(int(codes[r, c]), "")
            row.append(glyph or fmt(values[r, c], digits))
        rows.append(row)
    return rows


def heatmap(values, x_labels, y_labels, *, title: str, mask=None, scale: str = LOGIT_SCALE,
            zrange: tuple[float, float] | None = None, symmetric: bool = False, digits: int = 3,
            clickable: bool = False, font_size: int = BASE_FONT, height: int | None = None,
            x_title: str = "key", y_title: str = "query", colorbar: bool = True) -> go.Figure:
    """A labelled heatmap of a ``(rows, cols)`` matrix.

    values: ``(Tq, Tk)`` array in the compute dtype; x_labels: Tk names; y_labels: Tq names.
    mask: optional ``(Tq, Tk)`` 0/1, 1 = blocked (drawn grey and left out of the colour range).
    zrange: a fixed colour range (e.g. (0, 1) for weights); otherwise ``colour_range``.
    clickable: add an invisible marker per cell so a click selects a row (small matrices only).
    colorbar: draw the colour bar (off for the mask, whose two colours explain themselves).
    """
    values = np.asarray(values)
    if values.ndim != 2:
        raise ValueError(f"heatmap needs a 2-D matrix, got shape {values.shape}")
    rows, cols = values.shape
    if len(y_labels) != rows or len(x_labels) != cols:
        raise ValueError(f"{rows}x{cols} matrix needs {rows} row and {cols} column labels, "
                         f"got {len(y_labels)} and {len(x_labels)}")
    x = [safe_label(s) for s in x_labels]
    y = [safe_label(s) for s in y_labels]
    z = values.astype(_plot_dtype(values))
    wide = z.astype(np.float64)
    codes = _overlay_codes(wide, mask)
    lo, hi = zrange if zrange is not None else colour_range(wide, mask, symmetric=symmetric)
    show_text = max(rows, cols) <= MAX_CELLS_WITH_TEXT

    # Build plain dicts and construct the figure once: Plotly validates the whole spec in
    # one pass (~2 ms), whereas fig.update(...) / update_layout(...) walk the property
    # tree per key (~35 ms per heatmap on 2 cores; see benchmarks/README.md).
    main = dict(type="heatmap", z=z, x=x, y=y, coloraxis="coloraxis", xgap=1, ygap=1,
                hovertemplate="query %{y}<br>key %{x}<br>value %{z}<extra></extra>", name=title)
    text = _cell_text(wide, codes, digits) if show_text else None
    if show_text:
        main.update(text=text, texttemplate="%{text}", textfont={"size": font_size})
    traces = [main]

    if codes.any():
        # the overlay paints masked / non-finite cells; hover passes through to the values
        overlay = dict(type="heatmap", z=codes, x=x, y=y, zmin=0, zmax=4, colorscale=_overlay_scale(),
                       showscale=False, hoverinfo="skip", xgap=1, ygap=1, name="masked / non-finite")
        if show_text:
            marked = [[t if codes[r, c] else "" for c, t in enumerate(row)] for r, row in enumerate(text)]
            overlay.update(text=marked, texttemplate="%{text}", textfont={"size": font_size})
        traces.append(overlay)

    if clickable and max(rows, cols) <= MAX_CLICKABLE:
        xs = [x[c] for r in range(rows) for c in range(cols)]
        ys = [y[r] for r in range(rows) for c in range(cols)]
        traces.append(dict(
            type="scatter", x=xs, y=ys, mode="markers",
            marker={"symbol": "square", "size": 18, "opacity": 0.01},
            hoverinfo="none", showlegend=False, name="select a row",
        ))

    coloraxis = {"colorscale": scale, "cmin": lo, "cmax": hi,
                 "colorbar": {"thickness": 12, "len": 0.9, "tickfont": {"size": font_size - 2}}}
    if not colorbar:
        coloraxis["showscale"] = False
    if symmetric:
        coloraxis["cmid"] = 0.0
    layout = dict(
        title={"text": title, "font": {"size": font_size + 3}},
        coloraxis=coloraxis,
        xaxis={"title": {"text": x_title}, "type": "category", "side": "bottom", "tickangle": -45,
               "tickfont": {"size": font_size - 1}, "showticklabels": cols <= 64, "automargin": True},
        yaxis={"title": {"text": y_title}, "type": "category", "autorange": "reversed",
               "tickfont": {"size": font_size - 1}, "showticklabels": rows <= 64, "automargin": True},
        margin={"l": 10, "r": 10, "t": 50, "b": 10}, font={"size": font_size},
        plot_bgcolor="white", height=height or _height(rows, font_size), dragmode=False,
        template=TEMPLATE,
    )
    return go.Figure({"data": traces, "layout": layout})


def _height(rows: int, font_size: int) -> int:
    return int(min(900, max(320, 140 + rows * max(22, font_size * 2))))


def mask_figure(mask, x_labels, y_labels, *, title: str = "mask (1 = blocked)",
                font_size: int = BASE_FONT) -> go.Figure:
    """The mask itself: blocked cells dark with "1", allowed cells white with "0"."""
    mask = np.asarray(mask, dtype=np.float32)
    return heatmap(mask, x_labels, y_labels, title=title, zrange=(0.0, 1.0), digits=1, font_size=font_size,
                   scale=[[0.0, "#ffffff"], [1.0, "#34495e"]], colorbar=False)


def output_figure(output, y_labels, *, title: str = "output = weights @ v",
                  font_size: int = BASE_FONT) -> go.Figure:
    """``(Tq, dv)`` outputs: one row per query, one column per value dimension."""
    output = np.asarray(output)
    columns = [f"v{i}" for i in range(output.shape[-1])]
    return heatmap(output, columns, y_labels, title=title, symmetric=True, digits=2, font_size=font_size,
                   x_title="value dimension")


def weights_bar_figure(labels, unmasked, masked, *, title: str, font_size: int = BASE_FONT) -> go.Figure:
    """A query row's weights without the mask and with it, side by side per key."""
    x = [safe_label(s) for s in labels]
    fig = go.Figure([
        go.Bar(x=x, y=np.asarray(unmasked).astype(np.float64), name="without the mask",
               marker_color="#8da0cb", hovertemplate="key %{x}<br>weight %{y}<extra>without</extra>"),
        go.Bar(x=x, y=np.asarray(masked).astype(np.float64), name="with the mask",
               marker_color="#1b3a5c", hovertemplate="key %{x}<br>weight %{y}<extra>with</extra>"),
    ])
    fig.update_layout(title={"text": title}, barmode="group", yaxis={"title": {"text": "weight"}},
                      xaxis={"title": {"text": "key"}, "type": "category"}, font={"size": font_size},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
                      margin={"l": 10, "r": 10, "t": 60, "b": 10}, height=340, plot_bgcolor="white",
                      template=TEMPLATE)
    return fig


def export_config(filename: str, *, scale: int = 3) -> dict:
    """``st.plotly_chart`` config: a camera button that saves a high-resolution PNG.

    >>> export_config("weights")["toImageButtonOptions"]["filename"]
    'weights'
    """
    name = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in filename)[:80] or "figure"
    return {"displaylogo": False, "toImageButtonOptions": {"format": "png", "filename": name, "scale": scale},
            "modeBarButtonsToRemove": ["select2d", "lasso2d", "zoomIn2d", "zoomOut2d", "autoScale2d"]}
